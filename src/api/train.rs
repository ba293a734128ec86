//! `gnsm_train` and `gnsm_retrain`: resolve the columns, read the table, fit (see `fit.rs`), then
//! store the new version in the catalog and apply the retention policy.

use crate::catalog::{self, NewModel};
use crate::errors::raise;
use crate::fit::fit_with_progress;
use crate::gucs;
use crate::options::{self, TrainOptions};
use crate::source::{self, KindOverrides, Source};
use gnsm_core::model::Model;
use pgrx::prelude::*;
use pgrx::{JsonB, PgRelation, PgSqlErrorCode};
use std::time::Instant;

/// The metrics JSON stored with a model.
pub fn metrics_json(model: &Model, source_rows: u64, sampled: bool, total_seconds: f64) -> serde_json::Value {
    let r = &model.report;
    serde_json::json!({
        "train_rows": r.train_rows + r.val_rows,
        "source_rows": source_rows,
        "sampled": sampled,
        "fit_rows": r.train_rows,
        "val_rows": r.val_rows,
        "steps": r.steps,
        "network_seconds": r.seconds,
        "seconds": total_seconds,
        "final_loss": r.final_loss,
        "best_val_loss": r.best_val_loss,
        "best_step": r.best_step,
        "stopped_by": r.stopped_by,
        "gmm_components": model.n_components(),
        "parameters": model.n_params(),
    })
}

/// What `gnsm_train` and `gnsm_retrain` return.
type TrainedRow = (String, i32, bool, i64, f64, f64);

/// Reads the table, trains, stores a new version and applies the retention policy.
fn train_and_store(relid: pg_sys::Oid, columns: Option<Vec<Option<String>>>, opts: TrainOptions) -> TrainedRow {
    let started = Instant::now();
    let kinds = KindOverrides { numeric: &opts.numeric_columns, categorical: &opts.categorical_columns };
    let source: Source = source::resolve(relid, columns, kinds);
    let name = opts.name.clone().unwrap_or_else(|| source.relname.clone());
    let read = source::read(&source, gucs::max_train_rows(), gucs::max_categories(), opts.config.seed);
    if read.sampled {
        notice!(
            "gnsm: \"{}\" has {} rows, more than gnsm.max_train_rows = {}: training on a uniform random sample of {} rows",
            source.display,
            read.total_rows,
            gucs::max_train_rows(),
            read.table.n_rows
        );
    }
    let model = fit_with_progress(read.encoder, &read.table, &opts, &name);
    let seconds = started.elapsed().as_secs_f64();
    let metrics = metrics_json(&model, read.total_rows, read.sampled, seconds);
    let val_loss = model.report.best_val_loss;
    let train_rows = read.table.n_rows as i64;
    let new = NewModel {
        name: name.clone(),
        source_table: source.display.clone(),
        source_relid: Some(source.relid),
        columns: source.columns.iter().map(|c| c.name.clone()).collect(),
        column_types: source.columns.iter().map(|c| c.type_name.clone()).collect(),
        // per model column: K for a categorical column, 0 for a numeric one
        vocab_sizes: model.vocab_sizes(),
        options: options::to_json(&opts),
        metrics,
        score_quantiles: model.catalog_percentiles(),
        format_version: gnsm_core::MODEL_FORMAT_VERSION as i32,
        bytes: model.to_bytes(),
        val_loss,
    };
    let (version, active) = catalog::store(new, opts.activate);
    notice!(
        "gnsm: trained \"{name}\" version {version} on {train_rows} rows of {} in {seconds:.1} s ({} steps, validation loss {val_loss:.4}){}",
        source.display,
        model.report.steps,
        if active { ", now active" } else { "" }
    );
    if opts.keep_versions > 0 {
        let dropped = catalog::prune(&name, opts.keep_versions);
        if dropped > 0 {
            notice!("gnsm: dropped {dropped} old version(s) of \"{name}\" (keep_versions = {})", opts.keep_versions);
        }
    }
    (name, version, active, train_rows, seconds, val_loss)
}

/// Trains a model on the given columns of a table and stores it as a new version of the model
/// named in the options (default: the table's name). Returns the new version's identity.
#[pg_extern(volatile, parallel_unsafe)]
fn gnsm_train(
    table: PgRelation,
    columns: default!(Option<Vec<Option<String>>>, "NULL"),
    options: default!(Option<JsonB>, "'{}'"),
) -> TableIterator<
    'static,
    (name!(model, String), name!(version, i32), name!(active, bool), name!(train_rows, i64), name!(seconds, f64), name!(val_loss, f64)),
> {
    let relid = table.oid();
    drop(table);
    let opts = options::parse(options.as_ref().map(|j| &j.0), gucs::threads());
    TableIterator::once(train_and_store(relid, columns, opts))
}

/// Retrains a model on its source table's current rows, with the columns and options of its
/// active (or else newest) version, overridden by `options`; stores a new version.
#[pg_extern(volatile, parallel_unsafe)]
fn gnsm_retrain(
    model: &str,
    options: default!(Option<JsonB>, "'{}'"),
) -> TableIterator<
    'static,
    (name!(model, String), name!(version, i32), name!(active, bool), name!(train_rows, i64), name!(seconds, f64), name!(val_loss, f64)),
> {
    let (src, opts) = retrain_plan(model, options.map(|j| j.0));
    let Some(relid) = src.relid else {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("gnsm model \"{model}\" has no source table: its source \"{}\" no longer exists", src.table),
            None,
            Some("train a new model with gnsm_train on the table that now holds the rows"),
        )
    };
    let columns = Some(src.columns.into_iter().map(Some).collect());
    TableIterator::once(train_and_store(relid, columns, opts))
}

/// What a retrain of `model` would do: its source and the stored options overridden by
/// `overrides` (validated; raises on an unknown model or bad options).
pub fn retrain_plan(model: &str, overrides: Option<serde_json::Value>) -> (catalog::ModelSource, options::TrainOptions) {
    let Some(src) = catalog::source_of(model) else { catalog::raise_unknown(model, "does not exist") };
    // stored options first, then the caller's overrides; the name stays the model's
    let mut merged = match &src.options {
        serde_json::Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    // activation is a decision about this retrain, not a property of the model: a retrain (often
    // unattended, from pg_cron) replaces the active version only when it validates no worse,
    // unless the caller says otherwise (ADR 009)
    merged.insert("activate".into(), serde_json::Value::String("if_better".into()));
    match overrides {
        Some(serde_json::Value::Object(over)) => merged.extend(over),
        None | Some(serde_json::Value::Null) => {}
        // not an object: let the parser raise its usual error
        Some(other) => drop(options::parse(Some(&other), 1)),
    }
    merged.insert("name".into(), serde_json::Value::String(model.to_string()));
    let opts = options::parse(Some(&serde_json::Value::Object(merged)), gucs::threads());
    (src, opts)
}
