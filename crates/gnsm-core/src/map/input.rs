//! What the network sees of one map: per-pixel class codes at the working resolution (void
//! pixels marked), the conditioning image's channels, and the clean or noised network input at a
//! level, all channels-last (`(r * W + c) * channels + k`).

use super::grid::{LabelMap, RgbImage};
use crate::error::{Error, Result};
use crate::relax::{noisy_block_from, sample_block};
use rand::Rng;

/// Code of a void (ignored) pixel.
pub const VOID: u16 = u16::MAX;
/// The one-hot logit of an inactive class, `ln(1e-5)` (method §1).
pub const LOG_EPS: f32 = -11.512_925;
/// Per-channel mean and spread of RGB values in [0, 1] (the ImageNet statistics the paper's code
/// normalises by; any fixed affine map would do, this one puts typical photos near unit scale).
const RGB_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const RGB_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// The class set of a model: K classes 0..K-1 and an optional void label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClassSet {
    pub classes: usize,
    pub void_label: Option<u16>,
}

impl ClassSet {
    /// Per-pixel codes of `map` (already at the working resolution): the class, or `VOID`. A label
    /// outside 0..K-1 that is not the void label is an error naming the pixel: a map model's
    /// classes are the output vocabulary of a segmentation model, so a label it never had means
    /// the wrong model or a corrupt map, not a rare value.
    pub fn codes(&self, map: &LabelMap, original: Option<&LabelMap>) -> Result<Vec<u16>> {
        let check_map = original.unwrap_or(map);
        if let Some((i, &bad)) = check_map.labels.iter().enumerate().find(|(_, &l)| !self.is_valid(l)) {
            return Err(Error::RowMismatch {
                reason: format!(
                    "label {bad} at pixel ({}, {}) is outside the model's classes 0..{}{}",
                    i / check_map.width,
                    i % check_map.width,
                    self.classes - 1,
                    self.void_label.map_or(String::new(), |v| format!(" (void label {v})"))
                ),
            });
        }
        Ok(map.labels.iter().map(|&l| if Some(l) == self.void_label { VOID } else { l }).collect())
    }

    /// Whether a label is one of the classes or the void label.
    pub fn is_valid(&self, label: u16) -> bool {
        (label as usize) < self.classes || Some(label) == self.void_label
    }
}

/// One map prepared for the network.
#[derive(Debug, Clone)]
pub struct MapInput {
    pub codes: Vec<u16>,
    /// `pixels x E` conditioning channels (normalised RGB), empty for mask-only models.
    pub cond: Vec<f32>,
}

impl MapInput {
    /// Horizontal mirror image (training augmentation).
    pub fn flipped(&self, height: usize, width: usize) -> MapInput {
        let e = if self.codes.is_empty() { 0 } else { self.cond.len() / self.codes.len() };
        let mut out = MapInput { codes: self.codes.clone(), cond: self.cond.clone() };
        for r in 0..height {
            for c in 0..width {
                let (dst, src) = (r * width + c, r * width + (width - 1 - c));
                out.codes[dst] = self.codes[src];
                out.cond[dst * e..(dst + 1) * e].copy_from_slice(&self.cond[src * e..(src + 1) * e]);
            }
        }
        out
    }
}

/// Normalised RGB channels of an image already at the working resolution.
pub fn image_channels(img: &RgbImage) -> Vec<f32> {
    img.pixels.iter().enumerate().map(|(i, &v)| (v as f32 / 255.0 - RGB_MEAN[i % 3]) / RGB_STD[i % 3]).collect()
}

/// Writes the clean scaled logits of pixel code `code` into `out` (K values): `0` for the class,
/// `scale * ln(1e-5)` elsewhere; a void pixel gets the uniform log-probability (no information).
#[inline]
pub fn clean_logits(code: u16, scale: f32, out: &mut [f32]) {
    if code == VOID {
        out.fill(-(out.len() as f32).ln());
        return;
    }
    out.fill(scale * LOG_EPS);
    out[code as usize] = 0.0;
}

/// The network input `pixels x (K + E)` for one map at a level: per pixel either the clean
/// log-one-hot (`noise == None`, normalised so each block is a log-probability vector) or an
/// ExpConcrete sample with its target `softmax(-g)` written into `target` (`pixels x K`; void
/// pixels get an all-zero target, which the loss skips). `noise` is either a sampler or a fixed draw.
pub fn network_input<R: Rng + ?Sized>(
    x: &MapInput,
    k: usize,
    scale: f32,
    tau: f32,
    noise: Noise<'_, R>,
    input: &mut Vec<f32>,
    target: &mut Vec<f32>,
) {
    let p = x.codes.len();
    let e = x.cond.len().checked_div(p).unwrap_or(0);
    let c = k + e;
    input.resize(p * c, 0.0);
    target.resize(p * k, 0.0);
    let mut clean = vec![0.0f32; k];
    let mut noise = noise;
    for (i, &code) in x.codes.iter().enumerate() {
        let (y, t) = (&mut input[i * c..i * c + k], &mut target[i * k..(i + 1) * k]);
        clean_logits(code, scale, &mut clean);
        match (&mut noise, code == VOID) {
            (_, true) => {
                y.copy_from_slice(&clean);
                t.fill(0.0);
            }
            (Noise::Clean, false) => {
                y.copy_from_slice(&clean);
                let lse = crate::kernels::logsumexp(y);
                y.iter_mut().for_each(|v| *v -= lse);
                t.fill(0.0);
            }
            (Noise::Sample(rng), false) => sample_block(*rng, &clean, tau, y, t),
            (Noise::Fixed(g), false) => noisy_block_from(&g[i * k..(i + 1) * k], &clean, 1.0, tau, y, t),
        }
        input[i * c + k..(i + 1) * c].copy_from_slice(&x.cond[i * e..(i + 1) * e]);
    }
}

/// Where a network input's noise comes from.
pub enum Noise<'a, R: ?Sized> {
    /// No noise: the clean log-one-hot map.
    Clean,
    /// Fresh Gumbel draws (training).
    Sample(&'a mut R),
    /// A fixed Gumbel draw per pixel and class (`pixels x K`; scoring's denoising loss).
    Fixed(&'a [f32]),
}
