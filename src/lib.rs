//! gnsm: the PostgreSQL extension. This crate is glue only: it converts types, runs SPI, reads
//! GUCs, caches models and maps errors; every computation lives in `gnsm-core`.

use pgrx::prelude::*;

::pgrx::pg_module_magic!(name, version);

mod admin;
mod aggregate;
mod cache;
mod catalog;
mod errors;
mod gucs;
mod options;
mod schedule;
mod scoring;
mod table;
mod training;
mod values;
mod version;

pgrx::extension_sql_file!("../sql/catalog.sql", name = "catalog", bootstrap);

/// Registers the settings when the library loads.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    gucs::init();
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    include!("pg_tests.rs");
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
