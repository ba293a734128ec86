//! Anomaly scoring (method §6): the 20-level score-norm vector of the clean (optionally denoised)
//! row, the 20 per-level denoising losses of the row under fixed noise, the independent-columns
//! NLL, the density head on top of them, batch scoring over distinct rows, percentiles and
//! per-column explanations.
//!
//! Feature layout: `[norms (20, if norm_features) | denoising losses (20, if dsm_draws > 0) |
//! IndepNLL (1, if frequency_feature)]`. The denoising losses use noise drawn once from a fixed
//! seed (the same for every row), so scores are deterministic and identical rows score alike.

use crate::baselines::IndepNll;
use crate::encoding::Encoder;
use crate::encoding::{format_number, CodedTable, NUMERIC_MISSING, UNSEEN};
use crate::error::{Error, Result};
use crate::kernels::{logsumexp, softmax_inplace};
use crate::model::Model;
use crate::network::Tape;
use crate::network::{LevelContext, Network};
use crate::stats::quantile_linear;
use crate::relax::{gumbel, noisy_block_from, normal, normalize_blocks, sigmas, temperatures, LEVELS};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::collections::HashMap;

/// Rows per forward call when computing features: large enough for efficient GEMMs, small enough
/// that the tape stays in cache-friendly sizes (64 rows x W=256 x 4 B = 64 KiB per buffer).
pub const FEATURE_CHUNK: usize = 64;

/// Rows per stacked forward call of the score-norm levels (rows x 20 levels): 320 rows x W=256
/// keeps the tape near 8 MB per thread.
const NORM_STACK_ROWS: usize = 320;

/// Per-row outputs of a feature pass.
struct FeaturePass {
    /// `n x n_features`, row-major.
    features: Vec<f64>,
    /// `n x D`: softmax of the network output per block, averaged over levels (explanations).
    mean_probs: Vec<f32>,
    /// `n x m`: share of each column's block in the squared score norm, averaged over levels.
    shares: Vec<f64>,
}

/// One explained column of a row.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnExplanation {
    pub column: String,
    pub value: String,
    /// How much lower the anomaly score gets when this value is replaced by `most_likely`
    /// (0 when no other value makes the row less anomalous).
    pub contribution: f64,
    /// Share of this column's block in the squared score norm, averaged over the 20 levels.
    pub share: f64,
    /// The value that makes the row least anomalous among the model's best candidates
    /// (the current value when none beats it).
    pub most_likely: String,
}

/// Everything that maps a coded row to the density head's feature vector: the vocabulary, the
/// score network, the frequency model and the derived per-level context.
#[derive(Debug, Clone)]
pub struct FeatureMap {
    pub encoder: Encoder,
    /// Score network holding the EMA weights of the best validation checkpoint.
    pub network: Network,
    /// Independent-columns frequency model; its row NLL is the last feature when present.
    pub frequency: Option<IndepNll>,
    /// Apply the denoise step before the score norms.
    pub denoise: bool,
    /// Emit the paper's 20 score-norm features.
    pub norms: bool,
    /// Fixed noise draws per level for the 20 per-row denoising-loss features (0 = none).
    pub dsm_draws: usize,
    /// Per-level scale of the clean logits the network was trained with.
    pub scales: [f32; LEVELS],
    block_sizes: Vec<usize>,
    /// Numeric columns (the first `n_num` input dims and cells).
    n_num: usize,
    level_ctx: LevelContext,
    /// Fixed noise, `dsm_draws x LEVELS x D`: standard normals for the numeric dims, Gumbel draws
    /// for the categorical ones; targets: the normals, and `softmax(-g)` per block.
    dsm_noise: Vec<f32>,
    dsm_target: Vec<f32>,
}

/// Seed of the fixed scoring noise: a constant, so every row (and every model) sees the same draws
/// and identical rows get identical scores.
const DSM_NOISE_SEED: u64 = 0x6E53_4D5F_4453_4D31;

impl FeatureMap {
    /// Builds the map and its derived caches.
    pub fn new(encoder: Encoder, network: Network, frequency: Option<IndepNll>, denoise: bool) -> FeatureMap {
        let block_sizes = encoder.block_sizes();
        let n_num = encoder.n_num();
        let level_ctx = network.level_context(&network.params);
        FeatureMap {
            n_num,
            encoder,
            network,
            frequency,
            denoise,
            norms: true,
            dsm_draws: 0,
            scales: [1.0; LEVELS],
            block_sizes,
            level_ctx,
            dsm_noise: Vec::new(),
            dsm_target: Vec::new(),
        }
    }

