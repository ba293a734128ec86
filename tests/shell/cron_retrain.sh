#!/usr/bin/env bash
# Scheduled retraining with pg_cron: a job retrains every minute; within about a minute a new
# version appears and becomes active. pg_cron 1.4 (Debian 12) schedules by the minute, so this
# test waits up to 90 s.
set -euo pipefail
# psql_q and active_backend come from tests/shell/common.bash (prepended by scripts/regress)
if [ "$(psql_q -d postgres -c "SHOW shared_preload_libraries")" != "pg_cron" ]; then
    echo "cron_retrain: pg_cron is not preloaded (install postgresql-15-cron; scripts/regress preloads it)"
    exit 1
fi
psql_q -d postgres -c "CREATE EXTENSION IF NOT EXISTS pg_cron"
psql_q -d postgres -c "DROP DATABASE IF EXISTS gnsm_cron" -c "CREATE DATABASE gnsm_cron"
psql_q -d gnsm_cron >/dev/null <<'SQL'
CREATE EXTENSION gnsm;
CREATE TABLE events AS SELECT g AS id, 'k' || (g % 6) AS kind, 'c' || (g % 6 / 2) AS color FROM generate_series(1, 300) g;
SELECT count(*) FROM gnsm_train('events', ARRAY['kind', 'color'], '{"width": 16, "depth": 1, "steps": 20, "threads": 1}');
SQL
job=$(psql_q -d postgres -c "SELECT cron.schedule_in_database('gnsm-retrain-test', '* * * * *', \$\$SELECT gnsm_retrain('events')\$\$, 'gnsm_cron')")
state=""
for _ in $(seq 1 90); do
    state=$(psql_q -d gnsm_cron -c "SELECT count(*) || '/' || coalesce(max(version) FILTER (WHERE is_active), 0) FROM gnsm.models")
    case "$state" in 1/1) sleep 1 ;; *) break ;; esac
done
runs=$(psql_q -d postgres -c "SELECT string_agg(status || ': ' || coalesce(return_message, ''), '; ') FROM cron.job_run_details WHERE jobid = $job")
psql_q -d postgres -c "SELECT cron.unschedule($job)" >/dev/null
psql_q -d postgres -c "DROP DATABASE gnsm_cron WITH (FORCE)"
case "$state" in
    2/2|3/3) echo "cron_retrain: pg_cron job retrained the model; versions/active = $state ($runs)" ;;
    *) echo "cron_retrain: expected a second active version, got $state (job runs: ${runs:-none})"; exit 1 ;;
esac
