//! A map score's place among the training maps' scores (percentile, threshold, the catalog's 101
//! percentiles), read from the stored quantiles exactly as table models read theirs, and which
//! family a model's bytes hold, so a caller can pick the decoder without trying both.

use super::model::MapModel;
use crate::error::Result;
use crate::model::format::{payload_tag, read_header, MAP_TAG};
use crate::model::{percentile_in, threshold_in};
use crate::stats::percentile_index;

impl MapModel {
    /// Percentile (0-100) of a score among the training maps' scores.
    pub fn percentile(&self, score: f64) -> f64 {
        percentile_in(&self.score_quantiles, score)
    }

    /// The score above which a share `contamination` of the training maps lies.
    pub fn threshold(&self, contamination: f64) -> Result<f64> {
        threshold_in(&self.score_quantiles, contamination)
    }

    /// The 101 percentiles (0, 1, ..., 100) the catalog stores, as `Model::catalog_percentiles`.
    pub fn catalog_percentiles(&self) -> Vec<f64> {
        let q = &self.score_quantiles;
        if q.is_empty() {
            return Vec::new();
        }
        (0..=100).map(|p| q[percentile_index(p, q.len())]).collect()
    }

    /// Number of trainable parameters of the score network.
    pub fn n_params(&self) -> usize {
        self.net.n_params()
    }
}

/// Whether `bytes` hold a map model (format 6 or later with the map payload tag); false for table
/// models and for bytes that are not a model at all (their decoder then says what is wrong).
pub fn is_map_bytes(bytes: &[u8]) -> bool {
    match read_header(bytes) {
        Ok((version, body)) => version >= 6 && payload_tag(body) == Some(MAP_TAG),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_non_models_are_not_map_bytes() {
        assert!(!is_map_bytes(b""));
        assert!(!is_map_bytes(b"GNSM\x06\x00garbage-garbage"));
    }
}
