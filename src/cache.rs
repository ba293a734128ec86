//! Per-backend caches: deserialised models keyed by (name, version) with a bounded memo from a
//! coded row to its score, and the per-call-site state (kept in `fn_extra`, which lives exactly
//! as long as one statement's expression state) that pins one model version per statement.
//!
//! A statement resolves the active version once, on its first row; the next statement resolves
//! again, so a retrain committed in between is seen then and never mixed within one statement.

use crate::catalog::{self, ModelKey};
use crate::errors::{raise, OrRaise};
use crate::gucs;
use crate::values::{OutputFn, RowTuple};
use gnsm_core::model::Model;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Models kept per backend; beyond it the least recently loaded one is evicted.
const MAX_CACHED_MODELS: usize = 16;

/// A loaded model with its column metadata and its score memo.
pub struct CachedModel {
    pub name: String,
    pub version: i32,
    /// Catalog row version (xmin and ctid) the bytes were read at; empty for byte models.
    pub row_version: String,
    pub model: Model,
    pub columns: Vec<String>,
    pub column_types: Vec<String>,
    memo: RefCell<HashMap<Vec<u32>, f64>>,
}

impl CachedModel {
    /// Score of a coded row, through the memo.
    pub fn score(&self, codes: &[u32]) -> f64 {
        if let Some(&s) = self.memo.borrow().get(codes) {
            return s;
        }
        let s = self.model.score_codes(codes).or_raise(&format!("gnsm model \"{}\"", self.name));
        let cap = gucs::score_cache_rows();
        if cap > 0 {
            let mut memo = self.memo.borrow_mut();
            if memo.len() >= cap {
                // a full clear keeps the bound strict and costs one re-fill; rows in a scan arrive
                // in storage order, so there is no useful recency to preserve
                memo.clear();
            }
            memo.insert(codes.to_vec(), s);
        }
        s
    }
}

thread_local! {
    static MODELS: RefCell<Vec<Rc<CachedModel>>> = const { RefCell::new(Vec::new()) };
}

/// Key of a model that came as bytes (aggregate-made): its checksum and length.
pub fn bytes_key(bytes: &[u8]) -> ModelKey {
    let sum = if bytes.len() >= 14 { u64::from_le_bytes(bytes[6..14].try_into().unwrap_or([0; 8])) } else { 0 };
    ModelKey { name: format!("bytes:{sum:016x}:{}", bytes.len()), version: 0, row_version: String::new() }
}

/// Inserts a model into the backend cache, evicting the oldest beyond the bound.
fn remember(m: CachedModel) -> Rc<CachedModel> {
    let rc = Rc::new(m);
    MODELS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_CACHED_MODELS {
            c.remove(0);
        }
        c.push(rc.clone());
    });
    rc
}

/// Finds a cached model.
fn lookup(key: &ModelKey) -> Option<Rc<CachedModel>> {
    MODELS.with(|c| c.borrow().iter().find(|m| m.name == key.name && m.version == key.version && m.row_version == key.row_version).cloned())
}

/// The model version `key` names, from the cache or the catalog.
pub fn get(key: &ModelKey) -> Rc<CachedModel> {
    if let Some(m) = lookup(key) {
        return m;
    }
    let (name, version) = (key.name.as_str(), key.version);
    let stored = catalog::load(name, version);
    let model = Model::from_bytes(&stored.bytes).or_raise(&format!("gnsm model \"{name}\" version {version}"));
    if stored.columns.len() != model.features.encoder.n_cols() {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
            format!(
                "gnsm model \"{name}\" version {version}: the catalog lists {} columns but the model has {}",
                stored.columns.len(),
                model.features.encoder.n_cols()
            ),
            None,
            Some("retrain the model with gnsm_train"),
        );
    }
    remember(CachedModel {
        name: name.to_string(),
        version,
        row_version: key.row_version.clone(),
        model,
        columns: stored.columns,
        column_types: stored.column_types,
        memo: RefCell::new(HashMap::new()),
    })
}

