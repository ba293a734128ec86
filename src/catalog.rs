//! The model catalog `gnsm.models`: storing a new version, resolving which version scores, loading
//! bytes, activating and dropping. Every query runs through SPI as the calling user, so ordinary
//! grants on `gnsm.models` decide who may read, train, activate and drop.

use crate::errors::raise;
use crate::options::Activate;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};

/// Raises an SPI failure as an internal error naming what was being done.
#[track_caller]
pub fn spi_fail(what: &str, e: pgrx::spi::Error) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("gnsm: {what}: {e}"), None, None)
}

/// First column of the first row of a query, or None when it returns no row (pgrx's `get_one`
/// reports an empty result as an error, and opens a read-write connection, which a parallel
/// worker may not).
pub fn first_value<T: FromDatum + IntoDatum>(sql: &str, args: &[DatumWithOid], what: &str) -> Option<T> {
    Spi::connect(|c| {
        let t = c.select(sql, Some(1), args)?.first();
        if t.is_empty() {
            return Ok(None);
        }
        t.get::<T>(1)
    })
    .unwrap_or_else(|e| spi_fail(what, e))
}

/// One row to insert into the catalog.
pub struct NewModel {
    pub name: String,
    pub source_table: String,
    pub source_relid: Option<pg_sys::Oid>,
    pub columns: Vec<String>,
    pub column_types: Vec<String>,
    pub vocab_sizes: Vec<i32>,
    pub options: serde_json::Value,
    pub metrics: serde_json::Value,
    pub score_quantiles: Vec<f64>,
    pub format_version: i32,
    pub bytes: Vec<u8>,
    pub val_loss: f64,
}

/// Serialises concurrent writers of one model name until the transaction ends.
fn lock_name(name: &str) {
    Spi::run_with_args("SELECT pg_catalog.pg_advisory_xact_lock(hashtextextended('gnsm.models:' || $1, 0))", &[name.into()])
        .unwrap_or_else(|e| spi_fail("locking the model name", e));
}

/// Inserts a new version; returns (version, is_active) and says in a NOTICE what activation did.
pub fn store(m: NewModel, activate: Activate) -> (i32, bool) {
    lock_name(&m.name);
    let version: i32 = first_value(
        "SELECT coalesce(max(version), 0) + 1 FROM gnsm.models WHERE name = $1",
        &[m.name.as_str().into()],
        "choosing the version",
    )
    .unwrap_or(1);
    let current: Option<f64> = first_value(
        "SELECT (metrics ->> 'best_val_loss')::float8 FROM gnsm.models WHERE name = $1 AND is_active",
        &[m.name.as_str().into()],
        "reading the active version",
    );
    let active = match activate {
        Activate::Always => true,
        Activate::Never => false,
        Activate::IfBetter => match current {
            Some(cur) if !(m.val_loss <= cur) => {
                notice!("gnsm: version {version} of \"{}\" is stored but not activated: validation loss {:.4} is worse than the active version's {:.4}", m.name, m.val_loss, cur);
                false
            }
            _ => true,
        },
    };
    if active {
        Spi::run_with_args("UPDATE gnsm.models SET is_active = false WHERE name = $1 AND is_active", &[m.name.as_str().into()])
            .unwrap_or_else(|e| spi_fail("deactivating the previous version", e));
    }
    let args: Vec<DatumWithOid> = vec![
        m.name.as_str().into(),
        version.into(),
        m.source_table.as_str().into(),
        m.source_relid.into(),
        m.columns.into(),
        m.column_types.into(),
        m.vocab_sizes.into(),
        JsonB(m.options).into(),
        JsonB(m.metrics).into(),
        m.score_quantiles.into(),
        m.format_version.into(),
        active.into(),
        m.bytes.into(),
    ];
    Spi::run_with_args(
        "INSERT INTO gnsm.models (name, version, source_table, source_relid, columns, column_types, vocab_sizes,
                                  options, metrics, score_quantiles, format_version, is_active, model)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        &args,
    )
    .unwrap_or_else(|e| spi_fail("storing the model", e));
    crate::citus::replica::sync(&m.name);
    (version, active)
}