    /// Chooses the feature kinds: score norms on/off, `draws` fixed-noise denoising-loss draws per
    /// level (0 = none), and the logit scales the network was trained with.
    pub fn with_kinds(mut self, norms: bool, draws: usize, scales: [f32; LEVELS]) -> FeatureMap {
        self.norms = norms;
        self.dsm_draws = draws;
        self.scales = scales;
        let d = self.encoder.input_dim();
        self.dsm_noise = vec![0.0; draws * LEVELS * d];
        self.dsm_target = vec![0.0; draws * LEVELS * d];
        let mut rng = ChaCha8Rng::seed_from_u64(DSM_NOISE_SEED);
        let p = self.n_num;
        for (g, t) in self.dsm_noise.chunks_exact_mut(d).zip(self.dsm_target.chunks_exact_mut(d)) {
            for (gk, tk) in g[..p].iter_mut().zip(t[..p].iter_mut()) {
                *gk = normal(&mut rng);
                *tk = *gk;
            }
            for (gk, tk) in g[p..].iter_mut().zip(t[p..].iter_mut()) {
                *gk = gumbel(&mut rng);
                *tk = -*gk;
            }
            let mut off = p;
            for &k in &self.block_sizes {
                softmax_inplace(&mut t[off..off + k]);
                off += k;
            }
        }
        self
    }

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

    /// K_j of every column.
    pub fn block_sizes(&self) -> &[usize] {
        &self.block_sizes
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
    fn feature_pass(&self, rows: &[&[u32]], want_explain: bool) -> FeaturePass {
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
        }
        FeaturePass { features, mean_probs, shares }
    }

    /// Network forward passes one row costs (denoise step, 20 norm levels, 20 levels per draw).
    pub fn forwards_per_row(&self) -> usize {
        let norms = if self.norms { LEVELS + usize::from(self.denoise) } else { 0 };
        norms + LEVELS * self.dsm_draws
    }

    /// Length of the density head's feature vector.
    pub fn n_features(&self) -> usize {
        LEVELS * (usize::from(self.norms) + usize::from(self.dsm_draws > 0)) + usize::from(self.frequency.is_some())
    }

    /// Feature vectors of many coded rows (`rows.len() x n_features`), in parallel when a pool is
    /// given; each distinct row is computed once.
    pub fn features(&self, rows: &[&[u32]], pool: Option<&rayon::ThreadPool>) -> Vec<f64> {
        let nf = self.n_features();
        let mut distinct: HashMap<&[u32], usize> = HashMap::new();
        let mut uniq: Vec<&[u32]> = Vec::new();
        let slot: Vec<usize> = rows
            .iter()
            .map(|r| {
                *distinct.entry(r).or_insert_with(|| {
                    uniq.push(r);
                    uniq.len() - 1
                })
            })
            .collect();
        let compute = |chunk: &[&[u32]]| self.feature_pass(chunk, false).features;
        let parts: Vec<Vec<f64>> = match pool {
            Some(p) => p.install(|| uniq.par_chunks(FEATURE_CHUNK).map(compute).collect()),
            None => uniq.chunks(FEATURE_CHUNK).map(compute).collect(),
        };
        let flat: Vec<f64> = parts.concat();
        let mut out = vec![0.0f64; rows.len() * nf];
        for (i, &u) in slot.iter().enumerate() {
            out[i * nf..(i + 1) * nf].copy_from_slice(&flat[u * nf..(u + 1) * nf]);
        }
        out
    }

    /// Rejects cell vectors of the wrong arity or with out-of-range category codes other than
    /// UNSEEN (every bit pattern is a valid numeric cell).
    pub fn check_codes(&self, codes: &[u32]) -> Result<()> {
        let p = self.n_num;
        if codes.len() != p + self.block_sizes.len() {
            return Err(Error::RowMismatch {
                reason: format!("{} values given, the model has {} columns", codes.len(), p + self.block_sizes.len()),
            });
        }
        for (j, (&c, &k)) in codes[p..].iter().zip(&self.block_sizes).enumerate() {
            if c != UNSEEN && c as usize >= k {
                return Err(Error::RowMismatch { reason: format!("code {c} out of range for column {}", j + p) });
            }
        }
        Ok(())
    }

    /// Number of numeric columns (the first cells of a row).
    pub fn n_num(&self) -> usize {
        self.n_num
    }
}

impl Model {
    /// Feature vectors of many coded rows (see `FeatureMap::features`).
    pub fn features(&self, rows: &[&[u32]], pool: Option<&rayon::ThreadPool>) -> Vec<f64> {
        self.features.features(rows, pool)
    }

    /// Anomaly score of a feature vector: -log p_GMM(features), plus the standardised IndepNLL
    /// when the model blends it (see `Blend`); higher = more anomalous.
    pub fn score_features(&self, f: &[f64]) -> f64 {
        crate::model::Blend::score(self.blend.as_ref(), self.head.score(f), f)
    }

    /// Anomaly score of one coded row (see `score_features`), higher = more anomalous.
    pub fn score_codes(&self, codes: &[u32]) -> Result<f64> {
        self.features.check_codes(codes)?;
        let f = self.features.feature_pass(&[codes], false).features;
        Ok(self.score_features(&f))
    }

