//! Label maps at the SQL boundary: `array` turns a 2-D `smallint[]`/`integer[]` into the core's
//! `LabelMap` and back, `png` decodes and encodes label-map PNGs with the map family's errors.
//! Every bad map is an ERROR that names the culprit (the shape, the pixel, the label, the PNG
//! problem) with a hint; the SQL functions in `api/maps.rs` use both, and so will map scoring and
//! training.

pub mod array;
pub mod png;
