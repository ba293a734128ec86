//! Training of the score network: noise sampling, the KL loss (method §3), data-parallel
//! gradients with rayon, AdamW + clipping + cosine decay + EMA, validation-based checkpointing, a
//! step budget and a wall-clock budget, and the two hooks the SQL layer needs.
//!
//! This file holds the options (`TrainConfig`), the hooks and report the SQL layer sees, and the
//! thread pool; `run` holds the training loop and its per-step pieces.

mod run;

pub use run::train_network;
pub(crate) use run::split_ranges;


use crate::error::{invalid, Result};
use crate::net::tabular::NetConfig;
use crate::relax::LEVELS;
use crate::score::forwards_per_row;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};


/// Hyper-parameters of training and scoring, with the defaults the README documents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainConfig {
    /// Hidden width W of the tab-resnet.
    pub width: usize,
    /// Number of residual blocks B.
    pub depth: usize,
    /// Step budget.
    pub steps: usize,
    /// Wall-clock budget in seconds for the network training phase.
    pub max_seconds: f64,
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// Peak learning rate (cosine-decayed to `lr_min`).
    pub lr: f32,
    pub lr_min: f32,
    pub weight_decay: f32,
    pub ema_decay: f32,
    pub grad_clip: f32,
    pub seed: u64,
    /// Worker threads for training and batch scoring (the calling thread counts as one).
    pub threads: usize,
    /// Share of training rows held out for validation and checkpoint selection.
    pub val_fraction: f64,
    /// Validation rows actually evaluated (all 20 levels each); more cost time, not quality.
    pub max_val_rows: usize,
    /// Number of validation evaluations spread over training.
    pub evals: usize,
    /// Apply the method's denoise step before computing score norms.
    pub denoise: bool,
    /// Add the independent-columns log-likelihood to the density head's features.
    pub frequency_feature: bool,
    /// Candidate GMM component counts, chosen by cross-validation.
    pub gmm_components: Vec<usize>,
    /// Rows sampled to fit the density head (its features cost 21 forward passes per distinct row).
    pub max_head_rows: usize,
    /// Smallest per-level scale of the clean logits (level 0); see `relax::logit_scales`. The
    /// paper uses 1 (no scaling).
    pub signal_min: f32,
    /// Largest per-level scale of the clean logits (level L-1); the paper uses 1.
    pub signal_max: f32,
    /// Include the paper's 20 score-norm features in the density head.
    pub norm_features: bool,
    /// Fixed noise draws per level for the per-row denoising-loss features (0 = none).
    pub dsm_draws: usize,
    /// Score = standardised GMM negative log-likelihood + standardised IndepNLL (both scaled on
    /// the head's training rows) instead of the GMM alone; needs `frequency_feature`.
    pub frequency_blend: bool,
    /// Add the standardised pairwise-conditional NLL (`frequency::PairwiseNll`) to the score.
    pub pairwise: bool,
    /// Score with the fitted fast scorer (`fast::FastScorer`, option `"scorer": "fast"`) instead
    /// of the network's 41 forward passes per row (`"exact"`). In a stored model: the scorer the
    /// fit chose.
    pub fast_scorer: bool,
    /// Option `"scorer": "auto"` (the default): the fit sets `fast_scorer` from the training rows'
    /// distinct count (`resolve_scorer`). Not stored: a fitted model's config holds the choice.
    #[serde(skip)]
    pub auto_scorer: bool,
}

