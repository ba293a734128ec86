//! TEMPORARY bridge (replaced by the core restructure's facade at merge).
use crate::model::Model;
use crate::Result;

impl Model {
    /// Number of model columns.
    pub fn n_columns(&self) -> usize {
        self.features.encoder.n_cols()
    }
    /// Model column names in model order.
    pub fn column_names(&self) -> Vec<String> {
        self.features.encoder.names()
    }
    /// Cell of column `j` for a value.
    pub fn encode_cell(&self, j: usize, value: Option<&str>) -> Result<u32> {
        self.features.encoder.cell(j, value)
    }
    /// Per model column: 0 for numeric, K for categorical.
    pub fn vocab_sizes(&self) -> Vec<i32> {
        std::iter::repeat_n(0, self.features.encoder.n_num()).chain(self.features.encoder.block_sizes().iter().map(|&k| k as i32)).collect()
    }
    /// Parameter count of the score network.
    pub fn n_params(&self) -> usize {
        self.features.network.n_params()
    }
    /// Mixture components of the density head.
    pub fn n_components(&self) -> usize {
        self.head.n_components
    }
    /// The 101 stored percentiles.
    pub fn catalog_percentiles(&self) -> Vec<f64> {
        let q = &self.score_quantiles;
        if q.is_empty() {
            return Vec::new();
        }
        (0..=100).map(|p| q[p * (q.len() - 1) / 100]).collect()
    }
}
