-- gnsm 0.1.0 -> 0.2.0: scheduled retraining through pg_cron.
-- Append-only: the statements are the ones `cargo pgrx schema` generates for these functions in
-- 0.2.0; tests/shell/upgrade.sh checks that an upgraded install equals a fresh one.
\echo Use "ALTER EXTENSION gnsm UPDATE TO '0.2.0'" to load this file. \quit

CREATE  FUNCTION "gnsm_schedule_retrain"(
	"model" TEXT, /* & str */
	"schedule" TEXT, /* & str */
	"options" jsonb DEFAULT '{}' /* Option < JsonB > */
) RETURNS bigint /* i64 */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'gnsm_schedule_retrain_wrapper';

CREATE  FUNCTION "gnsm_unschedule_retrain"(
	"model" TEXT /* & str */
) RETURNS bool /* bool */
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'gnsm_unschedule_retrain_wrapper';