/// A model given as bytes (from `gnsm_train_agg`), cached by checksum.
pub fn get_bytes(bytes: &[u8]) -> Rc<CachedModel> {
    let key = bytes_key(bytes);
    if let Some(m) = lookup(&key) {
        return m;
    }
    let model = Model::from_bytes(bytes).or_raise("gnsm model bytes");
    let columns = model.features.encoder.names();
    let column_types = vec![String::new(); columns.len()];
    remember(CachedModel {
        name: key.name,
        version: 0,
        row_version: String::new(),
        model,
        columns,
        column_types,
        memo: RefCell::new(HashMap::new()),
    })
}

/// Which model a scoring call uses.
pub enum ModelRef<'a> {
    /// The active model trained on the row's table.
    OfRowTable,
    /// The active version of a named model.
    Named(&'a str),
    /// Bytes made by the aggregate.
    Bytes(&'a [u8]),
}

/// How attributes of one row type map to model columns.
pub struct RowBinding {
    typid: pg_sys::Oid,
    typmod: i32,
    tupdesc: pg_sys::TupleDesc,
    /// For each model column, its 1-based attribute number in the row.
    attnums: Vec<usize>,
    outputs: Vec<OutputFn>,
}

/// Everything one call site needs for a whole statement.
pub struct CallState {
    pub model: Rc<CachedModel>,
    binding: Option<RowBinding>,
    codes: Vec<u32>,
}

/// Raises the error for a non-row argument.
fn not_a_row(argtype: pg_sys::Oid) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
        format!("gnsm expects a table row, got a value of type {}", crate::values::type_name(argtype, -1)),
        None,
        Some("pass the whole row: SELECT gnsm_score(t) FROM my_table t"),
    )
}

impl CallState {
    /// Resolves the model for this statement.
    pub fn new(which: ModelRef, row: &pgrx::AnyElement) -> CallState {
        let model = match which {
            ModelRef::Named(name) => {
                let key = catalog::active_version(name)
                    .unwrap_or_else(|| catalog::raise_unknown(name, "does not exist or has no active version"));
                get(&key)
            }
            ModelRef::Bytes(b) => get_bytes(b),
            ModelRef::OfRowTable => {
                if !unsafe { pg_sys::type_is_rowtype(row.oid()) } {
                    not_a_row(row.oid());
                }
                let typid = unsafe { RowTuple::from_datum(row.datum()) }.typid;
                let relid = unsafe { pg_sys::get_typ_typrelid(typid) };
                if relid == pg_sys::InvalidOid {
                    raise(
                        PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                        "gnsm_score(row) needs a row of a table to find its model; this row has an anonymous type",
                        None,
                        Some("name the model: gnsm_score(ROW(...), 'model_name')"),
                    );
                }
                match catalog::active_for_relation(relid) {
                    Some(key) => get(&key),
                    None => raise(
                        PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                        format!("no active gnsm model was trained on table {}", crate::values::relation_name(relid)),
                        None,
                        Some("train one with SELECT gnsm_train('table'), or name a model: gnsm_score(t, 'model_name')"),
                    ),
                }
            }
        };
        CallState { model, binding: None, codes: Vec::new() }
    }

    /// Binds (or re-binds, when the row type changes) model columns to the row's attributes.
    fn bind(&mut self, typid: pg_sys::Oid, typmod: i32, mcxt: pg_sys::MemoryContext) {
        if let Some(b) = &self.binding {
            if b.typid == typid && b.typmod == typmod {
                return;
            }
        }
        unsafe {
            let old = pg_sys::MemoryContextSwitchTo(mcxt);
            let tupdesc = pg_sys::lookup_rowtype_tupdesc_copy(typid, typmod);
            pg_sys::MemoryContextSwitchTo(old);
            let natts = (*tupdesc).natts as usize;
            let attrs = (*tupdesc).attrs.as_slice(natts);
            let m = &self.model;
            let mut attnums = Vec::with_capacity(m.columns.len());
            let mut outputs = Vec::with_capacity(m.columns.len());
            for (j, col) in m.columns.iter().enumerate() {
                let found = attrs.iter().position(|a| !a.attisdropped && pgrx::name_data_to_str(&a.attname) == col);
                let Some(i) = found else {
                    raise(
                        PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
                        format!("gnsm model \"{}\" needs column \"{col}\", which this row does not have", m.name),
                        Some(format!("the model was trained on columns: {}", m.columns.join(", "))),
                        Some("score rows of the table the model was trained on, or retrain the model on the new columns"),
                    );
                };
                let a = &attrs[i];
                let expected = m.column_types.get(j).map(String::as_str).unwrap_or("");
                let actual = crate::values::type_name(a.atttypid, a.atttypmod);
                if !expected.is_empty() && expected != actual {
                    raise(
                        PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                        format!("column \"{col}\" has type {actual}, but gnsm model \"{}\" was trained on type {expected}", m.name),
                        None,
                        Some("retrain the model after changing a column's type"),
                    );
                }
                attnums.push(i + 1);
                outputs.push(OutputFn::new(a.atttypid, mcxt));
            }
            self.binding = Some(RowBinding { typid, typmod, tupdesc, attnums, outputs });
        }
    }

