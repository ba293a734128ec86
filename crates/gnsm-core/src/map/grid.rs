//! The two inputs of the map family: a label map (one class index per pixel) and an RGB image
//! that conditions it, both row-major, with nearest-neighbour and bilinear resampling to the
//! model's working resolution.

use crate::error::{invalid, Error, Result};

/// Largest side a map or image may have (a 10000x10000 map would hold 100M pixels; this cap keeps
/// one map under 32 MiB of labels and makes the error say why).
pub const MAX_SIDE: usize = 4096;

/// A 2-D label map: `labels[r * width + c]` is the class index of pixel (r, c).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMap {
    pub height: usize,
    pub width: usize,
    pub labels: Vec<u16>,
}

/// An 8-bit RGB image: `pixels[(r * width + c) * 3 + k]` is channel k of pixel (r, c).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    pub height: usize,
    pub width: usize,
    pub pixels: Vec<u8>,
}

/// Checks a map or image side pair against the cap and emptiness.
pub fn check_sides(what: &str, height: usize, width: usize) -> Result<()> {
    if height == 0 || width == 0 {
        return Err(invalid(what, "is empty (it has no pixels)"));
    }
    if height > MAX_SIDE || width > MAX_SIDE {
        return Err(invalid(what, format!("is {height}x{width}; the largest side allowed is {MAX_SIDE}")));
    }
    Ok(())
}

impl LabelMap {
    /// A map from its labels, checking that the sizes agree and are within the cap.
    pub fn new(height: usize, width: usize, labels: Vec<u16>) -> Result<LabelMap> {
        check_sides("map", height, width)?;
        if labels.len() != height * width {
            return Err(Error::RowMismatch {
                reason: format!("a {height}x{width} map needs {} labels, got {}", height * width, labels.len()),
            });
        }
        Ok(LabelMap { height, width, labels })
    }

    /// The class of pixel (r, c).
    pub fn get(&self, r: usize, c: usize) -> u16 {
        self.labels[r * self.width + c]
    }

    /// Largest label in the map.
    pub fn max_label(&self) -> u16 {
        self.labels.iter().copied().max().unwrap_or(0)
    }

    /// Nearest-neighbour resampling to `height x width` (pixel centres map to pixel centres, so
    /// a 2x downsample takes one of each 2x2 block and labels are never blended).
    pub fn resize_nearest(&self, height: usize, width: usize) -> LabelMap {
        if height == self.height && width == self.width {
            return self.clone();
        }
        let rows = nearest_index(self.height, height);
        let cols = nearest_index(self.width, width);
        let mut labels = Vec::with_capacity(height * width);
        for &r in &rows {
            let line = &self.labels[r * self.width..(r + 1) * self.width];
            labels.extend(cols.iter().map(|&c| line[c]));
        }
        LabelMap { height, width, labels }
    }
}

/// For each of `to` output positions, the nearest of `from` input positions (centre-aligned).
pub fn nearest_index(from: usize, to: usize) -> Vec<usize> {
    (0..to)
        .map(|i| {
            let src = ((i as f64 + 0.5) * from as f64 / to as f64).floor() as usize;
            src.min(from - 1)
        })
        .collect()
}

impl RgbImage {
    /// An image from its pixels, checking sizes.
    pub fn new(height: usize, width: usize, pixels: Vec<u8>) -> Result<RgbImage> {
        check_sides("image", height, width)?;
        if pixels.len() != height * width * 3 {
            return Err(invalid("image", format!("a {height}x{width} RGB image needs {} bytes, got {}", height * width * 3, pixels.len())));
        }
        Ok(RgbImage { height, width, pixels })
    }

    /// Bilinear resampling to `height x width` (centre-aligned, like the usual image libraries'
    /// "triangle" filter without antialiasing; the model only needs coarse colour at 64x64).
    pub fn resize_bilinear(&self, height: usize, width: usize) -> RgbImage {
        if height == self.height && width == self.width {
            return self.clone();
        }
        let sample = |from: usize, to: usize, i: usize| {
            let x = ((i as f64 + 0.5) * from as f64 / to as f64 - 0.5).clamp(0.0, (from - 1) as f64);
            let lo = x.floor() as usize;
            (lo, (lo + 1).min(from - 1), x - lo as f64)
        };
        let mut pixels = vec![0u8; height * width * 3];
        for r in 0..height {
            let (r0, r1, fr) = sample(self.height, height, r);
            for c in 0..width {
                let (c0, c1, fc) = sample(self.width, width, c);
                for k in 0..3 {
                    let p = |rr: usize, cc: usize| self.pixels[(rr * self.width + cc) * 3 + k] as f64;
                    let top = p(r0, c0) * (1.0 - fc) + p(r0, c1) * fc;
                    let bottom = p(r1, c0) * (1.0 - fc) + p(r1, c1) * fc;
                    pixels[(r * width + c) * 3 + k] = (top * (1.0 - fr) + bottom * fr).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        RgbImage { height, width, pixels }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_downsample_keeps_labels_and_upsample_repeats() {
        let m = LabelMap::new(2, 4, vec![0, 1, 2, 3, 4, 5, 6, 7]).unwrap();
        let down = m.resize_nearest(1, 2);
        assert_eq!(down.labels, vec![5, 7]);
        let up = m.resize_nearest(4, 8);
        assert_eq!(&up.labels[..8], &[0, 0, 1, 1, 2, 2, 3, 3]);
        assert_eq!(up.resize_nearest(2, 4), m);
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(LabelMap::new(0, 3, vec![]).is_err());
        assert!(LabelMap::new(2, 2, vec![0; 3]).is_err());
        assert!(LabelMap::new(MAX_SIDE + 1, 1, vec![0; MAX_SIDE + 1]).is_err());
        assert!(RgbImage::new(1, 1, vec![0; 2]).is_err());
    }

    #[test]
    fn bilinear_of_a_constant_is_constant() {
        let img = RgbImage::new(3, 5, vec![77; 45]).unwrap();
        assert!(img.resize_bilinear(7, 2).pixels.iter().all(|&p| p == 77));
    }
}
