//! A label map as a Postgres array. `label_map_from_array` reads a 2-D `smallint[]` or `integer[]`
//! (rows x columns; any lower bounds, so `'[0:1][0:1]={{0,1},{1,0}}'` is the same map as
//! `ARRAY[[0,1],[1,0]]`) into a `LabelMap`; `label_map_to_array` builds a 2-D array with subscripts
//! from 1, which a `#[pg_extern]` returns as `smallint[]` or `integer[]` (`MapArray<T>`).
//!
//! Pixels are named `(row, column)` counting from (0, 0) at the top left, as the core's map errors
//! name them; the DETAIL of a pixel error gives the element's SQL subscripts.

use crate::errors::{raise, OrRaise};
use gnsm_core::map::grid::check_sides;
use gnsm_core::map::{LabelMap, MAX_SIDE};
use pgrx::array::RawArray;
use pgrx::callconv::{BoxRet, FcInfo};
use pgrx::datum::{Array, Datum, IntoDatum};
use pgrx::pgrx_sql_entity_graph::metadata::{
    array_argument_sql, array_return_sql, ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::{pg_sys, PgSqlErrorCode};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// The largest label a map may hold: 65535 (`u16::MAX`) is the core's code for a void pixel.
pub const MAX_LABEL: u16 = gnsm_core::map::input::VOID - 1;

/// An element type a map array may have: `smallint` (`i16`) or `integer` (`i32`).
pub trait MapElement: Copy + IntoDatum + SqlTranslatable {
    /// The element type's OID, as `ArrayType.elemtype` holds it.
    const ELEM_OID: pg_sys::Oid;
    /// The element type's SQL name, for messages.
    const SQL_NAME: &'static str;
    /// `typlen` of the element type.
    const TYPLEN: i32;
    /// `typalign` of the element type.
    const TYPALIGN: u8;
    /// The value as a wide integer, to check it against the label range.
    fn widen(self) -> i64;
    /// A label as this type; None where it does not fit (above 32767 for `smallint`).
    fn narrow(label: u16) -> Option<Self>;
}

impl MapElement for i16 {
    const ELEM_OID: pg_sys::Oid = pg_sys::INT2OID;
    const SQL_NAME: &'static str = "smallint";
    const TYPLEN: i32 = 2;
    const TYPALIGN: u8 = pg_sys::TYPALIGN_SHORT;
    fn widen(self) -> i64 {
        i64::from(self)
    }
    fn narrow(label: u16) -> Option<i16> {
        i16::try_from(label).ok()
    }
}

impl MapElement for i32 {
    const ELEM_OID: pg_sys::Oid = pg_sys::INT4OID;
    const SQL_NAME: &'static str = "integer";
    const TYPLEN: i32 = 4;
    const TYPALIGN: u8 = pg_sys::TYPALIGN_INT;
    fn widen(self) -> i64 {
        i64::from(self)
    }
    fn narrow(label: u16) -> Option<i32> {
        Some(i32::from(label))
    }
}

/// Reads a 2-D `smallint[]`/`integer[]` as a label map: row r is the r-th inner array, whatever the
/// array's lower bounds. Raises, with `context` (the SQL function) first in the message: 22023 for
/// a 1-D, 3-D or empty array, 54000 for a side above `MAX_SIDE`, 22004 for a NULL pixel and 22003
/// for a label outside 0..=`MAX_LABEL`.
pub fn label_map_from_array<T: MapElement>(arr: Array<'_, T>, context: &str) -> LabelMap {
    // pgrx detoasted the argument; a detoasted copy lives in the call's memory context and
    // `into_array_type` leaves it there, so the pointer is valid for the rest of the call
    let ptr = NonNull::new(arr.into_array_type().cast_mut()).expect("a non-NULL array has a header");
    // SAFETY: `ptr` is the aligned, detoasted ArrayType pgrx read the argument from (ndim and dims
    // are Postgres' own), and nothing else reads or writes it while `raw` is in use.
    let mut raw = unsafe { RawArray::from_ptr(ptr) };
    if raw.oid() != T::ELEM_OID {
        // cannot happen through a T[] argument; checked because the slice read below relies on it
        raise(
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!(
                "{context}: expected a {}[] map, got an array of element type {}",
                T::SQL_NAME,
                crate::values::type_name(raw.oid(), -1)
            ),
            None,
            None,
        );
    }
    let dims: Vec<usize> = raw.dims().iter().map(|&d| d as usize).collect();
    let (height, width) = check_shape(&dims, context);
    // SAFETY: an ArrayType header is followed by its ndim dimensions, then its ndim lower bounds
    // (ARR_DIMS and ARR_LBOUND in utils/array.h); check_shape returned, so ndim is 2.
    let lbounds = unsafe {
        let lbound = ptr.as_ptr().add(1).cast::<i32>().add(2);
        [lbound.read(), lbound.add(1).read()]
    };
    let at = Pixels { width, lbounds };
    let n = height * width;
    if let Some(i) = first_null(&mut raw, n) {
        raise(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            format!("{context}: pixel {} is NULL", at.name(i)),
            Some(at.detail(i)),
            Some("every pixel needs a class index from 0 to 65534: give the NULL pixels a label of their own, e.g. with coalesce"),
        );
    }
    // SAFETY: no element is NULL, so the data area holds exactly `n` values of the element type,
    // which is T's (checked above); int2 and int4 values are packed at their own alignment from the
    // MAXALIGNed data offset, so the area reads as `[T; n]`.
    let values: &[T] = unsafe { raw.data::<T>().as_ref() };
    let mut labels = Vec::with_capacity(n);
    for (i, &v) in values.iter().enumerate() {
        let label = v.widen();
        if !(0..=i64::from(MAX_LABEL)).contains(&label) {
            raise(
                PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                format!("{context}: label {label} at pixel {} is outside 0..{MAX_LABEL}", at.name(i)),
                Some(at.detail(i)),
                Some("labels are class indices from 0 to 65534 (65535 is reserved)"),
            );
        }
        labels.push(label as u16);
    }
    LabelMap::new(height, width, labels).or_raise(context)
}

/// A label map as a 2-D `T[]` (rows x columns, subscripts from 1). Raises 22003 naming the first
/// label that `T` cannot hold (above 32767 for `smallint`).
pub fn label_map_to_array<T: MapElement>(map: &LabelMap, context: &str) -> MapArray<T> {
    // the fields are public: check what construct_md_array will rely on
    check_sides("map", map.height, map.width).or_raise(context);
    if map.labels.len() != map.height * map.width {
        raise(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            format!("{context}: a {}x{} map has {} labels", map.height, map.width, map.labels.len()),
            None,
            None,
        );
    }
    let mut elems = Vec::with_capacity(map.labels.len());
    for (i, &label) in map.labels.iter().enumerate() {
        let Some(v) = T::narrow(label) else {
            raise(
                PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                format!("{context}: label {label} at pixel ({}, {}) does not fit {}", i / map.width, i % map.width, T::SQL_NAME),
                None,
                Some("use the integer[] form of the map"),
            );
        };
        elems.push(v.into_datum().expect("an integer is never NULL"));
    }
    // both sides are at most MAX_SIDE (checked above), so they fit a C int
    let array = grid_array(&mut elems, map.height, map.width, T::ELEM_OID, T::TYPLEN, T::TYPALIGN as std::ffi::c_char);
    MapArray { datum: array, elem: PhantomData }
}

/// A 2-D array (`height` rows of `width`, subscripts from 1, no NULLs) of by-value datums of
/// element type `elem_oid`, copied by `construct_md_array` into the current memory context.
fn grid_array(
    elems: &mut [pg_sys::Datum],
    height: usize,
    width: usize,
    elem_oid: pg_sys::Oid,
    typlen: i32,
    typalign: std::ffi::c_char,
) -> pg_sys::Datum {
    assert_eq!(elems.len(), height * width, "one datum per cell");
    let mut dims = [height as i32, width as i32];
    let mut lbounds = [1i32, 1];
    // SAFETY: `elems` holds dims[0] * dims[1] by-value datums of the element type (asserted
    // above), `dims` and `lbounds` hold 2 ints each and there are no NULLs; construct_md_array
    // copies all of it into a new array palloc'd in the current memory context.
    let array = unsafe {
        pg_sys::construct_md_array(
            elems.as_mut_ptr(),
            std::ptr::null_mut(),
            2,
            dims.as_mut_ptr(),
            lbounds.as_mut_ptr(),
            elem_oid,
            typlen,
            true,
            typalign,
        )
    };
    pg_sys::Datum::from(array)
}

/// Builds a 2-D `real[]` (`height` rows of `width` values, subscripts from 1) from row-major values,
/// such as a map's per-pixel explanation.
pub fn real_grid_to_array(height: usize, width: usize, values: &[f32]) -> MapArray<f32> {
    assert_eq!(values.len(), height * width, "one value per pixel");
    let mut elems: Vec<pg_sys::Datum> = values.iter().map(|&v| v.into_datum().expect("a real is never NULL")).collect();
    // float4: 4 bytes, by value, int-aligned
    let array = grid_array(&mut elems, height, width, pg_sys::FLOAT4OID, 4, pg_sys::TYPALIGN_INT as std::ffi::c_char);
    MapArray { datum: array, elem: PhantomData }
}

/// The (height, width) of a 2-D array's dimensions, or the ERROR that says what is wrong.
fn check_shape(dims: &[usize], context: &str) -> (usize, usize) {
    let not_2d = |got: String, hint: &str| -> ! {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("{context}: a map must be a 2-D array (rows x columns); got {got}"),
            None,
            Some(hint),
        )
    };
    match *dims {
        [] => not_2d("an empty array".into(), "a map needs at least one pixel, e.g. ARRAY[[0]]"),
        [n] => not_2d(
            format!("a 1-D array of {n} elements"),
            "write one inner array per row, e.g. ARRAY[[0,1],[1,0]] or '{{0,1},{1,0}}'; array_agg over 1-D row arrays builds one",
        ),
        [h, w] if h > MAX_SIDE || w > MAX_SIDE => raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!("{context}: a map may have at most {MAX_SIDE} rows and {MAX_SIDE} columns; got a {h}x{w} array"),
            None,
            Some("downsample the map, or cut it into tiles of at most 4096x4096"),
        ),
        [h, w] => (h, w),
        _ => not_2d(
            format!("a {}-D array ({})", dims.len(), dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x")),
            "pass one map at a time: a 2-D array such as ARRAY[[0,1],[1,0]]",
        ),
    }
}