    /// Cells of one row: attribute values through their output functions, then the vocabulary
    /// (NULL is a category, an unseen value is `UNSEEN`) or the numeric column's z-scoring.
    pub fn encode(&mut self, row: &pgrx::AnyElement, mcxt: pg_sys::MemoryContext) -> &[u32] {
        if !unsafe { pg_sys::type_is_rowtype(row.oid()) } {
            not_a_row(row.oid());
        }
        unsafe {
            let mut tuple = RowTuple::from_datum(row.datum());
            self.bind(tuple.typid, tuple.typmod, mcxt);
            let b = self.binding.as_mut().expect("bound above");
            self.codes.clear();
            let encoder = &self.model.model.features.encoder;
            for (j, (&attnum, out)) in b.attnums.iter().zip(b.outputs.iter_mut()).enumerate() {
                let cell = match tuple.attr(attnum, b.tupdesc) {
                    None => encoder.cell(j, None),
                    Some(d) => out.with_text(d, |s| encoder.cell(j, Some(s))),
                };
                // only a numeric column fed text that is not a number fails (a bytes model has no
                // stored types to check the row against)
                self.codes.push(cell.or_raise(&format!("gnsm model \"{}\"", self.model.name)));
            }
            &self.codes
        }
    }
}

impl CallState {
    /// The row's model-column values as text (NULL as None), in model column order; the row
    /// must have been encoded first.
    pub fn row_texts(&mut self, row: &pgrx::AnyElement) -> Vec<Option<String>> {
        let Some(b) = self.binding.as_mut() else { return Vec::new() };
        unsafe {
            let mut tuple = RowTuple::from_datum(row.datum());
            b.attnums
                .iter()
                .zip(b.outputs.iter_mut())
                .map(|(&attnum, out)| tuple.attr(attnum, b.tupdesc).map(|d| out.with_text(d, str::to_string)))
                .collect()
        }
    }
}

/// The call site's state in `fn_extra`, created on the statement's first row and freed with the
/// statement's expression memory.
pub fn call_state(fcinfo: pg_sys::FunctionCallInfo, init: impl FnOnce() -> CallState) -> (&'static mut CallState, pg_sys::MemoryContext) {
    unsafe {
        let flinfo = (*fcinfo).flinfo;
        let mcxt = (*flinfo).fn_mcxt;
        if (*flinfo).fn_extra.is_null() {
            let state = Box::into_raw(Box::new(init()));
            // free the Box when the statement's memory context goes away
            let cb = pg_sys::MemoryContextAllocZero(mcxt, std::mem::size_of::<pg_sys::MemoryContextCallback>())
                as *mut pg_sys::MemoryContextCallback;
            (*cb).func = Some(free_state);
            (*cb).arg = state.cast();
            pg_sys::MemoryContextRegisterResetCallback(mcxt, cb);
            (*flinfo).fn_extra = state.cast();
        }
        (&mut *((*flinfo).fn_extra as *mut CallState), mcxt)
    }
}

/// Memory-context reset callback that drops a `CallState`.
unsafe extern "C-unwind" fn free_state(arg: *mut std::ffi::c_void) {
    drop(Box::from_raw(arg as *mut CallState));
}
