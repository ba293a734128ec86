//! `gnsm_train_agg(row [, options])`: training as an aggregate, so models compose with SQL
//! (`SELECT region, gnsm_train_agg(t) FROM orders t GROUP BY region`). The result is the model's
//! bytes, scored with `gnsm_score_bytes(row, model)`. Names and signatures: ADR 002. A row that
//! holds a label map trains a map model (`maps::aggregate`).
//!
//! The final function takes the collected rows out of the state to train on them, so both forms
//! declare `FINALFUNC_MODIFY = READ_WRITE`: Postgres then never shares the state and refuses the
//! aggregate as a window function (a window frame would otherwise call the final function again on
//! the emptied state and train on fragments).

use crate::errors::{raise, OrRaise};
use crate::fit::fit_with_progress;
use crate::gucs;
use crate::maps::aggregate::MapAgg;
use crate::options;
use crate::rows::{require_row, RowTuple};
use crate::source::{check_overrides_exist, kind_of, KindOverrides, SUPPORTED_TYPES};
use crate::values::{type_name, OutputFn};
use gnsm_core::encoding::TableBuilder;
use pgrx::aggregate::FinalizeModify;
use pgrx::prelude::*;
use pgrx::{AggregateName, AnyElement, Internal, JsonB, PgSqlErrorCode};

/// Rows collected so far, interned as codes.
#[derive(Default)]
pub struct AggState {
    builder: Option<TableBuilder>,
    /// 1-based attribute numbers in model order (numeric columns first).
    attnums: Vec<usize>,
    outputs: Vec<OutputFn>,
    /// The first row's options, parsed (they choose the column kinds and train the model).
    options: Option<options::TrainOptions>,
    /// Set instead of `builder` when the rows hold a label map.
    maps: Option<MapAgg>,
}

/// A row type's live attributes: (1-based number, name, type).
type Attribute = (usize, String, pg_sys::Oid);

/// Reads the live attributes of a row type from its descriptor.
///
/// # Safety
///
/// `tupdesc` must be a valid descriptor (for example from `lookup_rowtype_tupdesc`).
unsafe fn live_attributes(tupdesc: pg_sys::TupleDesc) -> Vec<Attribute> {
    // SAFETY: the caller's contract: a valid descriptor with `natts` attributes.
    let attrs = unsafe { (*tupdesc).attrs.as_slice((*tupdesc).natts as usize) };
    attrs
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.attisdropped)
        .map(|(i, a)| (i + 1, pgrx::name_data_to_str(&a.attname).to_string(), a.atttypid))
        .collect()
}

/// Sets the state up from the first row's columns and options: model columns in model order
/// (numeric first), their output functions, and the builder. Raises 0A000 for a column of a type
/// gnsm cannot model.
fn set_up(state: &mut AggState, attrs: &[Attribute], options: Option<serde_json::Value>) {
    if let Some(maps) = MapAgg::set_up(attrs, options.as_ref()) {
        state.maps = Some(maps);
        return;
    }
    let opts = options::parse(options.as_ref(), gucs::threads());
    let kinds = KindOverrides { numeric: &opts.numeric_columns, categorical: &opts.categorical_columns };
    let mut numeric = Vec::new();
    let mut categorical = Vec::new();
    for attr @ (_, name, t) in attrs {
        match kind_of(name, *t, -1, "the aggregated row", kinds) {
            Some(true) => numeric.push(attr.clone()),
            Some(false) => categorical.push(attr.clone()),
            None => raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("column \"{name}\" has unsupported type {}", type_name(*t, -1)),
                Some(SUPPORTED_TYPES.into()),
                Some("leave the column out of the aggregated row, or cast it to text"),
            ),
        }
    }
    check_overrides_exist(kinds, &attrs.iter().map(|a| a.1.as_str()).collect::<Vec<_>>());
    let n_num = numeric.len();
    let mut ordered = numeric;
    ordered.extend(categorical);
    // SAFETY: reading the backend's current-context global: the aggregate's own context while the
    // transition function runs, which holds the state too.
    let mcxt = unsafe { pg_sys::CurrentMemoryContext };
    state.builder = Some(TableBuilder::with_numeric(ordered.iter().map(|a| a.1.clone()).collect(), n_num, gucs::max_categories()));
    state.attnums = ordered.iter().map(|a| a.0).collect();
    state.outputs = ordered.iter().map(|a| OutputFn::new(a.2, mcxt)).collect();
    state.options = Some(opts);
}

/// Calls `f` with a copy of the descriptor of row type (`typid`, `typmod`), freed after; the type
/// must be that of a live composite datum. A copy, not a counted reference: a reference belongs
/// to the resource owner current at the look-up, and a map row's training (`CREATE TABLE AS`
/// over the aggregate) released it under another ("tupdesc reference ... is not owned by
/// resource owner Portal").
fn with_tupdesc<R>(typid: pg_sys::Oid, typmod: i32, f: impl FnOnce(pg_sys::TupleDesc) -> R) -> R {
    // SAFETY: the row type of a live composite datum exists; the copy lives in the current memory
    // context and is freed below (on an ERROR inside `f`, with that context).
    let tupdesc = unsafe { pg_sys::lookup_rowtype_tupdesc_copy(typid, typmod) };
    let out = f(tupdesc);
    // SAFETY: frees the copy made above; `f`'s result holds copies of what it read only.
    unsafe { pg_sys::FreeTupleDesc(tupdesc) };
    out
}

