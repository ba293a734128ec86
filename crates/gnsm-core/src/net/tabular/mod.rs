//! The tab-resnet score network of the method (§4) with hand-written forward and backward passes.
//!
//! All weights live in one flat `Vec<f32>` (`params`) described by a `Layout`, so the optimiser,
//! EMA, clipping and the gradient all-reduce are loops over one slice. Linear weights are stored
//! `in x out`, row-major, so a layer is `X @ W + b` on row-major activations.
//!
//! The level embedding (Fourier features -> 2-layer MLP) and every block's FiLM projection depend
//! only on the level index, of which there are 20: they are computed once per call for all levels
//! (`LevelContext`) and gathered per row, instead of once per row as a literal port would. Their
//! gradients are accumulated per level and back-propagated once per step.
//!
//! `layout` describes the shape and the flat parameter vector; this file runs it.

mod layout;

pub use layout::{BlockLayout, Layout, NetConfig, Tensor, N_FREQ, TEMB_DIM};


use crate::kernels::*;
use ndarray::{ArrayView2, ArrayViewMut2};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// The network: shape, frozen Fourier frequencies and the flat trainable parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub config: NetConfig,
    pub fourier: Vec<f32>,
    pub params: Vec<f32>,
    pub layout: Layout,
    /// The GELU it was trained with, which it must also score with: the f64 erf one for networks
    /// of model formats up to 7, the vectorisable f32 one from format 8 on (not stored: the
    /// reader sets it from the format version).
    pub gelu: Gelu,
}

/// Which erf a network's GELU uses (both are `x * Phi(x)`; they differ by under 4e-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gelu {
    /// f64 erf with a library exp (model formats 1-7): about a third of a forward pass.
    ErfF64,
    /// f32 erf with a polynomial exp, which vectorises (format 8 on; new networks).
    #[default]
    ErfF32,
}

impl Gelu {
    /// `y = GELU(x)` with this erf.
    fn forward(self, x: &[f32], y: &mut [f32]) {
        match self {
            Gelu::ErfF32 => gelu_f32_forward(x, y),
            Gelu::ErfF64 => gelu_forward(x, y),
        }
    }

    /// `d *= GELU'(x)` with this erf.
    fn backward(self, x: &[f32], d: &mut [f32]) {
        match self {
            Gelu::ErfF32 => gelu_f32_backward(x, d),
            Gelu::ErfF64 => gelu_backward(x, d),
        }
    }
}

/// Per-level quantities shared by all rows of a call: the level embedding and each block's FiLM
/// (empty for a network without its weights).
#[derive(Debug, Clone, Default)]
pub struct LevelContext {
    features: Vec<f32>,
    p1: Vec<f32>,
    a1: Vec<f32>,
    p2: Vec<f32>,
    emb: Vec<f32>,
    /// Per block, `levels x 2W`: gamma in the first W columns, beta in the last W.
    pub film: Vec<Vec<f32>>,
}

/// Activations of one residual block kept for the backward pass.
#[derive(Debug, Clone, Default)]
struct BlockTape {
    xhat: Vec<f32>,
    rstd: Vec<f32>,
    a: Vec<f32>,
    u: Vec<f32>,
    v: Vec<f32>,
    z: Vec<f32>,
}

/// Activations of a forward pass over `n` rows; `out` is the network output (`n x D`).
#[derive(Debug, Clone, Default)]
pub struct Tape {
    n: usize,
    blocks: Vec<BlockTape>,
    h: Vec<f32>,
    out_xhat: Vec<f32>,
    out_rstd: Vec<f32>,
    out_a: Vec<f32>,
    out_r: Vec<f32>,
    pub out: Vec<f32>,
}

