//! Vocabulary per column and the one-hot "logit" encoding of the method (section 1).
//!
//! Policy for values never seen in training (documented in the README): an unseen value encodes as
//! an all-inactive block (every logit at `LOG_EPS`), which after normalisation is the uniform
//! distribution over the column's categories. No training row ever looks like that, so the score
//! network's norms move away from the inlier profile, and the frequency features of the density head
//! give the value the probability mass of an unseen category (`1 / (n + K + 1)`): an unseen value
//! always pushes a row towards anomalous. NULL is an ordinary category (seen or not).
//!
//! Numeric columns (method section 1) are z-scored with the training mean and standard deviation
//! and come first in the model's column order and in the input vector:
//! `x = [z_1 .. z_p | l_1 (K_1) | ... | l_m (K_m)]`. A row is held as one `u32` cell per column:
//! the category code for a categorical column, the bits of the `f32` z-score for a numeric one
//! (`NUMERIC_MISSING` for NULL and NaN), so rows stay small, hashable and comparable. Policy for a
//! missing numeric value: the network sees the training mean (z = 0) and the frequency model
//! charges the column's smoothed NULL rate, so a NULL is unremarkable in a column that had NULLs
//! in training and anomalous in one that never did. Infinite values are kept as infinite z-scores
//! (the network sees them clamped at `Z_CLAMP`, the frequency model at `Z_CAP`).

use crate::error::{Error, Result};
use crate::stats::nearest_rank;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// log(1e-5): the logit of an inactive class after `log(clip(onehot, 1e-5, 1))`.
pub const LOG_EPS: f32 = -11.512_925;

/// Code of a value that is not in the column's vocabulary.
pub const UNSEEN: u32 = u32::MAX;

/// Default cap on distinct values per column; above it training fails naming the column.
pub const DEFAULT_MAX_CATEGORIES: usize = 1000;

/// Cell of a numeric column whose value is NULL or NaN: the canonical quiet-NaN bits.
pub const NUMERIC_MISSING: u32 = 0x7FC0_0000;

/// Largest |z| the network sees: training z-scores beyond it are rare (Chebyshev: < 0.25% of any
/// column), and clamping keeps an absurd value (1e300) from saturating every activation.
pub const Z_CLAMP: f32 = 20.0;

/// Largest |z| the frequency model charges for: beyond a million standard deviations every value
/// scores alike (keeps 0.5 z^2 finite for infinite inputs).
pub const Z_CAP: f64 = 1e6;

/// Training quantiles kept per numeric column: the values explanations try in place of a
/// row's value.
pub const EXPLAIN_QUANTILES: [f64; 9] = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99];

/// Training statistics of one numeric column: its z-scoring, NULL rate and a few quantiles.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NumericColumn {
    /// Column name as the user wrote it.
    pub name: String,
    /// Mean of the finite training values (0 when there are none).
    pub mean: f64,
    /// Standard deviation of the finite training values, floored (see `NumericColumn::fit`).
    pub std: f64,
    /// Training rows with a value (finite or infinite).
    pub present: u64,
    /// Training rows with NULL or NaN.
    pub missing: u64,
    /// Nearest-rank training values at `EXPLAIN_QUANTILES`, deduplicated (empty without values).
    pub quantiles: Vec<f64>,
}

/// Parses a numeric column's text (as Postgres prints float4/float8/numeric/integers, or any
/// Rust float syntax, surrounding spaces allowed); NaN comes back as NaN.
pub fn parse_number(column: &str, text: &str) -> Result<f64> {
    text.trim().parse::<f64>().map_err(|_| {
        let shown: String = text.chars().take(40).collect();
        Error::BadNumber { column: column.to_string(), value: shown }
    })
}