/// Adds one row to the state, setting the columns up from the first row's type.
fn accumulate(state: &mut AggState, row: AnyElement, options: Option<serde_json::Value>) {
    require_row(&row, "gnsm_train_agg expects a row", "aggregate whole rows: SELECT gnsm_train_agg(s) FROM (SELECT a, b FROM t) s");
    // SAFETY: require_row checked that the datum is a composite value.
    let mut tuple = unsafe { RowTuple::from_datum(row.datum()) };
    let (typid, typmod) = (tuple.typid, tuple.typmod);
    if state.builder.is_none() && state.maps.is_none() {
        // SAFETY: with_tupdesc passes a valid, referenced descriptor.
        let attrs = with_tupdesc(typid, typmod, |td| unsafe { live_attributes(td) });
        set_up(state, &attrs, options);
    }
    if let Some(maps) = state.maps.as_mut() {
        // SAFETY: the descriptor is this tuple's row type, the one set_up saw.
        with_tupdesc(typid, typmod, |td| unsafe { maps.push(&mut tuple, td) });
        return;
    }
    let texts = with_tupdesc(typid, typmod, |td| row_texts(state, &mut tuple, td));
    push(state, texts);
}

/// The model columns of one row as text (NULL as None), in model order.
fn row_texts(state: &mut AggState, tuple: &mut RowTuple, tupdesc: pg_sys::TupleDesc) -> Vec<Option<String>> {
    state
        .attnums
        .iter()
        .zip(state.outputs.iter_mut())
        // SAFETY: tupdesc is this tuple's row type, and the attribute numbers came from it.
        .map(|(attno, out)| unsafe { tuple.attr(*attno, tupdesc) }.map(|d| out.with_text(d, str::to_string)))
        .collect()
}

/// Adds one row's texts to the builder, within `gnsm.max_train_rows`.
fn push(state: &mut AggState, texts: Vec<Option<String>>) {
    let refs: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
    let b = state.builder.as_mut().expect("set up on the first row");
    if b.n_rows() >= gucs::max_train_rows() {
        raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!("gnsm_train_agg got more than gnsm.max_train_rows = {} rows", gucs::max_train_rows()),
            None,
            Some("sample the rows (TABLESAMPLE, or WHERE random() < p), or raise gnsm.max_train_rows"),
        );
    }
    b.push_row(&refs).or_raise("gnsm_train_agg");
}

/// Trains on the collected rows and returns the model's bytes (NULL for no rows). Consumes the
/// state's rows: hence FINALFUNC_MODIFY = READ_WRITE.
fn finish(state: &mut AggState) -> Option<Vec<u8>> {
    if let Some(maps) = state.maps.take() {
        return maps.finish();
    }
    let builder = state.builder.take()?;
    let opts = state.options.take().expect("set with the builder, on the first row");
    let (encoder, table) = builder.finish().or_raise("gnsm_train_agg");
    let label = opts.name.clone().unwrap_or_else(|| "aggregate".to_string());
    // the rows arrived through the transition function: the fit gets the whole budget
    let model = fit_with_progress(encoder, &table, &opts, &label, std::time::Instant::now());
    Some(model.to_bytes())
}

/// The state behind an aggregate's `internal` value.
fn state_of(current: &mut Internal) -> &mut AggState {
    // SAFETY: this module's two aggregates are the only writers of their internal state, and they
    // only ever store an `AggState` in it.
    unsafe { current.get_or_insert_default::<AggState>() }
}

/// `gnsm_train_agg(row)`: default options.
#[derive(AggregateName)]
#[aggregate_name = "gnsm_train_agg"]
pub struct GnsmTrainAgg;

#[pg_aggregate]
impl Aggregate<GnsmTrainAgg> for GnsmTrainAgg {
    type State = Internal;
    type Args = name!(row, Option<AnyElement>);
    type Finalize = Option<Vec<u8>>;
    const FINALIZE_MODIFY: Option<FinalizeModify> = Some(FinalizeModify::ReadWrite);

    fn state(mut current: Self::State, row: Self::Args, _fcinfo: pg_sys::FunctionCallInfo) -> Self::State {
        if let Some(row) = row {
            accumulate(state_of(&mut current), row, None);
        }
        current
    }

    fn finalize(mut current: Self::State, _: Self::OrderedSetArgs, _fcinfo: pg_sys::FunctionCallInfo) -> Self::Finalize {
        finish(state_of(&mut current))
    }
}

/// `gnsm_train_agg(row, options)`: with training options.
#[derive(AggregateName)]
#[aggregate_name = "gnsm_train_agg"]
pub struct GnsmTrainAggOptions;

#[pg_aggregate]
impl Aggregate<GnsmTrainAggOptions> for GnsmTrainAggOptions {
    type State = Internal;
    type Args = (name!(row, Option<AnyElement>), name!(options, Option<JsonB>));
    type Finalize = Option<Vec<u8>>;
    const FINALIZE_MODIFY: Option<FinalizeModify> = Some(FinalizeModify::ReadWrite);

    fn state(mut current: Self::State, (row, options): Self::Args, _fcinfo: pg_sys::FunctionCallInfo) -> Self::State {
        if let Some(row) = row {
            accumulate(state_of(&mut current), row, options.map(|j| j.0));
        }
        current
    }

    fn finalize(mut current: Self::State, _: Self::OrderedSetArgs, _fcinfo: pg_sys::FunctionCallInfo) -> Self::Finalize {
        finish(state_of(&mut current))
    }
}
