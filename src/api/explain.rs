//! `gnsm_explain`: why a row scores as it does, one row per model column.

use crate::errors::{raise, OrRaise};
use crate::resolve::ModelRef;
use crate::scorer::RowScorer;
use pgrx::prelude::*;
use pgrx::{AnyElement, PgSqlErrorCode};

/// One row per model column: its value, how much it adds to the anomaly score, its share of the
/// score network's signal, and the value the model finds most likely in its place. COST: it scores
/// the row once per candidate value of each column, tens of times a `gnsm_score` call.
#[pg_extern(stable, parallel_safe, cost = 100000)]
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
    // set-returning: fn_extra belongs to the SRF machinery, so the scorer stays local
    let mut scorer = RowScorer::new(which, &row);
    if scorer.model.map().is_some() {
        raise(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!("gnsm model \"{}\" is a map model: gnsm_explain explains table rows column by column", scorer.model.name),
            None,
            Some("use gnsm_explain_map(row, model) for each pixel's share of the score, or gnsm_heatmap_png(row, model) for a picture"),
        );
    }
    // SAFETY: reading the backend's current-context global; the binding made below lives in it,
    // which outlives this call's use of it.
    let mcxt = unsafe { pg_sys::CurrentMemoryContext };
    let codes = scorer.codes(&row, mcxt);
    let texts = scorer.texts(&row);
    let (_, cols) = scorer.model.table_model().complete_model().explain(&codes).or_raise(&format!("gnsm model \"{}\"", scorer.model.name));
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
