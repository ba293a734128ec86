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
//!
//! Files: `vocab` (one categorical column's vocabulary), `numeric` (one numeric column's
//! statistics, number parsing and printing), `encoder` (the fitted `Encoder`: raw values to cells,
//! cells to network input), `builder` (`TableBuilder`: one pass over a table to an `Encoder` and a
//! `CodedTable`).

mod builder;
mod encoder;
mod numeric;
mod vocab;
#[cfg(test)]
mod tests;

pub use builder::{CodedTable, TableBuilder};
pub use encoder::Encoder;
pub use numeric::{format_number, parse_number, NumericColumn, EXPLAIN_QUANTILES, NUMERIC_MISSING, Z_CAP, Z_CLAMP};
pub use vocab::ColumnVocab;

/// log(1e-5): the logit of an inactive class after `log(clip(onehot, 1e-5, 1))`.
pub const LOG_EPS: f32 = -11.512_925;

/// Code of a value that is not in the column's vocabulary.
pub const UNSEEN: u32 = u32::MAX;

/// Default cap on distinct values per column; above it training fails naming the column.
pub const DEFAULT_MAX_CATEGORIES: usize = 1000;