/// Index of the first NULL element of an array of `n` elements, if any.
fn first_null(raw: &mut RawArray, n: usize) -> Option<usize> {
    // None: the array has no null bitmap, so no NULLs
    let bitmap = raw.nulls()?;
    // SAFETY: a present null bitmap (ARR_NULLBITMAP) has (n + 7) / 8 bytes, the length `nulls`
    // gave the slice, inside the array we are reading.
    let bits = unsafe { bitmap.as_ref() };
    // a 0 bit is a NULL (bit i % 8 of byte i / 8)
    (0..n).find(|&i| bits[i / 8] & (1 << (i % 8)) == 0)
}

/// Names a pixel of a row-major map by its flat index, and says where it is in SQL terms.
struct Pixels {
    width: usize,
    lbounds: [i32; 2],
}

impl Pixels {
    /// `(row, column)` from (0, 0) at the top left.
    fn name(&self, i: usize) -> String {
        format!("({}, {})", i / self.width, i % self.width)
    }

    /// The pixel's subscripts in the SQL array.
    fn detail(&self, i: usize) -> String {
        let (r, c) = ((i / self.width) as i64, (i % self.width) as i64);
        format!(
            "pixels count from (0, 0) at the top left; this one is element [{}][{}] of the array",
            i64::from(self.lbounds[0]) + r,
            i64::from(self.lbounds[1]) + c
        )
    }
}

