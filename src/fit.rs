//! Fitting inside a backend: the core trains on a local worker pool (sized by `gnsm.threads`)
//! while the backend thread reports progress and serves cancellation; threads never call Postgres.

use crate::errors::{raise, raise_core, OrRaise};
use crate::gucs;
use crate::options::TrainOptions;
use gnsm_core::encoding::{CodedTable, Encoder};
use gnsm_core::map::{MapConfig, MapItem, MapModel};
use gnsm_core::model::{budget_left, Model};
use gnsm_core::train::{Hooks, Progress, TrainConfig};
use gnsm_core::Error;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use std::time::Instant;

/// Builds the worker pool with every signal blocked while the threads start: they inherit the
/// mask, so Postgres' handlers (cancel, timeout, terminate) keep running on the backend thread.
pub fn build_pool(threads: usize) -> rayon::ThreadPool {
    // SAFETY: sigset_t is plain data that sigfillset initialises; pthread_sigmask only changes
    // this thread's mask, and the old mask is restored right after the pool's threads started.
    let pool = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        let pool = gnsm_core::train::build_pool(threads);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        pool
    };
    pool.or_raise("gnsm")
}

/// Serves pending interrupts between training steps, on the backend thread. A cancel, timeout or
/// terminate raises its ERROR here (unwinding out of training and dropping the pool, whose workers
/// are idle between steps); benign interrupts (catch-up, barriers) are processed and training goes
/// on. Returns false: the core never has to stop by itself.
fn serve_interrupts() -> bool {
    // SAFETY: InterruptPending is a sig_atomic_t the signal handlers set; a volatile read of it
    // from the backend thread is how CHECK_FOR_INTERRUPTS reads it too.
    if unsafe { std::ptr::read_volatile(std::ptr::addr_of!(pg_sys::InterruptPending)) != 0 } {
        pgrx::check_for_interrupts!();
    }
    false
}

/// Times each training row is seen above which a NOTICE says the step budget, not the table, sets
/// the training time: 100 epochs (a 2-row input under the defaults sees each row 256,000 times).
const EPOCHS_WORTH_A_NOTICE: usize = 100;

/// Says in a NOTICE when a small input trains for as long as a large one would: the step budget
/// (`steps` x `batch_size` rows) does not shrink with the row count, and neither does the network.
fn warn_if_tiny(n_rows: usize, opts: &TrainOptions, label: &str) {
    let c = &opts.config;
    let seen = c.steps.saturating_mul(c.batch_size);
    if n_rows > 0 && n_rows < c.batch_size && seen / n_rows > EPOCHS_WORTH_A_NOTICE {
        notice!(
            "gnsm: training \"{label}\" on only {n_rows} rows still runs {} steps of {} rows (each row about {} times, up to {} s) into a full-size network; pass a smaller \"steps\" for a quicker fit",
            c.steps,
            c.batch_size,
            seen / n_rows,
            c.max_seconds
        );
    }
}

/// The progress hook of a fit: a NOTICE every `gnsm.progress_interval` seconds.
fn progress_notices(label: &str) -> impl FnMut(&Progress) + '_ {
    let interval = gucs::progress_interval();
    let mut last_report = 0.0f64;
    move |p: &Progress| {
        if interval > 0.0 && p.elapsed - last_report >= interval && p.step < p.total_steps {
            last_report = p.elapsed;
            let left = p.elapsed / p.step.max(1) as f64 * (p.total_steps - p.step) as f64;
            notice!(
                "gnsm: training \"{label}\": step {}/{}, loss {:.4}{}, {:.0} s elapsed, about {:.0} s left",
                p.step,
                p.total_steps,
                p.loss,
                p.val_loss.map(|v| format!(", validation loss {v:.4}")).unwrap_or_default(),
                p.elapsed,
                left
            );
        }
    }
}

/// Says in a NOTICE that max_seconds, not steps, ended training (so a rerun can differ).
fn notice_if_timed_out(stopped_by: &str, steps_done: usize, steps: usize, max_seconds: f64, label: &str) {
    if stopped_by == "max_seconds" {
        notice!(
            "gnsm: training \"{label}\" was stopped by max_seconds = {max_seconds} after {steps_done} of {steps} steps: a seed fixes the model only when steps ends training, so a rerun can differ (raise max_seconds or lower steps for a reproducible model)"
        );
    }
}

/// Raises the error of a failed fit: an interrupt becomes the backend's own cancel or timeout ERROR.
fn raise_fit_error(e: Error, label: &str) -> ! {
    match e {
        Error::Interrupted => {
            // raises "canceling statement due to user request" or the timeout message
            pgrx::check_for_interrupts!();
            raise(PgSqlErrorCode::ERRCODE_QUERY_CANCELED, format!("gnsm: training \"{label}\" was interrupted"), None, None)
        }
        e => raise_core(e, &format!("gnsm_train \"{label}\"")),
    }
}

/// Trains a model on coded rows with progress NOTICEs and clean cancellation; never returns a
/// partial model (a cancel raises the backend's own cancel/timeout ERROR). `started` is when the
/// statement began reading the rows: that time counts against `max_seconds` too.
pub fn fit_with_progress(encoder: Encoder, table: &CodedTable, opts: &TrainOptions, label: &str, started: Instant) -> Model {
    warn_if_tiny(table.n_rows, opts, label);
    let pool = build_pool(opts.config.threads);
    let mut progress = progress_notices(label);
    let mut interrupt = serve_interrupts;
    let mut hooks = Hooks { progress: &mut progress, interrupt: &mut interrupt };
    // the fit gets what reading the rows left of max_seconds (at least a quarter of it); the
    // model keeps the budget the options gave
    let config = TrainConfig { max_seconds: budget_left(opts.config.max_seconds, started), ..opts.config.clone() };
    let result = Model::fit_coded(encoder, table, &config, &pool, &mut hooks);
    drop(pool);
    match result {
        Ok(mut m) => {
            m.config.max_seconds = opts.config.max_seconds;
            notice_if_timed_out(&m.report.stopped_by, m.report.steps, opts.config.steps, opts.config.max_seconds, label);
            m
        }
        Err(e) => raise_fit_error(e, label),
    }
}

/// Trains a map model with progress NOTICEs and clean cancellation, as `fit_with_progress` does
/// for rows (same pool, same interrupt service; the worker threads never call Postgres).
pub fn fit_map_with_progress(items: &[MapItem], config: &MapConfig, label: &str) -> MapModel {
    let pool = build_pool(config.threads);
    let mut progress = progress_notices(label);
    let mut interrupt = serve_interrupts;
    let mut hooks = Hooks { progress: &mut progress, interrupt: &mut interrupt };
    let result = MapModel::fit(items, config, &pool, &mut hooks);
    drop(pool);
    match result {
        Ok(m) => {
            notice_if_timed_out(&m.report.stopped_by, m.report.steps, config.steps, config.max_seconds, label);
            m
        }
        Err(e) => raise_fit_error(e, label),
    }
}
