//! Scoring with a trained model: feature vectors, the blended anomaly score of coded rows and
//! tables, and a score's place among the training rows' scores (percentile, threshold).

use super::{Blend, Model};
use crate::encoding::CodedTable;
use crate::error::{Error, Result};
use crate::stats::quantile_linear;

impl Model {
    /// Feature vectors of many coded rows (see `FeatureMap::features`).
    pub fn features(&self, rows: &[&[u32]], pool: Option<&rayon::ThreadPool>) -> Vec<f64> {
        self.features.features(rows, pool)
    }

    /// Anomaly score of a feature vector, higher = more anomalous: format 5 sums the standardised
    /// head NLL, IndepNLL and PairwiseNLL and calibrates the sum (`Evidence`); older formats give
    /// -log p_GMM(features), plus the standardised IndepNLL when they blend it (`Blend`).
    pub fn score_features(&self, f: &[f64]) -> f64 {
        let head_nll = self.head.score(&f[..self.features.n_head_features().min(f.len())]);
        match &self.evidence {
            Some(e) => e.score(head_nll, f),
            None => Blend::score(self.blend.as_ref(), head_nll, f),
        }
    }

    /// Anomaly score of one coded row, higher = more anomalous: by the fast scorer when the model
    /// has one, else from the network's features (`score_features`).
    pub fn score_codes(&self, codes: &[u32]) -> Result<f64> {
        self.features.check_codes(codes)?;
        if let Some(fast) = &self.fast {
            return Ok(fast.score(&self.features, codes));
        }
        self.require_network()?;
        let f = self.features.feature_pass(&[codes], false).features;
        Ok(self.score_features(&f))
    }

    /// Anomaly scores of every row of a coded table, by the scorer `score_codes` uses.
    pub fn score_table(&self, table: &CodedTable, pool: Option<&rayon::ThreadPool>) -> Result<Vec<f64>> {
        match &self.fast {
            Some(fast) => {
                self.check_table(table)?;
                (0..table.n_rows)
                    .map(|i| {
                        self.features.check_codes(table.row(i))?;
                        Ok(fast.score(&self.features, table.row(i)))
                    })
                    .collect()
            }
            None => self.score_table_exact(table, pool),
        }
    }

    /// Whether scoring can run the network: a model read from its front section only (format 9,
    /// `Model::from_front`) cannot until `with_network` has added the weights.
    pub fn require_network(&self) -> Result<()> {
        if self.features.network.is_loaded() {
            Ok(())
        } else {
            Err(Error::CorruptModel { reason: "the score network's weights were not read (front section only)".into() })
        }
    }

    /// Rejects a table whose width is not the model's.
    fn check_table(&self, table: &CodedTable) -> Result<()> {
        if table.n_cols != self.features.encoder.n_cols() {
            return Err(Error::RowMismatch {
                reason: format!("{} columns given, the model has {}", table.n_cols, self.features.encoder.n_cols()),
            });
        }
        Ok(())
    }

    /// Anomaly scores of every row of a coded table by the exact scorer (one set of forward
    /// passes per distinct row), whatever the model's scorer (the fast scorer's reference).
    pub fn score_table_exact(&self, table: &CodedTable, pool: Option<&rayon::ThreadPool>) -> Result<Vec<f64>> {
        self.check_table(table)?;
        self.require_network()?;
        let rows: Vec<&[u32]> = (0..table.n_rows).map(|i| table.row(i)).collect();
        let nf = self.features.n_features();
        let feats = self.features.features(&rows, pool);
        Ok(feats.chunks_exact(nf).map(|f| self.score_features(f)).collect())
    }

    /// Percentile (0-100) of a score among the training rows' scores.
    pub fn percentile(&self, score: f64) -> f64 {
        percentile_in(&self.score_quantiles, score)
    }

    /// The score above which a share `contamination` of the training rows lies.
    pub fn threshold(&self, contamination: f64) -> Result<f64> {
        threshold_in(&self.score_quantiles, contamination)
    }
}

/// Percentile (0-100) of `score` among sorted training-score quantiles `q` (NaN without any);
/// shared by table and map models so both read their quantiles the same way.
pub fn percentile_in(q: &[f64], score: f64) -> f64 {
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

/// The score above which a share `contamination` of the training scores (quantiles `q`) lies.
pub fn threshold_in(q: &[f64], contamination: f64) -> Result<f64> {
    if !(contamination > 0.0 && contamination < 1.0) {
        return Err(crate::error::invalid("contamination", "must be strictly between 0 and 1"));
    }
    if q.is_empty() {
        return Err(Error::CorruptModel { reason: "the model stores no training-score quantiles".into() });
    }
    let p = 1.0 - contamination;
    let last = (q.len() - 1) as f64;
    // where the position lands on the top quantile it is returned as is (no `+ 0 * (q - q)`
    // term), exactly as released versions did, so an infinite or -0.0 top quantile stays put
    Ok(if p * last >= last { q[q.len() - 1] } else { quantile_linear(q, p) })
}
