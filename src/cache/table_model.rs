//! A table model as a backend holds it (ADR 015): read from its front section when its format
//! has one (format 9), which is all that the warm scores, the fast scorer, percentiles,
//! thresholds and row encoding need; the network weights (most of the bytes) are fetched from
//! the catalog on the first row that needs the network. A Citus shard task or a new session that
//! only meets stored rows never reads them.

use crate::catalog::{self, ModelKey};
use crate::errors::OrRaise;
use gnsm_core::model::{Model, ModelRead, NetworkSection};
use std::cell::OnceCell;

/// A table model, complete or waiting for its network section.
pub struct TableModel {
    front: Model,
    /// Where to fetch the network section from; None when `front` is complete.
    network_at: Option<(ModelKey, NetworkSection)>,
    complete: OnceCell<Model>,
}

impl TableModel {
    /// A model read whole (older formats, models given as bytes).
    pub fn complete(model: Model) -> TableModel {
        TableModel { front: model, network_at: None, complete: OnceCell::new() }
    }

    /// A model read from the catalog version `key`, completed from there when it needs its network.
    pub fn read(read: ModelRead, key: &ModelKey) -> TableModel {
        match read {
            ModelRead::Complete(m) => TableModel::complete(m),
            ModelRead::Front(m, at) => TableModel { front: m, network_at: Some((key.clone(), at)), complete: OnceCell::new() },
        }
    }

    /// The model for what needs no network weights: columns, encoding, warm scores,
    /// percentiles, thresholds, the fast scorer.
    pub fn front(&self) -> &Model {
        &self.front
    }

    /// The complete model, fetching and checking the network section on first use.
    pub fn complete_model(&self) -> &Model {
        match &self.network_at {
            None => &self.front,
            Some((key, at)) => self.complete.get_or_init(|| {
                pgrx::debug1!("gnsm: reading the network weights of model \"{}\" version {} ({} bytes)", key.name, key.version, at.len);
                let section = catalog::load_range(key, at.offset, at.len);
                self.front
                    .with_network(at, &section)
                    .or_raise(&format!("gnsm model \"{}\" version {}", key.name, key.version))
            }),
        }
    }

    /// The model that scores a row: the front when the fast scorer scores without the network.
    pub fn scorer(&self) -> &Model {
        if self.front.fast.is_some() {
            &self.front
        } else {
            self.complete_model()
        }
    }

    /// Whether the network weights are in memory (tests and the benchmark's first-call figures).
    pub fn network_loaded(&self) -> bool {
        self.network_at.is_none() || self.complete.get().is_some()
    }
}
