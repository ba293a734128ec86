//! A `bytea` argument taken as its raw datum, not detoasted. `gnsm_score_bytes(t, m.model)` gets
//! the same multi-megabyte model on every row; pgrx's `&[u8]` fetched and copied it out of TOAST
//! on each of them (0.38 ms a row for a 3.4 MB model: 76 s for 200,000 rows). Here a row costs a
//! look at the TOAST pointer, or a 14-byte header slice for a value held in memory, and the
//! whole value is read only when the call site needs a model it has not loaded.

use pgrx::callconv::{Arg, ArgAbi};
use pgrx::pg_sys;
use pgrx::pgrx_sql_entity_graph::metadata::{ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin};
use pgrx::FromDatum;

/// Header bytes that identify a model: magic, format version and payload checksum.
const MODEL_HEADER: usize = 14;

/// A non-NULL `bytea` argument, as Postgres passed it (possibly a TOAST pointer).
pub struct RawBytea {
    datum: pg_sys::Datum,
}

impl FromDatum for RawBytea {
    /// Keeps the datum as given; nothing is read.
    ///
    /// # Safety
    ///
    /// `datum` must be a bytea datum, or `is_null` true.
    unsafe fn from_polymorphic_datum(datum: pg_sys::Datum, is_null: bool, _typoid: pg_sys::Oid) -> Option<Self> {
        (!is_null).then_some(RawBytea { datum })
    }
}

// SAFETY: the SQL type is bytea, and `from_polymorphic_datum` accepts any bytea datum as is.
unsafe impl SqlTranslatable for RawBytea {
    const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!(RawBytea);
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal("bytea"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> = Ok(ReturnsRef::One(SqlMappingRef::literal("bytea")));
}

// SAFETY: unboxing keeps the datum as given (no dereference); functions taking it are STRICT, so
// it is never NULL when unboxed.
unsafe impl<'fcx> ArgAbi<'fcx> for RawBytea {
    /// The argument as a `RawBytea`.
    ///
    /// # Safety
    ///
    /// The argument must be a non-NULL bytea (the functions taking it are STRICT).
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // SAFETY: the caller's contract: the argument is a bytea datum.
        unsafe { arg.unbox_arg_using_from_datum() }.unwrap_or_else(|| panic!("argument {index} must not be null"))
    }
}

impl RawBytea {
    /// What identifies the value cheaply, for a call site to see that a row carries the model it
    /// already has: the TOAST pointer (relation, value OID and size) for a value stored out of
    /// line (one value, never rewritten in place), else the size and the model header.
    pub fn identity(&self) -> String {
        let ptr = self.datum.cast_mut_ptr::<pg_sys::varlena>();
        // SAFETY: a bytea datum points at a varlena; an on-disk TOAST pointer (1-byte external
        // header with tag VARTAG_ONDISK) is followed by a varatt_external, copied unaligned.
        unsafe {
            if pgrx::varlena::varatt_is_1b_e(ptr)
                && pgrx::varlena::vartag_external(ptr) == pg_sys::vartag_external::VARTAG_ONDISK as u8
            {
                let ext: pg_sys::varatt_external = std::ptr::read_unaligned(pgrx::varlena::vardata_1b_e(ptr).cast());
                return format!("toast:{}:{}:{}", ext.va_toastrelid.to_u32(), ext.va_valueid.to_u32(), ext.va_rawsize);
            }
        }
        format!("head:{}:{:02x?}", self.detoasted_len(), self.head())
    }

    /// The value's size once detoasted.
    pub fn detoasted_len(&self) -> usize {
        // SAFETY: toast_raw_datum_size reads the varlena (or TOAST pointer) header only.
        unsafe { pg_sys::toast_raw_datum_size(self.datum) }.saturating_sub(pg_sys::VARHDRSZ)
    }

    /// The first `MODEL_HEADER` bytes (fewer for a shorter value), fetching and decompressing only
    /// what they need.
    pub fn head(&self) -> Vec<u8> {
        // SAFETY: pg_detoast_datum_slice returns a palloc'd (or the original) plain varlena holding
        // at most the requested bytes; they are copied out before anything frees it.
        unsafe {
            let v = pg_sys::pg_detoast_datum_slice(self.datum.cast_mut_ptr(), 0, MODEL_HEADER as i32);
            pgrx::varlena::varlena_to_byte_slice(v).to_vec()
        }
    }

    /// Runs `f` on the whole value, detoasted (fetched and decompressed when it had to be).
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        // SAFETY: a RawBytea holds a non-NULL bytea datum.
        unsafe { crate::values::with_varlena_bytes(self.datum, f) }
    }
}
