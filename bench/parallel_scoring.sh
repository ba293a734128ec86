#!/usr/bin/env bash
# Parallel-query scaling of the fast scorer (issue 13) against the installed extension (run
# scripts/demo first): a generated table of distinct rows (as in bench/distinct_scoring.sh), a
# model trained with "scorer": "fast", then `SELECT max(gnsm_score(t, m)) FROM t` with 0, 1 and 2
# parallel workers (memo off), each timed by EXPLAIN ANALYZE after one warm-up run.
# usage: bench/parallel_scoring.sh [ROWS]     (default 1000000)
set -euo pipefail
DB=gnsm_par
rows="${1:-1000000}"
cd "$(dirname "$0")/.."
P() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -At -d "$DB" "$@"; }
runuser -u postgres -- psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
P -c "CREATE EXTENSION gnsm"
P -v rows="$rows" -f bench/distinct_table.sql
P -c "SET client_min_messages = warning" -c "SELECT model, train_rows, seconds FROM gnsm_train('gen', ARRAY['c1','c2','c3','c4','c5','c6','c7','c8','c9','c10','amount','ratio'], '{\"numeric_columns\": [\"amount\", \"ratio\"], \"scorer\": \"fast\", \"seed\": 1, \"name\": \"genfast\"}')"
for w in 0 1 2; do
  echo "== workers $w"
  P -c "SET gnsm.score_cache_rows = 0" -c "SET max_parallel_workers_per_gather = $w" -c "SET parallel_setup_cost = 0" -c "SET parallel_tuple_cost = 0" \
    -c "SELECT max(gnsm_score(t, 'genfast')) FROM gen t" >/dev/null
  P -c "SET gnsm.score_cache_rows = 0" -c "SET max_parallel_workers_per_gather = $w" -c "SET parallel_setup_cost = 0" -c "SET parallel_tuple_cost = 0" \
    -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT max(gnsm_score(t, 'genfast')) FROM gen t"
done
runuser -u postgres -- psql -X -q -d postgres -c "DROP DATABASE $DB"