/// Identity of one stored version as of this snapshot. `row_version` (xmin and ctid) changes
/// whenever the catalog row is rewritten (bytes edited by hand, restore), even within one
/// transaction, so caches keyed by it never serve stale bytes. It only means something in the
/// catalog `relation` it was read from (on a Citus worker the replica's placement), which is
/// also where `load` reads the bytes, so a miss does not look the relation up twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelKey {
    pub name: String,
    pub version: i32,
    pub row_version: String,
    pub relation: String,
}

/// Runs a query on `relation` returning (name, version, xmin) and takes its first row.
fn first_key(relation: String, sql: &str, args: &[DatumWithOid], what: &str) -> Option<ModelKey> {
    Spi::connect(|c| {
        let t = c.select(sql, Some(1), args)?.first();
        if t.is_empty() {
            return Ok(None);
        }
        Ok::<_, pgrx::spi::Error>(Some(ModelKey {
            name: t.get::<String>(1)?.unwrap_or_default(),
            version: t.get::<i32>(2)?.unwrap_or(0),
            row_version: t.get::<String>(3)?.unwrap_or_default(),
            relation,
        }))
    })
    .unwrap_or_else(|e| spi_fail(what, e))
}

/// The active model for rows of relation `relid`, matched by OID and then by name (OIDs change
/// across dump and restore). Among several, the one named after the table (gnsm_train's default
/// name) wins, then the most recently trained.
///
/// On a Citus worker the catalog is the coordinator's (`citus::replica`), whose OIDs mean
/// nothing here: only the name matches there.
pub fn active_for_relation(relid: pg_sys::Oid) -> Option<ModelKey> {
    let (catalog, local) = read_relation();
    first_key(
        catalog.clone(),
        &format!(
            "SELECT name, version, xmin::text || ctid::text FROM {catalog}
             WHERE is_active AND ((source_relid = $1 AND $2) OR source_table = $1::regclass::text)
             ORDER BY (source_relid = $1 AND $2) DESC NULLS LAST,
                      name = (SELECT relname::text FROM pg_catalog.pg_class WHERE oid = $1) DESC,
                      created_at DESC, name LIMIT 1"
        ),
        &[relid.into(), local.into()],
        "finding the table's model",
    )
}

/// The relation scoring reads the catalog from, and whether its OIDs are this node's: `gnsm.models`,
/// or on a Citus worker the local placement of the coordinator's replicated catalog.
fn read_relation() -> (String, bool) {
    let relation = crate::citus::replica::read_relation();
    let local = relation == "gnsm.models";
    (relation, local)
}

/// The active version of a named model.
pub fn active_version(name: &str) -> Option<ModelKey> {
    let (catalog, _) = read_relation();
    first_key(
        catalog.clone(),
        &format!("SELECT name, version, xmin::text || ctid::text FROM {catalog} WHERE name = $1 AND is_active"),
        &[name.into()],
        "finding the active version",
    )
}

/// Raises "unknown model" with a hint listing how to see models.
#[track_caller]
pub fn raise_unknown(name: &str, why: &str) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
        format!("gnsm model \"{name}\" {why}"),
        None,
        Some("SELECT name, version, is_active FROM gnsm.model_list lists the models; train one with gnsm_train"),
    )
}

/// A stored version's bytes (all of them, or the first ones: see `load_front`) and column
/// metadata.
pub struct StoredModel {
    pub bytes: Vec<u8>,
    /// Length of the whole stored value (`bytes` may be a prefix of it).
    pub total_len: usize,
    pub columns: Vec<String>,
    pub column_types: Vec<String>,
}

/// Bytes of a model's first read. A table model's front section (format 9: everything but the
/// network weights) fits unless it stores thousands of warm rows of a wide table (the demo's is
/// 40 KB of 3.4 MB); a longer front costs one more read of exactly the rest. Every new backend
/// pays this read (under Citus, every shard task's): on a cold Citus worker, reading 256 KB took
/// 1.8-2.8 ms and 64 KB 1.1-1.4 ms (psql \timing, fresh sessions).
pub(crate) const FIRST_READ_BYTES: usize = 64 * 1024;

