//! Label maps at the SQL boundary: `array` turns a 2-D `smallint[]`/`integer[]` into the core's
//! `LabelMap` and back, `png` decodes and encodes label-map PNGs with the map family's errors.
//! Every bad map is an ERROR that names the culprit (the shape, the pixel, the label, the PNG
//! problem) with a hint. Map models use the rest: `datum` (a map or image from any datum),
//! `row` (the map a scoring call gets), `run` (score, explain, heatmap), `source` (which columns
//! of a table train a map model), `reader` (reading them through SPI), `aggregate`
//! (`gnsm_train_agg` over maps) and `pool` (the threads one map's scoring runs on).

pub mod aggregate;
pub mod array;
pub mod datum;
pub mod png;
pub mod pool;
pub mod reader;
pub mod row;
pub mod run;
pub mod source;
