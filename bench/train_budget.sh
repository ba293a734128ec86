#!/usr/bin/env bash
# Does gnsm_train stay within max_seconds (issue 14)? Trains the default model on wide generated
# tables (bench/wide_table.sql) against the installed extension (run scripts/demo first) and
# prints, per table, the statement's wall time next to what the model's metrics say: the scorer
# "auto" chose, the steps, what ended training, the network's seconds and the whole fit's.
# usage: bench/train_budget.sh [ROWSxCOLS ...]   (default 20000x160 60000x160 100000x120)
#   -> results/train_budget.txt
set -euo pipefail
cd "$(dirname "$0")/.."
DB=gnsm_budget
specs=("$@"); [ ${#specs[@]} -gt 0 ] || specs=(20000x160 60000x160 100000x120)
P() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -At -d "$DB" "$@"; }
runuser -u postgres -- psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
P -c "CREATE EXTENSION gnsm"
out=results/train_budget.txt
mkdir -p results
{
    echo "# gnsm_train with default options (max_seconds 60) on wide tables, $(date -u +%F), $(nproc) cores"
    echo "rows | columns | statement s | scorer | distinct rows | steps | stopped_by | network s | fit s (metrics)"
} | tee "$out"
for spec in "${specs[@]}"; do
    rows=${spec%x*}; cols=${spec#*x}
    P -v rows="$rows" -v cols="$cols" -f bench/wide_table.sql >/dev/null 2>&1
    P -c "SELECT count(*) FROM gnsm_drop('wide')" >/dev/null 2>&1 || true
    t0=$(date +%s.%N)
    P -c "SET client_min_messages = warning" -c "SELECT count(*) FROM gnsm_train('wide', (SELECT array_agg('c' || i) FROM generate_series(1, $cols) i))" >/dev/null
    t1=$(date +%s.%N)
    m=$(P -F ' | ' -c "SELECT metrics->>'scorer', metrics->>'distinct_rows', metrics->>'steps', metrics->>'stopped_by', round((metrics->>'network_seconds')::numeric, 1), round((metrics->>'seconds')::numeric, 1) FROM gnsm.models WHERE name = 'wide' AND is_active")
    echo "$rows | $cols | $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') | $m" | tee -a "$out"
done
runuser -u postgres -- psql -X -q -d postgres -c "DROP DATABASE $DB"
