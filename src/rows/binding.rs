//! Binding a row type to a model: which attribute holds each model column, checked by name and by
//! the type the model was trained on, with each attribute's output function looked up once.

use crate::cache::CachedModel;
use crate::errors::raise;
use crate::values::{type_name, OutputFn};
use pgrx::{pg_sys, PgSqlErrorCode};

/// How the attributes of one row type map to a model's columns.
pub struct RowBinding {
    typid: pg_sys::Oid,
    typmod: i32,
    /// A copy of the row type's descriptor, in the statement's memory context.
    pub tupdesc: pg_sys::TupleDesc,
    /// For each model column, its 1-based attribute number in the row.
    pub attnums: Vec<usize>,
    /// For each model column, its attribute's output function.
    pub outputs: Vec<OutputFn>,
}

impl RowBinding {
    /// Binds `model`'s columns to the attributes of row type (`typid`, `typmod`); raises 42703
    /// for a missing column and 42804 for a column whose type changed since training. Look-ups
    /// are kept in `mcxt`, which must live as long as the binding (the statement's context).
    pub fn new(model: &CachedModel, typid: pg_sys::Oid, typmod: i32, mcxt: pg_sys::MemoryContext) -> RowBinding {
        // SAFETY: typid/typmod come from a composite datum's header, so the row type exists;
        // switching to mcxt (a live context) only chooses where the copy is allocated.
        let tupdesc = unsafe {
            let old = pg_sys::MemoryContextSwitchTo(mcxt);
            let tupdesc = pg_sys::lookup_rowtype_tupdesc_copy(typid, typmod);
            pg_sys::MemoryContextSwitchTo(old);
            tupdesc
        };
        // SAFETY: the copy is a valid descriptor with `natts` attributes.
        let attrs = unsafe { (*tupdesc).attrs.as_slice((*tupdesc).natts as usize) };
        let mut attnums = Vec::with_capacity(model.columns.len());
        let mut outputs = Vec::with_capacity(model.columns.len());
        for (j, col) in model.columns.iter().enumerate() {
            let found = attrs.iter().position(|a| !a.attisdropped && pgrx::name_data_to_str(&a.attname) == col);
            let Some(i) = found else {
                raise(
                    PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
                    format!("gnsm model \"{}\" needs column \"{col}\", which this row does not have", model.name),
                    Some(format!("the model was trained on columns: {}", model.columns.join(", "))),
                    Some("score rows of the table the model was trained on, or retrain the model on the new columns"),
                );
            };
            let a = &attrs[i];
            let expected = model.column_types.get(j).map(String::as_str).unwrap_or("");
            let actual = type_name(a.atttypid, a.atttypmod);
            if !expected.is_empty() && expected != actual {
                raise(
                    PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                    format!("column \"{col}\" has type {actual}, but gnsm model \"{}\" was trained on type {expected}", model.name),
                    None,
                    Some("retrain the model after changing a column's type"),
                );
            }
            attnums.push(i + 1);
            outputs.push(OutputFn::new(a.atttypid, mcxt));
        }
        RowBinding { typid, typmod, tupdesc, attnums, outputs }
    }

    /// Whether this binding was made for row type (`typid`, `typmod`).
    pub fn is_for(&self, typid: pg_sys::Oid, typmod: i32) -> bool {
        self.typid == typid && self.typmod == typmod
    }
}
