//! Which columns of a source table train a map model. A column list that names a `smallint[]` or
//! `integer[]` column (or a `bytea` one) asks for a map model, which has exactly one label-map
//! column and at most one `bytea` image column; anything else in that list is an error naming
//! the column. `columns => NULL` never picks a map model: array columns are not auto-picked.

use crate::errors::raise;
use crate::maps::datum::{is_image_type, is_map_type};
use crate::values::type_name;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

/// One column of a map model's source.
#[derive(Debug, Clone)]
pub struct MapColumn {
    pub name: String,
    pub typoid: pg_sys::Oid,
    pub type_name: String,
}

/// A source table of a map model.
#[derive(Debug, Clone)]
pub struct MapSource {
    pub relid: pg_sys::Oid,
    /// As `regclass` prints it: quoted and schema-qualified where needed.
    pub display: String,
    /// The bare relation name (default model name).
    pub relname: String,
    pub map: MapColumn,
    pub image: Option<MapColumn>,
}

impl MapSource {
    /// Model columns in model order: the map, then the image.
    pub fn columns(&self) -> Vec<&MapColumn> {
        std::iter::once(&self.map).chain(self.image.as_ref()).collect()
    }
}

/// The table's display name, bare name and live attributes (name, type, typmod).
fn describe(relid: pg_sys::Oid) -> (String, String, Vec<(String, pg_sys::Oid, i32)>) {
    Spi::connect(|c| {
        let t =
            c.select("SELECT $1::regclass::text, relname::text FROM pg_catalog.pg_class WHERE oid = $1", None, &[relid.into()])?.first();
        let (display, relname): (Option<String>, Option<String>) = (t.get(1)?, t.get(2)?);
        let rows = c.select(
            "SELECT attname::text, atttypid, atttypmod FROM pg_catalog.pg_attribute
             WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            None,
            &[relid.into()],
        )?;
        let mut attrs = Vec::new();
        for r in rows {
            attrs.push((
                r.get::<String>(1)?.unwrap_or_default(),
                r.get::<pg_sys::Oid>(2)?.unwrap_or(pg_sys::InvalidOid),
                r.get::<i32>(3)?.unwrap_or(-1),
            ));
        }
        Ok::<_, pgrx::spi::Error>((display.unwrap_or_default(), relname.unwrap_or_default(), attrs))
    })
    .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("gnsm: reading the table's columns failed: {e}"), None, None))
}

/// The map source that `requested` names, or None when the list names no map or image column
/// (a table model: `source::resolve` then handles the list, unknown columns included). Raises
/// 0A000 for a list that mixes a map with other columns, names two maps or two images, or an
/// image without a map.
pub fn resolve_map(relid: pg_sys::Oid, requested: Option<&[Option<String>]>) -> Option<MapSource> {
    let requested = requested?;
    let (display, relname, attrs) = describe(relid);
    let find = |n: &str| attrs.iter().find(|a| a.0 == n);
    let named: Vec<&(String, pg_sys::Oid, i32)> = requested.iter().flatten().filter_map(|n| find(n)).collect();
    let maps: Vec<_> = named.iter().filter(|a| is_map_type(a.1)).collect();
    let images: Vec<_> = named.iter().filter(|a| is_image_type(a.1)).collect();
    if maps.is_empty() && images.is_empty() {
        return None;
    }
    let col = |a: &(String, pg_sys::Oid, i32)| MapColumn { name: a.0.clone(), typoid: a.1, type_name: type_name(a.1, a.2) };
    let unsupported = |msg: String, hint: &str| -> ! { raise(PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED, msg, None, Some(hint)) };
    if maps.is_empty() {
        unsupported(
            format!("column \"{}\" of relation \"{display}\" is bytea: an image column trains a map model next to a label-map column, and the column list names none", images[0].0),
            "for a map model, name the smallint[] or integer[] map column first: gnsm_train('t', ARRAY['mask', 'image']); for a table model, cast the bytes to text in a view",
        );
    }
    if maps.len() > 1 {
        unsupported(
            format!(
                "columns \"{}\" and \"{}\" of relation \"{display}\" are both label maps; a map model has exactly one",
                maps[0].0, maps[1].0
            ),
            "train one map model per map column",
        );
    }
    if images.len() > 1 {
        unsupported(
            format!(
                "columns \"{}\" and \"{}\" of relation \"{display}\" are both bytea; a map model takes at most one image column",
                images[0].0, images[1].0
            ),
            "name the map column and one image column",
        );
    }
    for name in requested {
        let Some(name) = name else {
            raise(PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED, "gnsm_train: the column list contains NULL", None, None)
        };
        if requested.iter().flatten().filter(|n| *n == name).count() > 1 {
            raise(PgSqlErrorCode::ERRCODE_DUPLICATE_COLUMN, format!("column \"{name}\" is listed twice"), None, None);
        }
        match find(name) {
            None => raise(
                PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
                format!("column \"{name}\" of relation \"{display}\" does not exist"),
                Some(format!("columns: {}", attrs.iter().map(|a| a.0.as_str()).collect::<Vec<_>>().join(", "))),
                Some("column names are case sensitive"),
            ),
            Some(a) if !is_map_type(a.1) && !is_image_type(a.1) => unsupported(
                format!(
                    "column \"{name}\" ({}) cannot be modelled together with map column \"{}\": a map model takes one label-map column and at most one bytea image column",
                    type_name(a.1, a.2),
                    maps[0].0
                ),
                "model the other columns with a separate table model: gnsm_train('t', ARRAY['other', 'columns'])",
            ),
            Some(_) => {}
        }
    }
    Some(MapSource { relid, display, relname, map: col(maps[0]), image: images.first().map(|a| col(a)) })
}
