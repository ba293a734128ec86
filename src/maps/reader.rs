//! Reading a map model's training rows through an SPI cursor, a few rows at a time (a map can be
//! megabytes), with a uniform reservoir sample above `gnsm.max_train_rows` as table rows have.
//! A row whose map is NULL is skipped and counted (the caller says how many in a NOTICE): a
//! missing label map carries nothing to learn, unlike a NULL table cell, which is a category.
//! A NULL image in an image model's row is an error naming the row, because leaving it out
//! would silently train a model on the other rows' images only. Runs as the calling user.

use super::datum::{image_from_datum, map_from_datum};
use super::source::MapSource;
use crate::citus::sample::TrainingRead;
use crate::errors::raise;
use crate::source::reader::release_last_batch;
use gnsm_core::map::{LabelMap, RgbImage};
use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use pgrx::{PgMemoryContexts, PgSqlErrorCode};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Rows fetched per cursor round trip: 100 maps of 64x64 integers are 1.6 MB, and even 512x512
/// maps keep one batch near 100 MB.
const FETCH_MAPS: i64 = 100;

/// What reading produced.
pub struct MapRead {
    pub maps: Vec<LabelMap>,
    /// One image per map for an image model; empty otherwise.
    pub images: Vec<RgbImage>,
    /// Rows in the source (every one was seen).
    pub total_rows: u64,
    /// Rows skipped because their map is NULL.
    pub null_maps: u64,
    /// True when a reservoir sample was kept.
    pub sampled: bool,
}

/// Reads the map (and image) of every row; keeps at most `max_rows` by reservoir sampling with `seed`.
pub fn read_maps(src: &MapSource, max_rows: usize, seed: u64) -> MapRead {
    let cols: Vec<String> = src.columns().iter().map(|c| quote_identifier(&c.name)).collect();
    // a distributed Citus table is sampled on its workers (as table rows are, source/reader.rs)
    let plan = TrainingRead::plan(src.relid, &src.display, max_rows);
    let sql = plan.select(&cols, &src.display);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5A3B1E);
    let mut out = MapRead { maps: Vec::new(), images: Vec::new(), total_rows: 0, null_maps: 0, sampled: false };
    let mut kept: u64 = 0;
    let map_context = format!("gnsm_train on \"{}\", column \"{}\"", src.display, src.map.name);
    Spi::connect(|client| {
        let mut cursor = client.open_cursor(sql.as_str(), &[]);
        // detoasted copies of each batch's arrays and images go here and are freed per batch:
        // the maps kept are Rust copies, so memory holds the sample plus one batch, not the table
        let mut scratch = PgMemoryContexts::new("gnsm map rows");
        loop {
            pgrx::check_for_interrupts!();
            let mut batch = cursor
                .fetch(FETCH_MAPS as _)
                .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("gnsm: {e}"), None, None));
            if batch.is_empty() {
                break;
            }
            while batch.next().is_some() {
                out.total_rows += 1;
                let datum = |j: usize| {
                    batch
                        .get_datum_by_ordinal(j)
                        .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("gnsm: reading a row: {e}"), None, None))
                };
                let Some(m) = datum(1) else {
                    out.null_maps += 1;
                    continue;
                };
                // the slot this row goes to: appended, or by Algorithm R replacing a random one
                kept += 1;
                let slot = if out.maps.len() < max_rows {
                    None
                } else {
                    let k = rng.random_range(0..kept) as usize;
                    if k >= max_rows {
                        continue;
                    }
                    Some(k)
                };
                let convert = |_: &mut PgMemoryContexts| {
                    // SAFETY: a non-NULL value of the column's type, read from the current batch.
                    let map = unsafe { map_from_datum(m, src.map.typoid, &map_context) };
                    let image = src.image.as_ref().map(|img| match datum(2) {
                        None => raise(
                            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
                            format!("gnsm_train on \"{}\": row {} has a map but its image column \"{}\" is NULL", src.display, out.total_rows, img.name),
                            None,
                            Some("an image model needs an image next to every map: fill in the image, filter the row out in a view, or train on the map column alone"),
                        ),
                        // SAFETY: a non-NULL bytea value read from the current batch.
                        Some(d) => unsafe { image_from_datum(d, &img.name, &format!("gnsm_train on \"{}\", row {}", src.display, out.total_rows)) },
                    });
                    (map, image)
                };
                // SAFETY: switch_to only chooses where the conversions palloc; everything they
                // return is a Rust copy, so nothing refers into `scratch` when it is reset.
                let (map, image) = unsafe { scratch.switch_to(convert) };
                match slot {
                    None => {
                        out.maps.push(map);
                        out.images.extend(image);
                    }
                    Some(k) => {
                        out.maps[k] = map;
                        if let Some(image) = image {
                            out.images[k] = image;
                        }
                    }
                }
            }
            release_last_batch();
            // SAFETY: the batch's maps and images were copied into Rust memory; nothing that
            // was allocated in `scratch` is referenced any more.
            unsafe { scratch.reset() };
        }
        Ok::<_, pgrx::spi::Error>(())
    })
    .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("gnsm: reading \"{}\": {e}", src.display), None, None));
    // maps with a NULL are counted as rows but not kept, so the sample test counts kept maps
    (out.total_rows, out.sampled) = plan.totals(out.total_rows, kept, max_rows);
    if out.maps.is_empty() {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!(
                "relation \"{}\" has no map to train on ({} rows, {} with a NULL map in column \"{}\")",
                src.display, out.total_rows, out.null_maps, src.map.name
            ),
            None,
            Some("load rows with maps before training; a model needs data to learn from"),
        );
    }
    out
}
