//! Conditioning images: any JPEG or PNG, converted to 8-bit RGB.

use crate::error::{invalid, Error, Result};
use crate::map::grid::{check_sides, RgbImage, MAX_SIDE};
use image::{ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// An `InvalidParam` error on the "image" argument.
fn image_err(reason: impl Into<String>) -> Error {
    invalid("image", reason)
}

/// A reader over `bytes` whose format is sniffed from the content and must be JPEG or PNG.
fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>> {
    let r =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| image_err(format!("is not a JPEG or PNG image: {e}")))?;
    match r.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png) => Ok(r),
        Some(other) => Err(image_err(format!("is not a JPEG or PNG image: it is {other:?}"))),
        None => Err(image_err("is not a JPEG or PNG image: the format is not recognised")),
    }
}

/// Decodes a JPEG or PNG of any colour type into an RGB image, refusing sides over `MAX_SIDE`.
pub fn image_from_bytes(bytes: &[u8]) -> Result<RgbImage> {
    // the header alone gives the sides, so an oversized image is refused before any pixel buffer
    let (w, h) = reader(bytes)?.into_dimensions().map_err(|e| image_err(format!("is not a JPEG or PNG image: {e}")))?;
    check_sides("image", h as usize, w as usize)?;
    let mut r = reader(bytes)?;
    // belt and braces for the decode itself (the header could lie about an APNG frame, say)
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE as u32);
    limits.max_image_height = Some(MAX_SIDE as u32);
    r.limits(limits);
    let img = r.decode().map_err(|e| image_err(format!("is not a JPEG or PNG image: {e}")))?.to_rgb8();
    RgbImage::new(img.height() as usize, img.width() as usize, img.into_raw())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::jpeg::JpegEncoder;
    use image::{ExtendedColorType, ImageEncoder};

    #[test]
    fn jpeg_decodes_to_rgb() {
        // a 16x8 image, left half red and right half blue (JPEG is lossy: compare loosely)
        let px: Vec<u8> = (0..8 * 16).flat_map(|i| if i % 16 < 8 { [220, 20, 20] } else { [20, 20, 220] }).collect();
        let mut jpg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpg, 95).write_image(&px, 16, 8, ExtendedColorType::Rgb8).unwrap();
        let img = image_from_bytes(&jpg).unwrap();
        assert_eq!((img.height, img.width), (8, 16));
        let at = |r: usize, c: usize| &img.pixels[(r * 16 + c) * 3..(r * 16 + c) * 3 + 3];
        assert!(at(4, 2)[0] > 180 && at(4, 2)[2] < 70);
        assert!(at(4, 13)[2] > 180 && at(4, 13)[0] < 70);
    }

    #[test]
    fn rgba_png_drops_alpha() {
        let mut png = Vec::new();
        let rgba = [10, 20, 30, 255, 40, 50, 60, 0];
        image::codecs::png::PngEncoder::new(&mut png).write_image(&rgba, 2, 1, ExtendedColorType::Rgba8).unwrap();
        let img = image_from_bytes(&png).unwrap();
        assert_eq!(img.pixels, vec![10, 20, 30, 40, 50, 60]);
    }

    #[test]
    fn garbage_and_oversize_are_named_errors() {
        let e = image_from_bytes(b"hello, not an image at all").unwrap_err();
        assert!(e.to_string().contains("is not a JPEG or PNG image"), "{e}");
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(&vec![0; MAX_SIDE + 1], MAX_SIDE as u32 + 1, 1, ExtendedColorType::L8)
            .unwrap();
        let e = image_from_bytes(&png).unwrap_err();
        assert!(e.to_string().contains("largest side"), "{e}");
        let mut jpg = Vec::new();
        JpegEncoder::new(&mut jpg).write_image(&[0; 48], 4, 4, ExtendedColorType::Rgb8).unwrap();
        assert!(image_from_bytes(&jpg[..jpg.len() / 2]).is_err());
    }
}
