//! Column types gnsm accepts and the one way values become text: the type's own output function
//! (so `true` is `t`, a `char(3)` keeps its padding, an enum is its label, a float8 prints its
//! shortest exact digits), used identically when training reads the table and when scoring reads a
//! row. Numeric columns are parsed from that text by the core.

use pgrx::pg_sys;
use std::ffi::CStr;

/// Whether a column of this type can be modelled as a category: text-like, enum, boolean and
/// integer types, and domains over them.
pub fn is_categorical_type(typoid: pg_sys::Oid) -> bool {
    // SAFETY: getBaseType reads the syscache for any OID (an unknown one is returned as it is).
    let base = unsafe { pg_sys::getBaseType(typoid) };
    matches!(
        base,
        pg_sys::TEXTOID
            | pg_sys::VARCHAROID
            | pg_sys::BPCHAROID
            | pg_sys::NAMEOID
            | pg_sys::CHAROID
            | pg_sys::BOOLOID
            | pg_sys::INT2OID
            | pg_sys::INT4OID
            | pg_sys::INT8OID // SAFETY: type_is_enum reads the syscache for any OID.
    ) || unsafe { pg_sys::type_is_enum(base) }
}

/// Whether a column of this type is a number by default: float4, float8 and numeric, and domains
/// over them. Integer types are categories by default (codes, flags and years are common), numbers
/// when the `numeric_columns` option names them.
pub fn is_numeric_type(typoid: pg_sys::Oid) -> bool {
    // SAFETY: getBaseType reads the syscache for any OID.
    let base = unsafe { pg_sys::getBaseType(typoid) };
    matches!(base, pg_sys::FLOAT4OID | pg_sys::FLOAT8OID | pg_sys::NUMERICOID)
}

/// Whether a column of this type can be modelled as a number when asked to: the default numeric
/// types and the integer types.
pub fn can_be_numeric(typoid: pg_sys::Oid) -> bool {
    // SAFETY: getBaseType reads the syscache for any OID.
    let base = unsafe { pg_sys::getBaseType(typoid) };
    is_numeric_type(base) || matches!(base, pg_sys::INT2OID | pg_sys::INT4OID | pg_sys::INT8OID)
}

/// `format_type` of a type with its modifier, e.g. `character varying(20)`.
pub fn type_name(typoid: pg_sys::Oid, typmod: i32) -> String {
    // SAFETY: format_type_with_typemod returns a palloc'd NUL-terminated string for any OID
    // ("???" for an unknown one), copied before it is freed.
    unsafe {
        let p = pg_sys::format_type_with_typemod(typoid, typmod);
        let s = CStr::from_ptr(p).to_string_lossy().into_owned();
        pg_sys::pfree(p.cast());
        s
    }
}

/// A type's text form, looked up once and used per value: the output function, except for the
/// text-like types (text, varchar, char(n) and domains over them), whose output function returns
/// the value's own bytes; those are read in place, which saves a call, a palloc and a copy per
/// cell (about a third of scoring a memoised row, measured with perf on a Citus shard task).
pub struct OutputFn {
    finfo: Box<pg_sys::FmgrInfo>,
    text_like: bool,
}

impl OutputFn {
    /// Looks up the output function of `typoid`, keeping its cache in `mcxt`.
    pub fn new(typoid: pg_sys::Oid, mcxt: pg_sys::MemoryContext) -> OutputFn {
        // SAFETY: getBaseType reads the syscache for any OID.
        let base = unsafe { pg_sys::getBaseType(typoid) };
        let text_like = matches!(base, pg_sys::TEXTOID | pg_sys::VARCHAROID | pg_sys::BPCHAROID);
        // SAFETY: FmgrInfo is plain C data (all-zero is its unset state); fmgr_info_cxt fills it
        // for the type's output function, keeping look-up data in mcxt, a live context.
        unsafe {
            let mut func = pg_sys::InvalidOid;
            let mut is_varlena = false;
            pg_sys::getTypeOutputInfo(typoid, &mut func, &mut is_varlena);
            let mut finfo: Box<pg_sys::FmgrInfo> = Box::new(std::mem::zeroed());
            pg_sys::fmgr_info_cxt(func, finfo.as_mut(), mcxt);
            OutputFn { finfo, text_like }
        }
    }

    /// Calls `f` with the text of a non-null datum (what the type's output function returns).
    pub fn with_text<R>(&mut self, datum: pg_sys::Datum, f: impl FnOnce(&str) -> R) -> R {
        if self.text_like {
            // SAFETY: callers pass a non-null datum of the type this was made for, a varlena
            // (textout, varcharout and bpcharout all print its bytes as they are).
            return unsafe { with_varlena_bytes(datum, |bytes| f(&lossless_utf8(bytes))) };
        }
        // SAFETY: callers pass a non-null datum of the type this output function was looked up
        // for; the function returns a palloc'd C string, read and then freed here.
        unsafe {
            let p = pg_sys::OutputFunctionCall(self.finfo.as_mut(), datum);
            let out = f(&lossless_utf8(CStr::from_ptr(p).to_bytes()));
            pg_sys::pfree(p.cast());
            out
        }
    }
}

/// Runs `f` on the bytes of a varlena datum (text, bytea, ...), flattened first when it is
/// compressed or out of line (a palloc'd copy, freed after `f`); an inline value is read in
/// place, without a call into Postgres.
///
/// # Safety
///
/// `datum` must be a valid, non-null varlena datum.
pub unsafe fn with_varlena_bytes<R>(datum: pg_sys::Datum, f: impl FnOnce(&[u8]) -> R) -> R {
    let ptr = datum.cast_mut_ptr::<pg_sys::varlena>();
    // SAFETY: the caller's contract: a valid varlena. pg_detoast_datum_packed returns it as is or
    // a palloc'd plain copy; the slice does not outlive `f`, and only a copy is freed.
    unsafe {
        let flat = if pgrx::varlena::varatt_is_1b_e(ptr) || pgrx::varlena::varatt_is_4b_c(ptr) { pg_sys::pg_detoast_datum_packed(ptr) } else { ptr };
        let out = f(pgrx::varlena::varlena_to_byte_slice(flat));
        if flat != ptr {
            pg_sys::pfree(flat.cast());
        }
        out
    }
}

/// A value's bytes as text without merging distinct values: valid UTF-8 as it is; each byte of an
/// invalid sequence (possible in SQL_ASCII databases) as U+FFFD plus its two hex digits, where a
/// lossy conversion would turn 'caf\xe9' and 'caf\xe8' into the same category.
pub fn lossless_utf8(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    out.push_str(&format!("\u{FFFD}{b:02x}"));
                }
            }
            std::borrow::Cow::Owned(out)
        }
    }
}

/// A relation's name for messages (bare name; `oid N` when it no longer exists).
pub fn relation_name(relid: pg_sys::Oid) -> String {
    // SAFETY: get_rel_name returns NULL or a palloc'd NUL-terminated name, checked before reading.
    unsafe {
        let p = pg_sys::get_rel_name(relid);
        if p.is_null() {
            format!("with OID {}", relid.to_u32())
        } else {
            format!("\"{}\"", CStr::from_ptr(p).to_string_lossy())
        }
    }
}
