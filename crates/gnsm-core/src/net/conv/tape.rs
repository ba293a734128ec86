//! Activation buffers of one forward pass (`ConvTape`) and the scratch the backward pass needs.
//!
//! Buffers are resized on each call (a no-op after the first call with the same shape) so a
//! thread that reuses its tape allocates nothing per map. The backward scratch sits behind a
//! `Mutex` because `backward` takes the tape by shared reference: each tape belongs to one
//! thread, so the lock is never contended, and `forward` reaches it lock-free via `get_mut`.

use super::layout::{ConvConfig, N_BLOCKS};
use super::ops::Im2col;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Activations of one residual block kept for the backward pass (all `pixels x channels`,
/// except `rstd`, one per pixel).
#[derive(Debug, Clone, Default)]
pub(super) struct BlockTape {
    pub xhat: Vec<f32>,
    pub rstd: Vec<f32>,
    /// LayerNorm output (before SiLU).
    pub ln_y: Vec<f32>,
    /// SiLU(LN(h)): the first convolution's input.
    pub a1: Vec<f32>,
    /// First convolution's output (before FiLM).
    pub v: Vec<f32>,
    /// After FiLM (before SiLU).
    pub z: Vec<f32>,
    /// SiLU(z): the second convolution's input.
    pub a2: Vec<f32>,
}

impl BlockTape {
    /// Sizes the buffers for `pixels x channels`.
    fn prepare(&mut self, pixels: usize, channels: usize) {
        for buf in [&mut self.xhat, &mut self.ln_y, &mut self.a1, &mut self.v, &mut self.z, &mut self.a2] {
            buf.resize(pixels * channels, 0.0);
        }
        self.rstd.resize(pixels, 0.0);
    }
}

/// Working memory: the im2col matrix (forward and backward) and the backward gradients.
#[derive(Debug, Clone, Default)]
pub(super) struct Scratch {
    /// im2col matrix and its input transposed (forward); `im.col` row-major (backward).
    pub im: Im2col,
    pub dcol: Vec<f32>,
    /// Block-internal gradients, up to `H*W x C`.
    pub t1: Vec<f32>,
    pub t2: Vec<f32>,
    /// Gradient of the full-resolution stream (`H*W x C`).
    pub g0: Vec<f32>,
    /// Gradient of the H/2 stream (`H*W/4 x 2C`).
    pub g1: Vec<f32>,
    /// Gradient of the H/4 stream (`H*W/16 x 2C`).
    pub g2: Vec<f32>,
    /// Gradient of the `C`-channel maps at H/2 (the up conv's output, then the first pool's).
    pub gup: Vec<f32>,
    /// Gradient of the second pool's output (`H*W/16 x 2C`).
    pub gpool: Vec<f32>,
}

/// Activations of a forward pass over one map; `out` is the `H*W x K` logits.
#[derive(Debug, Default)]
pub struct ConvTape {
    pub out: Vec<f32>,
    /// Copy of the input map (the first convolution's weight gradient needs it).
    pub(super) input: Vec<f32>,
    /// Encoder stream at H after block S1 (also the skip into U1).
    pub(super) s1: Vec<f32>,
    pub(super) pool1: Vec<f32>,
    /// Encoder stream at H/2 after block S2 (also the skip into U2).
    pub(super) s2: Vec<f32>,
    pub(super) pool2: Vec<f32>,
    /// Middle stream at H/4.
    pub(super) m: Vec<f32>,
    /// Decoder stream at H/2 after block U2 (the up conv's input).
    pub(super) u2: Vec<f32>,
    /// Up conv output at H/2, before upsampling.
    pub(super) upc: Vec<f32>,
    /// Decoder stream at H after block U1.
    pub(super) u1: Vec<f32>,
    pub(super) blocks: Vec<BlockTape>,
    pub(super) out_xhat: Vec<f32>,
    pub(super) out_rstd: Vec<f32>,
    pub(super) out_y: Vec<f32>,
    pub(super) out_r: Vec<f32>,
    pub(super) scratch: Mutex<Scratch>,
}

impl Clone for ConvTape {
    /// Clones the activations; the scratch is cloned too (it holds no state between calls).
    fn clone(&self) -> ConvTape {
        ConvTape {
            out: self.out.clone(),
            input: self.input.clone(),
            s1: self.s1.clone(),
            pool1: self.pool1.clone(),
            s2: self.s2.clone(),
            pool2: self.pool2.clone(),
            m: self.m.clone(),
            u2: self.u2.clone(),
            upc: self.upc.clone(),
            u1: self.u1.clone(),
            blocks: self.blocks.clone(),
            out_xhat: self.out_xhat.clone(),
            out_rstd: self.out_rstd.clone(),
            out_y: self.out_y.clone(),
            out_r: self.out_r.clone(),
            scratch: Mutex::new(self.lock_scratch().clone()),
        }
    }
}

impl ConvTape {
    /// Resizes every buffer for maps of shape `c` (reuses capacity across calls).
    pub(super) fn prepare(&mut self, c: &ConvConfig, block_channels: &[usize; N_BLOCKS]) {
        let (k, base, cin) = (c.classes, c.base_channels, c.in_channels());
        let p0 = c.height * c.width;
        let (p1, p2) = (p0 / 4, p0 / 16);
        let block_pixels = [p0, p1, p2, p2, p1, p0];
        self.blocks.resize_with(N_BLOCKS, BlockTape::default);
        for ((b, &p), &ch) in self.blocks.iter_mut().zip(&block_pixels).zip(block_channels) {
            b.prepare(p, ch);
        }
        self.out.resize(p0 * k, 0.0);
        self.input.resize(p0 * cin, 0.0);
        for buf in [&mut self.s1, &mut self.u1, &mut self.out_xhat, &mut self.out_y, &mut self.out_r] {
            buf.resize(p0 * base, 0.0);
        }
        self.out_rstd.resize(p0, 0.0);
        for buf in [&mut self.pool1, &mut self.upc] {
            buf.resize(p1 * base, 0.0);
        }
        for buf in [&mut self.s2, &mut self.u2] {
            buf.resize(p1 * 2 * base, 0.0);
        }
        for buf in [&mut self.pool2, &mut self.m] {
            buf.resize(p2 * 2 * base, 0.0);
        }
        let s = self.scratch.get_mut().unwrap_or_else(PoisonError::into_inner);
        // the widest im2col is a full-resolution conv over max(K+E, C) input channels
        let col_len = p0 * 9 * cin.max(base);
        s.im.col.resize(col_len, 0.0);
        s.im.xt.resize(p0 * cin.max(base), 0.0);
        s.dcol.resize(col_len, 0.0);
        for buf in [&mut s.t1, &mut s.t2, &mut s.g0] {
            buf.resize(p0 * base, 0.0);
        }
        s.g1.resize(p1 * 2 * base, 0.0);
        s.gup.resize(p1 * base, 0.0);
        for buf in [&mut s.g2, &mut s.gpool] {
            buf.resize(p2 * 2 * base, 0.0);
        }
    }

    /// The backward scratch (a panic elsewhere cannot poison it into uselessness: every buffer is
    /// rewritten before it is read).
    pub(super) fn lock_scratch(&self) -> MutexGuard<'_, Scratch> {
        self.scratch.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
