//! `PairwiseNll`: how surprising each categorical value is given the other values of its row, one
//! column at a time, from pair counts. Column j's term is the largest, over its parents k (the
//! up to `PARENTS` columns that share the most information with it, BIC-penalised), of
//! `-ln p(x_j | x_k)` and of the marginal `-ln p_j(x_j)`, where the conditional is shrunk towards
//! the marginal with the weight of one observation: `(n_jk(a, b) + p_j(a)) / (n_k(b) + 1)`. The
//! marginal is a floor: a parent can only add surprise (nursery, unsupervised: AUROC 67.7 without
//! the floor, 100 with it, measured while this was written; its anomalies are rare values that
//! their parents predict). A row's score is the sum
//! of its terms, so it is never below the independent-columns NLL. Parents, not all columns:
//! the largest of m-1 noisy conditionals grows with m even for ordinary rows (census, 33 columns:
//! AUROC 56.6 over all columns, 61.4 over 3 parents), and a model keeps at most 3m pair tables.
//! A value that never occurs with a common value of another column costs about `ln n_k(b)` more
//! than its marginal; a rare value that its row explains costs little. ADR 010 gives the measured
//! reasons; the terms also name the column that carries a row's anomaly (`gnsm_explain`).

use super::IndepNll;
use crate::encoding::CodedTable;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Parents per column: the columns whose values predict it best.
pub const PARENTS: usize = 3;
/// Rows sampled (evenly spaced) to choose the parents; counting the chosen pairs reads all rows.
const PARENT_SAMPLE_ROWS: usize = 10_000;

/// Pair tables kept in one model at most (sum of observed value pairs over all column pairs).
/// Beyond it the column pairs with the most distinct value pairs are left out: their conditionals
/// rest on the fewest rows per pair. 1M entries are 12 MB; the ten benchmark sets need at most
/// 0.4M (census).
pub const MAX_PAIR_ENTRIES: usize = 1_000_000;

/// Observed value pairs of one column pair (j < k): sorted keys `a * (K_k) + b` and their counts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct PairTable {
    j: u32,
    k: u32,
    keys: Vec<u64>,
    counts: Vec<u32>,
}

impl PairTable {
    /// Count of (a, b); 0 when never seen together.
    fn count(&self, a: u32, b: u32, card_k: usize) -> u64 {
        let key = a as u64 * card_k as u64 + b as u64;
        match self.keys.binary_search(&key) {
            Ok(i) => self.counts[i] as u64,
            Err(_) => 0,
        }
    }
}

/// Worst-conditional frequency model (see the module doc).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PairwiseNll {
    marginal: IndepNll,
    cards: Vec<usize>,
    /// Index of the pair table of (j, k), j < k, in `tables`, or u32::MAX when left out.
    slots: Vec<u32>,
    tables: Vec<PairTable>,
    /// Parent columns of each column, most informative first.
    parents: Vec<Vec<u32>>,
}

/// Sorted keys `a * K_k + b` of the rows' (column j, column k) values (codes outside the
/// vocabularies are skipped), counted in runs.
fn pair_runs(train: &CodedTable, rows: impl Iterator<Item = usize>, first: usize, j: usize, k: usize, cards: &[usize]) -> PairTable {
    let mut keys: Vec<u64> = rows
        .filter_map(|r| {
            let row = &train.row(r)[first..];
            let (a, b) = (row[j] as usize, row[k] as usize);
            (a < cards[j] && b < cards[k]).then_some((a * cards[k] + b) as u64)
        })
        .collect();
    keys.sort_unstable();
    let mut t = PairTable { j: j as u32, k: k as u32, keys: Vec::new(), counts: Vec::new() };
    for key in keys {
        if t.keys.last() == Some(&key) {
            *t.counts.last_mut().expect("a key was pushed") += 1;
        } else {
            t.keys.push(key);
            t.counts.push(1);
        }
    }
    t
}

