//! `gnsm_train_agg(row [, options])`: training as an aggregate, so models compose with SQL
//! (`SELECT region, gnsm_train_agg(t) FROM orders t GROUP BY region`). The result is the model's
//! bytes, scored with `gnsm_score_bytes(row, model)`. Names and signatures: ADR 002.

use crate::errors::{raise, OrRaise};
use crate::gucs;
use crate::options;
use crate::training::fit_with_progress;
use crate::table::{check_overrides_exist, kind_of, KindOverrides, SUPPORTED_TYPES};
use crate::values::{type_name, OutputFn, RowTuple};
use gnsm_core::encoding::TableBuilder;
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
    typid: pg_sys::Oid,
}

/// Adds one row to the state, setting the columns up from the first row's type.
fn accumulate(state: &mut AggState, row: AnyElement, options: Option<serde_json::Value>) {
    unsafe {
        if !pg_sys::type_is_rowtype(row.oid()) {
            raise(
                PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                format!("gnsm_train_agg expects a row, got a value of type {}", type_name(row.oid(), -1)),
                None,
                Some("aggregate whole rows: SELECT gnsm_train_agg(s) FROM (SELECT a, b FROM t) s"),
            );
        }
        let mut tuple = RowTuple::from_datum(row.datum());
        let typid = tuple.typid;
        let tupdesc = pg_sys::lookup_rowtype_tupdesc(typid, tuple.typmod);
        let natts = (*tupdesc).natts as usize;
        let attrs: Vec<(usize, String, pg_sys::Oid)> = (*tupdesc)
            .attrs
            .as_slice(natts)
            .iter()
            .enumerate()
            .filter(|(_, a)| !a.attisdropped)
            .map(|(i, a)| (i + 1, pgrx::name_data_to_str(&a.attname).to_string(), a.atttypid))
            .collect();
        if state.builder.is_none() {
            // the first row's options choose the column kinds and train the model
            let opts = options::parse(options.as_ref(), gucs::threads());
            let kinds = KindOverrides { numeric: &opts.numeric_columns, categorical: &opts.categorical_columns };
            let mut numeric = Vec::new();
            let mut categorical = Vec::new();
            for (attno, name, t) in &attrs {
                match kind_of(name, *t, -1, "the aggregated row", kinds) {
                    Some(true) => numeric.push((*attno, name.clone(), *t)),
                    Some(false) => categorical.push((*attno, name.clone(), *t)),
                    None => {
                        pg_sys::DecrTupleDescRefCount(tupdesc);
                        raise(
                            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                            format!("column \"{name}\" has unsupported type {}", type_name(*t, -1)),
                            Some(SUPPORTED_TYPES.into()),
                            Some("leave the column out of the aggregated row, or cast it to text"),
                        );
                    }
                }
            }
            check_overrides_exist(kinds, &attrs.iter().map(|a| a.1.as_str()).collect::<Vec<_>>());
            // model order: numeric columns first
            let n_num = numeric.len();
            let mut ordered = numeric;
            ordered.extend(categorical);
            state.builder = Some(TableBuilder::with_numeric(ordered.iter().map(|a| a.1.clone()).collect(), n_num, gucs::max_categories()));
            state.attnums = ordered.iter().map(|a| a.0).collect();
            state.outputs = ordered.iter().map(|a| OutputFn::new(a.2, pg_sys::CurrentMemoryContext)).collect();
            state.options = Some(opts);
            state.typid = typid;
        }
        let texts: Vec<Option<String>> = state
            .attnums
            .iter()
            .zip(state.outputs.iter_mut())
            .map(|(attno, out)| tuple.attr(*attno, tupdesc).map(|d| out.with_text(d, str::to_string)))
            .collect();
        pg_sys::DecrTupleDescRefCount(tupdesc);
        let refs: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
        let b = state.builder.as_mut().expect("set above");
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
}

/// Trains on the collected rows and returns the model's bytes (NULL for no rows).
fn finish(state: &mut AggState) -> Option<Vec<u8>> {
    let builder = state.builder.take()?;
    let opts = state.options.take().expect("set with the builder, on the first row");
    let (encoder, table) = builder.finish().or_raise("gnsm_train_agg");
    let label = opts.name.clone().unwrap_or_else(|| "aggregate".to_string());
    let model = fit_with_progress(encoder, &table, &opts, &label);
    Some(model.to_bytes())
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

    fn state(mut current: Self::State, row: Self::Args, _fcinfo: pg_sys::FunctionCallInfo) -> Self::State {
        if let Some(row) = row {
            accumulate(unsafe { current.get_or_insert_default::<AggState>() }, row, None);
        }
        current
    }

    fn finalize(mut current: Self::State, _: Self::OrderedSetArgs, _fcinfo: pg_sys::FunctionCallInfo) -> Self::Finalize {
        finish(unsafe { current.get_or_insert_default::<AggState>() })
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

    fn state(mut current: Self::State, (row, options): Self::Args, _fcinfo: pg_sys::FunctionCallInfo) -> Self::State {
        if let Some(row) = row {
            accumulate(unsafe { current.get_or_insert_default::<AggState>() }, row, options.map(|j| j.0));
        }
        current
    }

    fn finalize(mut current: Self::State, _: Self::OrderedSetArgs, _fcinfo: pg_sys::FunctionCallInfo) -> Self::Finalize {
        finish(unsafe { current.get_or_insert_default::<AggState>() })
    }
}
