//! The fitted `Encoder`: model column order (numeric first), raw values to cells, cells to the
//! network's input vector, and the numeric columns' independent NLL.

use super::numeric::f32_digits;
use super::{format_number, CodedTable, ColumnVocab, NumericColumn, TableBuilder, LOG_EPS};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

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