impl NumericColumn {
    /// Statistics of raw values (NaN = missing). The spread is floored so that a constant column
    /// still has a scale: 0.1% of the value's magnitude (at least 0.001), so 5.0 against a
    /// constant 5.0 is z = 0 and 6.0 is z = 200.
    pub fn fit(name: &str, values: impl Iterator<Item = f64>) -> NumericColumn {
        let (mut present, mut missing) = (0u64, 0u64);
        let mut finite: Vec<f64> = Vec::new();
        for v in values {
            if v.is_nan() {
                missing += 1;
            } else {
                present += 1;
                if v.is_finite() {
                    finite.push(v);
                }
            }
        }
        // moments of x / max|x|, scaled back: sums of values near 1e308 would overflow
        let scale = finite.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(f64::MIN_POSITIVE);
        let n = finite.len().max(1) as f64;
        let mean_s = finite.iter().map(|x| x / scale).sum::<f64>() / n;
        let var_s = finite.iter().map(|x| (x / scale - mean_s) * (x / scale - mean_s)).sum::<f64>() / n;
        let mean = mean_s * scale;
        let spread = (var_s.sqrt() * scale).min(f64::MAX);
        let floor = mean.abs().max(1.0) * 1e-3;
        let std = if spread > floor { spread } else { floor };
        finite.sort_by(f64::total_cmp);
        let mut quantiles: Vec<f64> = if finite.is_empty() {
            Vec::new()
        } else {
            EXPLAIN_QUANTILES.iter().map(|&q| nearest_rank(&finite, q)).collect()
        };
        quantiles.dedup();
        NumericColumn { name: name.to_string(), mean, std, present, missing, quantiles }
    }

    /// The cell of a raw value (NaN = missing).
    pub fn cell_of(&self, value: f64) -> u32 {
        if value.is_nan() {
            return NUMERIC_MISSING;
        }
        // an f64 beyond the f32 range becomes an infinite z, which is what it is for the model
        let z = ((value - self.mean) / self.std) as f32;
        z.to_bits()
    }

    /// The cell of a value as text (None = NULL).
    pub fn cell(&self, value: Option<&str>) -> Result<u32> {
        match value {
            None => Ok(NUMERIC_MISSING),
            Some(t) => Ok(self.cell_of(parse_number(&self.name, t)?)),
        }
    }

    /// The z-score in a cell, None when missing.
    pub fn z(cell: u32) -> Option<f32> {
        let z = f32::from_bits(cell);
        (!z.is_nan()).then_some(z)
    }

    /// What the network sees for a cell: the clamped z-score, 0 (the mean) when missing.
    pub fn net_input(cell: u32) -> f32 {
        NumericColumn::z(cell).map_or(0.0, |z| z.clamp(-Z_CLAMP, Z_CLAMP))
    }

    /// Negative log-likelihood of a cell under the column's independent model: a smoothed NULL
    /// rate `(missing + 1) / (n + 2)`, and for a value a standard normal on its z-score.
    pub fn nll(&self, cell: u32) -> f64 {
        let n = (self.present + self.missing) as f64;
        let p_missing = (self.missing as f64 + 1.0) / (n + 2.0);
        match NumericColumn::z(cell) {
            None => -p_missing.ln(),
            Some(z) => {
                let z = (z as f64).abs().min(Z_CAP);
                -(1.0 - p_missing).ln() + 0.5 * z * z + 0.5 * (2.0 * std::f64::consts::PI).ln()
            }
        }
    }

    /// The raw value a cell stands for (approximate: z-scores are kept in f32).
    pub fn value_of(&self, cell: u32) -> Option<f64> {
        NumericColumn::z(cell).map(|z| self.mean + z as f64 * self.std)
    }
}

/// `v` rounded to the shortest decimal that identifies its f32 (values outside the f32 range
/// are kept).
fn f32_digits(v: f64) -> f64 {
    let f = v as f32;
    if f.is_finite() {
        format!("{f}").parse().unwrap_or(v)
    } else {
        v
    }
}

/// A number as explanations show it: shortest round-trip digits, exponent form when very large
/// or very small (Rust's plain form would print 1e300 as 301 digits).
pub fn format_number(v: f64) -> String {
    if v == 0.0 || (1e-4..1e15).contains(&v.abs()) || !v.is_finite() {
        match v {
            f64::INFINITY => "Infinity".into(),
            f64::NEG_INFINITY => "-Infinity".into(),
            _ => format!("{v}"),
        }
    } else {
        format!("{v:e}")
    }
}

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

/// Rows as cells, row-major (`n_rows x n_cols`): numeric cells first, then category codes.
#[derive(Debug, Clone, PartialEq)]
pub struct CodedTable {
    pub n_rows: usize,
    pub n_cols: usize,
    pub codes: Vec<u32>,
}

