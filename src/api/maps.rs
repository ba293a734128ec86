//! Label maps in and out of PNG: `gnsm_map_from_png` (bytea -> 2-D smallint[]) and
//! `gnsm_map_to_png` (2-D integer[], or smallint[] by implicit cast, -> bytea). IMMUTABLE and PARALLEL SAFE: pure
//! conversions that read nothing else. A map is a 2-D array, one inner array per row, of class
//! indices; `maps::array` says what a bad one gets.

use crate::maps::array::{label_map_from_array, label_map_to_array, MapArray};
use crate::maps::png::{label_map_from_png, label_map_to_png};
use pgrx::datum::Array;
use pgrx::prelude::*;

/// Decodes an 8-bit greyscale or palette PNG (pixel value or palette index = class) into a 2-D
/// `smallint[]` label map, one inner array per image row.
#[pg_extern(immutable, parallel_safe, strict)]
fn gnsm_map_from_png(png: &[u8]) -> MapArray<i16> {
    let map = label_map_from_png(png, "gnsm_map_from_png");
    label_map_to_array(&map, "gnsm_map_from_png")
}

/// Encodes a 2-D `integer[]` label map as an 8-bit greyscale PNG (labels 0 to 255); a
/// `smallint[]` map is cast to `integer[]` implicitly, so one signature serves both (ADR 002: no
/// overloads that an untyped literal could match twice).
#[pg_extern(immutable, parallel_safe, strict)]
fn gnsm_map_to_png(map: Array<'_, i32>) -> Vec<u8> {
    label_map_to_png(&label_map_from_array(map, "gnsm_map_to_png"), "gnsm_map_to_png")
}