/// Mutual information (nats) of a pair table, minus the BIC penalty of its
/// `(distinct a - 1) * (distinct b - 1)` free parameters, over `n` rows.
fn penalised_mutual_information(t: &PairTable, card_k: usize, n: f64) -> f64 {
    use std::collections::HashMap;
    let mut ca: HashMap<u64, f64> = HashMap::new();
    let mut cb: HashMap<u64, f64> = HashMap::new();
    for (&key, &c) in t.keys.iter().zip(&t.counts) {
        *ca.entry(key / card_k as u64).or_default() += c as f64;
        *cb.entry(key % card_k as u64).or_default() += c as f64;
    }
    let mi: f64 = t
        .keys
        .iter()
        .zip(&t.counts)
        .map(|(&key, &c)| {
            let c = c as f64;
            c / n * (c * n / (ca[&(key / card_k as u64)] * cb[&(key % card_k as u64)])).ln()
        })
        .sum();
    let dof = (ca.len().saturating_sub(1) * cb.len().saturating_sub(1)) as f64;
    mi - dof * n.ln() / (2.0 * n)
}

impl PairwiseNll {
    /// Counts every pair of categorical columns (cardinalities `cards`) over the training rows.
    pub fn fit(train: &CodedTable, cards: &[usize]) -> PairwiseNll {
        PairwiseNll::fit_within(train, cards, MAX_PAIR_ENTRIES)
    }

    /// As `fit`, keeping at most `budget` value pairs.
    pub fn fit_within(train: &CodedTable, cards: &[usize], budget: usize) -> PairwiseNll {
        let mut never = || false;
        match PairwiseNll::fit_controlled(train, cards, budget, &mut never) {
            Ok(model) => model,
            Err(_) => unreachable!("a hook that never interrupts cannot stop the fit"),
        }
    }

    /// As `fit_within`, asking `interrupt` between pairs of columns (each is one pass over the
    /// sample or the rows: 1M rows x 33 columns count in about 1.4 s, so a cancel must get in).
    pub fn fit_controlled(train: &CodedTable, cards: &[usize], budget: usize, interrupt: &mut dyn FnMut() -> bool) -> Result<PairwiseNll> {
        let marginal = IndepNll::fit(train, cards);
        let m = cards.len();
        let first = train.n_cols.saturating_sub(m);
        // choose each column's parents on an evenly spaced sample of rows
        let stride = train.n_rows.div_ceil(PARENT_SAMPLE_ROWS).max(1);
        let sample = || (0..train.n_rows).step_by(stride);
        let n_sample = sample().count() as f64;
        let mut score = vec![f64::NEG_INFINITY; m * m];
        if n_sample > 1.0 {
            for j in 0..m {
                if interrupt() {
                    return Err(Error::Interrupted);
                }
                for k in j + 1..m {
                    let t = pair_runs(train, sample(), first, j, k, cards);
                    let v = penalised_mutual_information(&t, cards[k], n_sample);
                    score[j * m + k] = v;
                    score[k * m + j] = v;
                }
            }
        }
        let parents: Vec<Vec<u32>> = (0..m)
            .map(|j| {
                let mut ks: Vec<usize> = (0..m).filter(|&k| k != j && score[j * m + k] > 0.0).collect();
                ks.sort_by(|&a, &b| score[j * m + b].total_cmp(&score[j * m + a]).then(a.cmp(&b)));
                ks.truncate(PARENTS);
                ks.into_iter().map(|k| k as u32).collect()
            })
            .collect();
        // count the chosen pairs on every row
        let mut wanted: Vec<(usize, usize)> =
            parents.iter().enumerate().flat_map(|(j, ps)| ps.iter().map(move |&k| (j.min(k as usize), j.max(k as usize)))).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut tables: Vec<PairTable> = Vec::with_capacity(wanted.len());
        for &(j, k) in &wanted {
            if interrupt() {
                return Err(Error::Interrupted);
            }
            tables.push(pair_runs(train, 0..train.n_rows, first, j, k, cards));
        }
        // over the budget, leave out the pairs with the most distinct value pairs first
        let mut total: usize = tables.iter().map(|t| t.keys.len()).sum();
        if total > budget {
            let mut by_size: Vec<usize> = (0..tables.len()).collect();
            by_size.sort_by_key(|&i| std::cmp::Reverse((tables[i].keys.len(), i)));
            let mut drop = vec![false; tables.len()];
            for i in by_size {
                if total <= budget {
                    break;
                }
                total -= tables[i].keys.len();
                drop[i] = true;
            }
            let mut keep = drop.iter().map(|d| !d);
            tables.retain(|_| keep.next().expect("one flag per table"));
        }
        let mut slots = vec![u32::MAX; m * m];
        for (i, t) in tables.iter().enumerate() {
            slots[t.j as usize * m + t.k as usize] = i as u32;
        }
        Ok(PairwiseNll { marginal, cards: cards.to_vec(), slots, tables, parents })
    }

