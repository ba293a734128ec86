//! Running a map model on one map: its score, its per-pixel explanation and the heatmap PNG, with
//! the core's errors raised as SQL errors (a label outside the model's classes is 22003 naming
//! the pixel, as an out-of-range label in an array is).

use crate::cache::CachedModel;
use crate::errors::{raise, raise_core};
use crate::maps::pool::scoring_pool;
use crate::maps::row::MapRow;
use gnsm_core::map::codec::heatmap_png;
use gnsm_core::map::{MapItem, MapModel};
use gnsm_core::Error;
use pgrx::PgSqlErrorCode;

/// Raises a core error from running a map model on a map.
fn raise_map(err: Error, model: &CachedModel) -> ! {
    let context = format!("gnsm model \"{}\"", model.name);
    match err {
        // the only row mismatch a map can have: a label the model never had (ClassSet::codes)
        Error::RowMismatch { reason } => raise(
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
            format!("{context}: {reason}"),
            None,
            Some("a map model scores maps of the classes it was trained on: check that the map comes from the same segmentation model, or retrain with a larger \"classes\""),
        ),
        e => raise_core(e, &context),
    }
}

/// The map and image of a row as the core's item.
fn item(r: &MapRow) -> MapItem<'_> {
    MapItem { map: &r.map, image: r.image.as_ref() }
}

/// Calibrated anomaly score of one map; higher = more anomalous. Its network passes run on the
/// `gnsm.threads` pool.
pub fn score(model: &CachedModel, mm: &MapModel, r: &MapRow) -> f64 {
    mm.score_on(item(r), &scoring_pool()).unwrap_or_else(|e| raise_map(e, model))
}

/// Each pixel's share of the score norm, at the input map's size (row-major; sums to 1).
pub fn explain(model: &CachedModel, mm: &MapModel, r: &MapRow) -> Vec<f32> {
    mm.explain_on(item(r), &scoring_pool()).unwrap_or_else(|e| raise_map(e, model))
}

/// A PNG of the map (or its image) with the explanation as a heat overlay.
pub fn heatmap(model: &CachedModel, mm: &MapModel, r: &MapRow) -> Vec<u8> {
    let shares = explain(model, mm, r);
    heatmap_png(&r.map, &shares, r.image.as_ref()).unwrap_or_else(|e| raise_map(e, model))
}
