//! Scheduled retraining through pg_cron: one named cron job per model (`gnsm_retrain:<model>`)
//! that runs `gnsm_retrain(model, options)` in this database as the calling user.

use super::train::retrain_plan;
use crate::catalog::spi_fail;
use crate::errors::raise;
use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};

/// The pg_cron job name that holds a model's retraining schedule.
fn job_name(model: &str) -> String {
    format!("gnsm_retrain:{model}")
}

/// Quotes a string as an SQL literal for the statement shown in an error's DETAIL.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Raises a clear error naming `function` unless pg_cron is installed in the current database;
/// when pg_cron keeps its jobs in another database, the DETAIL shows `cron_call` (the pg_cron
/// statement with the same effect) to run there.
fn require_pg_cron(function: &str, cron_call: impl FnOnce(&str) -> String) {
    let present = Spi::get_one::<bool>("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron')")
        .unwrap_or_else(|e| spi_fail("looking for pg_cron", e))
        .unwrap_or(false);
    if present {
        return;
    }
    let cron_db = Spi::get_one::<String>("SELECT current_setting('cron.database_name', true)").ok().flatten().filter(|s| !s.is_empty());
    let here = Spi::get_one::<String>("SELECT current_database()::text").ok().flatten().unwrap_or_default();
    let detail = match &cron_db {
        Some(db) if *db != here => {
            Some(format!("pg_cron is loaded and keeps its jobs in database \"{db}\"; from there run: {}", cron_call(&here)))
        }
        _ => None,
    };
    raise(
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        format!("{function} needs the pg_cron extension in this database"),
        detail,
        Some(
            "install pg_cron (Debian: postgresql-15-cron), set shared_preload_libraries = 'pg_cron' and cron.database_name, restart, then CREATE EXTENSION pg_cron",
        ),
    )
}

/// Schedules `gnsm_retrain(model, options)` with pg_cron (cron syntax; pg_cron 1.5+ also takes
/// '[1-59] seconds');
/// scheduling the same model again replaces its schedule. Returns the pg_cron job id.
#[pg_extern(volatile, parallel_unsafe)]
fn gnsm_schedule_retrain(model: &str, schedule: &str, options: default!(Option<JsonB>, "'{}'")) -> i64 {
    let overrides = options.map(|j| j.0).unwrap_or(serde_json::Value::Object(Default::default()));
    // fail now, not every night: the model must exist and the options must parse
    let _ = retrain_plan(model, Some(overrides.clone()));
    require_pg_cron("gnsm_schedule_retrain", |here| {
        format!(
            "SELECT cron.schedule_in_database({}, {}, $$SELECT gnsm_retrain({})$$, {})",
            literal(&job_name(model)),
            literal(schedule),
            literal(model),
            literal(here)
        )
    });
    Spi::connect_mut(|c| {
        let command = c
            .select(
                "SELECT format('SELECT %s.gnsm_retrain(%L, %L::jsonb)', e.extnamespace::regnamespace, $1::text, $2::text)
                 FROM pg_catalog.pg_extension e WHERE e.extname = 'gnsm'",
                Some(1),
                &[model.into(), overrides.to_string().into()],
            )?
            .first()
            .get::<String>(1)?
            .unwrap_or_default();
        c.update(
            "SELECT cron.schedule_in_database($1, $2, $3, current_database())",
            Some(1),
            &[job_name(model).into(), schedule.into(), command.into()],
        )?
        .first()
        .get::<i64>(1)
    })
    .unwrap_or_else(|e| spi_fail("scheduling the retrain with pg_cron", e))
    .unwrap_or_default()
}

/// Removes a model's retraining schedule; false when it had none (for the calling user).
#[pg_extern(volatile, parallel_unsafe)]
fn gnsm_unschedule_retrain(model: &str) -> bool {
    require_pg_cron("gnsm_unschedule_retrain", |_| format!("SELECT cron.unschedule({})", literal(&job_name(model))));
    Spi::connect_mut(|c| {
        let job =
            c.select("SELECT jobid FROM cron.job WHERE jobname = $1 AND username = current_user", Some(1), &[job_name(model).into()])?;
        let Some(id) = (if job.is_empty() { None } else { job.first().get::<i64>(1)? }) else {
            return Ok(false);
        };
        c.update("SELECT cron.unschedule($1)", Some(1), &[id.into()])?.first().get::<bool>(1).map(|b| b.unwrap_or(false))
    })
    .unwrap_or_else(|e| spi_fail("removing the pg_cron job", e))
}
