//! Scoring functions: `gnsm_score` (by the row's table, by model name, by model bytes),
//! `gnsm_score_percentile` and `gnsm_threshold`. All are STABLE (they read the catalog) and
//! PARALLEL SAFE (each worker loads the model into its own backend cache).
//!
//! COST: a distinct row costs about 2 ms (41 network passes), a memoised one about 4 µs, against
//! about 19 ns for one built-in operator (`cpu_operator_cost` = 1 unit): 100,000 and 200 units.
//! COST 10,000 sits between the two, so the planner sees scoring as expensive, runs
//! cheaper quals first and chooses parallel plans on tables big enough for them (measured in
//! `gnsm_demo`, 20,000 orders; `test_score_cost_lets_the_planner_choose_a_parallel_plan`).

use crate::cache::{self, callsite};
use crate::bytes_arg::RawBytea;
use crate::catalog;
use crate::errors::{raise, OrRaise};
use crate::resolve::ModelRef;
use crate::scorer::with_scorer;
use pgrx::prelude::*;
use pgrx::{AnyElement, PgSqlErrorCode};

/// Anomaly score of a row under the active model trained on the row's table; higher = more anomalous.
#[pg_extern(stable, parallel_safe, strict, cost = 1000, name = "gnsm_score")]
fn gnsm_score(row: AnyElement, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    with_scorer(fcinfo, ModelRef::OfRowTable, &row, |s, mcxt| s.score(&row, mcxt))
}

/// Anomaly score of a row under the active version of the named model.
#[pg_extern(stable, parallel_safe, strict, cost = 1000, name = "gnsm_score")]
fn gnsm_score_named(row: AnyElement, model: &str, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    with_scorer(fcinfo, ModelRef::Named(model), &row, |s, mcxt| s.score(&row, mcxt))
}

/// Anomaly score of a row under a model given as bytes (made by `gnsm_train_agg`); the bytes may
/// change from row to row (one model per group), and the call site follows them. The bytes are
/// read whole only when the call site meets a model it has not loaded (`RawBytea`).
#[pg_extern(stable, parallel_safe, strict, cost = 1000)]
fn gnsm_score_bytes(row: AnyElement, model: RawBytea, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    with_scorer(fcinfo, ModelRef::Bytes(&model), &row, |s, mcxt| s.score(&row, mcxt))
}

/// Percentile (0-100) of a row's score among the training rows' scores: 99 means only 1% of
/// training rows looked more anomalous.
#[pg_extern(stable, parallel_safe, cost = 1000)]
fn gnsm_score_percentile(row: Option<AnyElement>, model: default!(Option<&str>, "NULL"), fcinfo: pg_sys::FunctionCallInfo) -> Option<f64> {
    let row = row?;
    let which = match model {
        Some(name) => ModelRef::Named(name),
        None => ModelRef::OfRowTable,
    };
    Some(with_scorer(fcinfo, which, &row, |s, mcxt| {
        let score = s.score(&row, mcxt);
        s.model.percentile(score)
    }))
}

/// The score above which a share `contamination` of the training rows lies: rows scoring above
/// it are the expected outliers at that rate. A call site resolves it once per statement (ADR
/// 003), so `WHERE gnsm_score(t) > gnsm_threshold('m', 0.01)` reads the catalog once, not per row.
#[pg_extern(stable, parallel_safe, strict)]
fn gnsm_threshold(model: &str, contamination: f64, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    let key = format!("{model}\u{0}{:016x}", contamination.to_bits());
    callsite::with_state(fcinfo, &key, || threshold_of(model, contamination), |t, _| *t)
}

/// The threshold of the active version of `model` at `contamination`, from the catalog.
fn threshold_of(model: &str, contamination: f64) -> f64 {
    let key = catalog::active_version(model).unwrap_or_else(|| catalog::raise_unknown(model, "does not exist or has no active version"));
    let m = cache::get(&key);
    if !(contamination > 0.0 && contamination < 1.0) {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("contamination must be strictly between 0 and 1, got {contamination}"),
            None,
            Some("for example 0.01 flags the top 1% of training rows"),
        );
    }
    m.threshold(contamination).or_raise(&format!("gnsm model \"{model}\""))
}
