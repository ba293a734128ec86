//! Which model a scoring call uses: the active model trained on the row's table, the active
//! version of a named model, or a model given as bytes.

use crate::bytes_arg::RawBytea;
use crate::cache::{self, CachedModel};
use crate::catalog;
use crate::errors::raise;
use crate::maps::datum::is_map_type;
use crate::rows::{require_row, RowTuple};
use pgrx::{pg_sys, AnyElement, PgSqlErrorCode};
use std::rc::Rc;

/// Which model a scoring call uses.
#[derive(Clone, Copy)]
pub enum ModelRef<'a> {
    /// The active model trained on the row's table.
    OfRowTable,
    /// The active version of a named model.
    Named(&'a str),
    /// Bytes made by the aggregate.
    Bytes(&'a RawBytea),
}

impl ModelRef<'_> {
    /// What identifies this choice within one call site: when it changes from one row to the
    /// next (another name, other bytes), the call site resolves its model again.
    pub fn call_site_key(&self) -> String {
        match self {
            ModelRef::OfRowTable => String::new(),
            ModelRef::Named(name) => format!("name:{name}"),
            // a TOAST pointer or the model header: no read of the whole value per row
            ModelRef::Bytes(raw) => format!("bytes:{}", raw.identity()),
        }
    }
}

/// The model `which` names for `row`, loaded through the backend cache; raises 42704 when there
/// is none.
pub fn resolve(which: ModelRef, row: &AnyElement) -> Rc<CachedModel> {
    match which {
        ModelRef::Named(name) => {
            let key =
                catalog::active_version(name).unwrap_or_else(|| catalog::raise_unknown(name, "does not exist or has no active version"));
            cache::get(&key)
        }
        ModelRef::Bytes(raw) => cache::get_bytes(raw),
        ModelRef::OfRowTable => {
            if is_map_type(row.oid()) {
                raise(
                    PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                    "a bare map does not say which model scores it",
                    None,
                    Some("name the model: gnsm_score(mask, 'model_name'), or pass the whole row of the table the model was trained on: gnsm_score(t) FROM my_table t"),
                );
            }
            require_row(row, "gnsm expects a table row", "pass the whole row: SELECT gnsm_score(t) FROM my_table t");
            // SAFETY: require_row checked that the datum is a composite value.
            let typid = unsafe { RowTuple::from_datum(row.datum()) }.typid;
            // SAFETY: typid is the row type of a live composite datum; the call reads the type cache.
            let relid = unsafe { pg_sys::get_typ_typrelid(typid) };
            if relid == pg_sys::InvalidOid {
                raise(
                    PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                    "gnsm_score(row) needs a row of a table to find its model; this row has an anonymous type",
                    None,
                    Some("name the model and pass the row whole, as in WITH r AS (SELECT * FROM orders) SELECT gnsm_score(r, 'orders') FROM r: columns are matched by name, so ROW(...) without names cannot be scored"),
                );
            }
            // on a Citus worker the row belongs to a shard (orders_102009): its model was trained
            // on the distributed table (orders)
            let relid = crate::citus::shards::distributed_table_of(relid).unwrap_or(relid);
            match catalog::active_for_relation(relid) {
                Some(key) => cache::get(&key),
                None => raise(
                    PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                    format!("no active gnsm model was trained on table {}", crate::values::relation_name(relid)),
                    None,
                    Some("train one with SELECT gnsm_train('table'), or name a model: gnsm_score(t, 'model_name')"),
                ),
            }
        }
    }
}
