#!/usr/bin/env bash
# Training memory at 1M rows (issue 13): the backend's peak RSS (VmHWM, polled from /proc) while
# gnsm_train reads and trains on a generated table of 1,000,000 distinct rows (10 categorical, 2
# numeric columns), with the exact and with the fast scorer. Run scripts/demo first.
# usage: bench/train_memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DB=gnsm_mem
P() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -At -d "$DB" "$@"; }
runuser -u postgres -- psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
P -c "CREATE EXTENSION gnsm"
P -v rows="1000000" -f bench/distinct_table.sql
for scorer in exact fast; do
P -c "SET client_min_messages = warning" -c "SELECT model, train_rows, seconds FROM gnsm_train('gen', ARRAY['c1','c2','c3','c4','c5','c6','c7','c8','c9','c10','amount','ratio'], '{\"numeric_columns\": [\"amount\", \"ratio\"], \"scorer\": \"$scorer\", \"seed\": 1, \"name\": \"m_$scorer\"}')" > /tmp/mem_train.out &
client=$!
peak=0
while kill -0 $client 2>/dev/null; do
  pid=$(P -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%gnsm_train(%' AND state = 'active' AND pid <> pg_backend_pid() LIMIT 1" 2>/dev/null || true)
  if [ -n "$pid" ]; then h=$(awk '/VmHWM/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0); [ "${h:-0}" -gt "$peak" ] && peak=$h; fi
  sleep 0.5
done
wait $client
echo "$scorer: $(cat /tmp/mem_train.out) peak RSS $((peak/1024)) MiB"
done
runuser -u postgres -- psql -X -q -d postgres -c "DROP DATABASE $DB"
