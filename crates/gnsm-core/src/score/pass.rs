//! One feature pass over a chunk of coded rows: the (optionally denoised) clean input, the 20
//! score-norm levels stacked into few forward calls, the fixed-noise denoising losses, and the
//! frequency feature, plus what explanations need (mean probabilities and norm shares).

use super::{FeatureMap, NORM_STACK_ROWS};
use crate::kernels::{logsumexp, softmax_inplace};
use crate::net::tabular::Tape;
use crate::relax::{noisy_block_from, normalize_blocks, sigmas, temperatures, LEVELS};

/// Per-row outputs of a feature pass.
pub(crate) struct FeaturePass {
    /// `n x n_features`, row-major.
    pub(crate) features: Vec<f64>,
    /// `n x D`: softmax of the network output per block, averaged over levels (explanations).
    pub(crate) mean_probs: Vec<f32>,
    /// `n x m`: share of each column's block in the squared score norm, averaged over levels.
    pub(crate) shares: Vec<f64>,
}

impl FeatureMap {
    /// Per-row, per-level denoising loss `0.5 ||o_num + z/sigma||^2 + sum_j KL(softmax(-g_j) ||
    /// softmax(o_j))` (the training loss under fixed noise) averaged over the fixed draws, written into `features[r * nf + first + t]`. In diffusion models the
    /// per-sample denoising loss bounds the negative log-likelihood; here it measures how badly
    /// the network recovers the noise of a row from the row's other columns.
    fn dsm_features(&self, inputs: &[f32], n: usize, features: &mut [f64], nf: usize, first: usize) {
        let d = self.encoder.input_dim();
        let p = self.n_num;
        let (taus, sigmas) = (temperatures(), sigmas());
        let params = &self.network.params;
        let mut tape = Tape::default();
        let rows = n * LEVELS;
        let mut y = vec![0.0f32; rows * d];
        let mut target = vec![0.0f32; rows * d];
        let levels: Vec<usize> = (0..n).flat_map(|_| 0..LEVELS).collect();
        let w = 1.0 / self.dsm_draws as f64;
        for draw in 0..self.dsm_draws {
            for r in 0..n {
                let l = &inputs[r * d..(r + 1) * d];
                for t in 0..LEVELS {
                    let base = (draw * LEVELS + t) * d;
                    let (g, tg) = (&self.dsm_noise[base..base + d], &self.dsm_target[base..base + d]);
                    let row = (r * LEVELS + t) * d;
                    for i in 0..p {
                        y[row + i] = l[i] + sigmas[t] * g[i];
                    }
                    let mut off = p;
                    for &k in &self.block_sizes {
                        let (a, b) = (row + off, row + off + k);
                        noisy_block_from(&g[off..off + k], &l[off..off + k], self.scales[t], taus[t], &mut y[a..b], &mut target[a..b]);
                        off += k;
                    }
                    target[row..row + d].copy_from_slice(tg);
                }
            }
            self.network.forward(params, &self.level_ctx, &y, &levels, &mut tape);
            for r in 0..n {
                for t in 0..LEVELS {
                    let row = (r * LEVELS + t) * d;
                    let (o, tg) = (&tape.out[row..row + d], &target[row..row + d]);
                    let mut kl = 0.0f64;
                    for i in 0..p {
                        let diff = (o[i] + tg[i] / sigmas[t]) as f64;
                        kl += 0.5 * diff * diff;
                    }
                    let mut off = p;
                    for &k in &self.block_sizes {
                        let lse = logsumexp(&o[off..off + k]);
                        for i in off..off + k {
                            if tg[i] > 0.0 {
                                kl += (tg[i] as f64) * ((tg[i] as f64).ln() - (o[i] - lse) as f64);
                            }
                        }
                        off += k;
                    }
                    features[r * nf + first + t] += w * kl;
                }
            }
        }
    }

    /// Model scores of one output row, written into `s`: the output itself for numeric dims,
    /// `s_j = tau (K_j softmax(o_j) - 1)` for categorical blocks.
    fn scores_from_output(&self, out: &[f32], tau: f32, s: &mut [f32]) {
        s.copy_from_slice(out);
        let mut off = self.n_num;
        for &k in &self.block_sizes {
            softmax_inplace(&mut s[off..off + k]);
            for v in &mut s[off..off + k] {
                *v = tau * (k as f32 * *v - 1.0);
            }
            off += k;
        }
    }

