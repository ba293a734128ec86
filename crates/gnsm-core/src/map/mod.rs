//! The map family: GNSM on 2-D label maps (method §9). Every pixel is one categorical variable,
//! relaxed with the same ExpConcrete noise at the same 20 temperatures as table rows (`relax`);
//! the convolutional score network (`net::conv`) learns the per-pixel scores, and a map's anomaly
//! score comes from the norms of those scores, standardised against the training maps
//! (`norm_scale`), summed with the per-position prior and the topology surprise in the same
//! calibrated evidence as table rows (`model::Evidence`).
//!
//! - `grid`: label maps and conditioning images, resampling.
//! - `codec`: PNG/JPEG decoding of maps and images, and the heatmap PNG encoder.
//! - `config`: the options of a map model.
//! - `input`: class sets, void pixels, the network input of a map at a level.
//! - `train`: the training loop of the conv network.
//! - `prior`: the per-position class prior (the map counterpart of the independent-columns NLL).
//! - `topology`: how many pieces each class falls into, against the training maps.
//! - `norm_scale`: the network term, the summed z-scores of the 20 score norms.
//! - `features`: MSMA features and per-pixel anomaly maps.
//! - `model`: `MapModel`: fit, score, explain.
//! - `calibration`: percentiles and thresholds of map scores; which family model bytes hold.

mod calibration;
pub mod codec;
pub mod config;
pub mod features;
mod format;
pub mod grid;
pub mod input;
pub mod model;
pub mod norm_scale;
pub mod prior;
pub mod topology;
pub mod train;

pub use calibration::is_map_bytes;
pub use config::MapConfig;
pub use grid::{LabelMap, RgbImage, MAX_SIDE};
pub use model::{MapItem, MapModel, MapTerms};
