//! The SQL-facing functions, one file per family; everything they stand on (catalog, caches,
//! row binding, source reading, fitting) lives beside this folder.

mod admin;
mod aggregate;
mod explain;
mod explain_map;
mod maps;
mod options;
mod schedule;
mod score;
mod train;
mod version;
