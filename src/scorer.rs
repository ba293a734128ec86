//! The state one scoring call site keeps for a whole statement: the model version it resolved on
//! its first row (so a retrain committed meanwhile is seen by the next statement, never mixed into
//! this one) and its row encoder.

use crate::cache::callsite;
use crate::cache::CachedModel;
use crate::resolve::{resolve, ModelRef};
use crate::rows::RowEncoder;
use pgrx::{pg_sys, AnyElement};
use std::rc::Rc;

/// A call site's model and row encoder.
pub struct RowScorer {
    pub model: Rc<CachedModel>,
    rows: RowEncoder,
}

impl RowScorer {
    /// Resolves the model for this call site.
    pub fn new(which: ModelRef, row: &AnyElement) -> RowScorer {
        RowScorer { model: resolve(which, row), rows: RowEncoder::default() }
    }

    /// The row's cells under this call site's model.
    pub fn codes(&mut self, row: &AnyElement, mcxt: pg_sys::MemoryContext) -> Vec<u32> {
        self.rows.encode(&self.model, row, mcxt).to_vec()
    }

    /// The row's anomaly score (through the model's memo).
    pub fn score(&mut self, row: &AnyElement, mcxt: pg_sys::MemoryContext) -> f64 {
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
