//! The `options jsonb` of `gnsm_train`: parsed by `gnsm_core::options` (pure, fuzzed); this
//! module only turns its errors into SQL errors.

use crate::errors::{raise, raise_core};
pub use gnsm_core::options::{map_to_json, to_json, Activate, MapOptions, TrainOptions};
use pgrx::PgSqlErrorCode;
use serde_json::Value;

/// Parses the options object; `threads` defaults to the `gnsm.threads` setting. Raises 22023
/// naming the key on a bad option.
pub fn parse(options: Option<&Value>, default_threads: usize) -> TrainOptions {
    let out = gnsm_core::options::parse(options, default_threads)
        .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, e.message, e.detail, e.hint.as_deref()));
    if let Err(e) = out.config.validate() {
        raise_core(e, "gnsm options");
    }
    out
}

/// Parses a map model's options; `threads` defaults to the `gnsm.threads` setting. Raises 22023
/// naming the key on a bad option (a table-only key included).
pub fn parse_map(options: Option<&Value>, default_threads: usize) -> MapOptions {
    let out = gnsm_core::options::parse_map(options, default_threads)
        .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, e.message, e.detail, e.hint.as_deref()));
    if let Err(e) = out.config.validate() {
        raise_core(e, "gnsm options");
    }
    out
}