impl CodedTable {
    /// The cells of row `i`.
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
/// `numeric_varies` says, per numeric column, whether its training values differ.
fn check_learnable(encoder: &Encoder, numeric_varies: &[bool], n: usize) -> Result<()> {
    if !encoder.columns.iter().all(|c| c.len() == 1) || numeric_varies.iter().any(|&v| v) {
        return Ok(());
    }
    let reason = if n == 1 {
        "only one training row, so there is no distribution to learn".to_string()
    } else {
        "every training row is identical, so there is no distribution to learn".to_string()
    };
    Err(Error::InsufficientData { reason })
}

/// Maps raw rows to cells and cells to the network's input vector. Model column order: the
/// numeric columns, then the categorical ones.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Encoder {
    /// The categorical columns' vocabularies, in model order.
    pub columns: Vec<ColumnVocab>,
    /// The numeric columns, in model order (they precede the categorical ones).
    pub numeric: Vec<NumericColumn>,
}

impl Encoder {
    /// Learns one vocabulary per column from training rows (all categorical); fails on an empty
    /// table, a column over `max_categories`, or a table whose rows are all identical.
    pub fn fit<S: AsRef<str>>(names: &[String], rows: &[Vec<Option<S>>], max_categories: usize) -> Result<Encoder> {
        let mut builder = TableBuilder::new(names.to_vec(), max_categories);
        for row in rows {
            let r: Vec<Option<&str>> = row.iter().map(|v| v.as_ref().map(|s| s.as_ref())).collect();
            builder.push_row(&r)?;
        }
        Ok(builder.finish()?.0)
    }

    /// Restores lookup maps after deserialisation.
    pub fn rebuild_indexes(&mut self) {
        for c in &mut self.columns {
            c.rebuild_index();
        }
    }

    /// Number of numeric columns (they come first).
    pub fn n_num(&self) -> usize {
        self.numeric.len()
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.numeric.len() + self.columns.len()
    }

    /// Category count K_j of each categorical column.
    pub fn block_sizes(&self) -> Vec<usize> {
        self.columns.iter().map(ColumnVocab::len).collect()
    }

    /// Width D of the network input (numeric columns + sum of K_j).
    pub fn input_dim(&self) -> usize {
        self.numeric.len() + self.columns.iter().map(ColumnVocab::len).sum::<usize>()
    }

    /// Column names in model order.
    pub fn names(&self) -> Vec<String> {
        self.numeric.iter().map(|c| c.name.clone()).chain(self.columns.iter().map(|c| c.name.clone())).collect()
    }

    /// Cell of value `value` (None = NULL) in model column `j`: a category code (`UNSEEN` when not
    /// in the vocabulary) or a numeric cell; fails only on text that is not a number.
    pub fn cell(&self, j: usize, value: Option<&str>) -> Result<u32> {
        match self.numeric.get(j) {
            Some(col) => col.cell(value),
            None => Ok(self.columns[j - self.numeric.len()].code(value)),
        }
    }

    /// Human-readable value of a cell of column `j` (`NULL`, `<unseen>`, or the number).
    pub fn display(&self, j: usize, cell: u32) -> String {
        match self.numeric.get(j) {
            // cells keep z in f32: show the value at f32 precision (37, not 37.00000190734863)
            Some(col) => col.value_of(cell).map_or_else(|| "NULL".to_string(), |v| format_number(f32_digits(v))),
            None => self.columns[j - self.numeric.len()].display(cell),
        }
    }

    /// Cells of one row given as values in model column order.
    pub fn encode_row<S: AsRef<str>>(&self, row: &[Option<S>]) -> Result<Vec<u32>> {
        if row.len() != self.n_cols() {
            return Err(Error::RowMismatch { reason: format!("{} values given, the model has {} columns", row.len(), self.n_cols()) });
        }
        row.iter().enumerate().map(|(j, v)| self.cell(j, v.as_ref().map(|s| s.as_ref()))).collect()
    }

    /// Encodes many rows into a `CodedTable`.
    pub fn encode_rows<S: AsRef<str>>(&self, rows: &[Vec<Option<S>>]) -> Result<CodedTable> {
        let mut codes = Vec::with_capacity(rows.len() * self.n_cols());
        for row in rows {
            codes.extend(self.encode_row(row)?);
        }
        Ok(CodedTable { n_rows: rows.len(), n_cols: self.n_cols(), codes })
    }

