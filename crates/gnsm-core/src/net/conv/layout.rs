//! The conv network's shape (`ConvConfig`) and where each weight lives in the flat parameter
//! vector (`ConvLayout`), with the parameter count and FLOP estimate.
//!
//! A 3x3 convolution `cin -> cout` is stored as a `9*cin x cout` matrix whose row
//! `(ky*3 + kx)*cin + k` multiplies input channel `k` at offset `(ky-1, kx-1)`: the column order
//! `ops::im2col` writes, so a convolution is one GEMM.

use crate::error::invalid;
use crate::net::tabular::{Tensor, TEMB_DIM};
use serde::{Deserialize, Serialize};

/// Largest accepted class count, conditioning channel count, base width and side length: above
/// what map training accepts (K 256, C 256, sides 512), low enough that a corrupted stored
/// config cannot lay out an absurd network.
const MAX_CLASSES: usize = 1024;
const MAX_COND: usize = 64;
const MAX_BASE: usize = 256;
const MAX_SIDE: usize = 1024;

/// Block indices in forward order: encoder at H and H/2, two middle blocks at H/4, decoder.
pub(super) const S1: usize = 0;
pub(super) const S2: usize = 1;
pub(super) const M1: usize = 2;
pub(super) const M2: usize = 3;
pub(super) const U2: usize = 4;
pub(super) const U1: usize = 5;
/// Number of residual blocks.
pub(super) const N_BLOCKS: usize = 6;
/// Channel multiplier of each block relative to `base_channels`.
const BLOCK_MULT: [usize; N_BLOCKS] = [1, 2, 2, 2, 2, 1];

/// Shape of a conv score network over `height x width` maps of `classes` categories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvConfig {
    /// K: output channels and the first K (noised) input channels.
    pub classes: usize,
    /// E: extra conditioning input channels that are never noised (RGB = 3, or 0).
    pub cond_channels: usize,
    /// C: channels at full resolution (2C at H/2 and H/4).
    pub base_channels: usize,
    pub height: usize,
    pub width: usize,
}

impl ConvConfig {
    /// Checks the ranges the network supports (sides multiples of 4 and >= 8 for two poolings).
    pub fn validate(&self) -> crate::Result<()> {
        if !(1..=MAX_CLASSES).contains(&self.classes) {
            return Err(invalid("classes", format!("must be between 1 and {MAX_CLASSES}, got {}", self.classes)));
        }
        if self.cond_channels > MAX_COND {
            return Err(invalid("cond_channels", format!("must be at most {MAX_COND}, got {}", self.cond_channels)));
        }
        if !(1..=MAX_BASE).contains(&self.base_channels) {
            return Err(invalid("base_channels", format!("must be between 1 and {MAX_BASE}, got {}", self.base_channels)));
        }
        for (name, side) in [("height", self.height), ("width", self.width)] {
            if !(8..=MAX_SIDE).contains(&side) || side % 4 != 0 {
                return Err(invalid(name, format!("must be a multiple of 4 between 8 and {MAX_SIDE}, got {side}")));
            }
        }
        Ok(())
    }

    /// Input channels of the first convolution (K + E).
    pub fn in_channels(&self) -> usize {
        self.classes + self.cond_channels
    }

    /// Number of parameters of a valid config; None when `validate` fails.
    pub fn param_count(&self) -> Option<usize> {
        self.validate().ok()?;
        Some(ConvLayout::new(self).total)
    }

    /// FLOPs (2 per multiply-add) of one forward pass over one map: every convolution plus one
    /// level's embedding MLP and FiLM projections (those are really shared by all maps of a call).
    pub fn forward_flops_per_map(&self) -> f64 {
        let (k, cin, c) = (self.classes as f64, self.in_channels() as f64, self.base_channels as f64);
        let p0 = (self.height * self.width) as f64;
        let (p1, p2) = (p0 / 4.0, p0 / 16.0);
        let conv = |p: f64, a: f64, b: f64| p * 9.0 * a * b;
        let block = |p: f64, ch: f64| 2.0 * conv(p, ch, ch);
        let convs = conv(p0, cin, c)
            + block(p0, c)
            + conv(p1, c, 2.0 * c)
            + block(p1, 2.0 * c)
            + conv(p2, 2.0 * c, 2.0 * c)
            + 2.0 * block(p2, 2.0 * c)
            + block(p1, 2.0 * c)
            + conv(p1, 2.0 * c, c)
            + block(p0, c)
            + conv(p0, c, k);
        let t = TEMB_DIM as f64;
        let film: f64 = BLOCK_MULT.iter().map(|&m| t * 2.0 * m as f64 * c).sum();
        2.0 * (convs + 2.0 * t * t + film)
    }
}

/// Parameters of one residual block of `channels` channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockLayout {
    pub channels: usize,
    pub ln_gain: Tensor,
    pub ln_bias: Tensor,
    pub w1: Tensor,
    pub b1: Tensor,
    pub film_w: Tensor,
    pub film_b: Tensor,
    pub w2: Tensor,
    pub b2: Tensor,
}