/// Loads the version `key` names from the catalog relation it was found in, reading only the
/// front section when its format has one (ADR 015): a `substring` of an uncompressed TOAST
/// value fetches only the chunks it covers. Older formats are read whole. Raises when the
/// version does not exist.
pub fn load_front(key: &ModelKey) -> StoredModel {
    let mut stored = load_prefix(key, Some(FIRST_READ_BYTES));
    if stored.bytes.len() < stored.total_len {
        match gnsm_core::model::front_length(&stored.bytes) {
            Some(end) if end <= stored.bytes.len() => {}
            Some(end) if end < stored.total_len => {
                let have = stored.bytes.len();
                stored.bytes.extend(load_range(key, have, end - have));
            }
            // an older format, or bytes the decoder will call damaged: read all of them
            _ => stored = load_prefix(key, None),
        }
    }
    stored
}

/// All the bytes of the stored model `key` names.
pub fn load_all(key: &ModelKey) -> StoredModel {
    load_prefix(key, None)
}

/// `len` bytes of the stored model `key` names, from byte `offset` (0-based).
pub fn load_range(key: &ModelKey, offset: usize, len: usize) -> Vec<u8> {
    let sql = format!("SELECT substring(model from $3 for $4) FROM {} WHERE name = $1 AND version = $2", key.relation);
    let (from, count) = (sql_int(offset + 1), sql_int(len));
    let bytes: Option<Vec<u8>> = first_value(&sql, &[key.name.as_str().into(), key.version.into(), from.into(), count.into()], "loading the model");
    let bytes = bytes.unwrap_or_else(|| raise_unknown(&key.name, &format!("has no version {}", key.version)));
    if bytes.len() != len {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
            format!("gnsm model \"{}\" version {}: the stored model changed while it was being read", key.name, key.version),
            None,
            Some("run the statement again"),
        );
    }
    bytes
}

