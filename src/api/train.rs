//! `gnsm_train` and `gnsm_retrain`: resolve the columns, read the table, fit (see `fit.rs`), then
//! store the new version in the catalog and apply the retention policy. A column list that names
//! a `smallint[]`/`integer[]` label map trains a map model (`maps::source` says which lists do).

use crate::catalog::{self, NewModel};
use crate::errors::raise;
use crate::fit::{fit_map_with_progress, fit_with_progress};
use crate::gucs;
use crate::maps::reader::read_maps;
use crate::maps::source::{resolve_map, MapSource};
use crate::options::{self, Activate, MapOptions, TrainOptions};
use crate::source::{self, KindOverrides, Source};
use gnsm_core::map::MapItem;
use gnsm_core::model::{distinct_rows, Model};
use pgrx::prelude::*;
use pgrx::{JsonB, PgRelation, PgSqlErrorCode};
use std::time::Instant;

/// The metrics JSON stored with a model.
pub fn metrics_json(model: &Model, source_rows: u64, distinct_rows: usize, sampled: bool, total_seconds: f64) -> serde_json::Value {
    let r = &model.report;
    serde_json::json!({
        "train_rows": r.train_rows + r.val_rows,
        "source_rows": source_rows,
        "distinct_rows": distinct_rows,
        // what "scorer": "auto" chose (ADR 016), or what the options asked for
        "scorer": if model.fast.is_some() { "fast" } else { "exact" },
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
    let model = fit_with_progress(read.encoder, &read.table, &opts, &name, started);
    let seconds = started.elapsed().as_secs_f64();
    let metrics = metrics_json(&model, read.total_rows, distinct_rows(&read.table), read.sampled, seconds);
    let val_loss = model.report.best_val_loss;
    let train_rows = read.table.n_rows as i64;
    let new = NewModel {
        name,
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
    let steps = model.report.steps;
    store_and_prune(new, opts.activate, opts.keep_versions, &source.display, train_rows, steps, seconds)
}

/// Stores a trained version, says so in a NOTICE and applies `keep_versions`; shared by table
/// and map models.
fn store_and_prune(new: NewModel, activate: Activate, keep_versions: usize, display: &str, train_rows: i64, steps: usize, seconds: f64) -> TrainedRow {
    let (name, val_loss) = (new.name.clone(), new.val_loss);
    let (version, active) = catalog::store(new, activate);
    notice!(
        "gnsm: trained \"{name}\" version {version} on {train_rows} rows of {display} in {seconds:.1} s ({steps} steps, validation loss {val_loss:.4}){}",
        if active { ", now active" } else { "" }
    );
    if keep_versions > 0 {
        let dropped = catalog::prune(&name, keep_versions);
        if dropped > 0 {
            notice!("gnsm: dropped {dropped} old version(s) of \"{name}\" (keep_versions = {keep_versions})");
        }
    }
    (name, version, active, train_rows, seconds, val_loss)
}

/// Reads a map model's maps (and images), trains, stores a new version and applies the retention
/// policy. A NULL map is skipped with a NOTICE counting them (`maps::reader`).
fn train_map_and_store(src: MapSource, opts: MapOptions) -> TrainedRow {
    let started = Instant::now();
    let name = opts.name.clone().unwrap_or_else(|| src.relname.clone());
    let read = read_maps(&src, gucs::max_train_rows(), opts.config.seed);
    if read.null_maps > 0 {
        notice!("gnsm: skipped {} of {} rows of {} whose map column \"{}\" is NULL", read.null_maps, read.total_rows, src.display, src.map.name);
    }
    if read.sampled {
        notice!(
            "gnsm: \"{}\" has {} maps, more than gnsm.max_train_rows = {}: training on a uniform random sample of {} maps",
            src.display,
            read.total_rows - read.null_maps,
            gucs::max_train_rows(),
            read.maps.len()
        );
    }
    let items: Vec<MapItem> = read.maps.iter().enumerate().map(|(i, map)| MapItem { map, image: read.images.get(i) }).collect();
    let mut model = fit_map_with_progress(&items, &opts.config, &name);
    model.columns = src.columns().iter().map(|c| c.name.clone()).collect();
    let seconds = started.elapsed().as_secs_f64();
    let r = &model.report;
    let metrics = serde_json::json!({
        "kind": "map",
        "train_rows": r.train_rows + r.val_rows,
        "source_rows": read.total_rows,
        "null_maps": read.null_maps,
        "sampled": read.sampled,
        "fit_rows": r.train_rows,
        "val_rows": r.val_rows,
        "steps": r.steps,
        "network_seconds": r.seconds,
        "seconds": seconds,
        "final_loss": r.final_loss,
        "best_val_loss": r.best_val_loss,
        "best_step": r.best_step,
        "stopped_by": r.stopped_by,
        "parameters": model.n_params(),
        "classes": model.classes.classes,
        "resolution": [model.config.height, model.config.width],
        "uses_image": model.uses_image(),
    });
    let columns = src.columns();
    // per model column as for tables: K for the label map (its categories), 0 for the image
    let mut vocab_sizes = vec![model.classes.classes as i32];
    vocab_sizes.extend(src.image.iter().map(|_| 0));
    let new = NewModel {
        name,
        source_table: src.display.clone(),
        source_relid: Some(src.relid),
        columns: columns.iter().map(|c| c.name.clone()).collect(),
        column_types: columns.iter().map(|c| c.type_name.clone()).collect(),
        vocab_sizes,
        options: options::map_to_json(&opts),
        metrics,
        score_quantiles: model.catalog_percentiles(),
        format_version: gnsm_core::MODEL_FORMAT_VERSION as i32,
        bytes: model.to_bytes(),
        val_loss: model.report.best_val_loss,
    };
    let steps = model.report.steps;
    store_and_prune(new, opts.activate, opts.keep_versions, &src.display, items.len() as i64, steps, seconds)
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
    // a column list naming a label map trains a map model; anything else (NULL included) a table model
    if let Some(src) = resolve_map(relid, columns.as_deref()) {
        let opts = options::parse_map(options.as_ref().map(|j| &j.0), gucs::threads());
        return TableIterator::once(train_map_and_store(src, opts));
    }
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
    let columns: Vec<Option<String>> = src.columns.into_iter().map(Some).collect();
    match opts {
        PlannedOptions::Table(opts) => TableIterator::once(train_and_store(relid, Some(columns), opts)),
        PlannedOptions::Map(opts) => {
            let Some(map_src) = resolve_map(relid, Some(&columns)) else {
                raise(
                    PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                    format!("gnsm model \"{model}\" is a map model, but its source's column \"{}\" is no longer a smallint[] or integer[] map", columns[0].as_deref().unwrap_or("")),
                    None,
                    Some("train a new model with gnsm_train on the columns the table now has"),
                )
            };
            TableIterator::once(train_map_and_store(map_src, opts))
        }
    }
}

/// The parsed options of a retrain, of the model's family.
pub enum PlannedOptions {
    Table(TrainOptions),
    Map(MapOptions),
}

/// What a retrain of `model` would do: its source and the stored options overridden by
/// `overrides` (validated; raises on an unknown model or bad options).
pub fn retrain_plan(model: &str, overrides: Option<serde_json::Value>) -> (catalog::ModelSource, PlannedOptions) {
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
    let merged = serde_json::Value::Object(merged);
    let opts = if src.is_map() {
        PlannedOptions::Map(options::parse_map(Some(&merged), gucs::threads()))
    } else {
        PlannedOptions::Table(options::parse(Some(&merged), gucs::threads()))
    };
    (src, opts)
}
