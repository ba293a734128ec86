//! Reading a source table's model columns through an SPI cursor, one batch at a time, into the
//! core's `TableBuilder`, with a uniform reservoir sample above `gnsm.max_train_rows`. Runs as the
//! calling user: SELECT privileges apply.

use super::columns::Source;
use crate::citus::sample::TrainingRead;
use crate::errors::{raise, raise_core};
use crate::values::OutputFn;
use gnsm_core::encoding::{CodedTable, Encoder, TableBuilder};
use pgrx::prelude::*;
use pgrx::spi::{quote_identifier, SpiTupleTable};
use pgrx::PgSqlErrorCode;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Rows fetched per cursor round trip: 10,000 keeps one batch at a few MB for wide rows while
/// the per-fetch overhead stays negligible.
pub const FETCH_ROWS: i64 = 10_000;

/// What reading produced.
pub struct ReadResult {
    pub encoder: Encoder,
    pub table: CodedTable,
    /// Rows in the source (all of them were seen).
    pub total_rows: u64,
    /// True when a reservoir sample was kept.
    pub sampled: bool,
}

/// Reads the model columns of every row through a cursor; keeps at most `max_rows` by reservoir
/// sampling with `seed`.
pub fn read(source: &Source, max_rows: usize, max_categories: usize, seed: u64) -> ReadResult {
    let cols: Vec<String> = source.columns.iter().map(|c| quote_identifier(&c.name)).collect();
    // a distributed Citus table is sampled on its workers; the reservoir below then works on
    // the rows that come back
    let plan = TrainingRead::plan(source.relid, &source.display, max_rows);
    let sql = plan.select(&cols, &source.display);
    let names: Vec<String> = source.columns.iter().map(|c| c.name.clone()).collect();
    let mut builder = TableBuilder::with_numeric(names, source.n_numeric(), max_categories);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5A3B1E);
    let mut total: u64 = 0;
    // SAFETY: reading the backend's current-context global; the output functions' caches live in
    // this call's context, which outlives the read.
    let mcxt = unsafe { pg_sys::CurrentMemoryContext };
    let mut outputs: Vec<OutputFn> = source.columns.iter().map(|c| OutputFn::new(c.typoid, mcxt)).collect();
    let m = source.columns.len();
    let result: Result<(), gnsm_core::Error> = Spi::connect(|client| {
        let mut cursor = client.open_cursor(sql.as_str(), &[]);
        let mut texts: Vec<Option<String>> = vec![None; m];
        loop {
            pgrx::check_for_interrupts!();
            let batch = cursor
                .fetch(FETCH_ROWS as _)
                .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("gnsm: {e}"), None, None));
            if batch.is_empty() {
                break;
            }
            for_each_row(batch, &mut outputs, &mut texts, |refs| {
                total += 1;
                if builder.n_rows() < max_rows {
                    builder.push_row(refs)
                } else {
                    // Algorithm R: row `total` replaces a random slot with probability max/total
                    let k = rng.random_range(0..total);
                    if (k as usize) < max_rows {
                        builder.replace_row(k as usize, refs)?;
                    }
                    Ok(())
                }
            })?;
            release_last_batch();
        }
        Ok(())
    });
    if let Err(e) = result {
        raise_core(e, &format!("gnsm_train on \"{}\"", source.display));
    }
    if total == 0 {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("relation \"{}\" is empty", source.display),
            None,
            Some("load rows before training; a model needs data to learn from"),
        );
    }
    let (total, sampled) = plan.totals(total, total, max_rows);
    let (encoder, table) = builder.finish().unwrap_or_else(|e| raise_core(e, &format!("gnsm_train on \"{}\"", source.display)));
    ReadResult { encoder, table, total_rows: total, sampled }
}

/// Calls `f` with each row of a fetched batch as text (NULL as None), in the batch's column order,
/// through pgrx's tuple-table API (`next` positions the table on a row, `get_datum_by_ordinal`
/// reads that row's column).
fn for_each_row(
    mut batch: SpiTupleTable,
    outputs: &mut [OutputFn],
    texts: &mut [Option<String>],
    mut f: impl FnMut(&[Option<&str>]) -> Result<(), gnsm_core::Error>,
) -> Result<(), gnsm_core::Error> {
    while batch.next().is_some() {
        for (j, out) in outputs.iter_mut().enumerate() {
            let datum = batch
                .get_datum_by_ordinal(j + 1)
                .unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("gnsm: reading a row: {e}"), None, None));
            texts[j] = datum.map(|d| out.with_text(d, str::to_string));
        }
        let refs: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
        f(&refs)?;
    }
    Ok(())
}

/// Frees the batch just read, so that reading a table holds one batch at a time (without this,
/// every batch stays allocated until `Spi::connect` returns: the whole table in memory).
///
/// pgrx 0.18.1's `SpiTupleTable` does not free its table on drop and `SpiCursor::fetch` leaves
/// the fetched table in the global `SPI_tuptable`; this relies on both, and the `#[pg_test]`
/// `test_training_reads_every_cursor_batch` checks a three-batch read end to end. Should a later
/// pgrx free the table itself, this stays harmless: `SPI_freetuptable` only frees a table that is
/// still in the current SPI context's list, and otherwise warns and does nothing.
pub fn release_last_batch() {
    // SAFETY: single-threaded backend code inside Spi::connect; the batch's wrapper was consumed
    // by `for_each_row`, so no reference into the table is left, and SPI_freetuptable checks that
    // the pointer is a live table of this SPI context before freeing it.
    unsafe {
        pg_sys::SPI_freetuptable(pg_sys::SPI_tuptable);
        pg_sys::SPI_tuptable = std::ptr::null_mut();
    }
}
