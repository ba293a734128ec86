//! Vocabulary per column and the one-hot "logit" encoding of the method (section 1).
//!
//! Policy for values never seen in training (documented in the README): an unseen value encodes as
//! an all-inactive block (every logit at `LOG_EPS`), which after normalisation is the uniform
//! distribution over the column's categories. No training row ever looks like that, so the score
//! network's norms move away from the inlier profile, and the frequency features of the density head
//! give the value the probability mass of an unseen category (`1 / (n + K + 1)`): an unseen value
//! always pushes a row towards anomalous. NULL is an ordinary category (seen or not).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// log(1e-5): the logit of an inactive class after `log(clip(onehot, 1e-5, 1))`.
pub const LOG_EPS: f32 = -11.512_925;

/// Code of a value that is not in the column's vocabulary.
pub const UNSEEN: u32 = u32::MAX;

/// Default cap on distinct values per column; above it training fails naming the column.
pub const DEFAULT_MAX_CATEGORIES: usize = 1000;

/// The vocabulary of one categorical column, with training counts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnVocab {
    /// Column name as the user wrote it.
    pub name: String,
    /// Distinct values in first-seen order sorted by descending count; `None` is SQL NULL.
    pub values: Vec<Option<String>>,
    /// Training-row count of each value, aligned with `values`.
    pub counts: Vec<u64>,
    /// Non-NULL value -> code; probed with `&str`, so scoring allocates nothing.
    #[serde(skip)]
    index: HashMap<String, u32>,
    #[serde(skip)]
    null_code: Option<u32>,
}

impl ColumnVocab {
    /// Builds a vocabulary from (value, count) pairs, most frequent first, ties by value.
    fn from_counts(name: &str, mut pairs: Vec<(Option<String>, u64)>) -> Self {
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let (values, counts): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
        let mut vocab = ColumnVocab { name: name.to_string(), values, counts, index: HashMap::new(), null_code: None };
        vocab.rebuild_index();
        vocab
    }

    /// Rebuilds the lookup map (after deserialisation).
    pub fn rebuild_index(&mut self) {
        self.index = self.values.iter().enumerate().filter_map(|(i, v)| v.clone().map(|s| (s, i as u32))).collect();
        self.null_code = self.values.iter().position(Option::is_none).map(|i| i as u32);
    }

    /// Number of categories K of this column.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the column has no category (never for a fitted encoder).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Code of a value, or `UNSEEN`.
    pub fn code(&self, value: Option<&str>) -> u32 {
        match value {
            Some(v) => *self.index.get(v).unwrap_or(&UNSEEN),
            None => self.null_code.unwrap_or(UNSEEN),
        }
    }

    /// Human-readable value for a code (`NULL` for SQL NULL, `<unseen>` for UNSEEN).
    pub fn display(&self, code: u32) -> String {
        match self.values.get(code as usize) {
            Some(Some(v)) => v.clone(),
            Some(None) => "NULL".to_string(),
            None => "<unseen>".to_string(),
        }
    }
}

/// Rows encoded as category codes, row-major (`n_rows x n_cols`).
#[derive(Debug, Clone, PartialEq)]
pub struct CodedTable {
    pub n_rows: usize,
    pub n_cols: usize,
    pub codes: Vec<u32>,
}

impl CodedTable {
    /// The codes of row `i`.
    pub fn row(&self, i: usize) -> &[u32] {
        &self.codes[i * self.n_cols..(i + 1) * self.n_cols]
    }

    /// A new table holding the given rows, in that order.
    pub fn select(&self, rows: &[usize]) -> CodedTable {
        let mut codes = Vec::with_capacity(rows.len() * self.n_cols);
        for &r in rows {
            codes.extend_from_slice(self.row(r));
        }
        CodedTable { n_rows: rows.len(), n_cols: self.n_cols, codes }
    }
}

