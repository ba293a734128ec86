//! The state one scoring call site keeps for a whole statement: the model version it resolved on
//! its first row (so a retrain committed meanwhile is seen by the next statement, never mixed into
//! this one) and its row encoder.

use crate::cache::callsite;
use crate::cache::CachedModel;
use crate::maps::row::{MapRow, MapRowReader};
use crate::maps::run;
use crate::resolve::{resolve, ModelRef};
use crate::rows::RowEncoder;
use pgrx::{pg_sys, AnyElement};
use std::rc::Rc;

/// A call site's model and row encoder.
pub struct RowScorer {
    pub model: Rc<CachedModel>,
    rows: RowEncoder,
    maps: MapRowReader,
}

impl RowScorer {
    /// Resolves the model for this call site.
    pub fn new(which: ModelRef, row: &AnyElement) -> RowScorer {
        RowScorer { model: resolve(which, row), rows: RowEncoder::default(), maps: MapRowReader::default() }
    }

    /// The row's cells under this call site's model.
    pub fn codes(&mut self, row: &AnyElement, mcxt: pg_sys::MemoryContext) -> Vec<u32> {
        self.rows.encode(&self.model, row, mcxt).to_vec()
    }

    /// The map (and image) a map model scores, read from the row (or bare map); None for a
    /// table model.
    pub fn map_row(&mut self, row: &AnyElement, mcxt: pg_sys::MemoryContext) -> Option<MapRow> {
        let uses_image = self.model.map()?.uses_image();
        Some(self.maps.read(&self.model, uses_image, row, mcxt))
    }

    /// The row's anomaly score: a table row through the model's memo, a map by the map model
    /// (maps are not memoised: two equal maps in one statement are rare, and a map is kilobytes).
    pub fn score(&mut self, row: &AnyElement, mcxt: pg_sys::MemoryContext) -> f64 {
        if let Some(r) = self.map_row(row, mcxt) {
            let model = self.model.clone();
            return run::score(&model, model.map().expect("a map model"), &r);
        }
        let codes = self.rows.encode(&self.model, row, mcxt);
        self.model.score(codes)
    }

    /// The row's model-column values as text, after `codes` or `score` read it.
    pub fn texts(&mut self, row: &AnyElement) -> Vec<Option<String>> {
        self.rows.texts(row)
    }
}

/// Runs `body` with the scorer that this call site keeps in `fn_extra` for `which`, resolving it on
/// the first row and again when `which` changes between rows.
pub fn with_scorer<R>(
    fcinfo: pg_sys::FunctionCallInfo,
    which: ModelRef,
    row: &AnyElement,
    body: impl FnOnce(&mut RowScorer, pg_sys::MemoryContext) -> R,
) -> R {
    callsite::with_state(fcinfo, &which.call_site_key(), || RowScorer::new(which, row), body)
}
