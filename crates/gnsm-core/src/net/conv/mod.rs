//! The noise-conditional convolutional score network for 2-D categorical label maps: a small
//! U-Net at H, H/2 and H/4 with hand-written forward and backward passes.
//!
//! ```text
//! x0 = conv_in(input)              (K+E) -> C   @ H
//! s1 = Res(C)(x0)                               @ H
//! s2 = Res(2C)(down1(pool(s1)))    C -> 2C      @ H/2
//! m  = Res(2C)(Res(2C)(down2(pool(s2))))        @ H/4
//! u2 = Res(2C)(up(m) + s2)                      @ H/2
//! u1 = Res(C)(up(conv_up(u2)) + s1)  2C -> C    @ H   (the conv runs at H/2)
//! out = conv_out(LeakyReLU(LN(u1)))  C -> K     @ H
//! ```
//! Res is `h + conv(SiLU(FiLM_t(conv(SiLU(LN(h))))))` (`block`); every conv is 3x3, zero padded.
//!
//! As in the tabular net, all weights live in one flat `params` vector described by a layout,
//! and the level embedding + FiLM are computed once per call for all levels (`level`), their
//! gradients summed per level and back-propagated once per step. Maps are channels-last (HWC):
//! channel k of pixel (r, c) is `x[(r*W + c)*C + k]`, so pixels are GEMM rows and a conv is
//! im2col + one GEMM (`ops`). One map per call: the caller parallelises over maps, one tape each.

mod block;
mod layout;
mod level;
mod ops;
mod tape;
#[cfg(test)]
mod tests;

pub use layout::{BlockLayout, ConvConfig, ConvLayout};
pub use level::{ConvLevelGrads, ConvLevels};
pub use tape::ConvTape;
use tape::Scratch;

use crate::kernels::{layernorm_backward, layernorm_forward, leaky_backward, leaky_forward};
use crate::net::tabular::N_FREQ;
use crate::relax::LEVELS;
use block::{two_slices, BlockScratch};
use layout::{M1, M2, N_BLOCKS, S1, S2, U1, U2};
use ops::{avgpool2, avgpool2_backward_add, upsample2_add, upsample2_backward, Conv, Shape};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// The network: shape, frozen Fourier frequencies and the flat trainable parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvNet {
    pub config: ConvConfig,
    pub fourier: Vec<f32>,
    pub params: Vec<f32>,
    layout: ConvLayout,
}

/// The network's convolutions outside the blocks.
struct Convs {
    input: Conv,
    down1: Conv,
    down2: Conv,
    up: Conv,
    out: Conv,
}

impl ConvNet {
    /// A freshly initialised network: Glorot-uniform weights, zero biases, unit LayerNorm gains.
    /// `config` must pass `validate` (debug-asserted).
    pub fn new<R: Rng>(config: ConvConfig, rng: &mut R) -> ConvNet {
        debug_assert!(config.validate().is_ok(), "{config:?}");
        let layout = ConvLayout::new(&config);
        let mut params = vec![0.0f32; layout.total];
        for (t, fans) in layout.weight_tensors() {
            let limit = (6.0 / fans as f64).sqrt() as f32;
            for p in t.slice_mut(&mut params) {
                *p = rng.random_range(-limit..limit);
            }
        }
        for t in layout.gain_tensors() {
            t.slice_mut(&mut params).fill(1.0);
        }
        let fourier = (0..N_FREQ).map(|_| StandardNormal.sample(rng)).collect();
        ConvNet { config, fourier, params, layout }
    }

    /// Rebuilds a network from stored parts; None if the config is invalid or a length is wrong.
    pub fn from_parts(config: ConvConfig, fourier: Vec<f32>, params: Vec<f32>) -> Option<ConvNet> {
        // stored configs are untrusted: validate (bounded sizes) before laying out
        if config.param_count() != Some(params.len()) || fourier.len() != N_FREQ {
            return None;
        }
        let layout = ConvLayout::new(&config);
        Some(ConvNet { config, fourier, params, layout })
    }