    /// Whether the stored tables are consistent with columns of cardinalities `cards` (a
    /// reader's check on foreign bytes: lookups index by these numbers).
    pub fn is_valid(&self, cards: &[usize]) -> bool {
        let m = cards.len();
        self.cards == cards
            && self.marginal.n_cols() == m
            && self.slots.len() == m * m
            && self.slots.iter().all(|&s| s == u32::MAX || (s as usize) < self.tables.len())
            && self.tables.iter().enumerate().all(|(i, t)| {
                let (j, k) = (t.j as usize, t.k as usize);
                j < k && k < m && self.slots[j * m + k] == i as u32 && t.keys.len() == t.counts.len()
            })
            && self.parents.len() == m
            && self.parents.iter().enumerate().all(|(j, ps)| ps.iter().all(|&k| (k as usize) < m && k as usize != j))
    }

    /// Number of categorical columns.
    pub fn n_cols(&self) -> usize {
        self.cards.len()
    }

    /// Observed value pairs kept (the model's size in entries).
    pub fn n_entries(&self) -> usize {
        self.tables.iter().map(|t| t.keys.len()).sum()
    }

    /// Training count of values a (column j) and b (column k) together; None when the pair of
    /// columns was left out.
    fn pair_count(&self, j: usize, a: u32, k: usize, b: u32) -> Option<u64> {
        let (j, a, k, b) = if j < k { (j, a, k, b) } else { (k, b, j, a) };
        let slot = self.slots[j * self.cards.len() + k];
        if slot == u32::MAX {
            return None;
        }
        if a as usize >= self.cards[j] || b as usize >= self.cards[k] {
            return Some(0);
        }
        Some(self.tables[slot as usize].count(a, b, self.cards[k]))
    }

    /// Per-column terms of a row's categorical cells (the last `n_cols()` cells of `row`; a missing
    /// trailing cell counts as unseen): the largest of `-ln p_j(x_j)` and, over the parents k whose
    /// pair table was kept, `-ln p(x_j | x_k)`.
    pub fn column_terms(&self, row: &[u32]) -> Vec<f64> {
        let m = self.cards.len();
        let first = row.len().saturating_sub(m);
        let cell = |j: usize| row.get(first + j).copied().unwrap_or(u32::MAX);
        debug_assert_eq!(m, self.parents.len());
        (0..m)
            .map(|j| {
                let a = cell(j);
                let p_a = self.marginal.column_p(j, a);
                // the marginal is the floor: a parent can make a value more surprising, never less
                let mut worst = -p_a.ln();
                for k in self.parents[j].iter().map(|&k| k as usize) {
                    let b = cell(k);
                    let Some(n_ab) = self.pair_count(j, a, k, b) else { continue };
                    let n_b = self.marginal.count(k, b) as f64;
                    worst = worst.max(-((n_ab as f64 + p_a) / (n_b + 1.0)).ln());
                }
                worst
            })
            .collect()
    }

