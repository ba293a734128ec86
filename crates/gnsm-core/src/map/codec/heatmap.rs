//! The heatmap PNG: a map's background (its conditioning image, or its labels in fixed colours)
//! with a yellow-to-red overlay where the per-pixel anomaly is high, upscaled so it can be seen.

use super::label_png::rgb_to_png;
use crate::error::{invalid, Result};
use crate::map::grid::{check_sides, LabelMap, RgbImage};

/// Class colours (class index mod the length); 0 is dark grey because it is usually background.
#[rustfmt::skip]
const PALETTE: [[u8; 3]; 24] = [
    [64, 64, 64], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
    [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128],
    [220, 190, 255], [170, 110, 40], [255, 250, 200], [128, 0, 0], [170, 255, 195], [128, 128, 0],
    [255, 215, 180], [0, 0, 128], [128, 128, 128], [255, 255, 255], [0, 0, 0], [100, 149, 237],
];

/// Opacity of the overlay at the map's most anomalous pixel (the background stays visible).
const MAX_ALPHA: f32 = 0.75;

/// Smallest longer side of the output; smaller maps are upscaled by an integer factor.
const MIN_SIDE: usize = 256;

/// Encodes the map's background blended with a heat overlay of `anomaly` (one value >= 0 per
/// pixel, any scale, normalised by its maximum) as an RGB PNG.
pub fn heatmap_png(map: &LabelMap, anomaly: &[f32], image: Option<&RgbImage>) -> Result<Vec<u8>> {
    check_sides("map", map.height, map.width)?;
    let n = map.height * map.width;
    if map.labels.len() != n {
        return Err(invalid("map", format!("a {}x{} map needs {n} labels, got {}", map.height, map.width, map.labels.len())));
    }
    if anomaly.len() != n {
        return Err(invalid("anomaly", format!("has {} values; the {}x{} map has {n} pixels", anomaly.len(), map.height, map.width)));
    }
    if let Some(bad) = anomaly.iter().find(|v| !v.is_finite()) {
        return Err(invalid("anomaly", format!("has the value {bad}; every value must be finite")));
    }
    let mut rgb = background(map, image)?;
    // negatives mean "not anomalous" here; an all-zero anomaly draws no overlay at all
    let max = anomaly.iter().fold(0.0f32, |m, &v| m.max(v));
    if max > 0.0 {
        for (px, &v) in rgb.chunks_exact_mut(3).zip(anomaly) {
            let t = (v.max(0.0) / max).min(1.0);
            // ramp: yellow (255,255,0) for mild, red (255,0,0) for the worst
            let heat = [255.0, 255.0 * (1.0 - t), 0.0];
            let a = MAX_ALPHA * t;
            for k in 0..3 {
                px[k] = (px[k] as f32 * (1.0 - a) + heat[k] * a).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    let f = MIN_SIDE.div_ceil(map.height.max(map.width)).max(1);
    rgb_to_png(&upscale(&RgbImage { height: map.height, width: map.width, pixels: rgb }, f))
}

/// The background pixels at the map's size: the image resized, else the labels coloured.
fn background(map: &LabelMap, image: Option<&RgbImage>) -> Result<Vec<u8>> {
    match image {
        Some(img) => {
            check_sides("image", img.height, img.width)?;
            if img.pixels.len() != img.height * img.width * 3 {
                return Err(invalid(
                    "image",
                    format!(
                        "a {}x{} RGB image needs {} bytes, got {}",
                        img.height,
                        img.width,
                        img.height * img.width * 3,
                        img.pixels.len()
                    ),
                ));
            }
            Ok(img.resize_bilinear(map.height, map.width).pixels)
        }
        None => Ok(map.labels.iter().flat_map(|&l| PALETTE[l as usize % PALETTE.len()]).collect()),
    }
}

/// Nearest upscaling by an integer factor (each pixel becomes an f x f block).
fn upscale(img: &RgbImage, f: usize) -> RgbImage {
    if f == 1 {
        return img.clone();
    }
    let (h, w) = (img.height * f, img.width * f);
    let mut pixels = Vec::with_capacity(h * w * 3);
    for r in 0..h {
        let line = &img.pixels[(r / f) * img.width * 3..(r / f + 1) * img.width * 3];
        for px in line.chunks_exact(3) {
            for _ in 0..f {
                pixels.extend_from_slice(px);
            }
        }
    }
    RgbImage { height: h, width: w, pixels }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Decodes an RGB PNG into (height, width, pixels), asserting it is 8-bit RGB.
    fn decode(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
        let mut r = png::Decoder::new(Cursor::new(bytes)).read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!((info.color_type, info.bit_depth), (png::ColorType::Rgb, png::BitDepth::Eight));
        (info.height as usize, info.width as usize, buf)
    }

    /// Red minus the mean of green and blue: how red a pixel looks.
    fn redness(px: &[u8]) -> i32 {
        px[0] as i32 - (px[1] as i32 + px[2] as i32) / 2
    }

    #[test]
    fn small_map_is_upscaled_and_hot_pixels_are_red() {
        let map = LabelMap::new(10, 20, (0..200).map(|i| (i % 3) as u16).collect()).unwrap();
        let mut anomaly = vec![0.0f32; 200];
        anomaly[0] = 5.0;
        let (h, w, px) = decode(&heatmap_png(&map, &anomaly, None).unwrap());
        // 256 / 20 rounds up to a factor of 13
        assert_eq!((h, w), (130, 260));
        let at = |r: usize, c: usize| &px[(r * w + c) * 3..(r * w + c) * 3 + 3];
        assert!(redness(at(3, 3)) > redness(at(60, 130)) + 50, "{:?} vs {:?}", at(3, 3), at(60, 130));
        // pixel (0, 2) is class 2 and cold: exactly its palette colour
        assert_eq!(at(0, 2 * 13), &PALETTE[2]);
    }

    #[test]
    fn image_background_and_zero_anomaly() {
        let map = LabelMap::new(300, 4, vec![1; 1200]).unwrap();
        let img = RgbImage::new(3, 2, [0, 200, 0].repeat(6)).unwrap();
        let (h, w, px) = decode(&heatmap_png(&map, &[0.0; 1200], Some(&img)).unwrap());
        assert_eq!((h, w), (300, 4));
        assert!(px.chunks(3).all(|p| p == [0, 200, 0]));
    }

    #[test]
    fn wrong_anomaly_lengths_are_errors() {
        let map = LabelMap::new(2, 2, vec![0; 4]).unwrap();
        assert!(heatmap_png(&map, &[1.0; 3], None).is_err());
        assert!(heatmap_png(&map, &[1.0, f32::NAN, 0.0, 0.0], None).is_err());
    }
}
