//! The network's shape (`NetConfig`) and where each weight lives in the flat parameter vector
//! (`Layout` of `Tensor` slices), with the parameter count and FLOP estimate.

use crate::relax::LEVELS;
use ndarray::{ArrayView2, ArrayViewMut2};
use serde::{Deserialize, Serialize};

/// Width of the level embedding (Fourier features and the MLP after them).
pub const TEMB_DIM: usize = 128;
/// Number of random Fourier frequencies (sin and cos of each make `TEMB_DIM` features).
pub const N_FREQ: usize = TEMB_DIM / 2;

/// Shape of a network: input width D, hidden width W, residual blocks B, noise levels L.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct NetConfig {
    pub input_dim: usize,
    pub width: usize,
    pub depth: usize,
    pub levels: usize,
}

impl NetConfig {
    /// Number of parameters of a network of this shape; None when the shape is outside what
    /// training accepts (width 1-4096, depth 1-64, the fixed level count) or overflows.
    pub fn param_count(&self) -> Option<usize> {
        if !(1..=4096).contains(&self.width) || !(1..=64).contains(&self.depth) || self.levels != LEVELS || self.input_dim == 0 {
            return None;
        }
        let (d, w, t) = (self.input_dim, self.width, TEMB_DIM);
        let input = d.checked_mul(w)?.checked_add(w)?;
        let time = 2 * (t * t + t);
        let block = 2 * w + w * w + w + t * 2 * w + 2 * w + w * w + w;
        let output = 2 * w + w.checked_mul(d)?.checked_add(d)?;
        input.checked_add(time)?.checked_add(block.checked_mul(self.depth)?)?.checked_add(output)
    }

    /// Multiply-add FLOPs of one forward pass for one row (2 per multiply-add, GEMMs only).
    pub fn forward_flops_per_row(&self) -> f64 {
        let (d, w, b) = (self.input_dim as f64, self.width as f64, self.depth as f64);
        2.0 * (d * w + b * 2.0 * w * w + w * d)
    }
}

/// One parameter tensor inside the flat parameter vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tensor {
    pub offset: usize,
    pub rows: usize,
    pub cols: usize,
}

impl Tensor {
    /// Number of scalars.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }
    /// True for a zero-sized tensor.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Its range in the flat vector.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len()
    }
    /// Read-only 2-D view into a flat vector.
    pub fn view<'a>(&self, flat: &'a [f32]) -> ArrayView2<'a, f32> {
        ArrayView2::from_shape((self.rows, self.cols), &flat[self.range()]).expect("layout matches vector")
    }
    /// Mutable 2-D view into a flat vector.
    pub fn view_mut<'a>(&self, flat: &'a mut [f32]) -> ArrayViewMut2<'a, f32> {
        ArrayViewMut2::from_shape((self.rows, self.cols), &mut flat[self.range()]).expect("layout matches vector")
    }
    /// The slice itself.
    pub fn slice<'a>(&self, flat: &'a [f32]) -> &'a [f32] {
        &flat[self.range()]
    }
    /// The mutable slice itself.
    pub fn slice_mut<'a>(&self, flat: &'a mut [f32]) -> &'a mut [f32] {
        &mut flat[self.range()]
    }
}

/// Parameters of one residual block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockLayout {
    pub ln_gain: Tensor,
    pub ln_bias: Tensor,
    pub w1: Tensor,
    pub b1: Tensor,
    pub film_w: Tensor,
    pub film_b: Tensor,
    pub w2: Tensor,
    pub b2: Tensor,
}

/// Where every tensor sits in the flat parameter vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub in_w: Tensor,
    pub in_b: Tensor,
    pub t1_w: Tensor,
    pub t1_b: Tensor,
    pub t2_w: Tensor,
    pub t2_b: Tensor,
    pub blocks: Vec<BlockLayout>,
    pub out_ln_gain: Tensor,
    pub out_ln_bias: Tensor,
    pub out_w: Tensor,
    pub out_b: Tensor,
    pub total: usize,
}

impl Layout {
    /// Lays out the tensors of a network of the given shape.
    pub fn new(c: &NetConfig) -> Layout {
        let mut off = 0usize;
        let mut t = |rows: usize, cols: usize| {
            let tensor = Tensor { offset: off, rows, cols };
            off += rows * cols;
            tensor
        };
        let (d, w) = (c.input_dim, c.width);
        let in_w = t(d, w);
        let in_b = t(1, w);
        let t1_w = t(TEMB_DIM, TEMB_DIM);
        let t1_b = t(1, TEMB_DIM);
        let t2_w = t(TEMB_DIM, TEMB_DIM);
        let t2_b = t(1, TEMB_DIM);
        let blocks = (0..c.depth)
            .map(|_| BlockLayout {
                ln_gain: t(1, w),
                ln_bias: t(1, w),
                w1: t(w, w),
                b1: t(1, w),
                film_w: t(TEMB_DIM, 2 * w),
                film_b: t(1, 2 * w),
                w2: t(w, w),
                b2: t(1, w),
            })
            .collect();
        let out_ln_gain = t(1, w);
        let out_ln_bias = t(1, w);
        let out_w = t(w, d);
        let out_b = t(1, d);
        Layout { in_w, in_b, t1_w, t1_b, t2_w, t2_b, blocks, out_ln_gain, out_ln_bias, out_w, out_b, total: off }
    }

    /// The weight matrices (Glorot-initialised) as opposed to biases and gains.
    pub(super) fn weight_tensors(&self) -> Vec<Tensor> {
        let mut v = vec![self.in_w, self.t1_w, self.t2_w, self.out_w];
        for b in &self.blocks {
            v.extend([b.w1, b.film_w, b.w2]);
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

