//! Encoding a row for a model: attribute values through their output functions, then the
//! model's vocabulary (NULL is a category, an unseen value is `UNSEEN`) or a numeric column's
//! z-scoring, into the cells the core scores.

use super::binding::RowBinding;
use super::tuple::{require_row, RowTuple};
use crate::cache::CachedModel;
use crate::errors::OrRaise;
use pgrx::{pg_sys, AnyElement};

/// The row-to-cells step of one call site: a binding per row type and a reused cell buffer.
#[derive(Default)]
pub struct RowEncoder {
    binding: Option<RowBinding>,
    codes: Vec<u32>,
    /// The current row's attributes, deformed once per row.
    values: Vec<pg_sys::Datum>,
    nulls: Vec<bool>,
    /// The argument type already checked to be a row type (a type cache look-up per row otherwise).
    checked_type: Option<pg_sys::Oid>,
}

/// Raises the error for an argument that is not a row.
fn require_table_row(row: &AnyElement) {
    require_row(row, "gnsm expects a table row", "pass the whole row: SELECT gnsm_score(t) FROM my_table t");
}

impl RowEncoder {
    /// The binding for `tuple`'s row type, made (or re-made, when the row type changes) on demand.
    fn bind<'b>(
        binding: &'b mut Option<RowBinding>,
        model: &CachedModel,
        tuple: &RowTuple,
        mcxt: pg_sys::MemoryContext,
    ) -> &'b mut RowBinding {
        if !binding.as_ref().is_some_and(|b| b.is_for(tuple.typid, tuple.typmod)) {
            *binding = Some(RowBinding::new(model, tuple.typid, tuple.typmod, mcxt));
        }
        binding.as_mut().expect("bound above")
    }

    /// Cells of one row under `model`; `mcxt` is the statement's memory context.
    pub fn encode(&mut self, model: &CachedModel, row: &AnyElement, mcxt: pg_sys::MemoryContext) -> &[u32] {
        if self.checked_type != Some(row.oid()) {
            require_table_row(row);
            self.checked_type = Some(row.oid());
        }
        // SAFETY: require_table_row checked that a datum of this type is a composite value.
        let mut tuple = unsafe { RowTuple::from_datum(row.datum()) };
        let b = Self::bind(&mut self.binding, model, &tuple, mcxt);
        // SAFETY: the binding was made for this tuple's row type.
        unsafe { tuple.deform(b.tupdesc, &mut self.values, &mut self.nulls) };
        let codes = &mut self.codes;
        codes.clear();
        for (j, (&attnum, out)) in b.attnums.iter().zip(b.outputs.iter_mut()).enumerate() {
            // attnum is one of the row type's attributes (the binding found it by name)
            let cell = if self.nulls[attnum - 1] {
                model.table().encode_cell(j, None)
            } else {
                out.with_text(self.values[attnum - 1], |s| model.table().encode_cell(j, Some(s)))
            };
            // only a numeric column fed text that is not a number fails (a bytes model has no
            // stored types to check the row against)
            // (the context is formatted only on failure: a format! per cell cost ~100 ns a cell)
            codes.push(match cell {
                Ok(c) => c,
                Err(e) => Err::<u32, _>(e).or_raise(&format!("gnsm model \"{}\"", model.name)),
            });
        }
        &self.codes
    }

    /// The row's model-column values as text (NULL as None), in model column order; the row
    /// must have been encoded first (that binds its type).
    pub fn texts(&mut self, row: &AnyElement) -> Vec<Option<String>> {
        let Some(b) = self.binding.as_mut() else { return Vec::new() };
        // SAFETY: `encode` checked this row is composite and bound its type before.
        let mut tuple = unsafe { RowTuple::from_datum(row.datum()) };
        b.attnums
            .iter()
            .zip(b.outputs.iter_mut())
            // SAFETY: the binding matches the row type (encoded just before), attnum is in range.
            .map(|(&attnum, out)| unsafe { tuple.attr(attnum, b.tupdesc) }.map(|d| out.with_text(d, str::to_string)))
            .collect()
    }
}