    /// Writes the clean input vector of a row into `out` (length D): the numeric columns' clamped
    /// z-scores (0 when missing), then the logits `l` scaled by `scale`: 0 for the active class,
    /// `scale * LOG_EPS` elsewhere; an UNSEEN code leaves the whole block inactive.
    pub fn input_into(&self, cells: &[u32], scale: f32, out: &mut [f32]) {
        let p = self.numeric.len();
        for (o, &c) in out[..p].iter_mut().zip(cells) {
            *o = NumericColumn::net_input(c);
        }
        out[p..].fill(scale * LOG_EPS);
        let mut offset = p;
        for (c, &code) in self.columns.iter().zip(&cells[p..]) {
            if (code as usize) < c.len() {
                out[offset + code as usize] = 0.0;
            }
            offset += c.len();
        }
    }

    /// Sum of the numeric columns' independent negative log-likelihoods (see `NumericColumn::nll`).
    pub fn numeric_nll(&self, cells: &[u32]) -> f64 {
        self.numeric.iter().zip(cells).map(|(c, &cell)| c.nll(cell)).sum()
    }
}

/// Builds an `Encoder` and the coded rows while reading a table once: categorical values are
/// interned per column as they arrive, so memory holds 4 bytes per categorical cell (8 per numeric
/// one) plus each distinct value once. Rows can be overwritten (reservoir sampling); vocabularies,
/// counts and numeric statistics come from the rows kept.
#[derive(Debug, Clone)]
pub struct TableBuilder {
    names: Vec<String>,
    /// The first `n_num` columns are numeric.
    n_num: usize,
    max_categories: usize,
    dicts: Vec<HashMap<Option<String>, u32>>,
    values: Vec<Vec<Option<String>>>,
    /// Categorical codes, `rows x (columns - n_num)`.
    codes: Vec<u32>,
    /// Raw numeric values, `rows x n_num` (NaN = missing).
    nums: Vec<f64>,
    rows: usize,
}

impl TableBuilder {
    /// An empty builder for the given categorical columns.
    pub fn new(names: Vec<String>, max_categories: usize) -> TableBuilder {
        TableBuilder::with_numeric(names, 0, max_categories)
    }

    /// An empty builder whose first `n_num` columns are numeric (the model's column order).
    pub fn with_numeric(names: Vec<String>, n_num: usize, max_categories: usize) -> TableBuilder {
        let n_num = n_num.min(names.len());
        let m = names.len() - n_num;
        TableBuilder {
            names,
            n_num,
            max_categories,
            dicts: vec![HashMap::new(); m],
            values: vec![Vec::new(); m],
            codes: Vec::new(),
            nums: Vec::new(),
            rows: 0,
        }
    }

    /// Number of rows held.
    pub fn n_rows(&self) -> usize {
        self.rows
    }

    /// Parses and interns one row's values; fails on a number that does not parse, or as soon as
    /// a column exceeds the category cap.
    fn intern(&mut self, row: &[Option<&str>]) -> Result<(Vec<f64>, Vec<u32>)> {
        if row.len() != self.names.len() {
            return Err(Error::RowMismatch { reason: format!("{} values given, expected {}", row.len(), self.names.len()) });
        }
        let nums = row[..self.n_num]
            .iter()
            .zip(&self.names)
            .map(|(v, name)| v.map_or(Ok(f64::NAN), |t| parse_number(name, t)))
            .collect::<Result<Vec<f64>>>()?;
        let mut out = Vec::with_capacity(row.len() - self.n_num);
        for (j, v) in row[self.n_num..].iter().enumerate() {
            let key = v.map(str::to_string);
            let next = self.dicts[j].len() as u32;
            let code = *self.dicts[j].entry(key.clone()).or_insert(next);
            if code == next {
                if self.values[j].len() >= self.max_categories {
                    return Err(Error::TooManyCategories {
                        column: self.names[self.n_num + j].clone(),
                        distinct: self.values[j].len() + 1,
                        cap: self.max_categories,
                    });
                }
                self.values[j].push(key);
            }
            out.push(code);
        }
        Ok((nums, out))
    }

    /// Appends a row (values in model column order).
    pub fn push_row(&mut self, row: &[Option<&str>]) -> Result<()> {
        let (nums, codes) = self.intern(row)?;
        self.nums.extend(nums);
        self.codes.extend(codes);
        self.rows += 1;
        Ok(())
    }

    /// Overwrites row `i` (reservoir sampling).
    pub fn replace_row(&mut self, i: usize, row: &[Option<&str>]) -> Result<()> {
        let (nums, codes) = self.intern(row)?;
        let (p, m) = (self.n_num, self.names.len() - self.n_num);
        self.nums[i * p..(i + 1) * p].copy_from_slice(&nums);
        self.codes[i * m..(i + 1) * m].copy_from_slice(&codes);
        Ok(())
    }

