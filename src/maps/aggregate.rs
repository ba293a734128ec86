//! `gnsm_train_agg` over label maps: the aggregated row holds one `smallint[]`/`integer[]` map
//! (and at most one `bytea` image), each map is resampled to the working resolution as it
//! arrives (so the state holds 8 KB a map at 64x64, not the megabytes a full-size map can be),
//! and the final function trains a map model whose bytes carry its column names, so
//! `gnsm_score_bytes(row, model)` matches a row's columns by name as for table models.

use crate::errors::raise;
use crate::fit::fit_map_with_progress;
use crate::gucs;
use crate::maps::datum::{image_from_datum, is_image_type, is_map_type, map_from_datum};
use crate::options::{self, MapOptions};
use crate::rows::RowTuple;
use crate::values::type_name;
use gnsm_core::map::{LabelMap, MapItem, RgbImage};
use pgrx::{pg_sys, PgSqlErrorCode};

/// The function name errors start with.
const CONTEXT: &str = "gnsm_train_agg";

/// Maps (and images) collected so far, at the working resolution.
pub struct MapAgg {
    /// 1-based attribute numbers and types of the map and the image.
    map_attr: (usize, pg_sys::Oid),
    image_attr: Option<usize>,
    /// Column names, the map first: stored in the model for scoring by name.
    columns: Vec<String>,
    opts: MapOptions,
    maps: Vec<LabelMap>,
    images: Vec<RgbImage>,
    /// Largest label seen at full size, void excluded: resampling can drop a rare label, and the
    /// inferred class count must still cover every label the maps hold.
    largest_label: Option<u16>,
    null_maps: usize,
}

/// Raises 0A000 for an aggregated row that is not one map column and at most one image column.
fn refuse(message: String) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        message,
        None,
        Some("aggregate a row of the map column and, optionally, one bytea image column: SELECT gnsm_train_agg(s) FROM (SELECT mask, image FROM t) s"),
    )
}

impl MapAgg {
    /// Sets up from the first row's attributes (1-based number, name, type) when they hold a
    /// label map; None for a row without one (a table model). Raises 0A000 for a map with other
    /// columns, two maps or two images, and 22023 for bad options.
    pub fn set_up(attrs: &[(usize, String, pg_sys::Oid)], options: Option<&serde_json::Value>) -> Option<MapAgg> {
        let maps: Vec<_> = attrs.iter().filter(|a| is_map_type(a.2)).collect();
        let first = maps.first()?;
        if let Some(second) = maps.get(1) {
            refuse(format!("columns \"{}\" and \"{}\" of the aggregated row are both label maps; a map model has exactly one", first.1, second.1));
        }
        let images: Vec<_> = attrs.iter().filter(|a| is_image_type(a.2)).collect();
        if images.len() > 1 {
            refuse(format!("columns \"{}\" and \"{}\" of the aggregated row are both bytea; a map model takes at most one image column", images[0].1, images[1].1));
        }
        if let Some(other) = attrs.iter().find(|a| !is_map_type(a.2) && !is_image_type(a.2)) {
            refuse(format!(
                "column \"{}\" ({}) cannot be modelled together with map column \"{}\": a map model takes one label-map column and at most one bytea image column",
                other.1,
                type_name(other.2, -1),
                first.1
            ));
        }
        let opts = options::parse_map(options, gucs::threads());
        let image = images.first();
        Some(MapAgg {
            map_attr: (first.0, first.2),
            image_attr: image.map(|a| a.0),
            columns: std::iter::once(first.1.clone()).chain(image.map(|a| a.1.clone())).collect(),
            opts,
            maps: Vec::new(),
            images: Vec::new(),
            largest_label: None,
            null_maps: 0,
        })
    }

    /// Adds one row's map (and image), resampled to the working resolution; a NULL map is
    /// skipped and counted, a NULL image is 22004, more than `gnsm.max_train_rows` maps 54000.
    ///
    /// # Safety
    ///
    /// `tupdesc` must be the descriptor of `tuple`'s row type (the one `set_up` saw).
    pub unsafe fn push(&mut self, tuple: &mut RowTuple, tupdesc: pg_sys::TupleDesc) {
        // SAFETY: the caller's contract; the attribute numbers came from this row type.
        let Some(datum) = (unsafe { tuple.attr(self.map_attr.0, tupdesc) }) else {
            self.null_maps += 1;
            return;
        };
        if self.maps.len() >= gucs::max_train_rows() {
            raise(
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!("{CONTEXT} got more than gnsm.max_train_rows = {} maps", gucs::max_train_rows()),
                None,
                Some("sample the rows (TABLESAMPLE, or WHERE random() < p), or raise gnsm.max_train_rows"),
            );
        }
        let context = format!("{CONTEXT}, column \"{}\"", self.columns[0]);
        // SAFETY: a non-NULL attribute of the map type the descriptor gives it.
        let map = unsafe { map_from_datum(datum, self.map_attr.1, &context) };
        let void = self.opts.config.void_label;
        if let Some(l) = map.labels.iter().copied().filter(|&l| Some(l) != void).max() {
            self.largest_label = Some(self.largest_label.map_or(l, |m| m.max(l)));
        }
        let (h, w) = (self.opts.config.height, self.opts.config.width);
        if let Some(attnum) = self.image_attr {
            let column = &self.columns[1];
            // SAFETY: as above, for the image attribute.
            let Some(d) = (unsafe { tuple.attr(attnum, tupdesc) }) else {
                raise(
                    PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
                    format!("{CONTEXT}: image column \"{column}\" is NULL in aggregated row {}", self.maps.len() + self.null_maps + 1),
                    None,
                    Some("every map of an image model needs its image: filter such rows out, or aggregate the map column alone"),
                );
            };
            // SAFETY: a non-NULL bytea attribute.
            let image = unsafe { image_from_datum(d, column, CONTEXT) };
            self.images.push(image.resize_bilinear(h, w));
        }
        self.maps.push(map.resize_nearest(h, w));
    }

    /// Trains on the collected maps and returns the model's bytes (NULL when every map was NULL).
    pub fn finish(mut self) -> Option<Vec<u8>> {
        if self.null_maps > 0 {
            pgrx::notice!("gnsm: {CONTEXT} skipped {} rows whose map column \"{}\" is NULL", self.null_maps, self.columns[0]);
        }
        if self.maps.is_empty() {
            return None;
        }
        // the class count of the full-size maps (MapModel::class_set would see the resampled ones)
        if self.opts.config.classes.is_none() {
            let inferred = self.largest_label.map_or(2, |l| (l as usize + 1).max(2));
            if inferred > 256 {
                raise(
                    PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                    format!("{CONTEXT}: the maps hold label {}, more than the 256 classes a map model allows", inferred - 1),
                    None,
                    Some("give the void label for unlabelled pixels (\"void_label\"), or remap the labels to 0..255"),
                );
            }
            self.opts.config.classes = Some(inferred);
        }
        let items: Vec<MapItem> = self.maps.iter().enumerate().map(|(i, map)| MapItem { map, image: self.images.get(i) }).collect();
        let label = self.opts.name.clone().unwrap_or_else(|| "aggregate".to_string());
        let mut model = fit_map_with_progress(&items, &self.opts.config, &label);
        model.columns = self.columns;
        Some(model.to_bytes())
    }
}
