//! Shard relations back to their distributed tables. On a worker, `gnsm_score(o)` sees a row of
//! the shard `orders_102009`, not of `orders`; the model was trained on `orders`.

use super::node::citus_installed;
use crate::catalog::first_value;
use pgrx::prelude::*;

/// The distributed table whose shard `relid` is, when `relid` is a shard placed on this node;
/// None otherwise (and always without Citus). The match uses Citus's metadata: each shard of
/// `pg_dist_shard` placed on this node, named the way Citus names it (`shard_name`, always
/// schema-qualified), is compared with the relation's own qualified name, read from the system
/// cache (Citus hides shards from `pg_class` queries in ordinary sessions); the relation's name is
/// never taken apart.
pub fn distributed_table_of(relid: pg_sys::Oid) -> Option<pg_sys::Oid> {
    if !citus_installed() {
        return None;
    }
    let qualified = qualified_name(relid)?;
    first_value::<pg_sys::Oid>(
        "SELECT s.logicalrelid::oid
         FROM pg_catalog.pg_dist_shard s JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
         WHERE p.groupid = (SELECT groupid FROM pg_catalog.pg_dist_local_group)
           AND pg_catalog.shard_name(s.logicalrelid, s.shardid, false) = $1
         LIMIT 1",
        &[qualified.as_str().into()],
        "mapping a shard to its distributed table",
    )
}

/// `schema.relation`, each part quoted as `quote_identifier` quotes it (as `shard_name` does).
fn qualified_name(relid: pg_sys::Oid) -> Option<String> {
    // SAFETY: syscache look-ups that return NULL for a missing relation or namespace (checked);
    // the returned names are palloc'd NUL-terminated strings, copied before anything else runs.
    unsafe {
        let rel = pg_sys::get_rel_name(relid);
        if rel.is_null() {
            return None;
        }
        let nsp = pg_sys::get_namespace_name(pg_sys::get_rel_namespace(relid));
        if nsp.is_null() {
            return None;
        }
        let quote = |p: *const std::ffi::c_char| std::ffi::CStr::from_ptr(pg_sys::quote_identifier(p)).to_string_lossy().into_owned();
        Some(format!("{}.{}", quote(nsp), quote(rel)))
    }
}
