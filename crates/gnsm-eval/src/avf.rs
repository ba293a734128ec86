//! Attribute Value Frequency (Koufakis et al., Otey et al.): a training-free baseline of the
//! quality benchmark, the mean raw training count of a row's values. It is not stored in models
//! nor used by scoring, so it lives here, counting with the core's `frequency::count_codes`.

use gnsm_core::encoding::CodedTable;
use gnsm_core::frequency::count_codes;

/// Attribute Value Frequency: the mean raw training count of a row's values, negated so that
/// higher = more anomalous.
#[derive(Debug, Clone, PartialEq)]
pub struct Avf {
    counts: Vec<Vec<u64>>,
}

impl Avf {
    /// Counts each column's categories (cardinalities `cards`) over the training rows.
    pub fn fit(train: &CodedTable, cards: &[usize]) -> Avf {
        Avf { counts: count_codes(train, cards) }
    }

    /// `-(1/m) sum_j freq_j(x_j)`, an unseen value having frequency 0 (0.0 for zero columns).
    pub fn score(&self, row: &[u32]) -> f64 {
        let m = self.counts.len();
        if m == 0 {
            return 0.0;
        }
        let total: u64 =
            self.counts.iter().enumerate().map(|(j, col)| row.get(j).and_then(|&c| col.get(c as usize)).copied().unwrap_or(0)).sum();
        -(total as f64) / m as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gnsm_core::encoding::UNSEEN;

    #[test]
    fn test_avf_scores() {
        // 4 rows x 2 columns; column 0 has K=2 (counts 3,1), column 1 has K=3 (counts 2,1,1)
        let table = CodedTable { n_rows: 4, n_cols: 2, codes: vec![0, 0, 0, 0, 0, 1, 1, 2] };
        let a = Avf::fit(&table, &[2, 3]);
        assert_eq!(a.score(&[0, 0]), -(3.0 + 2.0) / 2.0);
        assert_eq!(a.score(&[1, 2]), -(1.0 + 1.0) / 2.0);
        assert_eq!(a.score(&[UNSEEN, 7]), 0.0);
        assert!(a.score(&[0, 0]) < a.score(&[1, 2]));
    }
}
