//! The map (and image) a map model scores, read from a scoring argument: a table row, whose
//! columns are matched by name and by the type the model was trained on (`rows::binding`), or, for
//! a model without images, a bare 2-D `smallint[]`/`integer[]`.

use crate::cache::CachedModel;
use crate::errors::raise;
use crate::maps::datum::{image_from_datum, is_map_type, map_from_datum};
use crate::rows::binding::RowBinding;
use crate::rows::{require_row, RowTuple};
use gnsm_core::map::{LabelMap, RgbImage};
use pgrx::{pg_sys, AnyElement, PgSqlErrorCode};

/// One map to score and, for an image model, its image.
pub struct MapRow {
    pub map: LabelMap,
    pub image: Option<RgbImage>,
}

/// The row-to-map step of one call site: the binding of the last row type seen.
#[derive(Default)]
pub struct MapRowReader {
    binding: Option<RowBinding>,
}

/// The type OID of 1-based attribute `attnum` of a binding's descriptor.
fn attr_type(b: &RowBinding, attnum: usize) -> pg_sys::Oid {
    // SAFETY: the binding's descriptor is a valid copy with `natts` attributes, and attnum is one
    // of them (RowBinding found it there).
    unsafe { (*b.tupdesc).attrs.as_slice((*b.tupdesc).natts as usize)[attnum - 1].atttypid }
}

impl MapRowReader {
    /// Reads the map (and image, when `uses_image`) that `model` scores from `row`; `mcxt` is the
    /// statement's memory context. Raises 42804 for a bare array given to an image model or a
    /// value that is neither a row nor a map, 22004 for a NULL map or image column.
    pub fn read(&mut self, model: &CachedModel, uses_image: bool, row: &AnyElement, mcxt: pg_sys::MemoryContext) -> MapRow {
        let context = format!("gnsm model \"{}\"", model.name);
        if is_map_type(row.oid()) {
            if uses_image {
                raise(
                    PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                    format!("{context} was trained on maps with images (columns {}); a bare map has no image", model.columns.join(", ")),
                    None,
                    Some("pass the whole row, which holds both: SELECT gnsm_score(t, 'model') FROM my_table t"),
                );
            }
            // SAFETY: a non-NULL argument (the functions are strict or checked NULL) of this map type.
            let map = unsafe { map_from_datum(row.datum(), row.oid(), &context) };
            return MapRow { map, image: None };
        }
        require_row(
            row,
            "gnsm expects a table row, or a 2-D smallint[] or integer[] map",
            "pass the whole row: SELECT gnsm_score(t, 'model') FROM my_table t",
        );
        // SAFETY: require_row checked that the datum is a composite value.
        let mut tuple = unsafe { RowTuple::from_datum(row.datum()) };
        if !self.binding.as_ref().is_some_and(|b| b.is_for(tuple.typid, tuple.typmod)) {
            self.binding = Some(RowBinding::new(model, tuple.typid, tuple.typmod, mcxt));
        }
        let b = self.binding.as_ref().expect("bound above");
        let map_col = &model.columns[0];
        // SAFETY: the binding was made for this tuple's row type, and attnum is one of its attributes.
        let map = match unsafe { tuple.attr(b.attnums[0], b.tupdesc) } {
            None => raise(
                PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
                format!("{context}: map column \"{map_col}\" is NULL"),
                None,
                Some("a missing map has no score: filter such rows out, e.g. WHERE mask IS NOT NULL"),
            ),
            // SAFETY: a non-NULL attribute of the type the descriptor gives it.
            Some(d) => unsafe { map_from_datum(d, attr_type(b, b.attnums[0]), &format!("{context}, column \"{map_col}\"")) },
        };
        let image = uses_image.then(|| {
            let image_col = &model.columns[1];
            // SAFETY: as above; the image column is the binding's second attribute.
            match unsafe { tuple.attr(b.attnums[1], b.tupdesc) } {
                None => raise(
                    PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
                    format!("{context}: image column \"{image_col}\" is NULL, but the model was trained with an image next to each map"),
                    None,
                    Some("score rows that have their image, or train a model on the map column alone"),
                ),
                // SAFETY: a non-NULL bytea attribute (the binding checked the trained type).
                Some(d) => unsafe { image_from_datum(d, image_col, &context) },
            }
        });
        MapRow { map, image }
    }
}
