//! `gnsm_options()`: every training option with its default and meaning, the installed reference
//! that option errors point to.

use crate::gucs;
use pgrx::prelude::*;
use pgrx::JsonB;

/// One row per option key of `gnsm_train`/`gnsm_retrain`/`gnsm_train_agg`: its default as training
/// applies it now (`threads` follows `gnsm.threads`; NULL where it depends on the call) and its meaning.
#[pg_extern(stable, parallel_safe)]
fn gnsm_options() -> TableIterator<'static, (name!(key, String), name!(default_value, Option<JsonB>), name!(meaning, String))> {
    let rows: Vec<_> = gnsm_core::options::reference(gucs::threads())
        .into_iter()
        .map(|d| (d.key.to_string(), (!d.default.is_null()).then_some(JsonB(d.default)), d.meaning.to_string()))
        .collect();
    TableIterator::new(rows)
}