impl Tape {
    /// Resizes every buffer for `n` rows (reuses capacity across calls).
    fn prepare(&mut self, n: usize, c: &NetConfig) {
        let (w, d) = (c.width, c.input_dim);
        self.n = n;
        self.blocks.resize_with(c.depth, BlockTape::default);
        for b in &mut self.blocks {
            for buf in [&mut b.xhat, &mut b.a, &mut b.u, &mut b.v, &mut b.z] {
                buf.resize(n * w, 0.0);
            }
            b.rstd.resize(n, 0.0);
        }
        for buf in [&mut self.h, &mut self.out_xhat, &mut self.out_a, &mut self.out_r] {
            buf.resize(n * w, 0.0);
        }
        self.out_rstd.resize(n, 0.0);
        self.out.resize(n * d, 0.0);
    }
}

/// Fills `t` with Glorot-uniform values.
fn glorot<R: Rng>(rng: &mut R, t: &Tensor, params: &mut [f32]) {
    let limit = (6.0 / (t.rows + t.cols) as f64).sqrt() as f32;
    for p in t.slice_mut(params) {
        *p = rng.random_range(-limit..limit);
    }
}

/// Row-major view helper for activations.
fn view(n: usize, m: usize, s: &[f32]) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((n, m), s).expect("activation shape")
}

/// Mutable row-major view helper for activations.
fn view_mut(n: usize, m: usize, s: &mut [f32]) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((n, m), s).expect("activation shape")
}

impl Network {
    /// A freshly initialised network: Glorot-uniform weights, zero biases, unit LayerNorm gains.
    pub fn new<R: Rng>(config: NetConfig, rng: &mut R) -> Network {
        let layout = Layout::new(&config);
        let mut params = vec![0.0f32; layout.total];
        for t in layout.weight_tensors() {
            glorot(rng, &t, &mut params);
        }
        for t in layout.gain_tensors() {
            t.slice_mut(&mut params).fill(1.0);
        }
        let fourier = (0..N_FREQ).map(|_| StandardNormal.sample(rng)).collect();
        Network { config, fourier, params, layout, gelu: Gelu::default() }
    }

    /// Rebuilds a network from stored parts, checking that the sizes agree.
    pub fn from_parts(config: NetConfig, fourier: Vec<f32>, params: Vec<f32>) -> Option<Network> {
        // decoded shapes are untrusted: check them (and the parameter count, without overflow)
        // before laying out, or a corrupted depth allocates gigabytes (found by fuzzing)
        if config.param_count() != Some(params.len()) || fourier.len() != N_FREQ {
            return None;
        }
        let layout = Layout::new(&config);
        (layout.total == params.len() && fourier.len() == N_FREQ).then_some(Network { config, fourier, params, layout, gelu: Gelu::default() })
    }

    /// The network's shape without its weights (a model read from its front section, format 9):
    /// enough to check the stored shapes and to describe the model; `with_params` completes it.
    pub fn unloaded(config: NetConfig, fourier: Vec<f32>) -> Option<Network> {
        let total = config.param_count()?;
        if fourier.len() != N_FREQ {
            return None;
        }
        let layout = Layout::new(&config);
        (layout.total == total).then_some(Network { config, fourier, params: Vec::new(), layout, gelu: Gelu::default() })
    }

    /// Whether the weights are present (false for a network read without its weights).
    pub fn is_loaded(&self) -> bool {
        self.params.len() == self.layout.total
    }

    /// The same network with these weights; None when their count is not the shape's.
    pub fn with_params(&self, params: Vec<f32>) -> Option<Network> {
        let mut net = Network::from_parts(self.config, self.fourier.clone(), params)?;
        net.gelu = self.gelu;
        Some(net)
    }

    /// Number of trainable scalars.
    pub fn n_params(&self) -> usize {
        self.layout.total
    }

    /// Computes the level embeddings and FiLM parameters of every level with weights `params`.
    pub fn level_context(&self, params: &[f32]) -> LevelContext {
        let lv = self.config.levels;
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
        LevelContext { features, p1, a1, p2, emb, film }
    }

