//! Model management: activate a version (rollback) and drop versions. Listing is the view
//! `gnsm.model_list`.

use crate::catalog;
use pgrx::prelude::*;

/// Makes the given version of a model the active one (e.g. to roll back a retrain).
#[pg_extern(volatile, parallel_unsafe, strict)]
fn gnsm_activate(model: &str, version: i32) -> bool {
    catalog::activate(model, version);
    true
}

/// Drops one version of a model, or every version when `version` is NULL; returns how many.
#[pg_extern(volatile, parallel_unsafe)]
fn gnsm_drop(model: &str, version: default!(Option<i32>, "NULL")) -> i64 {
    catalog::drop_model(model, version)
}
