#!/usr/bin/env bash
# SQL-level benchmark against the installed extension (run scripts/demo first, or any install):
# training wall time and backend peak memory at several table sizes, and ORDER BY gnsm_score(t)
# throughput with and without the per-backend memo and with 0 and 2 parallel workers, next to
# count(*) and an independent-columns score written in plain SQL. Prints a markdown table and
# writes results/sql_bench.json.
# usage: bench/sql_bench.sh [ROWS...]        (default: 10000 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=gnsm_bench
sizes=("${@:-10000 100000 1000000}")
read -r -a sizes <<< "${sizes[*]}"
P() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -At -d "$DB" "$@"; }
runuser -u postgres -- psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
P -c "CREATE EXTENSION gnsm"
# the timing of one statement, in seconds (psql \timing output is parsed)
timed() { P -c '\timing on' -c "$1" | grep -oE 'Time: [0-9.]+' | tail -1 | awk '{printf "%.3f", $2/1000}'; }
json=()
printf '| rows | train s | backend peak RSS MiB | count(*) rows/s | IndepNLL-SQL rows/s | gnsm top-100 rows/s (memo) | no memo | 2 workers (memo) | distinct rows |\n|---|---|---|---|---|---|---|---|---|\n'
for n in "${sizes[@]}"; do
    PGOPTIONS="-c client_min_messages=warning" runuser -u postgres -- psql -X -q -d "$DB" -v rows="$n" -f scripts/demo-orders.sql >/dev/null
    distinct=$(P -c "SELECT count(*) FROM (SELECT DISTINCT country, currency, payment, channel, category, shipping FROM orders) d")
    # training in the background; the backend's peak RSS (VmHWM, monotonic) is polled from /proc
    P -c '\timing on' -c "SET client_min_messages = warning" \
      -c "SELECT count(*) FROM gnsm_train('orders', ARRAY['country','currency','payment','channel','category','shipping'], '{\"seed\": 1, \"name\": \"bench\"}')" > /tmp/gnsm_bench_train.out &
    client=$!
    peak_kib=0
    while kill -0 "$client" 2>/dev/null; do
        pid=$(P -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM gnsm_train%' AND state = 'active' LIMIT 1" 2>/dev/null || true)
        if [ -n "$pid" ]; then
            hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
            [ "${hwm:-0}" -gt "$peak_kib" ] && peak_kib=$hwm
        fi
        sleep 0.5
    done
    wait "$client"
    train_s=$(grep -oE 'Time: [0-9.]+' /tmp/gnsm_bench_train.out | tail -1 | awk '{printf "%.1f", $2/1000}')
    peak_mib=$((peak_kib / 1024))
    count_s=$(timed "SELECT count(*) FROM orders")
    indep_s=$(timed "WITH f AS (SELECT 'country' c, country v, ln(count(*)::float8 / $n) lp FROM orders GROUP BY 2 UNION ALL SELECT 'currency', currency, ln(count(*)::float8 / $n) FROM orders GROUP BY 2 UNION ALL SELECT 'payment', payment, ln(count(*)::float8 / $n) FROM orders GROUP BY 2 UNION ALL SELECT 'channel', channel, ln(count(*)::float8 / $n) FROM orders GROUP BY 2 UNION ALL SELECT 'category', category, ln(count(*)::float8 / $n) FROM orders GROUP BY 2 UNION ALL SELECT 'shipping', shipping, ln(count(*)::float8 / $n) FROM orders GROUP BY 2)
      SELECT o.id FROM orders o ORDER BY -((SELECT lp FROM f WHERE c='country' AND v=o.country) + (SELECT lp FROM f WHERE c='currency' AND v=o.currency) + (SELECT lp FROM f WHERE c='payment' AND v=o.payment) + (SELECT lp FROM f WHERE c='channel' AND v=o.channel) + (SELECT lp FROM f WHERE c='category' AND v=o.category) + (SELECT lp FROM f WHERE c='shipping' AND v=o.shipping)) DESC LIMIT 100")
    q="SELECT id FROM orders o ORDER BY gnsm_score(o, 'bench') DESC LIMIT 100"
    memo_s=$(timed "SET max_parallel_workers_per_gather = 0; $q")
    par_s=$(timed "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; $q")
    if [ "$n" -le 10000 ]; then
        nomemo_s=$(timed "SET max_parallel_workers_per_gather = 0; SET gnsm.score_cache_rows = 0; $q")
    else
        nomemo_s=""   # one row at a time without the memo (about 8 ms per row): only timed at 10k rows
    fi
    rate() { [ -n "$1" ] && awk -v n="$n" -v s="$1" 'BEGIN{printf "%.0f", n/s}' || echo "-"; }
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$train_s" "$peak_mib" "$(rate "$count_s")" "$(rate "$indep_s")" "$(rate "$memo_s")" "$(rate "$nomemo_s")" "$(rate "$par_s")" "$distinct"
    json+=("{\"rows\":$n,\"train_seconds\":$train_s,\"backend_peak_rss_mib\":$peak_mib,\"count_seconds\":$count_s,\"indep_sql_seconds\":$indep_s,\"score_memo_seconds\":$memo_s,\"score_nomemo_seconds\":${nomemo_s:-null},\"score_2workers_seconds\":$par_s,\"distinct_rows\":$distinct}")
done
mkdir -p results
# "runs" is replaced; the other keys (bench/distinct_scoring.sh writes "distinct_scoring") stay
python3 bench/python/merge_results.py results/sql_bench.json runs "[$(IFS=,; echo "${json[*]}")]"
runuser -u postgres -- psql -X -q -d postgres -c "DROP DATABASE $DB"
