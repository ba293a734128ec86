//! Errors raised to SQL: one helper that sets SQLSTATE, message, detail and hint, and the single
//! mapping from `gnsm_core::Error` to SQLSTATEs.

use gnsm_core::Error;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

/// Raises an ERROR; never returns. `LOCATION` (VERBOSITY verbose) names the caller, not this file.
#[track_caller]
pub fn raise(code: PgSqlErrorCode, message: impl Into<String>, detail: Option<String>, hint: Option<&str>) -> ! {
    let mut report = ErrorReport::new(code, message.into(), "gnsm");
    if let Some(d) = detail {
        report = report.set_detail(d);
    }
    if let Some(h) = hint {
        report = report.set_hint(h);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ereport(ERROR) returned")
}

/// Raises a core error with the SQLSTATE that fits its cause; `context` names the model or table.
#[track_caller]
pub fn raise_core(err: Error, context: &str) -> ! {
    use PgSqlErrorCode::*;
    let msg = format!("{context}: {err}");
    match err {
        Error::InvalidParam { .. } => {
            raise(ERRCODE_INVALID_PARAMETER_VALUE, msg, None, Some("SELECT * FROM gnsm_options() lists every option with its default and meaning"))
        }
        Error::InsufficientData { .. } => raise(
            ERRCODE_DATA_EXCEPTION,
            msg,
            None,
            Some("train on a table with at least two different rows (check the WHERE clause or the columns)"),
        ),
        Error::TooManyCategories { .. } => raise(
            ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            msg,
            None,
            Some("leave identifier-like columns out of the column list, model a number column as numeric (option numeric_columns), or raise gnsm.max_categories"),
        ),
        Error::RowMismatch { .. } => raise(ERRCODE_DATATYPE_MISMATCH, msg, None, None),
        Error::BadNumber { .. } => raise(
            ERRCODE_INVALID_TEXT_REPRESENTATION,
            msg,
            None,
            Some("a numeric model column needs numbers; score rows whose column has the type the model was trained on"),
        ),
        Error::CorruptModel { .. } => {
            raise(ERRCODE_DATA_CORRUPTED, msg, None, Some("retrain the model with gnsm_train, or restore gnsm.models from a backup"))
        }
        Error::Interrupted => raise(ERRCODE_QUERY_CANCELED, msg, None, None),
        Error::Numeric { .. } => raise(ERRCODE_INTERNAL_ERROR, msg, None, Some("try another seed or a smaller lr")),
        Error::Io { .. } => raise(ERRCODE_IO_ERROR, msg, None, None),
    }
}

/// Unwraps a core result or raises it.
pub trait OrRaise<T> {
    /// The value, or an ERROR naming `context`.
    fn or_raise(self, context: &str) -> T;
}

impl<T> OrRaise<T> for Result<T, Error> {
    #[track_caller]
    fn or_raise(self, context: &str) -> T {
        match self {
            Ok(v) => v,
            Err(e) => raise_core(e, context),
        }
    }
}
