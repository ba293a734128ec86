//! Warm scores: the exact scores of a model's training rows (the most repeated first), computed
//! once when the model is trained and stored with it (format 7). A backend that loads the model fills its score
//! memo from them, so it does not pay the network passes of the common rows again. This matters
//! most on Citus, where every shard task may run in a backend of its own: on a 200,000-row table
//! of 876 distinct rows in 32 shards, the shards hold 13,136 distinct rows between them, so cold
//! memos cost 15 times the passes of one node (ADR 013).

use super::Model;
use crate::encoding::CodedTable;
use crate::error::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Rows stored at most: 4,096 rows of 50 columns are 0.8 MB, next to a model of 1-4 MB.
pub const MAX_WARM_ROWS: usize = 4096;
/// Rows scored between two checks of the interrupt hook and the time budget.
const CHUNK: usize = 128;

/// Coded rows and their scores, most frequent training row first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WarmScores {
    /// Cells per row.
    pub width: u32,
    /// The rows' codes, `width` per row.
    pub codes: Vec<u32>,
    pub scores: Vec<f64>,
}

impl WarmScores {
    /// The stored rows with their scores.
    pub fn iter(&self) -> impl Iterator<Item = (&[u32], f64)> {
        self.codes.chunks_exact(self.width.max(1) as usize).zip(self.scores.iter().copied())
    }

    /// Rows stored.
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// Whether no row is stored.
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// Whether the rows fit a model with `width` cells a row (and pass `check` each).
    pub fn is_valid(&self, width: usize, check: impl Fn(&[u32]) -> bool) -> bool {
        if self.is_empty() {
            return self.codes.is_empty();
        }
        self.width as usize == width && self.codes.len() == width * self.scores.len() && self.iter().all(|(r, _)| check(r))
    }
}

/// The training rows to store, most frequent first, ties (rows seen once among them) in order of
/// first appearance, at most `MAX_WARM_ROWS`. Rows seen once are stored too, after the repeated
/// ones: a backend that meets one it has no score for must read and decode the network weights
/// (about 10 ms in a new backend, ADR 015) before its one pass, and under Citus each shard task's
/// backend meets a few; on a table of up to 4,096 distinct rows, scoring the training table then
/// never needs the weights.
pub fn rows_to_store(table: &CodedTable) -> Vec<(&[u32], usize)> {
    let mut counts: HashMap<&[u32], (usize, usize)> = HashMap::new();
    for i in 0..table.n_rows {
        let e = counts.entry(table.row(i)).or_insert((0, i));
        e.0 += 1;
    }
    let mut rows: Vec<(&[u32], usize, usize)> = counts.into_iter().map(|(r, (n, first))| (r, n, first)).collect();
    rows.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    rows.truncate(MAX_WARM_ROWS);
    rows.into_iter().map(|(r, n, _)| (r, n)).collect()
}

impl Model {
    /// Scores the training rows of `table` (`rows_to_store`) with `score_codes`, the very path a
    /// backend takes for a row it has not seen (so a stored score equals a computed one bit for
    /// bit), in parallel on `pool`. Stops at `budget` (the rows seen once already at
    /// `once_budget`, when that is shorter) or when `interrupt` says so, keeping the rows done
    /// (the most frequent). A model with the fast scorer stores none: its rows cost microseconds.
    pub fn warm_up(
        &self,
        table: &CodedTable,
        pool: &rayon::ThreadPool,
        budget: Duration,
        once_budget: Duration,
        interrupt: &mut dyn FnMut() -> bool,
    ) -> Result<WarmScores> {
        let width = self.features.encoder.n_cols();
        let mut warm = WarmScores { width: width as u32, codes: Vec::new(), scores: Vec::new() };
        if self.fast.is_some() || table.n_cols != width {
            return Ok(warm);
        }
        let start = Instant::now();
        let rows = rows_to_store(table);
        // most frequent first: the repeated rows, then the rows seen once, each with its budget
        let split = rows.partition_point(|&(_, n)| n >= 2);
        let mut last_chunk = Duration::ZERO;
        for (part, limit) in [(&rows[..split], budget), (&rows[split..], budget.min(once_budget))] {
            for chunk in part.chunks(CHUNK) {
                if interrupt() {
                    return Err(Error::Interrupted);
                }
                // a chunk that would end past the limit is not started (the last one took as long)
                if start.elapsed() + last_chunk > limit {
                    break;
                }
                let chunk_start = Instant::now();
                let scores: Vec<f64> = pool.install(|| chunk.par_iter().map(|&(r, _)| self.score_codes(r)).collect::<Result<Vec<f64>>>())?;
                for (&(r, _), s) in chunk.iter().zip(scores) {
                    warm.codes.extend_from_slice(r);
                    warm.scores.push(s);
                }
                last_chunk = chunk_start.elapsed();
            }
        }
        Ok(warm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::TableBuilder;

    fn table(rows: &[[&str; 2]]) -> CodedTable {
        let mut b = TableBuilder::new(vec!["a".into(), "b".into()], 100);
        for r in rows {
            b.push_row(&[Some(r[0]), Some(r[1])]).unwrap();
        }
        b.finish().unwrap().1
    }

    #[test]
    fn most_frequent_rows_first_then_rows_seen_once() {
        let t = table(&[["w", "0"], ["x", "1"], ["y", "2"], ["y", "2"], ["z", "3"], ["x", "1"], ["y", "2"]]);
        let rows = rows_to_store(&t);
        assert_eq!(rows.len(), 4, "every distinct row");
        assert_eq!(rows[0], (t.row(2), 3), "y,2 (3 times) first");
        assert_eq!(rows[1], (t.row(1), 2), "x,1 (twice)");
        assert_eq!(rows[2], (t.row(0), 1), "then the rows seen once, in order of appearance");
        assert_eq!(rows[3], (t.row(4), 1));
    }

    #[test]
    fn validity_checks_shape() {
        let w = WarmScores { width: 2, codes: vec![0, 1, 1, 0], scores: vec![1.0, 2.0] };
        assert!(w.is_valid(2, |_| true));
        assert!(!w.is_valid(3, |_| true));
        assert!(!w.is_valid(2, |r| r[0] == 0));
        assert!(WarmScores::default().is_valid(5, |_| false));
        assert_eq!(w.iter().map(|(_, s)| s).sum::<f64>(), 3.0);
    }
}
