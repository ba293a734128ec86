//! Which columns of a source table a model uses: names, types, kinds (number or category) and the
//! default choice that skips one-column keys. Runs as the calling user.

use crate::errors::raise;
use crate::values::{can_be_numeric, is_categorical_type, is_numeric_type, type_name};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

/// One column of the source table that the model uses.
#[derive(Debug, Clone)]
pub struct SourceColumn {
    pub name: String,
    pub typoid: pg_sys::Oid,
    pub type_name: String,
    /// Modelled as a number (else as categories).
    pub numeric: bool,
}

/// A resolved source table.
#[derive(Debug, Clone)]
pub struct Source {
    pub relid: pg_sys::Oid,
    /// As `regclass` prints it: quoted and schema-qualified where needed.
    pub display: String,
    /// The bare relation name (default model name).
    pub relname: String,
    /// Model columns in model order: numeric ones first, each group in the order given.
    pub columns: Vec<SourceColumn>,
}

impl Source {
    /// Number of numeric model columns (they come first).
    pub fn n_numeric(&self) -> usize {
        self.columns.iter().filter(|c| c.numeric).count()
    }
}

/// Which columns the options force to a kind.
#[derive(Debug, Clone, Copy)]
pub struct KindOverrides<'a> {
    /// `numeric_columns`: integers (or any number type) modelled as numbers.
    pub numeric: &'a [String],
    /// `categorical_columns`: float/numeric columns modelled as categories.
    pub categorical: &'a [String],
}

/// Text naming every type gnsm models, for errors.
pub const SUPPORTED_TYPES: &str =
    "gnsm models text, varchar, char, enum, boolean and integer columns as categories and float4, float8 and numeric columns as numbers";

/// The kind of column `name` of type `t` (true = numeric), or None when gnsm cannot model the type.
/// Raises when an override asks for a kind the type cannot have.
pub fn kind_of(name: &str, t: pg_sys::Oid, typmod: i32, display: &str, kinds: KindOverrides) -> Option<bool> {
    if kinds.numeric.iter().any(|n| n == name) {
        if !can_be_numeric(t) {
            raise(
                PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                format!(
                    "column \"{name}\" of relation \"{display}\" has type {}, which gnsm cannot model as a number",
                    type_name(t, typmod)
                ),
                None,
                Some("numeric_columns takes integer, float4, float8 and numeric columns; cast others in a view"),
            );
        }
        return Some(true);
    }
    if kinds.categorical.iter().any(|n| n == name) {
        return (is_categorical_type(t) || is_numeric_type(t)).then_some(false);
    }
    if is_numeric_type(t) {
        Some(true)
    } else if is_categorical_type(t) {
        Some(false)
    } else {
        None
    }
}

/// Every live attribute: (name, type oid, typmod, in a one-column key or unique index).
fn attributes(relid: pg_sys::Oid) -> Vec<(String, pg_sys::Oid, i32, bool)> {
    let sql = "SELECT a.attname::text, a.atttypid, a.atttypmod,
                      EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                              WHERE i.indrelid = a.attrelid AND (i.indisprimary OR i.indisunique)
                                AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum)
               FROM pg_catalog.pg_attribute a
               WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
               ORDER BY a.attnum";
    Spi::connect(|client| {
        let rows = client.select(sql, None, &[relid.into()])?;
        let mut out = Vec::new();
        for row in rows {
            out.push((
                row.get::<String>(1)?.unwrap_or_default(),
                row.get::<pg_sys::Oid>(2)?.unwrap_or(pg_sys::InvalidOid),
                row.get::<i32>(3)?.unwrap_or(-1),
                row.get::<bool>(4)?.unwrap_or(false),
            ));
        }
        Ok::<_, pgrx::spi::Error>(out)
    })
    .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("gnsm: reading the table's columns failed: {e}"), None, None))
}

/// Raises when `numeric_columns` or `categorical_columns` names a column that is not a model column.
pub fn check_overrides_exist(kinds: KindOverrides, columns: &[&str]) {
    for (option, list) in [("numeric_columns", kinds.numeric), ("categorical_columns", kinds.categorical)] {
        if let Some(stray) = list.iter().find(|n| !columns.contains(&n.as_str())) {
            raise(
                PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
                format!("option {option} names column \"{stray}\", which is not one of the model's columns"),
                Some(format!("model columns: {}", columns.join(", "))),
                Some("list the column in the columns argument too (key columns are not picked automatically)"),
            );
        }
    }
}