    /// Anomaly scores of every row of a coded table (one forward pass set per distinct row).
    pub fn score_table(&self, table: &CodedTable, pool: Option<&rayon::ThreadPool>) -> Result<Vec<f64>> {
        if table.n_cols != self.features.encoder.n_cols() {
            return Err(Error::RowMismatch {
                reason: format!("{} columns given, the model has {}", table.n_cols, self.features.encoder.n_cols()),
            });
        }
        let rows: Vec<&[u32]> = (0..table.n_rows).map(|i| table.row(i)).collect();
        let nf = self.features.n_features();
        let feats = self.features.features(&rows, pool);
        Ok(feats.chunks_exact(nf).map(|f| self.score_features(f)).collect())
    }

    /// Percentile (0-100) of a score among the training rows' scores.
    pub fn percentile(&self, score: f64) -> f64 {
        let q = &self.score_quantiles;
        if q.is_empty() || score.is_nan() {
            return f64::NAN;
        }
        if score <= q[0] {
            return 0.0;
        }
        if score >= q[q.len() - 1] {
            return 100.0;
        }
        let i = q.partition_point(|&v| v <= score);
        let (lo, hi) = (q[i - 1], q[i]);
        let frac = if hi > lo { (score - lo) / (hi - lo) } else { 0.0 };
        100.0 * ((i - 1) as f64 + frac) / (q.len() - 1) as f64
    }

    /// Score above which a share `contamination` of the training rows lies.
    pub fn threshold(&self, contamination: f64) -> Result<f64> {
        if !(contamination > 0.0 && contamination < 1.0) {
            return Err(crate::error::invalid("contamination", "must be strictly between 0 and 1"));
        }
        let q = &self.score_quantiles;
        let p = 1.0 - contamination;
        let last = (q.len() - 1) as f64;
        // where the position lands on the top quantile it is returned as is (no `+ 0 * (q - q)`
        // term), exactly as released versions did, so an infinite or -0.0 top quantile stays put
        Ok(if p * last >= last { q[q.len() - 1] } else { quantile_linear(q, p) })
    }

    /// Explains one coded row: its score and, per column, its contribution and the value the model
    /// would rather see there.
    pub fn explain(&self, codes: &[u32]) -> Result<(f64, Vec<ColumnExplanation>)> {
        let fm = &self.features;
        fm.check_codes(codes)?;
        let d = fm.encoder.input_dim();
        let pass = fm.feature_pass(&[codes], true);
        let score = self.score_features(&pass.features);
        // candidates per categorical column: every value of a small vocabulary (<= 16, most
        // columns), else the 8 values the network favours (mean softmax over levels) plus the most
        // frequent one; per numeric column: the training quantiles (and NULL where training had
        // NULLs). Each is tried in place of the current value in one batched pass.
        let p = fm.n_num;
        let mut candidates: Vec<(usize, u32, String)> = Vec::new();
        for (j, col) in fm.encoder.numeric.iter().enumerate() {
            let mut cells: Vec<(u32, String)> = col.quantiles.iter().map(|&q| (col.cell_of(q), format_number(q))).collect();
            if col.missing > 0 {
                cells.push((NUMERIC_MISSING, "NULL".to_string()));
            }
            candidates.extend(cells.into_iter().filter(|(c, _)| *c != codes[j]).map(|(c, text)| (j, c, text)));
        }
        let mut off = p;
        for (j, &k) in fm.block_sizes.iter().enumerate().map(|(j, k)| (j + p, k)) {
            let probs = &pass.mean_probs[off..off + k];
            let mut order: Vec<u32> = (0..k as u32).collect();
            order.sort_by(|a, b| probs[*b as usize].total_cmp(&probs[*a as usize]));
            let mut picks: Vec<u32> = order.into_iter().take(if k <= 16 { k } else { 8 }).collect();
            picks.push(0); // vocabularies are sorted by count: code 0 is the most frequent value
            picks.sort_unstable();
            picks.dedup();
            candidates.extend(picks.into_iter().filter(|&c| c != codes[j]).map(|c| (j, c, fm.encoder.display(j, c))));
            off += k;
        }
        debug_assert_eq!(off, d);
        let variants: Vec<Vec<u32>> = candidates
            .iter()
            .map(|(j, c, _)| {
                let mut v = codes.to_vec();
                v[*j] = *c;
                v
            })
            .collect();
        let refs: Vec<&[u32]> = variants.iter().map(Vec::as_slice).collect();
        let nf = fm.n_features();
        let feats = fm.features(&refs, None);
        let mut best: Vec<Option<(f64, &str)>> = vec![None; codes.len()];
        for ((j, _, text), f) in candidates.iter().zip(feats.chunks_exact(nf)) {
            let s = self.score_features(f);
            if best[*j].is_none_or(|(b, _)| s < b) {
                best[*j] = Some((s, text));
            }
        }
        let out = fm
            .encoder
            .names()
            .into_iter()
            .enumerate()
            .map(|(j, column)| {
                let value = fm.encoder.display(j, codes[j]);
                let (contribution, most_likely) = match best[j] {
                    Some((s, text)) if s < score => (score - s, text.to_string()),
                    _ => (0.0, value.clone()),
                };
                ColumnExplanation { column, value, contribution, share: pass.shares[j], most_likely }
            })
            .collect();
        Ok((score, out))
    }
}