    /// Number of trainable scalars.
    pub fn n_params(&self) -> usize {
        self.layout.total
    }

    /// Where each tensor lives in `params`.
    pub fn layout(&self) -> &ConvLayout {
        &self.layout
    }

    /// The convolutions outside the residual blocks.
    fn convs(&self) -> Convs {
        let l = &self.layout;
        Convs {
            input: Conv { w: l.in_w, b: l.in_b },
            down1: Conv { w: l.down1_w, b: l.down1_b },
            down2: Conv { w: l.down2_w, b: l.down2_b },
            up: Conv { w: l.up_w, b: l.up_b },
            out: Conv { w: l.out_w, b: l.out_b },
        }
    }

    /// The three resolutions H, H/2, H/4.
    fn shapes(&self) -> [Shape; 3] {
        let (h, w) = (self.config.height, self.config.width);
        [Shape { h, w }, Shape { h: h / 2, w: w / 2 }, Shape { h: h / 4, w: w / 4 }]
    }

    /// Forward pass of one map `input` (`H*W x (K+E)`, HWC) at level index `level` with weights
    /// `params`; writes `tape.out` (`H*W x K` logits) and keeps the activations for `backward`.
    pub fn forward(&self, params: &[f32], ctx: &ConvLevels, input: &[f32], level: usize, tape: &mut ConvTape) {
        let c = &self.config;
        debug_assert_eq!(input.len(), c.height * c.width * c.in_channels());
        debug_assert!(level < LEVELS);
        let l = &self.layout;
        let [s0, sh, sq] = self.shapes();
        let cv = self.convs();
        let base = c.base_channels;
        tape.prepare(c, &self.block_channels());
        tape.input.copy_from_slice(input);
        let im = &mut tape.scratch.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).im;
        let blocks = &mut tape.blocks;
        let film = |b: usize| ctx.film_of(b, level);