/// Distinct training rows from which `"scorer": "auto"` fits the fast scorer (ADR 016): about a
/// minute of exact scoring on one backend (the default network scores 413-640 distinct rows/s;
/// BENCHMARKS.md "Fast scorer"), the default training budget. Below it the exact score of every
/// distinct row the table holds costs less than training did, and the memo keeps it.
pub const AUTO_FAST_MIN_DISTINCT_ROWS: usize = 30_000;

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            width: 256,
            depth: 4,
            // 1,000 steps of 256x4 take about 22 s on 2 cores; see results/quality.md
            steps: 1000,
            max_seconds: 60.0,
            batch_size: 512,
            lr: 1e-3,
            lr_min: 1e-5,
            weight_decay: 1e-4,
            ema_decay: 0.999,
            grad_clip: 1.0,
            seed: 42,
            threads: 1,
            val_fraction: 0.1,
            max_val_rows: 512,
            evals: 10,
            denoise: true,
            frequency_feature: true,
            // one full-covariance Gaussian: in the unsupervised protocol (the table holds its own
            // anomalies) a mixture gives a cluster of training anomalies its own component (car
            // AUROC 86.6 with {3,5,7,9}); ADR 010 has the measurements
            gmm_components: vec![1],
            // 5,000 rows: each costs 41 forward passes and the 41-d GMM's CV grows with the rows;
            // at 20,000 the head took longer than training on chess (~50 s of 107 s)
            max_head_rows: 5_000,
            // logit scales 0.2..1 (gap 2.3..11.5): chess AUROC 90.7 vs 78.2 with the paper's 1..1
            // (seed 42, 1,000 steps, GMM on all features); 0.05..0.5 lost 3 points on solar and cmc
            signal_min: 0.2,
            signal_max: 1.0,
            norm_features: true,
            // one fixed draw: GMM on norms + denoising losses + IndepNLL beat norms + IndepNLL by
            // 3-11 AUROC points on solar, cmc and chess
            dsm_draws: 1,
            // semi protocol, seeds 42-43, same networks (gnsm-eval examples/explore.rs): census 58.3 -> 64.2,
            // solar 82.2 -> 86.4, chess 70.0 -> 72.4, cmc 61.1 -> 60.4 AUROC: a rare value is
            // one of 41 GMM inputs and gets diluted there, the blend gives it its own weight
            frequency_blend: true,
            // pair conditionals see broken dependencies between common values; ADR 010
            pairwise: true,
            // "auto": the fast scorer only where the table is too distinct for the exact one
            // (ADR 016); its ranking stays within 0.3 points of the exact one on most data sets
            // but not on all (cmc, u2r, probe: ADR 011)
            fast_scorer: false,
            auto_scorer: true,
        }
    }
}

impl TrainConfig {
    /// The config with `"scorer": "auto"` decided for a table of `distinct_rows` distinct rows:
    /// the fast scorer when there are at least `AUTO_FAST_MIN_DISTINCT_ROWS` (a config that
    /// already asks for the fast scorer keeps it).
    pub fn resolve_scorer(&self, distinct_rows: usize) -> TrainConfig {
        let mut c = self.clone();
        if c.auto_scorer {
            c.fast_scorer |= distinct_rows >= AUTO_FAST_MIN_DISTINCT_ROWS;
            c.auto_scorer = false;
        }
        c
    }

    /// The score network this config trains on inputs of `input_dim` dimensions.
    pub fn net_config(&self, input_dim: usize) -> NetConfig {
        NetConfig { input_dim, width: self.width, depth: self.depth, levels: LEVELS }
    }

    /// Network forward passes that scoring one row costs with this config's features.
    pub fn forwards_per_row(&self) -> usize {
        forwards_per_row(self.norm_features, self.denoise, self.dsm_draws)
    }

