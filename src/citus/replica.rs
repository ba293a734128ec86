//! The model catalog on Citus workers. The coordinator keeps `gnsm.models`, a plain table, as the
//! one place models are written and read on the coordinator (so local tables keep their parallel
//! plans). Each write copies the changed model's rows into `gnsm.model_replica`, a Citus
//! reference table created on first use: Citus writes it on every node in the same transaction
//! (two-phase commit), copies it to nodes that receive shards later, and a worker reads its
//! node-local placement, a plain table, so scoring inside a shard query never plans a
//! distributed query.

use super::node::{self, Role};
use crate::catalog::{first_value, spi_fail};
use crate::errors::raise;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;


/// The relation catalog reads use on this node: `gnsm.models`, except on a Citus worker that holds
/// a placement of the replica, where it is that placement (for example `gnsm.model_replica_102040`).
/// A worker without a replica (no model trained on the coordinator since Citus was set up) reads
/// its own `gnsm.models`.
pub fn read_relation() -> String {
    if node::role() != Some(Role::Worker) {
        return "gnsm.models".to_string();
    }
    let placement = first_value::<String>(
        "SELECT pg_catalog.shard_name(s.logicalrelid, s.shardid, false)
         FROM pg_catalog.pg_dist_shard s JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
         WHERE s.logicalrelid = pg_catalog.to_regclass('gnsm.model_replica')
           AND p.groupid = (SELECT groupid FROM pg_catalog.pg_dist_local_group)
         LIMIT 1",
        &[],
        "finding the local placement of gnsm.model_replica",
    );
    match placement {
        Some(p) => p,
        None if replica_exists() => raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            "this Citus node has no placement of gnsm.model_replica, the catalog gnsm copies to the workers",
            None,
            Some("on the coordinator, run SELECT replicate_reference_tables() (Citus copies reference tables to a new node when it first receives shards)"),
        ),
        None => "gnsm.models".to_string(),
    }
}

/// Whether the replica table exists on this node.
fn replica_exists() -> bool {
    first_value::<bool>("SELECT pg_catalog.to_regclass('gnsm.model_replica') IS NOT NULL", &[], "looking for gnsm.model_replica")
        .unwrap_or(false)
}

/// On a Citus coordinator with worker nodes: makes the replica hold exactly the rows `gnsm.models`
/// holds for model `name` (all models when it is created here), in the calling transaction.
/// Without Citus, on a worker, or on a coordinator without workers (and no replica yet), it
/// does nothing.
pub fn sync(name: &str) {
    if node::role() != Some(Role::Coordinator) {
        return;
    }
    if !replica_exists() {
        if !node::has_workers() {
            return;
        }
        create();
        run("copying the catalog to gnsm.model_replica", "INSERT INTO gnsm.model_replica SELECT * FROM gnsm.models", &[]);
        return;
    }
    run("refreshing gnsm.model_replica", "DELETE FROM gnsm.model_replica WHERE name = $1", &[name.into()]);
    run(
        "refreshing gnsm.model_replica",
        "INSERT INTO gnsm.model_replica SELECT * FROM gnsm.models WHERE name = $1",
        &[name.into()],
    );
    copy_grants();
}

/// Creates the replica: the catalog's columns and checks, a reference table, part of the
/// extension (so `DROP EXTENSION gnsm` drops it), with the catalog's grants.
fn create() {
    run(
        "creating gnsm.model_replica",
        "CREATE TABLE gnsm.model_replica (LIKE gnsm.models INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (name, version))",
        &[],
    );
    run(
        "creating gnsm.model_replica",
        "COMMENT ON TABLE gnsm.model_replica IS 'copy of gnsm.models that Citus replicates to every node; gnsm writes it, workers score from it'",
        &[],
    );
    run("creating gnsm.model_replica", "REVOKE ALL ON gnsm.model_replica FROM PUBLIC", &[]);
    run("distributing gnsm.model_replica", "SELECT pg_catalog.create_reference_table('gnsm.model_replica')", &[]);
    copy_grants();
}

/// Gives the replica the SELECT grants of `gnsm.models` (scoring on a worker runs as the user who
/// ran the query on the coordinator, and needs to read it).
fn copy_grants() {
    let grantees: Vec<String> = Spi::connect(|c| {
        let rows = c.select(
            "SELECT DISTINCT pg_catalog.quote_ident(r.rolname) FROM pg_catalog.pg_class t, pg_catalog.aclexplode(t.relacl) a
             JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
             WHERE t.oid = 'gnsm.models'::regclass AND a.privilege_type = 'SELECT'
             EXCEPT
             SELECT pg_catalog.quote_ident(r.rolname) FROM pg_catalog.pg_class t, pg_catalog.aclexplode(t.relacl) a
             JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
             WHERE t.oid = pg_catalog.to_regclass('gnsm.model_replica') AND a.privilege_type = 'SELECT'",
            None,
            &[],
        )?;
        rows.map(|r| r.get::<String>(1).map(Option::unwrap_or_default)).collect::<Result<Vec<_>, _>>()
    })
    .unwrap_or_else(|e| spi_fail("reading the grants of gnsm.models", e));
    for g in grantees {
        run("granting SELECT on gnsm.model_replica", &format!("GRANT SELECT ON gnsm.model_replica TO {g}"), &[]);
    }
}

/// Runs one statement through SPI, raising an internal error that names `what` on failure.
fn run(what: &str, sql: &str, args: &[pgrx::datum::DatumWithOid]) {
    Spi::run_with_args(sql, args).unwrap_or_else(|e| spi_fail(what, e));
}
