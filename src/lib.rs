//! gnsm: the PostgreSQL extension. This crate is glue only: it converts types, runs SPI, reads
//! GUCs, caches models and maps errors; every computation lives in `gnsm-core`.
//!
//! `api/` holds the SQL functions; the rest is the infrastructure they share: `catalog` (the
//! `gnsm.models` table), `cache/` (decoded models, score memo, per-call-site state), `resolve`
//! (which model a call uses), `scorer` (a call site's model and row encoder), `rows/` (reading
//! and encoding row arguments), `source/` (training columns and reading a table), `fit` (training
//! on a worker pool inside a backend), `maps/` (label maps as 2-D arrays and PNGs), `citus/` (shards,
//! the replicated catalog and sampled reads on a Citus cluster; nothing without Citus), `values`,
//! `options`, `gucs`, `errors`.

use pgrx::prelude::*;

::pgrx::pg_module_magic!(name, version);

mod api;
mod bytes_arg;
mod cache;
mod catalog;
mod citus;
mod errors;
mod fit;
mod gucs;
mod maps;
mod options;
mod resolve;
mod rows;
mod scorer;
mod source;
mod values;

pgrx::extension_sql_file!("../sql/catalog.sql", name = "catalog", bootstrap);
pgrx::extension_sql_file!("../sql/comments.sql", name = "comments", finalize);

/// Registers the settings when the library loads.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    gucs::init();
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    include!("pg_tests/common.rs");
    include!("pg_tests/sql_surface.rs");
    include!("pg_tests/glue.rs");
    include!("pg_tests/maps.rs");
}

/// Hooks the `pgrx-tests` harness calls; required by the test framework.
#[cfg(test)]
pub mod pg_test {
    /// One-time set-up before the tests run.
    pub fn setup(_options: Vec<&str>) {}

    /// Extra postgresql.conf settings for the test cluster.
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
