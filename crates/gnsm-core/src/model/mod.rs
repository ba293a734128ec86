//! A trained model: the `Model` (feature map, density head, training options and report, stored
//! training-score quantiles, how its terms make the score) and the `Blend` of format 3-4 models.
//!
//! Files by phase: `fit` (the training pipeline that makes a model), `format` (its versioned
//! binary format), `warm` (stored scores of repeated training rows), `evidence` (the calibrated score of format 5), `scoring` (scores, percentiles, thresholds), `explain` (per-column
//! explanations) and `facade` (the narrow accessors the SQL layer uses instead of reaching into
//! the feature map).

mod evidence;
mod explain;
mod facade;
mod fit;
pub(crate) mod format;
mod scoring;
mod warm;

pub use evidence::Evidence;
pub use fit::{budget_left, distinct_rows};
pub use explain::ColumnExplanation;
pub use format::{front_length, ModelRead, NetworkSection, MAGIC};
pub use scoring::{percentile_in, threshold_in};
pub use warm::{WarmScores, MAX_WARM_ROWS};

use crate::fast::FastScorer;
use crate::head::DensityHead;
use crate::score::FeatureMap;
use crate::stats::mean_std;
use crate::train::{TrainConfig, TrainReport};
use serde::{Deserialize, Serialize};

/// Number of stored training-score quantiles (0%, 0.1%, ..., 100%).
pub const N_QUANTILES: usize = 1001;

/// A trained model ready to score.
#[derive(Debug, Clone)]
pub struct Model {
    /// Row -> feature vector (vocabulary, score network, frequency model).
    pub features: FeatureMap,
    pub head: DensityHead,
    pub config: TrainConfig,
    pub report: TrainReport,
    /// Sorted quantiles of the training rows' anomaly scores (`N_QUANTILES` points).
    pub score_quantiles: Vec<f64>,
    /// How the GMM and IndepNLL scores are combined; None = the GMM alone (format 1-2 models).
    pub blend: Option<Blend>,
    /// The calibrated evidence sum of format-5 models (ADR 010); when present it scores, and
    /// `blend` is None.
    pub evidence: Option<Evidence>,
    /// The fitted fast scorer (format 5, option `"scorer": "fast"`); when present it scores rows
    /// and the stored quantiles are its scores'.
    pub fast: Option<FastScorer>,
    /// Exact scores of the most repeated training rows (format 7; empty for older models), which
    /// a backend loads into its score memo.
    pub warm: WarmScores,
}

/// Standardisation of the two scores that are summed: (gmm - gmm_mean) / gmm_std +
/// (indep - indep_mean) / indep_std, both measured on the density head's training rows.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Blend {
    pub gmm_mean: f64,
    pub gmm_std: f64,
    pub indep_mean: f64,
    pub indep_std: f64,
}

impl Blend {
    /// Mean and standard deviation, the latter floored at 1 nat: on a table of a few distinct
    /// rows every training row has nearly the same log-likelihood, and dividing by that spread
    /// (1e-9 in a bad-input test) blew scores up to 1e17 and made their order arbitrary.
    /// No values give (0, 1).
    fn moments(v: &[f64]) -> (f64, f64) {
        if v.is_empty() {
            return (0.0, 1.0);
        }
        let (mean, std) = mean_std(v);
        (mean, std.max(1.0))
    }

    /// The blend for these GMM scores and IndepNLL values of the same rows.
    pub fn fit(gmm: &[f64], indep: &[f64]) -> Blend {
        let (gmm_mean, gmm_std) = Blend::moments(gmm);
        let (indep_mean, indep_std) = Blend::moments(indep);
        Blend { gmm_mean, gmm_std, indep_mean, indep_std }
    }

    /// The combined score.
    pub fn combine(&self, gmm: f64, indep: f64) -> f64 {
        (gmm - self.gmm_mean) / self.gmm_std + (indep - self.indep_mean) / self.indep_std
    }

    /// A row's anomaly score from its GMM score and feature vector (IndepNLL last): blended when
    /// the model has a blend, else the GMM score alone.
    pub fn score(blend: Option<&Blend>, gmm: f64, features: &[f64]) -> f64 {
        match blend {
            Some(b) => b.combine(gmm, features[features.len() - 1]),
            None => gmm,
        }
    }
}