/// Refuses a training set of `n` rows with a single distinct row: nothing to learn.
fn check_learnable(encoder: &Encoder, n: usize) -> Result<()> {
    if !encoder.columns.iter().all(|c| c.len() == 1) {
        return Ok(());
    }
    let reason = if n == 1 {
        "only one training row, so there is no distribution to learn".to_string()
    } else {
        "every training row is identical, so there is no distribution to learn".to_string()
    };
    Err(Error::InsufficientData { reason })
}

/// Maps raw rows to codes and codes to the network's input vector.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Encoder {
    pub columns: Vec<ColumnVocab>,
}

impl Encoder {
    /// Learns one vocabulary per column from training rows; fails on an empty table, a column over
    /// `max_categories`, or a table whose rows are all identical (nothing to learn).
    pub fn fit<S: AsRef<str>>(names: &[String], rows: &[Vec<Option<S>>], max_categories: usize) -> Result<Encoder> {
        if names.is_empty() {
            return Err(Error::InsufficientData { reason: "no columns to model".into() });
        }
        if rows.is_empty() {
            return Err(Error::InsufficientData { reason: "the table has no rows".into() });
        }
        let mut counters: Vec<HashMap<Option<&str>, u64>> = vec![HashMap::new(); names.len()];
        for (r, row) in rows.iter().enumerate() {
            if row.len() != names.len() {
                return Err(Error::RowMismatch { reason: format!("row {r} has {} values, expected {}", row.len(), names.len()) });
            }
            for (counter, value) in counters.iter_mut().zip(row) {
                *counter.entry(value.as_ref().map(|s| s.as_ref())).or_insert(0) += 1;
            }
        }
        let mut columns = Vec::with_capacity(names.len());
        for (name, counter) in names.iter().zip(counters) {
            if counter.len() > max_categories {
                return Err(Error::TooManyCategories { column: name.clone(), distinct: counter.len(), cap: max_categories });
            }
            let pairs = counter.into_iter().map(|(v, c)| (v.map(str::to_string), c)).collect();
            columns.push(ColumnVocab::from_counts(name, pairs));
        }
        let encoder = Encoder { columns };
        check_learnable(&encoder, rows.len())?;
        Ok(encoder)
    }

    /// Restores lookup maps after deserialisation.
    pub fn rebuild_indexes(&mut self) {
        for c in &mut self.columns {
            c.rebuild_index();
        }
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.columns.len()
    }

    /// Category count K_j of each column.
    pub fn block_sizes(&self) -> Vec<usize> {
        self.columns.iter().map(ColumnVocab::len).collect()
    }

    /// Width D of the network input (sum of K_j).
    pub fn input_dim(&self) -> usize {
        self.columns.iter().map(ColumnVocab::len).sum()
    }

    /// Column names in model order.
    pub fn names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// Codes of one row given as values in model column order.
    pub fn encode_row<S: AsRef<str>>(&self, row: &[Option<S>]) -> Result<Vec<u32>> {
        if row.len() != self.columns.len() {
            return Err(Error::RowMismatch { reason: format!("{} values given, the model has {} columns", row.len(), self.columns.len()) });
        }
        Ok(self.columns.iter().zip(row).map(|(c, v)| c.code(v.as_ref().map(|s| s.as_ref()))).collect())
    }

    /// Encodes many rows into a `CodedTable`.
    pub fn encode_rows<S: AsRef<str>>(&self, rows: &[Vec<Option<S>>]) -> Result<CodedTable> {
        let mut codes = Vec::with_capacity(rows.len() * self.columns.len());
        for row in rows {
            codes.extend(self.encode_row(row)?);
        }
        Ok(CodedTable { n_rows: rows.len(), n_cols: self.columns.len(), codes })
    }