    /// Anomaly score of a row's categorical cells: the sum of its column terms.
    pub fn score(&self, row: &[u32]) -> f64 {
        self.column_terms(row).iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::UNSEEN;

    /// Column 0 determines column 1 (a -> x, b -> y), column 2 is independent noise.
    fn table(n: usize) -> CodedTable {
        let mut codes = Vec::new();
        for i in 0..n {
            let a = (i % 2) as u32;
            codes.extend([a, a, (i % 3 == 0) as u32]);
        }
        CodedTable { n_rows: n, n_cols: 3, codes }
    }

    #[test]
    fn test_broken_dependency_costs_more_than_its_marginal() {
        let m = PairwiseNll::fit(&table(1000), &[2, 2, 2]);
        let ok = m.column_terms(&[0, 0, 1]);
        let broken = m.column_terms(&[0, 1, 1]);
        // both values of the broken pair are common alone (p = 0.5) but never seen together
        assert!(broken[0] > ok[0] + 5.0 && broken[1] > ok[1] + 5.0, "{ok:?} {broken:?}");
        // the independent column is untouched
        assert!((broken[2] - ok[2]).abs() < 1e-12);
        assert!(m.score(&[0, 1, 1]) > m.score(&[0, 0, 1]) + 10.0);
    }

    #[test]
    fn test_an_interrupt_stops_the_count_and_a_quiet_hook_changes_nothing() {
        let t = table(1000);
        let mut asked = 0usize;
        let mut quiet = || {
            asked += 1;
            false
        };
        let m = PairwiseNll::fit_controlled(&t, &[2, 2, 2], MAX_PAIR_ENTRIES, &mut quiet).unwrap();
        assert_eq!(m.score(&[0, 1, 1]), PairwiseNll::fit(&t, &[2, 2, 2]).score(&[0, 1, 1]));
        // asked once per column of the parent search and once per counted pair of columns
        assert!(asked > 3, "{asked}");
        let mut calls = 0usize;
        let mut stop = || {
            calls += 1;
            calls >= 2
        };
        assert!(matches!(PairwiseNll::fit_controlled(&t, &[2, 2, 2], MAX_PAIR_ENTRIES, &mut stop), Err(Error::Interrupted)));
        assert_eq!(calls, 2);
    }

    #[test]
    fn test_unseen_values_and_short_rows_are_most_surprising() {
        let m = PairwiseNll::fit(&table(100), &[2, 2, 2]);
        let seen = m.score(&[1, 1, 0]);
        assert!(m.score(&[UNSEEN, 1, 0]) > seen);
        assert!(m.score(&[1, 1]) > seen);
        // a leading numeric cell is not one of the categorical columns
        assert_eq!(m.column_terms(&[7, 1, 1, 0]), m.column_terms(&[1, 1, 0]));
    }

    #[test]
    fn test_single_column_is_its_marginal() {
        let t = CodedTable { n_rows: 4, n_cols: 1, codes: vec![0, 0, 0, 1] };
        let m = PairwiseNll::fit(&t, &[2]);
        let indep = IndepNll::fit(&t, &[2]);
        assert!((m.score(&[1]) - indep.score(&[1])).abs() < 1e-12);
    }

    #[test]
    fn test_parents_are_the_informative_columns() {
        // column 3 is noise: it gets no parent and is no one's parent
        let n = 2000;
        let mut codes = Vec::new();
        for i in 0..n {
            let a = (i % 4) as u32;
            codes.extend([a, a / 2, a % 2, ((i * 7919) % 5) as u32]);
        }
        let t = CodedTable { n_rows: n, n_cols: 4, codes };
        let m = PairwiseNll::fit(&t, &[4, 2, 2, 5]);
        assert_eq!(m.parents[0], vec![1, 2]);
        assert_eq!(m.parents[1], vec![0]);
        assert_eq!(m.parents[2], vec![0]);
        assert!(m.parents[3].is_empty());
        assert!(m.is_valid(&[4, 2, 2, 5]));
        // the noise column costs its marginal
        let indep = IndepNll::fit(&t, &[4, 2, 2, 5]);
        assert!((m.column_terms(&[1, 0, 1, 3])[3] - indep.column_nll(3, 3)).abs() < 1e-12);
    }

    #[test]
    fn test_budget_drops_the_widest_pairs_first() {
        // columns 0 and 1 are copies, column 2 refines them (8 values)
        let n = 200;
        let mut codes = Vec::new();
        for i in 0..n {
            codes.extend([(i % 2) as u32, (i % 2) as u32, (i % 8) as u32]);
        }
        let t = CodedTable { n_rows: n, n_cols: 3, codes };
        let full = PairwiseNll::fit(&t, &[2, 2, 8]);
        assert_eq!(full.tables.len(), 3);
        assert_eq!(full.n_entries(), 2 + 8 + 8);
        let cut = PairwiseNll::fit_within(&t, &[2, 2, 8], 10);
        assert_eq!(cut.tables.len(), 2);
        assert_eq!(cut.n_entries(), 10);
        assert!(cut.is_valid(&[2, 2, 8]));
        // a left-out pair is skipped; the parents whose pairs were kept still count
        let broken = [0, 1, 0];
        assert!(cut.score(&broken) > cut.score(&[0, 0, 0]) + 5.0);
        let none = PairwiseNll::fit_within(&t, &[2, 2, 8], 0);
        assert_eq!(none.n_entries(), 0);
        let indep = IndepNll::fit(&t, &[2, 2, 8]);
        assert!((none.score(&broken) - indep.score(&broken)).abs() < 1e-9);
        // a foreign table layout is refused
        assert!(!full.is_valid(&[2, 2, 9]));
    }
}
