//! One error type for the whole core; the SQL layer maps each variant to a SQLSTATE once.

use std::fmt;

/// Everything that can go wrong in the core, named by cause.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A hyper-parameter or argument is out of its valid range.
    InvalidParam { name: String, reason: String },
    /// The training data cannot train a model (no rows, one distinct row, no columns...).
    InsufficientData { reason: String },
    /// A column has more distinct values than the per-column cap allows.
    TooManyCategories { column: String, distinct: usize, cap: usize },
    /// A row does not fit the model (wrong arity, numeric value not finite...).
    RowMismatch { reason: String },
    /// A numeric column's value is not a number.
    BadNumber { column: String, value: String },
    /// Model bytes are not a gnsm model, are truncated, or come from an unknown format version.
    CorruptModel { reason: String },
    /// The caller's interrupt hook asked training to stop.
    Interrupted,
    /// A numeric routine failed (a covariance that is not positive definite after regularisation...).
    Numeric { reason: String },
    /// Reading an evaluation data file failed.
    Io { reason: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidParam { name, reason } => write!(f, "invalid value for \"{name}\": {reason}"),
            Error::InsufficientData { reason } => write!(f, "cannot train: {reason}"),
            // the builder stops counting at the first value past the cap: say "more than", not a count
            Error::TooManyCategories { column, cap, .. } => write!(f, "column \"{column}\" has more than {cap} distinct values (the cap)"),
            Error::RowMismatch { reason } => write!(f, "row does not match the model: {reason}"),
            Error::BadNumber { column, value } => write!(f, "numeric column \"{column}\" has the value \"{value}\", which is not a number"),
            Error::CorruptModel { reason } => write!(f, "corrupt or unsupported model: {reason}"),
            Error::Interrupted => write!(f, "training was interrupted"),
            Error::Numeric { reason } => write!(f, "numeric failure: {reason}"),
            Error::Io { reason } => write!(f, "{reason}"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Builds an `InvalidParam` error.
pub fn invalid(name: &str, reason: impl Into<String>) -> Error {
    Error::InvalidParam { name: name.to_string(), reason: reason.into() }
}