    /// Writes the clean logit vector `l` of a coded row into `out` (length D): 0 for the active
    /// class, `LOG_EPS` elsewhere; an UNSEEN code leaves the whole block at `LOG_EPS`.
    pub fn logits_into(&self, codes: &[u32], out: &mut [f32]) {
        out.fill(LOG_EPS);
        let mut offset = 0;
        for (c, &code) in self.columns.iter().zip(codes) {
            if (code as usize) < c.len() {
                out[offset + code as usize] = 0.0;
            }
            offset += c.len();
        }
    }
}

/// Builds an `Encoder` and the coded rows while reading a table once: values are interned per
/// column as they arrive, so memory holds 4 bytes per cell plus each distinct value once. Rows
/// can be overwritten (reservoir sampling); vocabularies and counts come from the rows kept.
#[derive(Debug, Clone)]
pub struct TableBuilder {
    names: Vec<String>,
    max_categories: usize,
    dicts: Vec<HashMap<Option<String>, u32>>,
    values: Vec<Vec<Option<String>>>,
    codes: Vec<u32>,
}

impl TableBuilder {
    /// An empty builder for the given columns.
    pub fn new(names: Vec<String>, max_categories: usize) -> TableBuilder {
        let n = names.len();
        TableBuilder { names, max_categories, dicts: vec![HashMap::new(); n], values: vec![Vec::new(); n], codes: Vec::new() }
    }

    /// Number of rows held.
    pub fn n_rows(&self) -> usize {
        self.codes.len() / self.names.len().max(1)
    }

    /// Interns one row's values; fails as soon as a column exceeds the category cap.
    fn intern(&mut self, row: &[Option<&str>]) -> Result<Vec<u32>> {
        if row.len() != self.names.len() {
            return Err(Error::RowMismatch { reason: format!("{} values given, expected {}", row.len(), self.names.len()) });
        }
        let mut out = Vec::with_capacity(row.len());
        for (j, v) in row.iter().enumerate() {
            let key = v.map(str::to_string);
            let next = self.dicts[j].len() as u32;
            let code = *self.dicts[j].entry(key.clone()).or_insert(next);
            if code == next {
                if self.values[j].len() >= self.max_categories {
                    return Err(Error::TooManyCategories {
                        column: self.names[j].clone(),
                        distinct: self.values[j].len() + 1,
                        cap: self.max_categories,
                    });
                }
                self.values[j].push(key);
            }
            out.push(code);
        }
        Ok(out)
    }

    /// Appends a row.
    pub fn push_row(&mut self, row: &[Option<&str>]) -> Result<()> {
        let codes = self.intern(row)?;
        self.codes.extend(codes);
        Ok(())
    }

    /// Overwrites row `i` (reservoir sampling).
    pub fn replace_row(&mut self, i: usize, row: &[Option<&str>]) -> Result<()> {
        let codes = self.intern(row)?;
        let m = self.names.len();
        self.codes[i * m..(i + 1) * m].copy_from_slice(&codes);
        Ok(())
    }

