//! The narrow view of a model that the SQL layer needs (column names, cell encoding, catalog
//! numbers), so that it does not reach into `features.encoder` or `features.network`.

use super::Model;
use crate::error::Result;
use crate::stats::percentile_index;

impl Model {
    /// Number of model columns (numeric and categorical).
    pub fn n_columns(&self) -> usize {
        self.features.encoder.n_cols()
    }

    /// Column names in model order (numeric columns first).
    pub fn column_names(&self) -> Vec<String> {
        self.features.encoder.names()
    }

    /// Cell of `value` (None = NULL) in model column `j`; fails only on a numeric column's text
    /// that is not a number.
    pub fn encode_cell(&self, j: usize, value: Option<&str>) -> Result<u32> {
        self.features.encoder.cell(j, value)
    }

    /// Per model column: 0 for a numeric column, the category count K for a categorical one.
    pub fn vocab_sizes(&self) -> Vec<i32> {
        let encoder = &self.features.encoder;
        std::iter::repeat_n(0, encoder.n_num()).chain(encoder.block_sizes().iter().map(|&k| k as i32)).collect()
    }

    /// Number of trained parameters of the score network.
    pub fn n_params(&self) -> usize {
        self.features.network.n_params()
    }

    /// Number of mixture components chosen by cross-validation for the density head.
    pub fn n_components(&self) -> usize {
        self.head.n_components
    }

    /// The 101 training-score percentiles (0%, 1%, ..., 100%) the catalog stores: the stored
    /// quantile at `stats::percentile_index` (rounded down, no interpolation); empty without
    /// stored quantiles.
    pub fn catalog_percentiles(&self) -> Vec<f64> {
        let q = &self.score_quantiles;
        if q.is_empty() {
            return Vec::new();
        }
        (0..=100).map(|p| q[percentile_index(p, q.len())]).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::encoding::{TableBuilder, NUMERIC_MISSING, UNSEEN};
    use crate::model::Model;
    use crate::train::{build_pool, Hooks, TrainConfig};
    use crate::Error;
    use std::sync::OnceLock;

    /// A small trained model with numeric column "n" then categorical columns "a" (K=2), "b" (K=3).
    fn model() -> &'static Model {
        static CELL: OnceLock<Model> = OnceLock::new();
        CELL.get_or_init(|| {
            let mut b = TableBuilder::with_numeric(vec!["n".into(), "a".into(), "b".into()], 1, 100);
            for i in 0..60usize {
                b.push_row(&[Some(&(i as f64 * 0.25).to_string()), Some(["x", "y"][i % 2]), Some(["p", "q", "r"][i % 3])]).unwrap();
            }
            let (enc, table) = b.finish().unwrap();
            let cfg = TrainConfig { steps: 5, width: 8, depth: 1, gmm_components: vec![2], ..TrainConfig::default() };
            let pool = build_pool(1).unwrap();
            Hooks::silent(|h| Model::fit_coded(enc, &table, &cfg, &pool, h)).unwrap()
        })
    }

    #[test]
    fn test_n_columns_and_column_names_in_model_order() {
        assert_eq!(model().n_columns(), 3);
        assert_eq!(model().column_names(), vec!["n", "a", "b"]);
    }

    #[test]
    fn test_encode_cell_numeric_and_categorical() {
        let m = model();
        assert_eq!(m.encode_cell(0, None).unwrap(), NUMERIC_MISSING);
        assert!(matches!(m.encode_cell(0, Some("abc")), Err(Error::BadNumber { .. })));
        assert_eq!(m.encode_cell(0, Some("2.5")).unwrap(), m.features.encoder.numeric[0].cell_of(2.5));
        assert_eq!(m.encode_cell(2, Some("new")).unwrap(), UNSEEN);
        assert_eq!(m.encode_cell(1, Some("y")).unwrap(), m.features.encoder.columns[0].code(Some("y")));
    }

    #[test]
    fn test_vocab_sizes_zero_for_numeric_then_k() {
        assert_eq!(model().vocab_sizes(), vec![0, 2, 3]);
    }

    #[test]
    fn test_n_params_and_n_components() {
        let m = model();
        assert!(m.n_params() > 0);
        assert_eq!(m.n_params(), m.features.network.params.len());
        assert_eq!(m.n_components(), 2);
    }

    #[test]
    fn test_catalog_percentiles_pick_every_tenth_stored_quantile() {
        let m = model();
        let p = m.catalog_percentiles();
        assert_eq!(p.len(), 101);
        assert_eq!(m.score_quantiles.len(), 1001);
        for (i, v) in p.iter().enumerate() {
            assert_eq!(v.to_bits(), m.score_quantiles[10 * i].to_bits());
        }
        let mut empty = m.clone();
        empty.score_quantiles.clear();
        assert!(empty.catalog_percentiles().is_empty());
        empty.score_quantiles = vec![1.0, 2.0, 3.0, 4.0];
        assert_eq!(empty.catalog_percentiles()[50], 2.0);
    }
}
