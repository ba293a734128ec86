//! Shard relations back to their distributed tables. On a worker, `gnsm_score(o)` sees a row of
//! the shard `orders_102009`, not of `orders`; the model was trained on `orders`.

use super::node::citus_installed;
use crate::catalog::first_value;
use pgrx::prelude::*;

/// The distributed table whose shard `relid` is, when `relid` is a shard placed on this node;
/// None otherwise (and always without Citus). The match uses Citus's metadata: each shard of
/// `pg_dist_shard` placed on this node, named the way Citus names it (`shard_name`, always
/// schema-qualified), is compared with the relation's own qualified name; the relation's name is
/// never taken apart.
pub fn distributed_table_of(relid: pg_sys::Oid) -> Option<pg_sys::Oid> {
    if !citus_installed() {
        return None;
    }
    first_value::<pg_sys::Oid>(
        "SELECT s.logicalrelid::oid
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_catalog.pg_class lc ON lc.relnamespace = c.relnamespace
         JOIN pg_catalog.pg_dist_shard s ON s.logicalrelid = lc.oid
         JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
         WHERE c.oid = $1
           AND p.groupid = (SELECT groupid FROM pg_catalog.pg_dist_local_group)
           AND pg_catalog.shard_name(s.logicalrelid, s.shardid, false) = pg_catalog.format('%I.%I', n.nspname, c.relname)
         LIMIT 1",
        &[relid.into()], "mapping a shard to its distributed table",
    )
}
