//! Citus awareness (ADR 013). gnsm has no Citus dependency: every function here first asks the
//! system cache whether the `citus` extension is installed in this database, and without it
//! does nothing and runs no query. With it:
//! * `node`: which node this is (coordinator or worker), from Citus's own catalog;
//! * `shards`: a shard relation mapped back to its distributed table by Citus's metadata;
//! * `replica`: the coordinator's model catalog copied into a reference table whose node-local
//!   placement the workers read (never the distributed table, which would plan a distributed
//!   query from inside a shard query);
//! * `sample`: the training read of a distributed table sampled on the workers.

pub mod node;
pub mod replica;
pub mod sample;
pub mod shards;