/// A byte position or count as SQL's `int` (a `bytea` is under 1 GB).
fn sql_int(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The stored model's first `limit` bytes (all of them with None), its length and its columns.
fn load_prefix(key: &ModelKey, limit: Option<usize>) -> StoredModel {
    let (name, version) = (key.name.as_str(), key.version);
    let bytes_expr = if limit.is_some() { "substring(model from 1 for $3)" } else { "model" };
    let sql = format!(
        "SELECT {bytes_expr}, octet_length(model)::bigint, columns, column_types FROM {} WHERE name = $1 AND version = $2",
        key.relation
    );
    let mut args: Vec<DatumWithOid> = vec![name.into(), version.into()];
    if let Some(n) = limit {
        args.push(sql_int(n).into());
    }
    let row = Spi::connect(|c| {
        let t = c.select(&sql, None, &args)?.first();
        if t.is_empty() {
            return Ok(None);
        }
        Ok::<_, pgrx::spi::Error>(Some(StoredModel {
            bytes: t.get::<Vec<u8>>(1)?.unwrap_or_default(),
            total_len: t.get::<i64>(2)?.unwrap_or_default().max(0) as usize,
            columns: t.get::<Vec<String>>(3)?.unwrap_or_default(),
            column_types: t.get::<Vec<String>>(4)?.unwrap_or_default(),
        }))
    })
    .unwrap_or_else(|e| spi_fail("loading the model", e));
    row.unwrap_or_else(|| raise_unknown(name, &format!("has no version {version}")))
}

/// Makes `version` the active one of `name` (rollback); raises when it does not exist.
pub fn activate(name: &str, version: i32) {
    lock_name(name);
    let exists: Option<bool> =
        first_value("SELECT true FROM gnsm.models WHERE name = $1 AND version = $2", &[name.into(), version.into()], "finding the version");
    if exists.is_none() {
        raise_unknown(name, &format!("has no version {version}"));
    }
    // two statements: the one-active-per-name index is checked row by row
    Spi::run_with_args(
        "UPDATE gnsm.models SET is_active = false WHERE name = $1 AND is_active AND version <> $2",
        &[name.into(), version.into()],
    )
    .unwrap_or_else(|e| spi_fail("deactivating", e));
    Spi::run_with_args(
        "UPDATE gnsm.models SET is_active = true WHERE name = $1 AND version = $2 AND NOT is_active",
        &[name.into(), version.into()],
    )
    .unwrap_or_else(|e| spi_fail("activating", e));
    crate::citus::replica::sync(name);
}

/// Deletes one version or (version NULL) every version of a model; returns how many were deleted.
pub fn drop_model(name: &str, version: Option<i32>) -> i64 {
    lock_name(name);
    let n = count_deleted(
        "WITH d AS (DELETE FROM gnsm.models WHERE name = $1 AND ($2::int IS NULL OR version = $2) RETURNING 1) SELECT count(*) FROM d",
        &[name.into(), version.into()],
        "dropping",
    );
    if n == 0 {
        match version {
            Some(v) => raise_unknown(name, &format!("has no version {v}")),
            None => raise_unknown(name, "does not exist"),
        }
    }
    crate::citus::replica::sync(name);
    n
}

/// Where a model came from, for retraining.
pub struct ModelSource {
    /// The source table's current OID (looked up by the stored OID, then by name); None if gone.
    pub relid: Option<pg_sys::Oid>,
    pub table: String,
    pub columns: Vec<String>,
    pub column_types: Vec<String>,
    pub options: serde_json::Value,
}

impl ModelSource {
    /// Whether the model is a map model: its first column is a label map (a table model never
    /// has an array column, so the stored types tell the families apart without the bytes).
    pub fn is_map(&self) -> bool {
        matches!(self.column_types.first().map(String::as_str), Some("smallint[]" | "integer[]"))
    }
}

/// The source table, columns and options of a model's active (else newest) version.
pub fn source_of(name: &str) -> Option<ModelSource> {
    Spi::connect(|c| {
        let t = c
            .select(
                "SELECT coalesce((SELECT oid FROM pg_catalog.pg_class WHERE oid = m.source_relid), to_regclass(m.source_table)::oid),
                        m.source_table, m.columns, m.options, m.column_types
                 FROM gnsm.models m WHERE m.name = $1 ORDER BY m.is_active DESC, m.version DESC LIMIT 1",
                None,
                &[name.into()],
            )?
            .first();
        if t.is_empty() {
            return Ok(None);
        }
        Ok::<_, pgrx::spi::Error>(Some(ModelSource {
            relid: t.get::<pg_sys::Oid>(1)?,
            table: t.get::<String>(2)?.unwrap_or_default(),
            columns: t.get::<Vec<String>>(3)?.unwrap_or_default(),
            options: t.get::<JsonB>(4)?.map(|j| j.0).unwrap_or(serde_json::Value::Null),
            column_types: t.get::<Vec<String>>(5)?.unwrap_or_default(),
        }))
    })
    .unwrap_or_else(|e| spi_fail("reading the model's source", e))
}

/// Deletes all but the `keep` newest versions of a model, never the active one; returns how many.
pub fn prune(name: &str, keep: usize) -> i64 {
    let n = count_deleted(
        "WITH d AS (DELETE FROM gnsm.models WHERE name = $1 AND NOT is_active AND version NOT IN
                      (SELECT version FROM gnsm.models WHERE name = $1 ORDER BY version DESC LIMIT $2)
                    RETURNING 1)
         SELECT count(*) FROM d",
        &[name.into(), (keep as i64).into()],
        "pruning old versions",
    );
    if n > 0 {
        crate::citus::replica::sync(name);
    }
    n
}

/// Runs a `WITH d AS (DELETE ... RETURNING 1) SELECT count(*) FROM d` statement; returns the count.
fn count_deleted(sql: &str, args: &[DatumWithOid], what: &str) -> i64 {
    Spi::connect_mut(|c| c.update(sql, None, args)?.first().get::<i64>(1)).unwrap_or_else(|e| spi_fail(what, e)).unwrap_or(0)
}