/// A 2-D `smallint[]` (`MapArray<i16>`) or `integer[]` (`MapArray<i32>`) made by
/// `label_map_to_array`, or a 2-D `real[]` (`MapArray<f32>`) made by `real_grid_to_array`; a
/// `#[pg_extern]` returns it as that SQL type.
pub struct MapArray<T> {
    datum: pg_sys::Datum,
    elem: PhantomData<T>,
}

impl<T> MapArray<T> {
    /// The array datum, palloc'd in the memory context that was current when it was made.
    #[allow(dead_code)] // for callers that pass a map on through SPI; the SQL functions return it
    pub fn datum(&self) -> pg_sys::Datum {
        self.datum
    }
}

// SAFETY: sound because the datum always points to a valid, non-NULL T[] array (label_map_to_array and
// real_grid_to_array are the only constructors, each building the T[] its type parameter names)
// and the SQL return type is T[] (the SqlTranslatable impl below).
unsafe impl<T: SqlTranslatable> BoxRet for MapArray<T> {
    /// Hands the array to Postgres as the function's result.
    ///
    /// # Safety
    ///
    /// As for every `BoxRet`: the result must be returned from the function being called.
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        // SAFETY: the datum points to a valid T[] array built by construct_md_array in the
        // function's memory context, which outlives the call, and the declared return type is T[].
        unsafe { fcinfo.return_raw_datum(self.datum) }
    }
}

// SAFETY: sound because the SQL type is T's array type, declared exactly as pgrx declares `Array<T>`.
unsafe impl<T: SqlTranslatable> SqlTranslatable for MapArray<T> {
    const TYPE_IDENT: &'static str = T::TYPE_IDENT;
    const TYPE_ORIGIN: TypeOrigin = T::TYPE_ORIGIN;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = array_argument_sql(T::ARGUMENT_SQL);
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> = array_return_sql(T::RETURN_SQL);
}
