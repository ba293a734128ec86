#!/usr/bin/env bash
# Scheduled retraining with pg_cron: gnsm_schedule_retrain creates a job that retrains every
# minute; within about a minute a new version appears and becomes active; gnsm_unschedule_retrain
# removes it. pg_cron 1.4 (Debian 12) schedules by the minute, so this test waits up to 90 s.
# pg_cron lives in the database named by cron.database_name (postgres here), so the model is
# trained there; from another database the helper answers with the command to run instead.
set -euo pipefail
# psql_q and active_backend come from tests/shell/common.bash (prepended by scripts/regress)
if [ "$(psql_q -d postgres -c "SHOW shared_preload_libraries")" != "pg_cron" ]; then
    echo "cron_retrain: pg_cron is not preloaded (install postgresql-15-cron; scripts/regress preloads it)"
    exit 1
fi
psql_q -d postgres -c "CREATE EXTENSION IF NOT EXISTS pg_cron" -c "CREATE EXTENSION IF NOT EXISTS gnsm"
psql_q -d postgres -c "DROP DATABASE IF EXISTS gnsm_cron_other" -c "CREATE DATABASE gnsm_cron_other"
psql_q -d postgres >/dev/null <<'SQL'
DROP TABLE IF EXISTS cron_events;
SELECT gnsm_drop('cron_events') WHERE EXISTS (SELECT 1 FROM gnsm.models WHERE name = 'cron_events');
CREATE TABLE cron_events AS SELECT g AS id, 'k' || (g % 6) AS kind, 'c' || (g % 6 / 2) AS color FROM generate_series(1, 300) g;
SELECT count(*) FROM gnsm_train('cron_events', ARRAY['kind', 'color'], '{"width": 16, "depth": 1, "steps": 20, "threads": 1}');
SQL
# from a database without pg_cron: a clear error whose detail gives the command to run
psql_q -d gnsm_cron_other >/dev/null <<'SQL'
CREATE EXTENSION gnsm;
CREATE TABLE t AS SELECT g AS id, 'k' || (g % 3) AS kind FROM generate_series(1, 50) g;
SELECT count(*) FROM gnsm_train('t', ARRAY['kind'], '{"width": 16, "depth": 1, "steps": 5, "threads": 1}');
SQL
other=$(psql -X -At -d gnsm_cron_other -c "\set VERBOSITY verbose" -c "SELECT gnsm_schedule_retrain('t', '0 3 * * *')" 2>&1 || true)
case "$other" in
    *0A000*"needs the pg_cron extension"*"cron.schedule_in_database('gnsm_retrain:t', '0 3 * * *'"*"'gnsm_cron_other')"*) ;;
    *) echo "cron_retrain: from a database without pg_cron expected 0A000 with the command to run, got: $other"; exit 1 ;;
esac
psql_q -d postgres -c "DROP DATABASE gnsm_cron_other"
# (a scheduled retrain activates only if it validates no worse, ADR 009; this test is about the
# schedule, so it asks for activation)
job=$(psql_q -d postgres -c "SELECT gnsm_schedule_retrain('cron_events', '* * * * *', '{\"steps\": 10, \"activate\": \"always\"}')")
again=$(psql_q -d postgres -c "SELECT gnsm_schedule_retrain('cron_events', '* * * * *', '{\"steps\": 10, \"activate\": \"always\"}')")
[ "$job" = "$again" ] || { echo "cron_retrain: scheduling twice made two jobs ($job, $again)"; exit 1; }
state=""
for _ in $(seq 1 90); do
    state=$(psql_q -d postgres -c "SELECT count(*) || '/' || coalesce(max(version) FILTER (WHERE is_active), 0) FROM gnsm.models WHERE name = 'cron_events'")
    case "$state" in 1/1) sleep 1 ;; *) break ;; esac
done
runs=$(psql_q -d postgres -c "SELECT string_agg(status || ': ' || coalesce(return_message, ''), '; ') FROM cron.job_run_details WHERE jobid = $job")
removed=$(psql_q -d postgres -c "SELECT gnsm_unschedule_retrain('cron_events')")
removed_again=$(psql_q -d postgres -c "SELECT gnsm_unschedule_retrain('cron_events')")
left=$(psql_q -d postgres -c "SELECT count(*) FROM cron.job WHERE jobname = 'gnsm_retrain:cron_events'")
psql_q -d postgres -c "SELECT gnsm_drop('cron_events')" -c "DROP TABLE cron_events" >/dev/null
[ "$removed/$removed_again/$left" = "t/f/0" ] || { echo "cron_retrain: unschedule gave $removed then $removed_again, $left jobs left"; exit 1; }
case "$state" in
    2/2|3/3) echo "cron_retrain: gnsm_schedule_retrain job $job retrained the model; versions/active = $state ($runs); unscheduled" ;;
    *) echo "cron_retrain: expected a second active version, got $state (job runs: ${runs:-none})"; exit 1 ;;
esac
