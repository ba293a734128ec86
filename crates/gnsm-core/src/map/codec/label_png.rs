//! Label maps as PNG: greyscale value or palette index = class, never the palette's colours.

use crate::error::{invalid, Error, Result};
use crate::map::grid::{check_sides, LabelMap, RgbImage};
use png::{BitDepth, ColorType, Transformations};
use std::io::Cursor;

/// The eight bytes every PNG file starts with.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// What a label map PNG must be, appended to every colour-type refusal.
const MAP_PNG_RULE: &str = "a label map must be 8-bit greyscale or palette (one class index per pixel)";

/// An `InvalidParam` error on the "png" argument.
fn png_err(reason: impl Into<String>) -> Error {
    invalid("png", reason)
}

/// Decodes a greyscale (value = class) or palette (index = class) PNG into a label map.
pub fn map_from_png(bytes: &[u8]) -> Result<LabelMap> {
    if !bytes.starts_with(&PNG_SIGNATURE) {
        return Err(png_err("is not a PNG file (it does not start with the PNG signature)"));
    }
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    // identity: palette images keep their indices (EXPAND would turn them into RGB colours)
    decoder.set_transformations(Transformations::IDENTITY);
    let header = decoder.read_header_info().map_err(|e| png_err(format!("could not be decoded: {e}")))?;
    let (width, height) = (header.width as usize, header.height as usize);
    let (color, depth) = (header.color_type, header.bit_depth);
    // refuse before read_info/next_frame allocate anything sized by the header
    let kind = match color {
        ColorType::Rgb => Some("an RGB"),
        ColorType::Rgba => Some("an RGBA"),
        ColorType::GrayscaleAlpha => Some("a greyscale+alpha"),
        ColorType::Grayscale | ColorType::Indexed => None,
    };
    if let Some(kind) = kind {
        return Err(png_err(format!("is {kind} PNG; {MAP_PNG_RULE}")));
    }
    if depth == BitDepth::Sixteen {
        return Err(png_err(format!("is a 16-bit PNG; {MAP_PNG_RULE}")));
    }
    check_sides("png", height, width)?;

    let mut reader = decoder.read_info().map_err(|e| png_err(format!("could not be decoded: {e}")))?;
    let size = reader.output_buffer_size().ok_or_else(|| png_err("is too large to decode"))?;
    let mut buf = vec![0u8; size];
    let frame = reader.next_frame(&mut buf).map_err(|e| png_err(format!("could not be decoded: {e}")))?;
    let labels = unpack(&buf, frame.line_size, height, width, depth as u8 as usize);
    LabelMap::new(height, width, labels)
}

/// Unpacks rows of `bits`-bit samples (MSB first, each row starting on a byte) into labels.
fn unpack(buf: &[u8], line_size: usize, height: usize, width: usize, bits: usize) -> Vec<u16> {
    let mut labels = Vec::with_capacity(height * width);
    let mask = ((1u16 << bits) - 1) as u8;
    for row in buf.chunks(line_size).take(height) {
        if bits == 8 {
            labels.extend(row[..width].iter().map(|&v| v as u16));
            continue;
        }
        let per_byte = 8 / bits;
        labels.extend((0..width).map(|c| {
            let shift = 8 - bits * (c % per_byte + 1);
            ((row[c / per_byte] >> shift) & mask) as u16
        }));
    }
    labels
}

/// Encodes a label map as an 8-bit greyscale PNG (labels above 255 do not fit and are an error).
pub fn map_to_png(map: &LabelMap) -> Result<Vec<u8>> {
    check_sides("map", map.height, map.width)?;
    if map.labels.len() != map.height * map.width {
        return Err(invalid(
            "map",
            format!("a {}x{} map needs {} labels, got {}", map.height, map.width, map.height * map.width, map.labels.len()),
        ));
    }
    let max = map.max_label();
    if max > 255 {
        return Err(invalid("map", format!("has the label {max}; an 8-bit PNG holds labels 0-255")));
    }
    let data: Vec<u8> = map.labels.iter().map(|&l| l as u8).collect();
    encode(map.height, map.width, ColorType::Grayscale, &data)
}

/// Encodes an RGB image as an 8-bit RGB PNG.
pub fn rgb_to_png(img: &RgbImage) -> Result<Vec<u8>> {
    check_sides("image", img.height, img.width)?;
    if img.pixels.len() != img.height * img.width * 3 {
        return Err(invalid(
            "image",
            format!("a {}x{} RGB image needs {} bytes, got {}", img.height, img.width, img.height * img.width * 3, img.pixels.len()),
        ));
    }
    encode(img.height, img.width, ColorType::Rgb, &img.pixels)
}