    /// Counts the kept rows, orders each vocabulary by count and recodes the rows to match.
    pub fn finish(self) -> Result<(Encoder, CodedTable)> {
        let m = self.names.len();
        if m == 0 {
            return Err(Error::InsufficientData { reason: "no columns to model".into() });
        }
        let n = self.codes.len() / m;
        if n == 0 {
            return Err(Error::InsufficientData { reason: "the table has no rows".into() });
        }
        let mut counts: Vec<Vec<u64>> = self.values.iter().map(|v| vec![0u64; v.len()]).collect();
        for row in self.codes.chunks_exact(m) {
            for (j, &c) in row.iter().enumerate() {
                counts[j][c as usize] += 1;
            }
        }
        let mut columns = Vec::with_capacity(m);
        for ((name, values), cnt) in self.names.iter().zip(self.values).zip(counts) {
            // values only seen in evicted rows have count 0 and are dropped
            let pairs: Vec<(Option<String>, u64)> = values.into_iter().zip(cnt).filter(|p| p.1 > 0).collect();
            columns.push(ColumnVocab::from_counts(name, pairs));
        }
        // old code -> new code through the value
        let old_values: Vec<Vec<Option<String>>> = self
            .dicts
            .iter()
            .map(|d| {
                let mut v = vec![None; d.len()];
                for (k, &c) in d {
                    v[c as usize] = k.clone();
                }
                v
            })
            .collect();
        let maps: Vec<Vec<u32>> =
            old_values.iter().zip(&columns).map(|(old, vocab)| old.iter().map(|v| vocab.code(v.as_deref())).collect()).collect();
        let mut codes = self.codes;
        for row in codes.chunks_exact_mut(m) {
            for (j, c) in row.iter_mut().enumerate() {
                *c = maps[j][*c as usize];
            }
        }
        let encoder = Encoder { columns };
        check_learnable(&encoder, n)?;
        Ok((encoder, CodedTable { n_rows: n, n_cols: m, codes }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn test_vocab_orders_by_count_and_keeps_null() {
        let rows = vec![vec![Some("a")], vec![Some("b")], vec![Some("b")], vec![None]];
        let enc = Encoder::fit(&names(&["x"]), &rows, 10).unwrap();
        assert_eq!(enc.columns[0].values[0], Some("b".to_string()));
        assert_eq!(enc.columns[0].len(), 3);
        assert_ne!(enc.columns[0].code(None), UNSEEN);
        assert_eq!(enc.columns[0].code(Some("zzz")), UNSEEN);
    }

    #[test]
    fn test_unseen_block_is_all_inactive() {
        let rows = vec![vec![Some("a"), Some("x")], vec![Some("b"), Some("y")]];
        let enc = Encoder::fit(&names(&["p", "q"]), &rows, 10).unwrap();
        let codes = enc.encode_row(&[Some("a"), Some("new")]).unwrap();
        let mut l = vec![0.0; enc.input_dim()];
        enc.logits_into(&codes, &mut l);
        assert_eq!(l.iter().filter(|&&v| v == 0.0).count(), 1);
        assert!(l[2..].iter().all(|&v| v == LOG_EPS));
    }

    #[test]
    fn test_category_cap_names_the_column() {
        let rows: Vec<Vec<Option<String>>> = (0..20).map(|i| vec![Some(i.to_string())]).collect();
        let err = Encoder::fit(&names(&["id"]), &rows, 10).unwrap_err();
        assert_eq!(err, Error::TooManyCategories { column: "id".into(), distinct: 20, cap: 10 });
    }

    #[test]
    fn test_builder_matches_fit_and_drops_evicted_values() {
        let rows = vec![vec![Some("a"), None], vec![Some("b"), Some("y")], vec![Some("b"), Some("y")]];
        let enc = Encoder::fit(&names(&["p", "q"]), &rows, 10).unwrap();
        let mut b = TableBuilder::new(names(&["p", "q"]), 10);
        b.push_row(&[Some("zz"), Some("gone")]).unwrap();
        for r in &rows[1..] {
            b.push_row(r).unwrap();
        }
        b.replace_row(0, &rows[0]).unwrap();
        let (enc2, table) = b.finish().unwrap();
        assert_eq!(enc2, enc);
        assert_eq!(table, enc.encode_rows(&rows).unwrap());
    }

    #[test]
    fn test_builder_stops_at_the_category_cap() {
        let mut b = TableBuilder::new(names(&["id"]), 3);
        for i in 0..3 {
            b.push_row(&[Some(&i.to_string())]).unwrap();
        }
        assert!(matches!(b.push_row(&[Some("x")]), Err(Error::TooManyCategories { distinct: 4, cap: 3, .. })));
    }

    #[test]
    fn test_identical_rows_are_refused() {
        let rows = vec![vec![Some("a")], vec![Some("a")]];
        assert!(matches!(Encoder::fit(&names(&["x"]), &rows, 10), Err(Error::InsufficientData { .. })));
    }
}