    /// Counts the kept rows, orders each vocabulary by count, fits the numeric statistics and
    /// writes the cells.
    pub fn finish(self) -> Result<(Encoder, CodedTable)> {
        let (p, total) = (self.n_num, self.names.len());
        let m = total - p;
        if total == 0 {
            return Err(Error::InsufficientData { reason: "no columns to model".into() });
        }
        let n = self.rows;
        if n == 0 {
            return Err(Error::InsufficientData { reason: "the table has no rows".into() });
        }
        let mut counts: Vec<Vec<u64>> = self.values.iter().map(|v| vec![0u64; v.len()]).collect();
        if m > 0 {
            for row in self.codes.chunks_exact(m) {
                for (j, &c) in row.iter().enumerate() {
                    counts[j][c as usize] += 1;
                }
            }
        }
        let mut columns = Vec::with_capacity(m);
        for ((name, values), cnt) in self.names[p..].iter().zip(self.values).zip(counts) {
            // values only seen in evicted rows have count 0 and are dropped
            let pairs: Vec<(Option<String>, u64)> = values.into_iter().zip(cnt).filter(|p| p.1 > 0).collect();
            columns.push(ColumnVocab::from_counts(name, pairs));
        }
        // old code -> new code through the value
        let maps: Vec<Vec<u32>> = self
            .dicts
            .iter()
            .zip(&columns)
            .map(|(d, vocab)| {
                let mut map = vec![UNSEEN; d.len()];
                for (k, &c) in d {
                    map[c as usize] = vocab.code(k.as_deref());
                }
                map
            })
            .collect();
        let column_values = |j: usize| self.nums.iter().skip(j).step_by(p).copied();
        let numeric: Vec<NumericColumn> = (0..p).map(|j| NumericColumn::fit(&self.names[j], column_values(j))).collect();
        // a numeric column varies when its values differ or NULLs mix with values
        let numeric_varies: Vec<bool> = (0..p)
            .map(|j| {
                let (mut lo, mut hi, mut nan) = (f64::INFINITY, f64::NEG_INFINITY, false);
                for v in column_values(j) {
                    if v.is_nan() {
                        nan = true;
                    } else {
                        lo = lo.min(v);
                        hi = hi.max(v);
                    }
                }
                lo < hi || (nan && lo <= hi)
            })
            .collect();
        let mut codes = Vec::with_capacity(n * total);
        for i in 0..n {
            for (col, &v) in numeric.iter().zip(&self.nums[i * p..(i + 1) * p]) {
                codes.push(col.cell_of(v));
            }
            for (j, &c) in self.codes[i * m..(i + 1) * m].iter().enumerate() {
                codes.push(maps[j][c as usize]);
            }
        }
        let encoder = Encoder { columns, numeric };
        check_learnable(&encoder, &numeric_varies, n)?;
        Ok((encoder, CodedTable { n_rows: n, n_cols: total, codes }))
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
        enc.input_into(&codes, 1.0, &mut l);
        assert_eq!(l.iter().filter(|&&v| v == 0.0).count(), 1);
        assert!(l[2..].iter().all(|&v| v == LOG_EPS));
    }

