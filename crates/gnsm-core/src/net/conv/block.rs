//! The FiLM-conditioned residual block, forward and backward:
//! `h += conv2(SiLU(conv1(SiLU(LN(h))) * gamma + beta))`, LayerNorm per pixel over channels.

use super::layout::BlockLayout;
use super::ops::{Conv, Im2col, Shape};
use super::tape::BlockTape;
use crate::kernels::{layernorm_backward, layernorm_forward, silu_backward, silu_forward};
use crate::net::tabular::Tensor;

/// Scratch of a block's backward: two gradient buffers and the im2col pair.
pub(super) type BlockScratch<'a> = (&'a mut Vec<f32>, &'a mut Vec<f32>, &'a mut Vec<f32>, &'a mut Vec<f32>);

impl BlockLayout {
    /// The block's two convolutions.
    fn convs(&self) -> (Conv, Conv) {
        (Conv { w: self.w1, b: self.b1 }, Conv { w: self.w2, b: self.b2 })
    }

    /// Runs the block in place on `h` (`pixels x channels`), FiLM `film` = `[gamma | beta]` of the
    /// level, keeping what the backward pass needs in `bt`; `im` is im2col scratch.
    pub(super) fn forward(&self, params: &[f32], film: &[f32], s: Shape, h: &mut [f32], bt: &mut BlockTape, im: &mut Im2col) {
        let c = self.channels;
        let n = s.h * s.w * c;
        let (conv1, conv2) = self.convs();
        layernorm_forward(&h[..n], self.ln_gain.slice(params), self.ln_bias.slice(params), &mut bt.xhat, &mut bt.ln_y, &mut bt.rstd);
        silu_forward(&bt.ln_y, &mut bt.a1);
        conv1.forward(params, &bt.a1, s, im, &mut bt.v, false);
        let (gamma, beta) = film.split_at(c);
        for (vr, zr) in bt.v.chunks_exact(c).zip(bt.z.chunks_exact_mut(c)) {
            for i in 0..c {
                zr[i] = vr[i] * gamma[i] + beta[i];
            }
        }
        silu_forward(&bt.z, &mut bt.a2);
        // residual: the second conv accumulates onto h
        conv2.forward(params, &bt.a2, s, im, h, true);
    }

    /// Backward of `forward`: `dh` holds dL/d(block output) and becomes dL/d(block input) in
    /// place; parameter gradients accumulate into `grads`, the level's `[dgamma | dbeta]` into
    /// `d_film`. `t1`, `t2`, `col`, `dcol` are scratch.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn backward(
        &self,
        params: &[f32],
        film: &[f32],
        s: Shape,
        bt: &BlockTape,
        dh: &mut [f32],
        d_film: &mut [f32],
        grads: &mut [f32],
        scratch: BlockScratch,
    ) {
        let (t1, t2, col, dcol) = scratch;
        let c = self.channels;
        let n = s.h * s.w * c;
        let (t1, t2, dh) = (&mut t1[..n], &mut t2[..n], &mut dh[..n]);
        let (conv1, conv2) = self.convs();
        t1.fill(0.0);
        conv2.backward(params, &bt.a2, s, dh, col, dcol, grads, Some(t1));
        silu_backward(&bt.z, t1);
        // FiLM: z = v * gamma + beta; t1 becomes dL/dv in place
        let gamma = &film[..c];
        let (dgamma, dbeta) = d_film.split_at_mut(c);
        for (dr, vr) in t1.chunks_exact_mut(c).zip(bt.v.chunks_exact(c)) {
            for i in 0..c {
                dgamma[i] += dr[i] * vr[i];
                dbeta[i] += dr[i];
                dr[i] *= gamma[i];
            }
        }
        t2.fill(0.0);
        conv1.backward(params, &bt.a1, s, t1, col, dcol, grads, Some(t2));
        silu_backward(&bt.ln_y, t2);
        let (dgain, dbias) = two_slices(grads, self.ln_gain, self.ln_bias);
        // adds the LayerNorm path onto the residual gradient already in dh
        layernorm_backward(t2, &bt.xhat, &bt.rstd, self.ln_gain.slice(params), dgain, dbias, dh);
    }
}

/// Two disjoint mutable tensors of the same flat vector (`a` must come before `b`).
pub(super) fn two_slices(flat: &mut [f32], a: Tensor, b: Tensor) -> (&mut [f32], &mut [f32]) {
    debug_assert!(a.offset + a.len() <= b.offset);
    let (left, right) = flat.split_at_mut(b.offset);
    (&mut left[a.range()], &mut right[..b.len()])
}
