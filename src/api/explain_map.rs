//! Where a map is wrong: `gnsm_explain_map` (each pixel's share of the score, as a 2-D `real[]` at
//! the input map's size) and `gnsm_heatmap_png` (the same shares drawn over the map, or over its
//! image for an image model, as a PNG). STABLE (they read the catalog) and PARALLEL SAFE.
//!
//! COST 100,000, as `gnsm_explain`: one map costs one scoring pass (about 40 network passes,
//! 0.3 s at 64x64 on one thread), far above a row score, and the planner only needs "expensive".

use crate::cache::CachedModel;
use crate::errors::raise;
use crate::maps::array::{real_grid_to_array, MapArray};
use crate::maps::row::MapRow;
use crate::maps::run;
use crate::resolve::ModelRef;
use crate::scorer::RowScorer;
use gnsm_core::map::MapModel;
use pgrx::prelude::*;
use pgrx::{AnyElement, PgSqlErrorCode};
use std::rc::Rc;

/// Resolves the map model for `row` and reads its map; raises 0A000 for a table model.
fn map_and_model(row: &AnyElement, model: Option<&str>, function: &str) -> (Rc<CachedModel>, MapRow) {
    let which = match model {
        Some(name) => ModelRef::Named(name),
        None => ModelRef::OfRowTable,
    };
    let mut scorer = RowScorer::new(which, row);
    // SAFETY: reading the backend's current-context global; the row binding made below lives
    // in it, which outlives this call's use of it.
    let mcxt = unsafe { pg_sys::CurrentMemoryContext };
    match scorer.map_row(row, mcxt) {
        Some(r) => (scorer.model.clone(), r),
        None => raise(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!("gnsm model \"{}\" is a table model: {function} explains maps", scorer.model.name),
            None,
            Some("use gnsm_explain(row, model) to see which columns of a table row look anomalous"),
        ),
    }
}

/// The map model of a cached model known to be one.
fn map_of(m: &CachedModel) -> &MapModel {
    m.map().expect("map_and_model returns map models only")
}

/// Each pixel's share of the map's score norm, as a 2-D `real[]` of the input map's size (rows x
/// columns, subscripts from 1); the shares sum to 1, void pixels get 0. Not STRICT: the model
/// defaults to NULL (the row's table's model); a NULL row gives NULL.
#[pg_extern(stable, parallel_safe, cost = 100000)]
fn gnsm_explain_map(row: Option<AnyElement>, model: default!(Option<&str>, "NULL")) -> Option<MapArray<f32>> {
    let (m, r) = map_and_model(&row?, model, "gnsm_explain_map");
    let shares = run::explain(&m, map_of(&m), &r);
    Some(real_grid_to_array(r.map.height, r.map.width, &shares))
}

/// A PNG of the map (or of its image, for an image model) with a heat overlay where the map is
/// anomalous, upscaled to at least 256 pixels on its longer side.
#[pg_extern(stable, parallel_safe, cost = 100000)]
fn gnsm_heatmap_png(row: Option<AnyElement>, model: default!(Option<&str>, "NULL")) -> Option<Vec<u8>> {
    let (m, r) = map_and_model(&row?, model, "gnsm_heatmap_png");
    Some(run::heatmap(&m, map_of(&m), &r))
}