/// Resolves the table and its model columns; `requested = None` picks every column of a type gnsm
/// models that is not a single-column key. Numeric columns are moved first (the model's order).
pub fn resolve(relid: pg_sys::Oid, requested: Option<Vec<Option<String>>>, kinds: KindOverrides) -> Source {
    let (display, relname, relkind): (Option<String>, Option<String>, Option<String>) = Spi::connect(|c| {
        let t = c
            .select(
                "SELECT $1::regclass::text, relname::text, relkind::text FROM pg_catalog.pg_class WHERE oid = $1",
                None,
                &[relid.into()],
            )?
            .first();
        Ok::<_, pgrx::spi::Error>((t.get(1)?, t.get(2)?, t.get(3)?))
    })
    .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("gnsm: {e}"), None, None));
    let (Some(display), Some(relname)) = (display, relname) else {
        raise(PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE, format!("relation with OID {} does not exist", relid.to_u32()), None, None)
    };
    if !matches!(relkind.as_deref(), Some("r" | "p" | "v" | "m" | "f")) {
        raise(
            PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
            format!("\"{display}\" is not a table, view, materialized view or foreign table"),
            None,
            None,
        );
    }
    let attrs = attributes(relid);
    let columns = match requested {
        Some(names) => {
            if names.is_empty() {
                raise(
                    PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                    "gnsm_train: the column list is empty",
                    None,
                    Some("pass NULL to use every column gnsm can model"),
                );
            }
            let mut out: Vec<SourceColumn> = Vec::new();
            for name in names {
                let Some(name) = name else {
                    raise(PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED, "gnsm_train: the column list contains NULL", None, None)
                };
                let Some((n, t, m, _)) = attrs.iter().find(|a| a.0 == name) else {
                    let available: Vec<&str> = attrs.iter().map(|a| a.0.as_str()).collect();
                    raise(
                        PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
                        format!("column \"{name}\" of relation \"{display}\" does not exist"),
                        Some(format!("columns: {}", available.join(", "))),
                        Some("column names are case sensitive"),
                    )
                };
                if out.iter().any(|c| &c.name == n) {
                    raise(PgSqlErrorCode::ERRCODE_DUPLICATE_COLUMN, format!("column \"{n}\" is listed twice"), None, None);
                }
                let Some(numeric) = kind_of(n, *t, *m, &display, kinds) else {
                    raise(
                        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                        format!("column \"{n}\" of relation \"{display}\" has unsupported type {}", type_name(*t, *m)),
                        Some(SUPPORTED_TYPES.into()),
                        Some("to treat such values as categories, train on a view that casts the column to text"),
                    );
                };
                out.push(SourceColumn { name: n.clone(), typoid: *t, type_name: type_name(*t, *m), numeric });
            }
            out
        }
        None => {
            // every column the default choice leaves out gets a NOTICE saying why
            let mut picked: Vec<SourceColumn> = Vec::new();
            for (n, t, m, key) in &attrs {
                if *key {
                    notice!("gnsm: column \"{n}\" left out: it is a one-column key (name it in the column list to model it)");
                    continue;
                }
                match kind_of(n, *t, *m, &display, kinds) {
                    Some(numeric) => picked.push(SourceColumn { name: n.clone(), typoid: *t, type_name: type_name(*t, *m), numeric }),
                    None => notice!(
                        "gnsm: column \"{n}\" left out: gnsm does not model type {} (cast it to text in a view to use it)",
                        type_name(*t, *m)
                    ),
                }
            }
            // a view or foreign table has no indexes to say which column is a key: a categorical
            // column whose every value is distinct (and never NULL) is an identifier there
            if matches!(relkind.as_deref(), Some("v" | "f")) {
                let identifiers = distinct_in_every_row(&display, &picked);
                picked.retain(|c| {
                    let id = identifiers.contains(&c.name);
                    if id {
                        notice!("gnsm: column \"{}\" left out: every row has its own value, so it identifies rows (name it in the column list to model it)", c.name);
                    }
                    !id
                });
            }
            if picked.is_empty() {
                raise(
                    PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                    format!("relation \"{display}\" has no column gnsm can model that is not a key"),
                    Some(SUPPORTED_TYPES.into()),
                    Some("name the columns explicitly: gnsm_train('t', ARRAY['a','b'])"),
                );
            }
            picked
        }
    };
    check_overrides_exist(kinds, &columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>());
    let (mut columns, categorical): (Vec<SourceColumn>, Vec<SourceColumn>) = columns.into_iter().partition(|c| c.numeric);
    columns.extend(categorical);
    Source { relid, display, relname, columns }
}

/// The categorical columns of `display` (a view or foreign table) whose values are all distinct
/// and never NULL over more than one row: one scan, counting distinct values per column.
fn distinct_in_every_row(display: &str, columns: &[SourceColumn]) -> Vec<String> {
    let candidates: Vec<&SourceColumn> = columns.iter().filter(|c| !c.numeric).collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    let counts: Vec<String> =
        candidates.iter().map(|c| format!("count(DISTINCT {})::bigint", pgrx::spi::quote_identifier(&c.name))).collect();
    let sql = format!("SELECT count(*)::bigint, {} FROM {display}", counts.join(", "));
    let row: Vec<i64> = Spi::connect(|client| {
        let t = client.select(&sql, Some(1), &[])?.first();
        (1..=candidates.len() + 1).map(|i| Ok(t.get::<i64>(i)?.unwrap_or(0))).collect::<Result<Vec<i64>, pgrx::spi::Error>>()
    })
    .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("gnsm: counting distinct values of \"{display}\": {e}"), None, None));
    let total = row[0];
    candidates.iter().zip(&row[1..]).filter(|(_, &d)| total > 1 && d == total).map(|(c, _)| c.name.clone()).collect()
}
