//! Table rows given to scoring functions: reading a composite datum, binding a row type's
//! attributes to a model's columns, and encoding a row into the model's cells.

pub mod binding;
pub mod encode;
pub mod tuple;

pub use encode::RowEncoder;
pub use tuple::{require_row, RowTuple};
