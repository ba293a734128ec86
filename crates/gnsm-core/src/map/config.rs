//! Options of a map model: the working resolution, the class set, the network size and the
//! trainer's settings (the same AdamW/EMA/clipping/cosine schedule as table rows, `train`).

use crate::error::{invalid, Result};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of a map model, with the defaults the README documents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MapConfig {
    /// Working resolution: every map (and image) is resampled to `height x width` before the
    /// network sees it (nearest-neighbour for maps, bilinear for images). 64x64 is the default:
    /// a 3-resolution U-Net then sees 16x16 at its coarsest, enough for an object's outline, and a
    /// forward pass stays near 0.2 GFLOP at 16 base channels (the paper's 128-256 px runs on GPUs).
    pub height: usize,
    pub width: usize,
    /// Number of classes K (labels 0..K-1); `None` infers max label + 1 from the training maps.
    pub classes: Option<usize>,
    /// A label that means "not labelled": ignored by the loss, the score and the explanation.
    pub void_label: Option<u16>,
    /// Base channel count C of the U-Net (2C at the coarser resolutions).
    pub base_channels: usize,
    /// Use the conditioning image when the model is given one (method §9).
    pub use_image: bool,
    /// Random horizontal flips of training maps (and their images).
    pub flip: bool,
    pub steps: usize,
    /// Wall-clock budget in seconds for the network training phase.
    pub max_seconds: f64,
    /// Maps per mini-batch.
    pub batch_size: usize,
    pub lr: f32,
    pub lr_min: f32,
    pub weight_decay: f32,
    pub ema_decay: f32,
    pub grad_clip: f32,
    pub seed: u64,
    /// Worker threads for training and batch scoring.
    pub threads: usize,
    /// Share of training maps held out for validation and checkpoint selection.
    pub val_fraction: f64,
    /// Number of validation evaluations spread over training.
    pub evals: usize,
    /// Smallest and largest per-level scale of the clean logits (`relax::logit_scales`): as for
    /// rows, a full 11.5-nat gap lets every pixel be denoised on its own, so the network would
    /// learn no shape; shrinking it at the noisy levels makes neighbours matter.
    pub signal_min: f32,
    pub signal_max: f32,
}

impl Default for MapConfig {
    fn default() -> Self {
        MapConfig {
            height: 64,
            width: 64,
            classes: None,
            void_label: None,
            base_channels: 16,
            use_image: true,
            flip: true,
            steps: 3000,
            // two minutes: 150 s runs on the horse set (164 maps at 64x64, 2 busy threads) made
            // 301-660 steps; the bound is 10 minutes, a table model gets 60 s
            max_seconds: 120.0,
            batch_size: 16,
            lr: 2e-3,
            lr_min: 1e-5,
            weight_decay: 1e-4,
            ema_decay: 0.999,
            grad_clip: 1.0,
            seed: 42,
            threads: 1,
            val_fraction: 0.1,
            evals: 10,
            signal_min: 0.2,
            signal_max: 1.0,
        }
    }
}

impl MapConfig {
    /// Whether `s` can be a side of the working resolution: a multiple of 4 (the U-Net halves it
    /// twice) between 8 and 512.
    pub fn valid_side(s: usize) -> bool {
        (8..=512).contains(&s) && s.is_multiple_of(4)
    }

    /// Checks every field's range; the error names the field.
    pub fn validate(&self) -> Result<()> {
        let check = |ok: bool, name: &str, reason: &str| if ok { Ok(()) } else { Err(invalid(name, reason)) };
        check(Self::valid_side(self.height), "height", "must be a multiple of 4 between 8 and 512")?;
        check(Self::valid_side(self.width), "width", "must be a multiple of 4 between 8 and 512")?;
        check(self.classes.is_none_or(|k| (2..=256).contains(&k)), "classes", "must be between 2 and 256")?;
        check((1..=256).contains(&self.base_channels), "base_channels", "must be between 1 and 256")?;
        check((1..=10_000_000).contains(&self.steps), "steps", "must be between 1 and 10000000")?;
        check(self.max_seconds.is_finite() && self.max_seconds > 0.0, "max_seconds", "must be a positive number of seconds")?;
        check((1..=4096).contains(&self.batch_size), "batch_size", "must be between 1 and 4096")?;
        check(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 1.0, "lr", "must be in (0, 1]")?;
        check(self.lr_min.is_finite() && self.lr_min >= 0.0 && self.lr_min <= self.lr, "lr_min", "must be in [0, lr]")?;
        check(self.weight_decay.is_finite() && (0.0..1.0).contains(&self.weight_decay), "weight_decay", "must be in [0, 1)")?;
        check(self.ema_decay.is_finite() && (0.0..1.0).contains(&self.ema_decay), "ema_decay", "must be in [0, 1)")?;
        check(self.grad_clip.is_finite() && self.grad_clip > 0.0, "grad_clip", "must be positive")?;
        check((1..=256).contains(&self.threads), "threads", "must be between 1 and 256")?;
        check(self.val_fraction.is_finite() && (0.0..0.5).contains(&self.val_fraction), "val_fraction", "must be in [0, 0.5)")?;
        check((1..=1000).contains(&self.evals), "evals", "must be between 1 and 1000")?;
        check(self.signal_min.is_finite() && self.signal_min > 0.0 && self.signal_min <= 10.0, "signal_min", "must be in (0, 10]")?;
        check(
            self.signal_max.is_finite() && self.signal_max >= self.signal_min && self.signal_max <= 10.0,
            "signal_max",
            "must be in [signal_min, 10]",
        )?;
        Ok(())
    }
}
