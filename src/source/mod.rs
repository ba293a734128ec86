//! Source tables of `gnsm_train`: resolving the model columns, then reading the rows.

pub mod columns;
pub mod reader;

pub use columns::{check_overrides_exist, kind_of, resolve, KindOverrides, Source, SUPPORTED_TYPES};
pub use reader::read;
