//! Scoring functions: `gnsm_score` (by the row's table, by model name, by model bytes),
//! `gnsm_score_percentile`, `gnsm_threshold` and `gnsm_explain`. All are STABLE (they read the
//! catalog) and PARALLEL SAFE (each worker loads the model into its own backend cache).

use crate::cache::{self, CallState, ModelRef};
use crate::catalog;
use crate::errors::{raise, OrRaise};
use pgrx::prelude::*;
use pgrx::{AnyElement, PgSqlErrorCode};

/// Score of one row with the call site's statement-pinned model.
fn score_row(fcinfo: pg_sys::FunctionCallInfo, row: &AnyElement, which: ModelRef) -> f64 {
    let (state, mcxt) = cache::call_state(fcinfo, || CallState::new(which, row));
    let codes = state.encode(row, mcxt).to_vec();
    state.model.score(&codes)
}

/// Anomaly score of a row under the active model trained on the row's table; higher = more anomalous.
#[pg_extern(stable, parallel_safe, strict, name = "gnsm_score")]
fn gnsm_score(row: AnyElement, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    score_row(fcinfo, &row, ModelRef::OfRowTable)
}

/// Anomaly score of a row under the active version of the named model.
#[pg_extern(stable, parallel_safe, strict, name = "gnsm_score")]
fn gnsm_score_named(row: AnyElement, model: &str, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    score_row(fcinfo, &row, ModelRef::Named(model))
}

/// Anomaly score of a row under a model given as bytes (made by `gnsm_train_agg`).
#[pg_extern(stable, parallel_safe, strict)]
fn gnsm_score_bytes(row: AnyElement, model: &[u8], fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    // the bytes may change from row to row (one model per group): re-resolve when they do
    let key = cache::bytes_key(model).name;
    unsafe {
        let flinfo = (*fcinfo).flinfo;
        if !(*flinfo).fn_extra.is_null() {
            let st = &*((*flinfo).fn_extra as *const CallState);
            if st.model.name != key {
                let st = &mut *((*flinfo).fn_extra as *mut CallState);
                *st = CallState::new(ModelRef::Bytes(model), &row);
            }
        }
    }
    score_row(fcinfo, &row, ModelRef::Bytes(model))
}

/// Percentile (0-100) of a row's score among the training rows' scores: 99 means only 1% of
/// training rows looked more anomalous.
#[pg_extern(stable, parallel_safe)]
fn gnsm_score_percentile(row: Option<AnyElement>, model: default!(Option<&str>, "NULL"), fcinfo: pg_sys::FunctionCallInfo) -> Option<f64> {
    let row = row?;
    let which = match model {
        Some(name) => ModelRef::Named(name),
        None => ModelRef::OfRowTable,
    };
    let (state, mcxt) = cache::call_state(fcinfo, || CallState::new(which, &row));
    let codes = state.encode(&row, mcxt).to_vec();
    let s = state.model.score(&codes);
    Some(state.model.model.percentile(s))
}

/// The score above which a share `contamination` of the training rows lies: rows scoring above
/// it are the expected outliers at that rate.
#[pg_extern(stable, parallel_safe, strict)]
fn gnsm_threshold(model: &str, contamination: f64) -> f64 {
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
    m.model.threshold(contamination).or_raise(&format!("gnsm model \"{model}\""))
}

/// One row per model column: its value, how much it adds to the anomaly score, its share of the
/// score network's signal, and the value the model finds most likely in its place.
#[pg_extern(stable, parallel_safe)]
fn gnsm_explain(
    row: Option<AnyElement>,
    model: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(column_name, String),
        name!(value, Option<String>),
        name!(contribution, f64),
        name!(share, f64),
        name!(most_likely, Option<String>),
    ),
> {
    let Some(row) = row else {
        return TableIterator::new(Vec::new());
    };
    let which = match model {
        Some(name) => ModelRef::Named(name),
        None => ModelRef::OfRowTable,
    };
    // set-returning: fn_extra belongs to the SRF machinery, so keep the state local
    let mut state = CallState::new(which, &row);
    let mcxt = unsafe { pg_sys::CurrentMemoryContext };
    let codes = state.encode(&row, mcxt).to_vec();
    let texts = state.row_texts(&row);
    let (_, cols) = state.model.model.explain(&codes).or_raise(&format!("gnsm model \"{}\"", state.model.name));
    let out: Vec<_> = cols
        .into_iter()
        .zip(texts)
        .map(|(c, text)| {
            let most = if c.most_likely == c.value { text.clone() } else { display_value(&c.most_likely) };
            (c.column, text, c.contribution, c.share, most)
        })
        .collect();
    TableIterator::new(out)
}

/// Maps the core's display of a vocabulary value back to SQL (`NULL` is SQL NULL).
fn display_value(v: &str) -> Option<String> {
    (v != "NULL").then(|| v.to_string())
}