/// Where every tensor sits in the flat parameter vector (forward order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvLayout {
    pub in_w: Tensor,
    pub in_b: Tensor,
    pub t1_w: Tensor,
    pub t1_b: Tensor,
    pub t2_w: Tensor,
    pub t2_b: Tensor,
    /// Indexed by `S1, S2, M1, M2, U2, U1`.
    pub blocks: Vec<BlockLayout>,
    pub down1_w: Tensor,
    pub down1_b: Tensor,
    pub down2_w: Tensor,
    pub down2_b: Tensor,
    pub up_w: Tensor,
    pub up_b: Tensor,
    pub out_ln_gain: Tensor,
    pub out_ln_bias: Tensor,
    pub out_w: Tensor,
    pub out_b: Tensor,
    pub total: usize,
}

impl ConvLayout {
    /// Lays out the tensors of a network of the given (validated) shape.
    pub fn new(cfg: &ConvConfig) -> ConvLayout {
        let mut off = 0usize;
        let mut t = |rows: usize, cols: usize| {
            let tensor = Tensor { offset: off, rows, cols };
            off += rows * cols;
            tensor
        };
        let (k, c) = (cfg.classes, cfg.base_channels);
        let in_w = t(9 * cfg.in_channels(), c);
        let in_b = t(1, c);
        let t1_w = t(TEMB_DIM, TEMB_DIM);
        let t1_b = t(1, TEMB_DIM);
        let t2_w = t(TEMB_DIM, TEMB_DIM);
        let t2_b = t(1, TEMB_DIM);
        let mut block = |ch: usize| BlockLayout {
            channels: ch,
            ln_gain: t(1, ch),
            ln_bias: t(1, ch),
            w1: t(9 * ch, ch),
            b1: t(1, ch),
            film_w: t(TEMB_DIM, 2 * ch),
            film_b: t(1, 2 * ch),
            w2: t(9 * ch, ch),
            b2: t(1, ch),
        };
        let blocks: Vec<BlockLayout> = BLOCK_MULT.iter().map(|&m| block(m * c)).collect();
        let down1_w = t(9 * c, 2 * c);
        let down1_b = t(1, 2 * c);
        let down2_w = t(18 * c, 2 * c);
        let down2_b = t(1, 2 * c);
        let up_w = t(18 * c, c);
        let up_b = t(1, c);
        let out_ln_gain = t(1, c);
        let out_ln_bias = t(1, c);
        let out_w = t(9 * c, k);
        let out_b = t(1, k);
        ConvLayout {
            in_w,
            in_b,
            t1_w,
            t1_b,
            t2_w,
            t2_b,
            blocks,
            down1_w,
            down1_b,
            down2_w,
            down2_b,
            up_w,
            up_b,
            out_ln_gain,
            out_ln_bias,
            out_w,
            out_b,
            total: off,
        }
    }

    /// Every tensor with a name, in layout order (tests and diagnostics).
    pub fn named_tensors(&self) -> Vec<(String, Tensor)> {
        let mut v: Vec<(String, Tensor)> = [
            ("in_w", self.in_w),
            ("in_b", self.in_b),
            ("t1_w", self.t1_w),
            ("t1_b", self.t1_b),
            ("t2_w", self.t2_w),
            ("t2_b", self.t2_b),
            ("down1_w", self.down1_w),
            ("down1_b", self.down1_b),
            ("down2_w", self.down2_w),
            ("down2_b", self.down2_b),
            ("up_w", self.up_w),
            ("up_b", self.up_b),
            ("out_ln_gain", self.out_ln_gain),
            ("out_ln_bias", self.out_ln_bias),
            ("out_w", self.out_w),
            ("out_b", self.out_b),
        ]
        .into_iter()
        .map(|(n, t)| (n.to_string(), t))
        .collect();
        for (i, b) in self.blocks.iter().enumerate() {
            for (n, t) in [
                ("ln_gain", b.ln_gain),
                ("ln_bias", b.ln_bias),
                ("w1", b.w1),
                ("b1", b.b1),
                ("film_w", b.film_w),
                ("film_b", b.film_b),
                ("w2", b.w2),
                ("b2", b.b2),
            ] {
                v.push((format!("block{i}.{n}"), t));
            }
        }
        v
    }

    /// Weight matrices with their Glorot fan-in + fan-out (a 3x3 conv's fans count the 9 taps,
    /// as PyTorch's xavier_uniform does for conv kernels).
    pub(super) fn weight_tensors(&self) -> Vec<(Tensor, usize)> {
        // conv tensors are `9*cin x cout`: fan_in + fan_out = 9*cin + 9*cout
        let conv = |t: Tensor| (t, t.rows + 9 * t.cols);
        let dense = |t: Tensor| (t, t.rows + t.cols);
        let mut v = vec![conv(self.in_w), dense(self.t1_w), dense(self.t2_w)];
        v.extend([conv(self.down1_w), conv(self.down2_w), conv(self.up_w), conv(self.out_w)]);
        for b in &self.blocks {
            v.extend([conv(b.w1), dense(b.film_w), conv(b.w2)]);
        }
        v
    }

    /// The LayerNorm gains (initialised to one).
    pub(super) fn gain_tensors(&self) -> Vec<Tensor> {
        let mut v = vec![self.out_ln_gain];
        v.extend(self.blocks.iter().map(|b| b.ln_gain));
        v
    }
}