    /// Feature pass over up to `FEATURE_CHUNK` coded rows.
    pub(crate) fn feature_pass(&self, rows: &[&[u32]], want_explain: bool) -> FeaturePass {
        // models read from their front section only are completed (`Model::with_network`) before
        // anything runs the network; `Model::require_network` turns this into an error first
        assert!(self.network.is_loaded(), "the score network's weights are not loaded");
        let n = rows.len();
        let d = self.encoder.input_dim();
        let p = self.n_num;
        let m = p + self.block_sizes.len();
        let taus = temperatures();
        let params = &self.network.params;
        let mut inputs = vec![0.0f32; n * d];
        for (r, codes) in rows.iter().enumerate() {
            self.encoder.input_into(codes, 1.0, &mut inputs[r * d..(r + 1) * d]);
        }
        let nf = self.n_features();
        let mut features = vec![0.0f64; n * nf];
        let mut mean_probs = if want_explain { vec![0.0f32; n * d] } else { Vec::new() };
        let mut shares = if want_explain { vec![0.0f64; n * m] } else { Vec::new() };
        let mut next = 0;
        if self.norms || want_explain {
            let mut y = inputs.clone();
            for r in 0..n {
                normalize_blocks(&mut y[r * d + p..(r + 1) * d], &self.block_sizes);
            }
            let mut tape = Tape::default();
            let mut s = vec![0.0f32; d];
            if self.denoise {
                let last = vec![LEVELS - 1; n];
                self.network.forward(params, &self.level_ctx, &y, &last, &mut tape);
                for r in 0..n {
                    self.scores_from_output(&tape.out[r * d..(r + 1) * d], taus[LEVELS - 1], &mut s);
                    let yr = &mut y[r * d..(r + 1) * d];
                    // the numeric part moves by its unit-norm score, each block by its own
                    let norm = s[..p].iter().map(|v| v * v).sum::<f32>().sqrt();
                    if norm > 0.0 {
                        for i in 0..p {
                            yr[i] += s[i] / norm;
                        }
                    }
                    let mut off = p;
                    for &k in &self.block_sizes {
                        let norm = s[off..off + k].iter().map(|v| v * v).sum::<f32>().sqrt();
                        if norm > 0.0 {
                            for i in 0..k {
                                yr[off + i] += s[off + i] / norm;
                            }
                        }
                        off += k;
                    }
                    normalize_blocks(&mut yr[p..], &self.block_sizes);
                }
            }
            // all 20 levels of up to NORM_STACK_ROWS / 20 rows in one forward call: a single row
            // then costs one 20-row GEMM chain instead of 20 one-row chains (SQL scores row by row)
            let per_call = (NORM_STACK_ROWS / LEVELS).max(1);
            for first in (0..n).step_by(per_call) {
                let count = per_call.min(n - first);
                let mut stacked = Vec::with_capacity(count * LEVELS * d);
                for r in first..first + count {
                    for _ in 0..LEVELS {
                        stacked.extend_from_slice(&y[r * d..(r + 1) * d]);
                    }
                }
                let lv: Vec<usize> = (0..count).flat_map(|_| 0..LEVELS).collect();
                self.network.forward(params, &self.level_ctx, &stacked, &lv, &mut tape);
                for r in first..first + count {
                    for (t, &tau) in taus.iter().enumerate() {
                        let row = (r - first) * LEVELS + t;
                        let out = &tape.out[row * d..(row + 1) * d];
                        self.scores_from_output(out, tau, &mut s);
                        let total: f64 = s.iter().map(|v| (*v as f64) * (*v as f64)).sum();
                        if self.norms {
                            features[r * nf + t] = total.sqrt();
                        }
                        if want_explain {
                            for i in 0..p {
                                let sq = (s[i] as f64) * (s[i] as f64);
                                shares[r * m + i] += if total > 0.0 { sq / total / LEVELS as f64 } else { 0.0 };
                            }
                            let mut off = p;
                            for (j, &k) in self.block_sizes.iter().enumerate().map(|(j, k)| (j + p, k)) {
                                let block: f64 = s[off..off + k].iter().map(|v| (*v as f64) * (*v as f64)).sum();
                                shares[r * m + j] += if total > 0.0 { block / total / LEVELS as f64 } else { 0.0 };
                                for i in 0..k {
                                    // s = tau (K p - 1)  =>  p = (s / tau + 1) / K
                                    mean_probs[r * d + off + i] += (s[off + i] / tau + 1.0) / k as f32 / LEVELS as f32;
                                }
                                off += k;
                            }
                        }
                    }
                }
            }
            if self.norms {
                next += LEVELS;
            }
        }
        if self.dsm_draws > 0 {
            self.dsm_features(&inputs, n, &mut features, nf, next);
            next += LEVELS;
        }
        if let Some(freq) = &self.frequency {
            for (r, codes) in rows.iter().enumerate() {
                features[r * nf + next] = freq.score(&codes[p..]) + self.encoder.numeric_nll(&codes[..p]);
            }
            next += 1;
        }
        if let Some(pair) = &self.pairwise {
            for (r, codes) in rows.iter().enumerate() {
                features[r * nf + next] = pair.score(&codes[p..]) + self.encoder.numeric_nll(&codes[..p]);
            }
        }
        FeaturePass { features, mean_probs, shares }
    }

}
