//! Reading and writing the map family's files: label maps as PNG (one class index per pixel,
//! greyscale or palette index), conditioning images as JPEG or PNG, and the heatmap PNG that shows
//! a person where a map is anomalous.
//!
//! - `label_png`: `map_from_png`, `map_to_png`, `rgb_to_png`.
//! - `photo`: `image_from_bytes`.
//! - `heatmap`: `heatmap_png`.

mod heatmap;
mod label_png;
mod photo;

pub use heatmap::heatmap_png;
pub use label_png::{map_from_png, map_to_png, rgb_to_png};
pub use photo::image_from_bytes;
