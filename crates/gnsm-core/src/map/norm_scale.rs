//! The network term of a map's evidence: the sum over the 20 levels of each score norm's
//! z-score against the training maps. A map far from the training manifold has larger scores at
//! every level, so the term is one-sided (large = anomalous). It replaces the Gaussian density
//! head of table models for maps: a full covariance over 40 correlated features is 820 numbers
//! fitted on the few hundred maps a user has, and on horse (164 maps) it ranked worse than this
//! sum (ADR 012).

use crate::relax::LEVELS;
use serde::{Deserialize, Serialize};

/// Mean and standard deviation of each level's score norm over the training maps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NormScale {
    pub mean: Vec<f64>,
    pub spread: Vec<f64>,
}

impl NormScale {
    /// Fits the per-level moments on training feature vectors (score norms first).
    pub fn fit(features: &[Vec<f64>]) -> NormScale {
        let n = features.len().max(1) as f64;
        let mean: Vec<f64> = (0..LEVELS).map(|l| features.iter().map(|f| f[l]).sum::<f64>() / n).collect();
        let spread = (0..LEVELS)
            .map(|l| {
                let var = features.iter().map(|f| (f[l] - mean[l]).powi(2)).sum::<f64>() / n;
                // a level whose norm never varies contributes nothing rather than dividing by 0
                if var > 0.0 { var.sqrt() } else { f64::INFINITY }
            })
            .collect();
        NormScale { mean, spread }
    }

    /// The network term of a feature vector: the summed z-scores of its 20 score norms.
    pub fn term(&self, features: &[f64]) -> f64 {
        (0..LEVELS).map(|l| (features[l] - self.mean[l]) / self.spread[l]).sum()
    }

    /// Whether there are 20 finite means and positive spreads.
    pub fn is_valid(&self) -> bool {
        self.mean.len() == LEVELS && self.spread.len() == LEVELS && self.mean.iter().all(|v| v.is_finite()) && self.spread.iter().all(|&s| s > 0.0)
    }
}