    /// Forward pass of `n` rows `y` (`n x D`) at level indices `levels` with weights `params`.
    pub fn forward(&self, params: &[f32], ctx: &LevelContext, y: &[f32], levels: &[usize], tape: &mut Tape) {
        let c = &self.config;
        let (n, w, d) = (levels.len(), c.width, c.input_dim);
        debug_assert_eq!(y.len(), n * d);
        tape.prepare(n, c);
        let l = &self.layout;
        gemm(1.0, &view(n, d, y), &l.in_w.view(params), 0.0, &mut view_mut(n, w, &mut tape.h));
        add_bias_rows(&mut tape.h, l.in_b.slice(params));
        for (bi, (bl, bt)) in l.blocks.iter().zip(tape.blocks.iter_mut()).enumerate() {
            layernorm_forward(&tape.h, bl.ln_gain.slice(params), bl.ln_bias.slice(params), &mut bt.xhat, &mut bt.a, &mut bt.rstd);
            self.gelu.forward(&bt.a, &mut bt.u);
            gemm(1.0, &view(n, w, &bt.u), &bl.w1.view(params), 0.0, &mut view_mut(n, w, &mut bt.v));
            add_bias_rows(&mut bt.v, bl.b1.slice(params));
            let film = &ctx.film[bi];
            for (r, &t) in levels.iter().enumerate() {
                let (gamma, beta) = film[t * 2 * w..(t + 1) * 2 * w].split_at(w);
                let (vr, zr) = (&bt.v[r * w..(r + 1) * w], &mut bt.z[r * w..(r + 1) * w]);
                for i in 0..w {
                    zr[i] = vr[i] * gamma[i] + beta[i];
                }
            }
            gemm(1.0, &view(n, w, &bt.z), &bl.w2.view(params), 1.0, &mut view_mut(n, w, &mut tape.h));
            add_bias_rows(&mut tape.h, bl.b2.slice(params));
        }
        layernorm_forward(
            &tape.h,
            l.out_ln_gain.slice(params),
            l.out_ln_bias.slice(params),
            &mut tape.out_xhat,
            &mut tape.out_a,
            &mut tape.out_rstd,
        );
        leaky_forward(&tape.out_a, &mut tape.out_r);
        gemm(1.0, &view(n, w, &tape.out_r), &l.out_w.view(params), 0.0, &mut view_mut(n, d, &mut tape.out));
        add_bias_rows(&mut tape.out, l.out_b.slice(params));
    }

