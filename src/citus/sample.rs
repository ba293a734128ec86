//! Training on a distributed table reads a sample on the workers. A plain read would pull every
//! row through the coordinator to keep `gnsm.max_train_rows` of them; instead each shard keeps
//! each row with probability p (a `random() < p` filter Citus pushes down to the shard queries),
//! and the coordinator's reservoir then samples the survivors uniformly. A row is kept with the
//! same probability wherever it lives, so the sample stays uniform.

use super::node;
use crate::catalog::first_value;
use pgrx::prelude::*;

/// How a training read selects its rows: the whole relation, or on a distributed Citus table
/// larger than the sample, a shard-side filter sized for the table's row count.
pub struct TrainingRead {
    /// The WHERE clause the shards run, and the table's row count it was sized for.
    filter: Option<(String, u64)>,
}

impl TrainingRead {
    /// Plans the read of `relid` (`display` is its quoted name) for a sample of `max_rows`.
    pub fn plan(relid: pg_sys::Oid, display: &str, max_rows: usize) -> TrainingRead {
        TrainingRead { filter: shard_filter(relid, display, max_rows) }
    }

    /// The SELECT of `columns` (quoted) from `display` that the read runs.
    pub fn select(&self, columns: &[String], display: &str) -> String {
        let filter = self.filter.as_ref().map_or("", |(f, _)| f.as_str());
        format!("SELECT {} FROM {display} {filter}", columns.join(", "))
    }

    /// The relation's row count and whether the model saw a sample, from the `counted` rows the
    /// read returned and the `offered` ones the reservoir was offered (with a shard filter both
    /// are already a sample of a larger table).
    pub fn totals(&self, counted: u64, offered: u64, max_rows: usize) -> (u64, bool) {
        match self.filter {
            Some((_, table_rows)) => (table_rows, true),
            None => (counted, offered as usize > max_rows),
        }
    }
}

/// The WHERE clause a training read of `relid` adds, and the table's row count it was sized for;
/// None when the table is not a distributed Citus table or is small enough to read whole.
fn shard_filter(relid: pg_sys::Oid, display: &str, max_rows: usize) -> Option<(String, u64)> {
    if !node::is_citus_table(relid) {
        return None;
    }
    // one distributed count(*): each worker counts its shards and sends back a number
    let total = first_value::<i64>(&format!("SELECT count(*) FROM {display}"), &[], "counting the rows of a distributed table")
        .unwrap_or(0)
        .max(0) as u64;
    keep_probability(total, max_rows).map(|p| (format!("WHERE pg_catalog.random() < {p:.17e}"), total))
}

/// The probability of keeping a row so that the kept rows number at least `max_rows` except with
/// negligible chance: the expected count plus five standard deviations and 64 rows of margin
/// (so a short sample has probability below 3e-7). None when every row is needed anyway.
pub fn keep_probability(total: u64, max_rows: usize) -> Option<f64> {
    let n = max_rows as f64;
    let want = n + 5.0 * n.sqrt() + 64.0;
    if total == 0 || want >= total as f64 {
        return None;
    }
    Some(want / total as f64)
}

#[cfg(test)]
mod tests {
    use super::keep_probability;

    #[test]
    fn small_tables_are_read_whole() {
        assert_eq!(keep_probability(1000, 1000), None);
        assert_eq!(keep_probability(1100, 1000), None);
        assert_eq!(keep_probability(0, 1000), None);
    }

    #[test]
    fn large_tables_keep_a_little_more_than_the_sample() {
        let p = keep_probability(1_000_000, 100_000).expect("a sample");
        let expected = p * 1e6;
        assert!(expected > 100_000.0 + 5.0 * (100_000f64).sqrt() && expected < 102_000.0, "{expected}");
    }
}
