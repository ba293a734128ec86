//! Which node of a Citus cluster this backend runs on.

use crate::catalog::first_value;
use pgrx::prelude::*;

/// Whether the `citus` extension is installed in this database: a system-cache look-up, so the
/// single-node path pays no query.
pub fn citus_installed() -> bool {
    // SAFETY: get_extension_oid reads the catalog through the syscache with missing_ok = true,
    // returning InvalidOid when there is no such extension; the name is a static C string.
    unsafe { pg_sys::get_extension_oid(c"citus".as_ptr(), true) != pg_sys::InvalidOid }
}

/// A node's role in a Citus cluster.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    /// Group 0: holds the distributed tables' metadata and `gnsm.models`.
    Coordinator,
    /// Any other group: holds shards and reads the replicated catalog.
    Worker,
}

/// This node's role, or None without Citus.
pub fn role() -> Option<Role> {
    if !citus_installed() {
        return None;
    }
    let group = first_value::<i32>("SELECT groupid FROM pg_catalog.pg_dist_local_group", &[], "reading Citus's local group");
    Some(if group.unwrap_or(0) == 0 { Role::Coordinator } else { Role::Worker })
}

/// Whether the cluster has at least one primary worker node (a coordinator alone needs no replica).
pub fn has_workers() -> bool {
    first_value::<bool>("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_node WHERE groupid <> 0 AND noderole = 'primary')", &[], "reading Citus's node list")
        .unwrap_or(false)
}

/// Whether `relid` is a Citus table whose rows live in shards on other nodes (distributed or
/// reference), so that reading it moves rows over the network.
pub fn is_citus_table(relid: pg_sys::Oid) -> bool {
    if !citus_installed() {
        return false;
    }
    first_value::<bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1::regclass AND partmethod <> 'n')",
        &[relid.into()], "reading Citus's table metadata",
    )
    .unwrap_or(false)
}
