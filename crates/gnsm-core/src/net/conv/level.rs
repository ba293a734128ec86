//! The level embedding and the blocks' FiLM projections, computed for all levels at once.
//!
//! Same semantics as the tabular net (`net::tabular`): frozen Fourier features
//! `[sin(2 pi t W), cos(2 pi t W)]` of the integer level t -> Linear-SiLU-Linear-SiLU (128 wide),
//! then one Linear(128 -> 2c) per block giving `[gamma | beta]`. Duplicated rather than shared so
//! the tabular net's numbers cannot move when this file changes.

use super::layout::N_BLOCKS;
use super::ops::{view, view_mut};
use super::ConvNet;
use crate::kernels::{add_bias_rows, add_col_sums, gemm, silu_backward, silu_forward};
use crate::net::tabular::{Tensor, N_FREQ, TEMB_DIM};
use crate::relax::LEVELS;

/// Per-level quantities shared by all maps of a call: the level embedding and each block's FiLM.
#[derive(Debug, Clone)]
pub struct ConvLevels {
    features: Vec<f32>,
    p1: Vec<f32>,
    a1: Vec<f32>,
    p2: Vec<f32>,
    emb: Vec<f32>,
    /// Per block, `LEVELS x 2c`: gamma in the first c columns, beta in the last c.
    pub film: Vec<Vec<f32>>,
}

impl ConvLevels {
    /// `[gamma | beta]` of block `b` at `level`.
    pub(super) fn film_of(&self, b: usize, level: usize) -> &[f32] {
        let row = self.film[b].len() / LEVELS;
        &self.film[b][level * row..(level + 1) * row]
    }
}

/// Per-level FiLM gradients (per block, `LEVELS x 2c`), summed over maps and back-propagated
/// through the level MLP once per step by `ConvNet::backward_levels`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvLevelGrads {
    pub film: Vec<Vec<f32>>,
}

impl ConvLevelGrads {
    /// Adds `other` element-wise (sum per-thread gradients in a fixed order for determinism).
    pub fn add_assign(&mut self, other: &ConvLevelGrads) {
        for (a, b) in self.film.iter_mut().zip(&other.film) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }

    /// Resets every gradient to zero, keeping the buffers.
    pub fn clear(&mut self) {
        for f in &mut self.film {
            f.fill(0.0);
        }
    }

    /// `[dgamma | dbeta]` of block `b` at `level`.
    pub(super) fn film_of_mut(&mut self, b: usize, level: usize) -> &mut [f32] {
        let row = self.film[b].len() / LEVELS;
        &mut self.film[b][level * row..(level + 1) * row]
    }
}

impl ConvNet {
    /// Computes the level embeddings and FiLM parameters of every level with weights `params`.
    pub fn level_context(&self, params: &[f32]) -> ConvLevels {
        let lv = LEVELS;
        let l = &self.layout;
        let mut features = vec![0.0f32; lv * TEMB_DIM];
        for t in 0..lv {
            for (k, w) in self.fourier.iter().enumerate() {
                let angle = 2.0 * std::f32::consts::PI * t as f32 * w;
                features[t * TEMB_DIM + k] = angle.sin();
                features[t * TEMB_DIM + N_FREQ + k] = angle.cos();
            }
        }
        let dense = |input: &[f32], w: &Tensor, b: &Tensor| {
            let mut out = vec![0.0f32; lv * w.cols];
            gemm(1.0, &view(lv, w.rows, input), &w.view(params), 0.0, &mut view_mut(lv, w.cols, &mut out));
            add_bias_rows(&mut out, b.slice(params));
            out
        };
        let p1 = dense(&features, &l.t1_w, &l.t1_b);
        let mut a1 = vec![0.0; p1.len()];
        silu_forward(&p1, &mut a1);
        let p2 = dense(&a1, &l.t2_w, &l.t2_b);
        let mut emb = vec![0.0; p2.len()];
        silu_forward(&p2, &mut emb);
        let film = l.blocks.iter().map(|b| dense(&emb, &b.film_w, &b.film_b)).collect();
        ConvLevels { features, p1, a1, p2, emb, film }
    }

    /// Fresh zeroed per-level FiLM gradient buffers.
    pub fn zero_level_grads(&self) -> ConvLevelGrads {
        ConvLevelGrads { film: self.layout.blocks.iter().map(|b| vec![0.0f32; LEVELS * 2 * b.channels]).collect() }
    }

    /// Back-propagates the summed per-level FiLM gradients through the FiLM projections and the
    /// level-embedding MLP, accumulating into `grads`; once per step.
    pub fn backward_levels(&self, params: &[f32], ctx: &ConvLevels, d_levels: &ConvLevelGrads, grads: &mut [f32]) {
        let lv = LEVELS;
        let l = &self.layout;
        debug_assert_eq!(d_levels.film.len(), N_BLOCKS);
        let mut d_emb = vec![0.0f32; lv * TEMB_DIM];
        for (bl, df) in l.blocks.iter().zip(&d_levels.film) {
            let cols = bl.film_w.cols;
            gemm(1.0, &view(lv, TEMB_DIM, &ctx.emb).t(), &view(lv, cols, df), 1.0, &mut bl.film_w.view_mut(grads));
            add_col_sums(df, bl.film_b.slice_mut(grads));
            gemm(1.0, &view(lv, cols, df), &bl.film_w.view(params).t(), 1.0, &mut view_mut(lv, TEMB_DIM, &mut d_emb));
        }
        silu_backward(&ctx.p2, &mut d_emb);
        gemm(1.0, &view(lv, TEMB_DIM, &ctx.a1).t(), &view(lv, TEMB_DIM, &d_emb), 1.0, &mut l.t2_w.view_mut(grads));
        add_col_sums(&d_emb, l.t2_b.slice_mut(grads));
        let mut d_a1 = vec![0.0f32; lv * TEMB_DIM];
        gemm(1.0, &view(lv, TEMB_DIM, &d_emb), &l.t2_w.view(params).t(), 0.0, &mut view_mut(lv, TEMB_DIM, &mut d_a1));
        silu_backward(&ctx.p1, &mut d_a1);
        gemm(1.0, &view(lv, TEMB_DIM, &ctx.features).t(), &view(lv, TEMB_DIM, &d_a1), 1.0, &mut l.t1_w.view_mut(grads));
        add_col_sums(&d_a1, l.t1_b.slice_mut(grads));
    }
}
