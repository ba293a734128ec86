//! What a backend keeps between calls: decoded models (LRU; a table model's network weights read
//! only when a row needs them), each model's score memo, and the per-call-site state that pins
//! one model version for a whole statement.

pub mod callsite;
pub mod memo;
pub mod models;
pub mod table_model;

pub use models::{get, get_bytes, CachedModel};
