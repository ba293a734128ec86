//! One map-model value from a datum: a `smallint[]`/`integer[]` label map or a `bytea` image, with
//! the map family's errors (the array checks of `maps::array`, 22023 for image bytes that are not
//! a JPEG or PNG, naming the column). Shared by scoring (row attributes) and training (SPI rows).

use crate::errors::{raise, raise_core};
use crate::maps::array::label_map_from_array;
use gnsm_core::map::codec::image_from_bytes;
use gnsm_core::map::{LabelMap, RgbImage};
use gnsm_core::Error;
use pgrx::datum::{Array, FromDatum};
use pgrx::{pg_sys, PgSqlErrorCode};

/// Whether a type can hold a label map: `smallint[]` or `integer[]`.
pub fn is_map_type(typoid: pg_sys::Oid) -> bool {
    typoid == pg_sys::INT2ARRAYOID || typoid == pg_sys::INT4ARRAYOID
}

/// Whether a type can hold a conditioning image: `bytea` (JPEG or PNG bytes).
pub fn is_image_type(typoid: pg_sys::Oid) -> bool {
    typoid == pg_sys::BYTEAOID
}

/// Reads a non-NULL label-map datum of type `typoid` (`smallint[]` or `integer[]`); `context`
/// starts every error message (the function and the column).
///
/// # Safety
///
/// `datum` must be a valid, non-NULL value of type `typoid` for the current call.
pub unsafe fn map_from_datum(datum: pg_sys::Datum, typoid: pg_sys::Oid, context: &str) -> LabelMap {
    // SAFETY: the caller's contract: a valid non-NULL datum of this array type; pgrx detoasts it
    // into the current memory context, which outlives this call's use of it.
    unsafe {
        if typoid == pg_sys::INT2ARRAYOID {
            let arr = Array::<i16>::from_polymorphic_datum(datum, false, typoid).expect("a non-NULL datum");
            label_map_from_array(arr, context)
        } else {
            let arr = Array::<i32>::from_polymorphic_datum(datum, false, typoid).expect("a non-NULL datum");
            label_map_from_array(arr, context)
        }
    }
}

/// Decodes a non-NULL `bytea` image datum (JPEG or PNG); raises 22023 naming `column`.
///
/// # Safety
///
/// `datum` must be a valid, non-NULL `bytea` value for the current call.
pub unsafe fn image_from_datum(datum: pg_sys::Datum, column: &str, context: &str) -> RgbImage {
    // SAFETY: the caller's contract: a valid non-NULL bytea datum (pgrx detoasts and copies it).
    let bytes: Vec<u8> = unsafe { Vec::<u8>::from_polymorphic_datum(datum, false, pg_sys::BYTEAOID) }.expect("a non-NULL datum");
    decode_image(&bytes, column, context)
}

/// Decodes image bytes (JPEG or PNG); raises 22023 naming `column` when they are neither.
pub fn decode_image(bytes: &[u8], column: &str, context: &str) -> RgbImage {
    match image_from_bytes(bytes) {
        Ok(img) => img,
        Err(Error::InvalidParam { reason, .. }) => raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("{context}: the image in column \"{column}\" {reason}"),
            Some(format!("{} bytes", bytes.len())),
            Some("store the image as the bytes of a JPEG or PNG file (pg_read_binary_file, or the client's bytea)"),
        ),
        Err(e) => raise_core(e, context),
    }
}
