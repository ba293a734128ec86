//! Label-map PNGs at the SQL boundary: the core's decoder and encoder, with their errors raised
//! as the map family's SQLSTATEs (the core says what is wrong with the PNG; this adds the hint).

use crate::errors::{raise, raise_core};
use gnsm_core::map::codec::{map_from_png, map_to_png};
use gnsm_core::map::LabelMap;
use gnsm_core::Error;
use pgrx::PgSqlErrorCode;

/// What a label-map PNG must be, for every decoding error.
const PNG_HINT: &str = "convert it to an 8-bit greyscale or palette PNG whose pixel values are class indices";

/// Decodes an 8-bit (or 1/2/4-bit) greyscale or palette PNG into a label map (value or palette
/// index = class). Raises 22023 for bytes that are not such a PNG, the message saying why
/// (not a PNG, truncated or damaged, RGB, 16-bit, empty, a side above 4096).
pub fn label_map_from_png(png: &[u8], context: &str) -> LabelMap {
    match map_from_png(png) {
        Ok(map) => map,
        // the core's reason reads after "the image": "is an RGB PNG; ...", "could not be decoded: ..."
        Err(Error::InvalidParam { name, reason }) if name == "png" => {
            raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, format!("{context}: the image {reason}"), None, Some(PNG_HINT))
        }
        Err(e) => raise_core(e, context),
    }
}

/// Encodes a label map as an 8-bit greyscale PNG (pixel value = class). Raises 22003 naming the
/// first label above 255, which an 8-bit PNG cannot hold.
pub fn label_map_to_png(map: &LabelMap, context: &str) -> Vec<u8> {
    if let Some((i, &label)) = map.labels.iter().enumerate().find(|(_, &l)| l > 255) {
        raise(
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
            format!("{context}: label {label} at pixel ({}, {}) does not fit an 8-bit PNG (labels 0 to 255)", i / map.width, i % map.width),
            None,
            Some("a PNG label map holds at most 256 classes; keep maps with more classes as arrays"),
        );
    }
    map_to_png(map).unwrap_or_else(|e| raise_core(e, context))
}