    /// Backward pass: given dL/d(out), accumulates the row-dependent parameter gradients into
    /// `grads` and the per-level FiLM gradients into `d_film` (per block, `levels x 2W`).
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        params: &[f32],
        ctx: &LevelContext,
        y: &[f32],
        levels: &[usize],
        tape: &Tape,
        d_out: &[f32],
        grads: &mut [f32],
        d_film: &mut [Vec<f32>],
    ) {
        let c = &self.config;
        let (n, w, d) = (tape.n, c.width, c.input_dim);
        let l = &self.layout;
        gemm(1.0, &view(n, w, &tape.out_r).t(), &view(n, d, d_out), 1.0, &mut l.out_w.view_mut(grads));
        add_col_sums(d_out, l.out_b.slice_mut(grads));
        let mut dr = vec![0.0f32; n * w];
        gemm(1.0, &view(n, d, d_out), &l.out_w.view(params).t(), 0.0, &mut view_mut(n, w, &mut dr));
        leaky_backward(&tape.out_a, &mut dr);
        let mut dh = vec![0.0f32; n * w];
        {
            let (gain_grad, bias_grad) = two_slices(grads, l.out_ln_gain, l.out_ln_bias);
            layernorm_backward(&dr, &tape.out_xhat, &tape.out_rstd, l.out_ln_gain.slice(params), gain_grad, bias_grad, &mut dh);
        }
        let mut dz = vec![0.0f32; n * w];
        let mut du = vec![0.0f32; n * w];
        for (bi, (bl, bt)) in l.blocks.iter().zip(tape.blocks.iter()).enumerate().rev() {
            gemm(1.0, &view(n, w, &bt.z).t(), &view(n, w, &dh), 1.0, &mut bl.w2.view_mut(grads));
            add_col_sums(&dh, bl.b2.slice_mut(grads));
            gemm(1.0, &view(n, w, &dh), &bl.w2.view(params).t(), 0.0, &mut view_mut(n, w, &mut dz));
            // FiLM: z = v * gamma[t] + beta[t]; dz becomes dv in place
            let film = &ctx.film[bi];
            let dfilm = &mut d_film[bi];
            for (r, &t) in levels.iter().enumerate() {
                let gamma = &film[t * 2 * w..t * 2 * w + w];
                let (dgamma, dbeta) = dfilm[t * 2 * w..(t + 1) * 2 * w].split_at_mut(w);
                let vr = &bt.v[r * w..(r + 1) * w];
                let dzr = &mut dz[r * w..(r + 1) * w];
                for i in 0..w {
                    dgamma[i] += dzr[i] * vr[i];
                    dbeta[i] += dzr[i];
                    dzr[i] *= gamma[i];
                }
            }
            let dv = &dz;
            gemm(1.0, &view(n, w, &bt.u).t(), &view(n, w, dv), 1.0, &mut bl.w1.view_mut(grads));
            add_col_sums(dv, bl.b1.slice_mut(grads));
            gemm(1.0, &view(n, w, dv), &bl.w1.view(params).t(), 0.0, &mut view_mut(n, w, &mut du));
            self.gelu.backward(&bt.a, &mut du);
            let (gain_grad, bias_grad) = two_slices(grads, bl.ln_gain, bl.ln_bias);
            layernorm_backward(&du, &bt.xhat, &bt.rstd, bl.ln_gain.slice(params), gain_grad, bias_grad, &mut dh);
        }
        gemm(1.0, &view(n, d, y).t(), &view(n, w, &dh), 1.0, &mut l.in_w.view_mut(grads));
        add_col_sums(&dh, l.in_b.slice_mut(grads));
    }

    /// Back-propagates the summed per-level FiLM gradients through the level-embedding MLP.
    pub fn backward_levels(&self, params: &[f32], ctx: &LevelContext, d_film: &[Vec<f32>], grads: &mut [f32]) {
        let lv = self.config.levels;
        let l = &self.layout;
        let mut d_emb = vec![0.0f32; lv * TEMB_DIM];
        for (bl, df) in l.blocks.iter().zip(d_film) {
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

    /// Fresh zeroed per-level FiLM gradient buffers.
    pub fn zero_film_grads(&self) -> Vec<Vec<f32>> {
        vec![vec![0.0f32; self.config.levels * 2 * self.config.width]; self.config.depth]
    }
}

/// Two disjoint mutable tensors of the same flat vector (`a` must come before `b`).
fn two_slices(flat: &mut [f32], a: Tensor, b: Tensor) -> (&mut [f32], &mut [f32]) {
    debug_assert!(a.offset + a.len() <= b.offset);
    let (left, right) = flat.split_at_mut(b.offset);
    (&mut left[a.range()], &mut right[..b.len()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relax::LEVELS;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn test_param_count_matches_layout_and_refuses_absurd_shapes() {
        for (d, w, b) in [(1, 1, 1), (7, 16, 2), (300, 256, 4), (5, 4096, 64)] {
            let c = NetConfig { input_dim: d, width: w, depth: b, levels: LEVELS };
            assert_eq!(c.param_count(), Some(Layout::new(&c).total), "{c:?}");
        }
        for c in [
            NetConfig { input_dim: 5, width: 8, depth: 1_000_000_000, levels: LEVELS },
            NetConfig { input_dim: usize::MAX / 2, width: 8, depth: 1, levels: LEVELS },
            NetConfig { input_dim: 5, width: 8, depth: 1, levels: 3 },
            NetConfig { input_dim: 0, width: 8, depth: 1, levels: LEVELS },
        ] {
            assert_eq!(c.param_count(), None, "{c:?}");
            assert!(Network::from_parts(c, vec![0.0; N_FREQ], vec![0.0; 10]).is_none());
        }
    }

    /// Loss = sum(out * probe): its gradient w.r.t. out is `probe`, which exercises every path.
    fn loss(net: &Network, params: &[f32], y: &[f32], levels: &[usize], probe: &[f32]) -> f64 {
        let ctx = net.level_context(params);
        let mut tape = Tape::default();
        net.forward(params, &ctx, y, levels, &mut tape);
        tape.out.iter().zip(probe).map(|(a, b)| (*a as f64) * (*b as f64)).sum()
    }

    #[test]
    fn test_every_parameter_gradient_matches_finite_differences() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let config = NetConfig { input_dim: 5, width: 6, depth: 2, levels: 4 };
        let mut net = Network::new(config, &mut rng);
        // random biases and gains so no gradient is trivially zero at init
        for p in net.params.iter_mut() {
            *p += rng.random_range(-0.3..0.3);
        }
        let n = 3;
        let y: Vec<f32> = (0..n * 5).map(|_| rng.random_range(-2.0..0.0)).collect();
        let levels = vec![0usize, 3, 3];
        let probe: Vec<f32> = (0..n * 5).map(|_| rng.random_range(-1.0..1.0)).collect();

        let params = net.params.clone();
        let ctx = net.level_context(&params);
        let mut tape = Tape::default();
        net.forward(&params, &ctx, &y, &levels, &mut tape);
        let mut grads = vec![0.0f32; net.n_params()];
        let mut d_film = net.zero_film_grads();
        net.backward(&params, &ctx, &y, &levels, &tape, &probe, &mut grads, &mut d_film);
        net.backward_levels(&params, &ctx, &d_film, &mut grads);

        let mut worst = 0.0f64;
        for i in 0..net.n_params() {
            let h = 1e-2f32;
            let mut p = params.clone();
            p[i] = params[i] + h;
            let up = loss(&net, &p, &y, &levels, &probe);
            p[i] = params[i] - h;
            let down = loss(&net, &p, &y, &levels, &probe);
            let fd = (up - down) / (2.0 * h as f64);
            let err = (fd - grads[i] as f64).abs() / (1e-2 + fd.abs().max(grads[i].abs() as f64));
            worst = worst.max(err);
            assert!(err < 2e-2, "param {i}: fd {fd} vs analytic {}", grads[i]);
        }
        net.params = params;
        assert!(worst < 2e-2);
    }

    #[test]
    fn test_level_context_is_shared_by_rows_of_the_same_level() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let net = Network::new(NetConfig { input_dim: 4, width: 8, depth: 1, levels: 20 }, &mut rng);
        let ctx = net.level_context(&net.params);
        let y: Vec<f32> = (0..8).map(|i| -(i as f32) * 0.1).collect();
        let mut tape = Tape::default();
        net.forward(&net.params, &ctx, &y, &[7, 7], &mut tape);
        let mut single = Tape::default();
        net.forward(&net.params, &ctx, &y[..4], &[7], &mut single);
        assert_eq!(&tape.out[..4], &single.out[..]);
    }

    #[test]
    fn test_param_count_of_cpu_default_shape() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let net = Network::new(NetConfig { input_dim: 100, width: 256, depth: 4, levels: 20 }, &mut rng);
        // 2*100*256 + 356 (in/out incl. biases) + 2*(128*128+128) + 4*(2*256*256 + 128*512 + 5*256 + 512)
        assert_eq!(
            net.n_params(),
            100 * 256 + 256 + 2 * (128 * 128 + 128) + 4 * (2 * 65536 + 65536 + 4 * 256 + 512) + 2 * 256 + 256 * 100 + 100
        );
    }
}
