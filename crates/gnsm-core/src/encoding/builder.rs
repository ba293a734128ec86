//! Reading a table once into an `Encoder` and its coded rows (`TableBuilder`, with reservoir
//! replacement), the `CodedTable` it produces, and the check that there is something to learn.

use super::{parse_number, ColumnVocab, Encoder, NumericColumn, UNSEEN};
use crate::error::{Error, Result};
use std::collections::HashMap;

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
