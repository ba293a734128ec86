//! Reading composite datums: the check that an argument is a row at all, and a row as a heap
//! tuple whose attributes `heap_getattr` (one) or `heap_deform_tuple` (all at once) can read.

use crate::errors::raise;
use crate::values::type_name;
use pgrx::{pg_sys, AnyElement, PgSqlErrorCode};

/// Raises 42804 unless `row` is a composite value; `hint` says how to pass a whole row.
pub fn require_row(row: &AnyElement, what: &str, hint: &str) {
    // SAFETY: type_is_rowtype only reads the type cache for a type OID Postgres gave us.
    if !unsafe { pg_sys::type_is_rowtype(row.oid()) } {
        raise(
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!("{what}, got a value of type {}", type_name(row.oid(), -1)),
            None,
            Some(hint),
        );
    }
}

/// A composite datum as a heap tuple that `heap_getattr` can read, with its row type.
pub struct RowTuple {
    pub tuple: pg_sys::HeapTupleData,
    pub typid: pg_sys::Oid,
    pub typmod: i32,
}

impl RowTuple {
    /// Detoasts a composite datum and wraps its header.
    ///
    /// # Safety
    ///
    /// `datum` must be a valid, non-null composite (row-type) datum for the current call, for
    /// example an `AnyElement` argument that passed [`require_row`].
    pub unsafe fn from_datum(datum: pg_sys::Datum) -> RowTuple {
        // SAFETY: the caller guarantees a composite datum; detoasting returns a palloc'd header
        // that lives in the current memory context, as long as the call.
        unsafe {
            let header = pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) as pg_sys::HeapTupleHeader;
            let mut tuple: pg_sys::HeapTupleData = std::mem::zeroed();
            tuple.t_len = pgrx::heap_tuple_header_get_datum_length(header) as u32;
            tuple.t_data = header;
            RowTuple { tuple, typid: pgrx::heap_tuple_header_get_type_id(header), typmod: pgrx::heap_tuple_header_get_typmod(header) }
        }
    }

    /// Every attribute's raw datum and null flag under `tupdesc`, into reused buffers: one pass
    /// over the tuple, where `attr` per column walks it from the start again for every column
    /// after a variable-width one (`nocachegetattr` was the top symbol of scoring memoised rows).
    ///
    /// # Safety
    ///
    /// `tupdesc` must describe this tuple's row type (same typid and typmod). The datums point
    /// into the tuple and are valid while it is.
    pub unsafe fn deform(&mut self, tupdesc: pg_sys::TupleDesc, values: &mut Vec<pg_sys::Datum>, nulls: &mut Vec<bool>) {
        // SAFETY: the caller's contract: tupdesc matches the tuple.
        let natts = unsafe { (*tupdesc).natts } as usize;
        // sized once per row type: heap_deform_tuple writes every one of the natts entries
        values.resize(natts, pg_sys::Datum::from(0usize));
        nulls.resize(natts, true);
        // SAFETY: both buffers hold natts entries, as heap_deform_tuple writes for this
        // descriptor (attributes the stored tuple lacks get their defaults or NULL).
        unsafe { pg_sys::heap_deform_tuple(&mut self.tuple, tupdesc, values.as_mut_ptr(), nulls.as_mut_ptr()) };
    }

    /// The raw datum of 1-based attribute `attnum` (None for NULL) under `tupdesc`.
    ///
    /// # Safety
    ///
    /// `tupdesc` must describe this tuple's row type (same typid and typmod) and `attnum` must be
    /// one of its attributes.
    pub unsafe fn attr(&mut self, attnum: usize, tupdesc: pg_sys::TupleDesc) -> Option<pg_sys::Datum> {
        let attnum = std::num::NonZeroUsize::new(attnum).expect("attribute numbers are 1-based");
        // SAFETY: the caller's contract: tupdesc matches the tuple and attnum is in range.
        unsafe { pgrx::heap_getattr_raw(&mut self.tuple, attnum, tupdesc) }
    }
}
