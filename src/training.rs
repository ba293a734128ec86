//! `gnsm_train`: resolve columns, read the table, train on worker threads while the backend thread
//! reports progress and watches for cancellation, then store the new version in the catalog.

use crate::catalog::{self, NewModel};
use crate::errors::{raise, OrRaise};
use crate::gucs;
use crate::options::{self, TrainOptions};
use crate::table::{self, Source};
use gnsm_core::encoding::{CodedTable, Encoder};
use gnsm_core::model::Model;
use gnsm_core::train::{Hooks, Progress};
use gnsm_core::Error;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::{JsonB, PgRelation, PgSqlErrorCode};
use std::time::Instant;

/// Builds the worker pool with every signal blocked while the threads start: they inherit the
/// mask, so Postgres' handlers (cancel, timeout, terminate) keep running on the backend thread.
pub fn build_pool(threads: usize) -> rayon::ThreadPool {
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        let pool = gnsm_core::train::build_pool(threads);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        pool.or_raise("gnsm")
    }
}

/// Serves pending interrupts between training steps, on the backend thread. A cancel, timeout or
/// terminate raises its ERROR here (unwinding out of training and dropping the pool, whose workers
/// are idle between steps); benign interrupts (catch-up, barriers) are processed and training goes
/// on. Returns false: the core never has to stop by itself.
fn serve_interrupts() -> bool {
    if unsafe { std::ptr::read_volatile(std::ptr::addr_of!(pg_sys::InterruptPending)) != 0 } {
        pgrx::check_for_interrupts!();
    }
    false
}

/// Trains a model on coded rows with progress NOTICEs and clean cancellation; never returns a
/// partial model (a cancel raises the backend's own cancel/timeout ERROR).
pub fn fit_with_progress(encoder: Encoder, table: &CodedTable, opts: &TrainOptions, label: &str) -> Model {
    let pool = build_pool(opts.config.threads);
    let interval = gucs::progress_interval();
    let mut last_report = 0.0f64;
    let mut progress = |p: &Progress| {
        if interval > 0.0 && p.elapsed - last_report >= interval && p.step < p.total_steps {
            last_report = p.elapsed;
            let left = p.elapsed / p.step.max(1) as f64 * (p.total_steps - p.step) as f64;
            notice!(
                "gnsm: training \"{label}\": step {}/{}, loss {:.4}{}, {:.0} s elapsed, about {:.0} s left",
                p.step,
                p.total_steps,
                p.loss,
                p.val_loss.map(|v| format!(", validation loss {v:.4}")).unwrap_or_default(),
                p.elapsed,
                left
            );
        }
    };
    let mut interrupt = serve_interrupts;
    let mut hooks = Hooks { progress: &mut progress, interrupt: &mut interrupt };
    let result = Model::fit_coded(encoder, table, &opts.config, &pool, &mut hooks);
    drop(pool);
    match result {
        Ok(m) => m,
        Err(Error::Interrupted) => {
            // raises "canceling statement due to user request" or the timeout message
            pgrx::check_for_interrupts!();
            raise(PgSqlErrorCode::ERRCODE_QUERY_CANCELED, format!("gnsm: training \"{label}\" was interrupted"), None, None)
        }
        Err(e) => crate::errors::raise_core(e, &format!("gnsm_train \"{label}\"")),
    }
}

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
        "gmm_components": model.head.n_components,
        "parameters": model.features.network.n_params(),
    })
}

/// What `gnsm_train` and `gnsm_retrain` return.
type TrainedRow = (String, i32, bool, i64, f64, f64);

/// Reads the table, trains, stores a new version and applies the retention policy.
fn train_and_store(relid: pg_sys::Oid, columns: Option<Vec<Option<String>>>, opts: TrainOptions) -> TrainedRow {
    let started = Instant::now();
    let kinds = table::KindOverrides { numeric: &opts.numeric_columns, categorical: &opts.categorical_columns };
    let source: Source = table::resolve(relid, columns, kinds);
    let name = opts.name.clone().unwrap_or_else(|| source.relname.clone());
    let read = table::read(&source, gucs::max_train_rows(), gucs::max_categories(), opts.config.seed);
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
        vocab_sizes: std::iter::repeat_n(0, model.features.encoder.n_num())
            .chain(model.features.encoder.block_sizes().iter().map(|&k| k as i32))
            .collect(),
        options: options::to_json(&opts),
        metrics,
        score_quantiles: percentiles(&model),
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

/// The 101 training-score percentiles (0%, 1%, ..., 100%) stored in the catalog.
pub fn percentiles(model: &Model) -> Vec<f64> {
    let q = &model.score_quantiles;
    if q.is_empty() {
        return Vec::new();
    }
    (0..=100).map(|p| q[p * (q.len() - 1) / 100]).collect()
}
