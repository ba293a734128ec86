//! Independent columns (`IndepNll`): the negative log-likelihood of a row's categories under
//! independent, Laplace-smoothed columns. It is the last density-head feature of every model and
//! the marginal that `PairwiseNll` shrinks towards; the training-free AVF baseline that shared its
//! counting lives in the gnsm-eval crate.

use crate::encoding::CodedTable;
use serde::{Deserialize, Serialize};

/// Training counts per categorical column and category, ignoring codes outside `0..K_j`; the
/// columns are the last `cards.len()` cells of each row.
pub fn count_codes(train: &CodedTable, cards: &[usize]) -> Vec<Vec<u64>> {
    let mut counts: Vec<Vec<u64>> = cards.iter().map(|&k| vec![0; k]).collect();
    let first = train.n_cols.saturating_sub(cards.len());
    for i in 0..train.n_rows {
        for (col, &code) in counts.iter_mut().zip(&train.row(i)[first..]) {
            // an unseen code in training data has no slot; it simply is not counted
            if let Some(c) = col.get_mut(code as usize) {
                *c += 1;
            }
        }
    }
    counts
}

/// Negative log-likelihood under independent columns with Laplace smoothing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndepNll {
    counts: Vec<Vec<u64>>,
    n: u64,
}

impl IndepNll {
    /// Counts each column's categories (cardinalities `cards`) over the training rows.
    pub fn fit(train: &CodedTable, cards: &[usize]) -> IndepNll {
        IndepNll { counts: count_codes(train, cards), n: train.n_rows as u64 }
    }

    /// Probability of `code` in column `j`: (count+1)/(n+K+1), or 1/(n+K+1) for an unseen code.
    pub fn column_p(&self, j: usize, code: u32) -> f64 {
        let Some(col) = self.counts.get(j) else {
            return 1.0 / (self.n + 1) as f64;
        };
        let numer = if (code as usize) < col.len() { col[code as usize] + 1 } else { 1 };
        numer as f64 / (self.n + col.len() as u64 + 1) as f64
    }

    /// Training count of `code` in column `j` (0 for an unseen code or column).
    pub fn count(&self, j: usize, code: u32) -> u64 {
        self.counts.get(j).and_then(|c| c.get(code as usize)).copied().unwrap_or(0)
    }

    /// `-ln p_j(code)` with p = (count+1)/(n+K+1), or 1/(n+K+1) for an unseen code (or column).
    pub fn column_nll(&self, j: usize, code: u32) -> f64 {
        let Some(col) = self.counts.get(j) else {
            // a column the model does not know: treat as unseen in an empty column
            return ((self.n + 1) as f64).ln();
        };
        let denom = (self.n + col.len() as u64 + 1) as f64;
        let count = col.get(code as usize).copied().unwrap_or(0);
        // the +1 for unseen values reserves mass for them, so an unseen value always costs more
        // than any seen one
        let numer = if (code as usize) < col.len() { count + 1 } else { 1 };
        (denom / numer as f64).ln()
    }

    /// Anomaly score of a coded row: the sum of per-column NLLs (a missing trailing code counts
    /// as unseen).
    pub fn score(&self, row: &[u32]) -> f64 {
        (0..self.counts.len()).map(|j| self.column_nll(j, row.get(j).copied().unwrap_or(u32::MAX))).sum()
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.counts.len()
    }

    /// Number of training rows.
    pub fn n_rows(&self) -> u64 {
        self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::UNSEEN;

    /// 4 rows x 2 columns; column 0 has K=2 (counts 3,1), column 1 has K=3 (counts 2,1,1).
    fn table() -> CodedTable {
        CodedTable { n_rows: 4, n_cols: 2, codes: vec![0, 0, 0, 0, 0, 1, 1, 2] }
    }

    #[test]
    fn test_indep_nll_laplace_values() {
        let m = IndepNll::fit(&table(), &[2, 3]);
        // column 0: n+K+1 = 7; code 0 count 3 -> 4/7
        assert!((m.column_nll(0, 0) - (7.0f64 / 4.0).ln()).abs() < 1e-12);
        // column 1: n+K+1 = 8; code 2 count 1 -> 2/8
        assert!((m.column_nll(1, 2) - 4.0f64.ln()).abs() < 1e-12);
        // unseen (UNSEEN or code >= K) -> 1/(n+K+1)
        assert!((m.column_nll(1, UNSEEN) - 8.0f64.ln()).abs() < 1e-12);
        assert_eq!(m.column_nll(1, 3), m.column_nll(1, UNSEEN));
        // a leading (numeric) cell before the categorical ones is not counted
        let with_numeric = CodedTable { n_rows: 4, n_cols: 3, codes: vec![7, 0, 0, 9, 0, 0, 7, 0, 1, 7, 1, 2] };
        assert_eq!(IndepNll::fit(&with_numeric, &[2, 3]), m);
        let s = m.score(&[1, 0]);
        assert!((s - ((7.0f64 / 2.0).ln() + (8.0f64 / 3.0).ln())).abs() < 1e-12);
    }

    #[test]
    fn test_indep_nll_ranks_rare_and_unseen_higher() {
        let m = IndepNll::fit(&table(), &[2, 3]);
        let common = m.score(&[0, 0]);
        let rare = m.score(&[1, 2]);
        let unseen = m.score(&[UNSEEN, UNSEEN]);
        assert!(common < rare && rare < unseen);
        // a short row counts its missing codes as unseen instead of panicking
        assert_eq!(m.score(&[0]), m.column_nll(0, 0) + m.column_nll(1, UNSEEN));
    }
}