        cv.input.forward(params, &tape.input, s0, im, &mut tape.s1, false);
        l.blocks[S1].forward(params, film(S1), s0, &mut tape.s1, &mut blocks[S1], im);
        avgpool2(&tape.s1, s0.h, s0.w, base, &mut tape.pool1);
        cv.down1.forward(params, &tape.pool1, sh, im, &mut tape.s2, false);
        l.blocks[S2].forward(params, film(S2), sh, &mut tape.s2, &mut blocks[S2], im);
        avgpool2(&tape.s2, sh.h, sh.w, 2 * base, &mut tape.pool2);
        cv.down2.forward(params, &tape.pool2, sq, im, &mut tape.m, false);
        l.blocks[M1].forward(params, film(M1), sq, &mut tape.m, &mut blocks[M1], im);
        l.blocks[M2].forward(params, film(M2), sq, &mut tape.m, &mut blocks[M2], im);
        tape.u2.copy_from_slice(&tape.s2);
        upsample2_add(&tape.m, sh.h, sh.w, 2 * base, &mut tape.u2);
        l.blocks[U2].forward(params, film(U2), sh, &mut tape.u2, &mut blocks[U2], im);
        cv.up.forward(params, &tape.u2, sh, im, &mut tape.upc, false);
        tape.u1.copy_from_slice(&tape.s1);
        upsample2_add(&tape.upc, s0.h, s0.w, base, &mut tape.u1);
        l.blocks[U1].forward(params, film(U1), s0, &mut tape.u1, &mut blocks[U1], im);
        let (gain, bias) = (l.out_ln_gain.slice(params), l.out_ln_bias.slice(params));
        layernorm_forward(&tape.u1, gain, bias, &mut tape.out_xhat, &mut tape.out_y, &mut tape.out_rstd);
        leaky_forward(&tape.out_y, &mut tape.out_r);
        cv.out.forward(params, &tape.out_r, s0, im, &mut tape.out, false);
    }

    /// Backward pass of the map last run through `tape` at `level`: given `d_out` = dL/d(out),
    /// ACCUMULATES the parameter gradients into `grads` (len `n_params`) and that level's FiLM
    /// gradients into `d_levels` (finish with `backward_levels` once per step).
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        params: &[f32],
        ctx: &ConvLevels,
        tape: &ConvTape,
        d_out: &[f32],
        level: usize,
        grads: &mut [f32],
        d_levels: &mut ConvLevelGrads,
    ) {
        let c = &self.config;
        debug_assert_eq!(d_out.len(), c.height * c.width * c.classes);
        debug_assert_eq!(grads.len(), self.n_params());
        let l = &self.layout;
        let [s0, sh, sq] = self.shapes();
        let cv = self.convs();
        let base = c.base_channels;
        let mut guard = tape.lock_scratch();
        let Scratch { im, dcol, t1, t2, g0, g1, g2, gup, gpool } = &mut *guard;
        let col = &mut im.col;
        // one residual block's backward, in place on its stream's gradient `dh`
        let block = |b: usize, shape: Shape, dh: &mut [f32], grads: &mut [f32], d_levels: &mut ConvLevelGrads, ws: BlockScratch| {
            l.blocks[b].backward(params, ctx.film_of(b, level), shape, &tape.blocks[b], dh, d_levels.film_of_mut(b, level), grads, ws);
        };

        // reborrows the block scratch for one call
        macro_rules! ws {
            () => {
                (&mut *t1, &mut *t2, &mut *col, &mut *dcol)
            };
        }

        // head: out = conv_out(LeakyReLU(LN(u1)))
        t1.fill(0.0);
        cv.out.backward(params, &tape.out_r, s0, d_out, col, dcol, grads, Some(&mut t1[..]));
        leaky_backward(&tape.out_y, t1);
        g0.fill(0.0);
        let (dgain, dbias) = two_slices(grads, l.out_ln_gain, l.out_ln_bias);
        layernorm_backward(t1, &tape.out_xhat, &tape.out_rstd, l.out_ln_gain.slice(params), dgain, dbias, g0);
        // decoder at H: g0 is d(u1 input) = d(s1 skip) + d(upsampled up-conv output)
        block(U1, s0, g0, grads, d_levels, ws!());
        upsample2_backward(g0, s0.h, s0.w, base, gup);
        g1.fill(0.0);
        cv.up.backward(params, &tape.u2, sh, gup, col, dcol, grads, Some(&mut g1[..]));
        // decoder at H/2: g1 becomes d(s2 skip) and, summed per 2x2, d(m)
        block(U2, sh, g1, grads, d_levels, ws!());
        upsample2_backward(g1, sh.h, sh.w, 2 * base, g2);
        block(M2, sq, g2, grads, d_levels, ws!());
        block(M1, sq, g2, grads, d_levels, ws!());
        gpool.fill(0.0);
        cv.down2.backward(params, &tape.pool2, sq, g2, col, dcol, grads, Some(&mut gpool[..]));
        avgpool2_backward_add(gpool, sh.h, sh.w, 2 * base, g1);
        // encoder at H/2, then back to H through the first pooling
        block(S2, sh, g1, grads, d_levels, ws!());
        gup.fill(0.0);
        cv.down1.backward(params, &tape.pool1, sh, g1, col, dcol, grads, Some(&mut gup[..]));
        avgpool2_backward_add(gup, s0.h, s0.w, base, g0);
        block(S1, s0, g0, grads, d_levels, ws!());
        // the input map is not a parameter: skip its gradient
        cv.input.backward(params, &tape.input, s0, g0, col, dcol, grads, None);
    }

    /// Channels of each residual block.
    fn block_channels(&self) -> [usize; N_BLOCKS] {
        let mut out = [0; N_BLOCKS];
        for (o, b) in out.iter_mut().zip(&self.layout.blocks) {
            *o = b.channels;
        }
        out
    }
}
