//! What a backend keeps between calls: decoded models (LRU), each model's score memo, and the
//! per-call-site state that pins one model version for a whole statement.

pub mod callsite;
pub mod memo;
pub mod models;

pub use models::{get, get_bytes, CachedModel};
