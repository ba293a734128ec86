//! Anomaly scoring (method §6): the 20-level score-norm vector of the clean (optionally denoised)
//! row, the 20 per-level denoising losses of the row under fixed noise, the independent-columns
//! NLL, the density head on top of them, batch scoring over distinct rows, percentiles and
//! per-column explanations.
//!
//! Feature layout: `[norms (20, if norm_features) | denoising losses (20, if dsm_draws > 0) |
//! IndepNLL (1, if frequency_feature) | PairwiseNLL (1, if a pairwise model)]`. The density head
//! sees all but the PairwiseNLL (`n_head_features`); the score adds that one itself. The denoising losses use noise drawn once from a fixed
//! seed (the same for every row), so scores are deterministic and identical rows score alike.
//!
//! `FeatureMap` (this file) holds what the features need and batches rows; `pass` runs the
//! network over a chunk of rows and turns its outputs into features.

mod pass;



use crate::encoding::Encoder;
use crate::encoding::UNSEEN;
use crate::error::{Error, Result};
use crate::frequency::{IndepNll, PairwiseNll};
use crate::kernels::softmax_inplace;
use crate::net::tabular::{LevelContext, Network};
use crate::relax::{gumbel, normal, LEVELS};
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

/// Everything that maps a coded row to the density head's feature vector: the vocabulary, the
/// score network, the frequency model and the derived per-level context.
#[derive(Debug, Clone)]
pub struct FeatureMap {
    pub encoder: Encoder,
    /// Score network holding the EMA weights of the best validation checkpoint.
    pub network: Network,
    /// Independent-columns frequency model; its row NLL is the last feature when present.
    pub frequency: Option<IndepNll>,
    /// Pairwise-conditional frequency model (format 5); its row NLL is the very last feature.
    pub pairwise: Option<PairwiseNll>,
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

/// Network forward passes one row's features cost: the denoise step and the 20 score-norm levels
/// (when the norms are features), and 20 levels per fixed denoising-loss draw.
pub fn forwards_per_row(norms: bool, denoise: bool, dsm_draws: usize) -> usize {
    let norm_passes = if norms { LEVELS + usize::from(denoise) } else { 0 };
    norm_passes + LEVELS * dsm_draws
}

/// Seed of the fixed scoring noise: a constant, so every row (and every model) sees the same draws
/// and identical rows get identical scores.
const DSM_NOISE_SEED: u64 = 0x6E53_4D5F_4453_4D31;

impl FeatureMap {
    /// Builds the map and its derived caches.
    pub fn new(encoder: Encoder, network: Network, frequency: Option<IndepNll>, denoise: bool) -> FeatureMap {
        let block_sizes = encoder.block_sizes();
        let n_num = encoder.n_num();
        // a network read without its weights has no levels to precompute yet (`with_network`)
        let level_ctx = if network.is_loaded() { network.level_context(&network.params) } else { LevelContext::default() };
        FeatureMap {
            n_num,
            encoder,
            network,
            frequency,
            pairwise: None,
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
        self.with_noise_seed(DSM_NOISE_SEED)
    }

    /// The same map with the denoising-loss noise drawn from `seed` instead of the fixed one (a
    /// second, independent measurement of the same rows).
    pub fn with_noise_seed(mut self, seed: u64) -> FeatureMap {
        let draws = self.dsm_draws;
        let d = self.encoder.input_dim();
        self.dsm_noise = vec![0.0; draws * LEVELS * d];
        self.dsm_target = vec![0.0; draws * LEVELS * d];
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
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


    /// The same map with a network that has its weights (the one it was read without).
    pub fn with_network(mut self, network: Network) -> FeatureMap {
        self.level_ctx = network.level_context(&network.params);
        self.network = network;
        self
    }

    /// K_j of every column.
    pub fn block_sizes(&self) -> &[usize] {
        &self.block_sizes
    }

    /// Network forward passes one row costs (denoise step, 20 norm levels, 20 levels per draw).
    pub fn forwards_per_row(&self) -> usize {
        forwards_per_row(self.norms, self.denoise, self.dsm_draws)
    }

    /// Adds a pairwise-conditional model, whose row NLL becomes the last feature.
    pub fn with_pairwise(mut self, pairwise: Option<PairwiseNll>) -> FeatureMap {
        self.pairwise = pairwise;
        self
    }

    /// Length of the density head's feature vector.
    pub fn n_head_features(&self) -> usize {
        LEVELS * (usize::from(self.norms) + usize::from(self.dsm_draws > 0)) + usize::from(self.frequency.is_some())
    }

    /// Length of a row's feature vector: the head's features, then the PairwiseNLL if any.
    pub fn n_features(&self) -> usize {
        self.n_head_features() + usize::from(self.pairwise.is_some())
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

    /// A row's feature vector with only the frequency features filled in (IndepNLL, PairwiseNLL;
    /// the network's positions are 0): what the fast scorer needs, at the cost of a few lookups.
    pub fn frequency_features(&self, codes: &[u32]) -> Vec<f64> {
        let p = self.n_num;
        let pair_sum = self.pairwise.as_ref().map_or(0.0, |pair| pair.score(&codes[p..]));
        self.frequency_features_with_pair_sum(codes, pair_sum)
    }

    /// `frequency_features` with the pairwise model's row sum already computed by the caller.
    pub fn frequency_features_with_pair_sum(&self, codes: &[u32], pair_sum: f64) -> Vec<f64> {
        let mut f = vec![0.0; self.n_features()];
        let p = self.n_num;
        let numeric = if p > 0 { self.encoder.numeric_nll(&codes[..p]) } else { 0.0 };
        if let Some(freq) = &self.frequency {
            f[self.n_head_features() - 1] = freq.score(&codes[p..]) + numeric;
        }
        if self.pairwise.is_some() {
            let last = f.len() - 1;
            f[last] = pair_sum + numeric;
        }
        f
    }

    /// Number of numeric columns (the first cells of a row).
    pub fn n_num(&self) -> usize {
        self.n_num
    }
}