    /// Checks every field's range; the error names the field.
    pub fn validate(&self) -> Result<()> {
        let check = |ok: bool, name: &str, reason: &str| if ok { Ok(()) } else { Err(invalid(name, reason)) };
        check((1..=4096).contains(&self.width), "width", "must be between 1 and 4096")?;
        check((1..=64).contains(&self.depth), "depth", "must be between 1 and 64")?;
        check((1..=10_000_000).contains(&self.steps), "steps", "must be between 1 and 10000000")?;
        check(self.max_seconds.is_finite() && self.max_seconds > 0.0, "max_seconds", "must be a positive number of seconds")?;
        check((1..=65_536).contains(&self.batch_size), "batch_size", "must be between 1 and 65536")?;
        check(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 1.0, "lr", "must be in (0, 1]")?;
        check(self.lr_min.is_finite() && self.lr_min >= 0.0 && self.lr_min <= self.lr, "lr_min", "must be in [0, lr]")?;
        check(self.weight_decay.is_finite() && (0.0..1.0).contains(&self.weight_decay), "weight_decay", "must be in [0, 1)")?;
        check(self.ema_decay.is_finite() && (0.0..1.0).contains(&self.ema_decay), "ema_decay", "must be in [0, 1)")?;
        check(self.grad_clip.is_finite() && self.grad_clip > 0.0, "grad_clip", "must be positive")?;
        check((1..=256).contains(&self.threads), "threads", "must be between 1 and 256")?;
        check(self.val_fraction.is_finite() && (0.0..0.5).contains(&self.val_fraction), "val_fraction", "must be in [0, 0.5)")?;
        check((1..=1_000_000).contains(&self.max_val_rows), "max_val_rows", "must be between 1 and 1000000")?;
        check((1..=1000).contains(&self.evals), "evals", "must be between 1 and 1000")?;
        check(
            !self.gmm_components.is_empty() && self.gmm_components.iter().all(|&k| (1..=64).contains(&k)),
            "gmm_components",
            "must be a non-empty list of integers between 1 and 64",
        )?;
        check((100..=10_000_000).contains(&self.max_head_rows), "max_head_rows", "must be between 100 and 10000000")?;
        check(self.signal_min.is_finite() && self.signal_min > 0.0 && self.signal_min <= 10.0, "signal_min", "must be in (0, 10]")?;
        check(
            self.signal_max.is_finite() && self.signal_max >= self.signal_min && self.signal_max <= 10.0,
            "signal_max",
            "must be in [signal_min, 10]",
        )?;
        check(self.dsm_draws <= 64, "dsm_draws", "must be between 0 and 64")?;
        check(
            self.norm_features || self.dsm_draws > 0 || self.frequency_feature,
            "norm_features",
            "the density head needs at least one feature kind",
        )?;
        Ok(())
    }
}

/// What a progress callback sees after each step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub step: usize,
    /// Steps the run will make (the step budget, or fewer when the time budget binds).
    pub total_steps: usize,
    /// Mean training loss over the last steps.
    pub loss: f64,
    /// Latest validation loss, once one was computed.
    pub val_loss: Option<f64>,
    pub elapsed: f64,
}

/// Hooks called on the calling thread between steps (never from a worker thread).
pub struct Hooks<'a> {
    pub progress: &'a mut dyn FnMut(&Progress),
    /// Returns true to abort training; `train_network` then returns `Error::Interrupted`.
    pub interrupt: &'a mut dyn FnMut() -> bool,
}

impl Hooks<'_> {
    /// Runs `f` with hooks that report nothing and never interrupt.
    pub fn silent<T>(f: impl FnOnce(&mut Hooks) -> T) -> T {
        let mut progress = |_: &Progress| {};
        let mut interrupt = || false;
        let mut hooks = Hooks { progress: &mut progress, interrupt: &mut interrupt };
        f(&mut hooks)
    }
}

/// Facts about a finished training run, stored with the model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainReport {
    pub train_rows: usize,
    pub val_rows: usize,
    pub steps: usize,
    pub seconds: f64,
    pub final_loss: f64,
    pub best_val_loss: f64,
    pub best_step: usize,
    /// "steps" or "max_seconds": which budget ended training.
    pub stopped_by: String,
}

/// Deterministic per-example RNG: the noise of example `i` at step `step` does not depend on how
/// the batch is split across threads.
pub(crate) fn example_rng(seed: u64, step: u64, i: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15);
    rng.set_stream(step);
    rng.set_word_pos(i as u128 * 4096);
    rng
}

/// Builds a local rayon pool of `threads` threads; the caller must block signals if it needs to.
pub fn build_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("gnsm-worker-{i}"))
        .build()
        .map_err(|e| invalid("threads", format!("cannot start worker threads: {e}")))
}