/// Writes one 8-bit PNG frame of the given colour type.
fn encode(height: usize, width: usize, color: ColorType, data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width as u32, height as u32);
    encoder.set_color(color);
    encoder.set_depth(BitDepth::Eight);
    let fail = |e: png::EncodingError| Error::Io { reason: format!("PNG encoding failed: {e}") };
    let mut writer = encoder.write_header().map_err(fail)?;
    writer.write_image_data(data).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG written directly with the png crate (for colour types `map_to_png` never writes).
    fn raw_png(w: u32, h: u32, color: ColorType, depth: BitDepth, palette: Option<Vec<u8>>, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(color);
        enc.set_depth(depth);
        if let Some(p) = palette {
            enc.set_palette(p);
        }
        let mut wr = enc.write_header().unwrap();
        wr.write_image_data(data).unwrap();
        wr.finish().unwrap();
        out
    }

    /// The reason of an InvalidParam error on "png", or a panic.
    fn reason(r: Result<LabelMap>) -> String {
        match r {
            Err(Error::InvalidParam { name, reason }) if name == "png" => reason,
            other => panic!("expected an InvalidParam png error, got {other:?}"),
        }
    }

    #[test]
    fn grey_maps_round_trip() {
        for (h, w) in [(1, 1), (3, 7), (8, 2), (64, 64)] {
            let labels = (0..h * w).map(|i| ((i * 37) % 256) as u16).collect();
            let m = LabelMap::new(h, w, labels).unwrap();
            assert_eq!(map_from_png(&map_to_png(&m).unwrap()).unwrap(), m);
        }
        let big = LabelMap::new(1, 2, vec![3, 256]).unwrap();
        assert!(map_to_png(&big).is_err());
    }

    #[test]
    fn palette_pngs_decode_to_indices() {
        let palette: Vec<u8> = (0..16).flat_map(|i| [i * 10, 255 - i * 10, 7]).collect();
        let idx: Vec<u8> = vec![0, 5, 15, 2, 9, 1];
        let eight = raw_png(3, 2, ColorType::Indexed, BitDepth::Eight, Some(palette.clone()), &idx);
        let m = map_from_png(&eight).unwrap();
        assert_eq!((m.height, m.width), (2, 3));
        assert_eq!(m.labels, vec![0, 5, 15, 2, 9, 1]);
        // 4-bit: two pixels per byte, MSB first, each 3-pixel row padded to 2 bytes
        let packed = [0x05, 0xF0, 0x29, 0x10];
        let four = raw_png(3, 2, ColorType::Indexed, BitDepth::Four, Some(palette), &packed);
        assert_eq!(map_from_png(&four).unwrap().labels, vec![0, 5, 15, 2, 9, 1]);
        // 1-bit greyscale (a binary mask) unpacks to 0/1
        let mask = raw_png(10, 1, ColorType::Grayscale, BitDepth::One, None, &[0b1010_0000, 0b0100_0000]);
        assert_eq!(map_from_png(&mask).unwrap().labels, vec![1, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn wrong_pngs_are_named_errors() {
        let rgb = raw_png(2, 1, ColorType::Rgb, BitDepth::Eight, None, &[1, 2, 3, 4, 5, 6]);
        assert!(reason(map_from_png(&rgb)).contains("is an RGB PNG"));
        let rgba = raw_png(1, 1, ColorType::Rgba, BitDepth::Eight, None, &[1, 2, 3, 4]);
        assert!(reason(map_from_png(&rgba)).contains("RGBA"));
        let sixteen = raw_png(2, 1, ColorType::Grayscale, BitDepth::Sixteen, None, &[0, 1, 0, 2]);
        assert!(reason(map_from_png(&sixteen)).contains("16-bit"));
        let noise: Vec<u8> = (0..200u32).map(|i| (i * 97 + 13) as u8).collect();
        assert!(reason(map_from_png(&noise)).contains("is not a PNG file"));
        assert!(reason(map_from_png(&[])).contains("is not a PNG file"));
        let good = map_to_png(&LabelMap::new(20, 20, vec![1; 400]).unwrap()).unwrap();
        for cut in [12, 30, good.len() - 20] {
            assert!(reason(map_from_png(&good[..cut])).contains("could not be decoded"), "cut at {cut}");
        }
    }

    #[test]
    fn oversized_header_is_refused_before_decoding() {
        // a valid 1x5000 image: the side check fires on the header
        let wide = raw_png(5000, 1, ColorType::Grayscale, BitDepth::Eight, None, &[0; 5000]);
        assert!(reason(map_from_png(&wide)).contains("largest side"));
    }

    #[test]
    fn rgb_png_round_trips_through_the_decoder() {
        let img = RgbImage::new(2, 2, (0..12).collect()).unwrap();
        let bytes = rgb_to_png(&img).unwrap();
        let mut r = png::Decoder::new(Cursor::new(&bytes[..])).read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        r.next_frame(&mut buf).unwrap();
        assert_eq!(buf, img.pixels);
    }
}