    #[test]
    fn test_category_cap_names_the_column() {
        let rows: Vec<Vec<Option<String>>> = (0..20).map(|i| vec![Some(i.to_string())]).collect();
        let err = Encoder::fit(&names(&["id"]), &rows, 10).unwrap_err();
        assert_eq!(err, Error::TooManyCategories { column: "id".into(), distinct: 11, cap: 10 });
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

    /// A builder with numeric column "x" then categorical column "c".
    fn mixed(rows: &[(Option<&str>, &str)]) -> Result<(Encoder, CodedTable)> {
        let mut b = TableBuilder::with_numeric(names(&["x", "c"]), 1, 10);
        for (x, c) in rows {
            b.push_row(&[*x, Some(c)])?;
        }
        b.finish()
    }

    #[test]
    fn test_numeric_columns_are_z_scored_and_come_first() {
        let (enc, t) = mixed(&[(Some("1"), "a"), (Some("3"), "b"), (None, "a"), (Some("NaN"), "b")]).unwrap();
        assert_eq!(enc.names(), vec!["x", "c"]);
        assert_eq!((enc.n_num(), enc.n_cols(), enc.input_dim()), (1, 2, 3));
        let x = &enc.numeric[0];
        assert_eq!((x.mean, x.std, x.present, x.missing), (2.0, 1.0, 2, 2));
        assert_eq!(NumericColumn::z(t.row(0)[0]), Some(-1.0));
        assert_eq!(NumericColumn::z(t.row(1)[0]), Some(1.0));
        assert_eq!((t.row(2)[0], t.row(3)[0]), (NUMERIC_MISSING, NUMERIC_MISSING));
        let cells = enc.encode_row(&[Some(" 12.5 "), Some("b")]).unwrap();
        assert_eq!(NumericColumn::z(cells[0]), Some(10.5));
        let mut input = vec![0.0; 3];
        enc.input_into(&cells, 1.0, &mut input);
        assert_eq!(input[0], 10.5);
        // clamped for the network, charged in full by the frequency model
        let far = enc.encode_row(&[Some("1e300"), Some("a")]).unwrap();
        enc.input_into(&far, 1.0, &mut input);
        assert_eq!(input[0], Z_CLAMP);
        assert!(enc.numeric_nll(&far).is_finite() && enc.numeric_nll(&far) > enc.numeric_nll(&cells));
        assert_eq!(enc.display(0, t.row(1)[0]), "3");
        assert_eq!(enc.display(0, NUMERIC_MISSING), "NULL");
        assert!(matches!(enc.encode_row(&[Some("abc"), Some("a")]), Err(Error::BadNumber { .. })));
    }

    #[test]
    fn test_numeric_nll_policy() {
        let col = NumericColumn::fit("x", [1.0, 2.0, 3.0, f64::NAN].into_iter());
        let never_null = NumericColumn::fit("y", [1.0, 2.0, 3.0, 4.0].into_iter());
        // a NULL costs less where NULLs were seen in training
        assert!(col.nll(NUMERIC_MISSING) < never_null.nll(NUMERIC_MISSING));
        // further from the mean costs more; infinity is finite and the most expensive
        let (near, far) = (col.nll(col.cell_of(2.1)), col.nll(col.cell_of(9.0)));
        assert!(near < far && far < col.nll(col.cell_of(f64::INFINITY)));
        assert!(col.nll(col.cell_of(f64::NEG_INFINITY)).is_finite());
        assert_eq!(col.quantiles, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn test_numeric_statistics_survive_huge_values() {
        let col = NumericColumn::fit("x", [1e308, -1e308, 1.7e308].into_iter());
        assert!(col.mean.is_finite() && col.std.is_finite() && col.std > 0.0, "{col:?}");
        for v in [1e308, -1e308, 0.0, f64::INFINITY] {
            let z = NumericColumn::z(col.cell_of(v)).unwrap();
            assert!(!z.is_nan() && col.nll(col.cell_of(v)).is_finite());
        }
    }

    #[test]
    fn test_constant_numeric_column_has_a_floored_scale() {
        let col = NumericColumn::fit("x", [5.0; 10].into_iter());
        assert_eq!(col.std, 5.0 * 1e-3);
        assert_eq!(NumericColumn::z(col.cell_of(6.0)), Some(200.0));
        // rows identical in every column are refused, a varying numeric column makes them learnable
        assert!(matches!(mixed(&[(Some("1"), "a"), (Some("1"), "a")]), Err(Error::InsufficientData { .. })));
        assert!(mixed(&[(Some("1"), "a"), (Some("2"), "a")]).is_ok());
        assert!(mixed(&[(Some("1"), "a"), (None, "a")]).is_ok());
    }

    #[test]
    fn test_numeric_only_builder_and_reservoir_replace() {
        let mut b = TableBuilder::with_numeric(names(&["x"]), 1, 10);
        for v in ["1", "2", "100"] {
            b.push_row(&[Some(v)]).unwrap();
        }
        b.replace_row(2, &[Some("3")]).unwrap();
        let (enc, t) = b.finish().unwrap();
        assert_eq!((t.n_rows, t.n_cols, enc.input_dim()), (3, 1, 1));
        assert_eq!(enc.numeric[0].mean, 2.0);
    }

    #[test]
    fn test_format_number() {
        assert_eq!(format_number(37.0), "37");
        assert_eq!(format_number(0.1), "0.1");
        assert_eq!(format_number(1e300), "1e300");
        assert_eq!(format_number(-2.5e-7), "-2.5e-7");
        assert_eq!(format_number(f64::NEG_INFINITY), "-Infinity");
    }
}
