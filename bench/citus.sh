#!/usr/bin/env bash
# The Citus benchmark (issue 16): distributed vs single-node scoring with Citus's default executor
# settings, a worker backend's first call, 1 vs 2 workers, gnsm_score_bytes joined to the catalog,
# training at 1M rows with a sample read on the workers (bytes moved), and gnsm_train_agg per
# tenant. Throw-away clusters on 127.0.0.1 (tests/citus/cluster.bash); needs citus.so
# (docs/citus.md) and the installed gnsm (release build: cargo pgrx install --release).
#   bash bench/citus.sh [--rows N] [--big-rows M]   -> results/citus_bench.{json,txt}
# Defaults: 200,000 rows scored, 1,000,000 rows for training. About 2.5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/citus/cluster.bash
rows=200000
big=1000000
while (($#)); do
    case "$1" in
        --rows) rows=$2; shift 2 ;;
        --big-rows) big=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -f "$("$PG_BIN/pg_config" --pkglibdir)/citus.so" ] || { echo "citus bench: Citus not installed (docs/citus.md)" >&2; exit 1; }
out=results/citus_bench
trap 'citus_stop' EXIT
cols="ARRAY['country', 'currency', 'payment', 'channel', 'category', 'shipping']"
declare -A R

# median3 NODE SQL: median of three runs
median3() { local a b c; a=$(ms "$1" "$2"); b=$(ms "$1" "$2"); c=$(ms "$1" "$2"); printf '%s\n%s\n%s\n' "$a" "$b" "$c" | sort -g | sed -n 2p; }
# gemm peak is not the yardstick here: the ratio to the same table on one node, same run, is
log() { echo "$*" | tee -a "$out.txt"; }
: >"$out.txt"
log "# gnsm on Citus, $(date -u +%F), $(nproc) cores; coordinator and workers share them"

# --- 1 worker first, then a second one (scaling) ---
citus_start 1
log "$(coord -c "SELECT citus_version()")"
coord -c "CREATE EXTENSION gnsm"
coord -v rows="$rows" -f scripts/demo-orders.sql >/dev/null
coord -c "CREATE TABLE orders_local AS TABLE orders" -c "SELECT create_distributed_table('orders', 'id', shard_count := 32)" >/dev/null
coord -c "SELECT count(*) FROM gnsm_train('orders', $cols, '{\"steps\": 300, \"seed\": 1}')" >/dev/null
q_dist="SELECT count(*) FROM orders o WHERE gnsm_score(o) > 2"
q_local="SELECT count(*) FROM orders_local o WHERE gnsm_score(o, 'orders') > 2"
R[rows]=$rows
R[one_worker_ms]=$(median3 coord "$q_dist")
citus_add_worker w2
coord -c "SELECT rebalance_table_shards('orders', shard_transfer_mode := 'block_writes')" >/dev/null
R[two_workers_ms]=$(median3 coord "$q_dist")
R[local_ms]=$(median3 coord "$q_local")
R[md5_dist_ms]=$(median3 coord "SELECT count(*) FROM orders o WHERE md5(o::text) > 'a'")
R[md5_local_ms]=$(median3 coord "SELECT count(*) FROM orders_local o WHERE md5(o::text) > 'a'")
R[pool1_ms]=$(ms coord "SET citus.max_adaptive_executor_pool_size = 1; $q_dist")
log "scoring $rows rows (median of 3): local ${R[local_ms]} ms; distributed, 2 workers ${R[two_workers_ms]} ms; 1 worker ${R[one_worker_ms]} ms"
log "  ratio distributed/local $(awk -v d="${R[two_workers_ms]}" -v l="${R[local_ms]}" 'BEGIN {printf "%.2f", d / l}') (target 1.5); md5(row) as a yardstick: ${R[md5_dist_ms]} vs ${R[md5_local_ms]} ms"
log "  rows/s per worker: 1 worker $(awk -v r="$rows" -v t="${R[one_worker_ms]}" 'BEGIN {printf "%d", r / t * 1000}'), 2 workers $(awk -v r="$rows" -v t="${R[two_workers_ms]}" 'BEGIN {printf "%d", r / t * 1000 / 2}')"
log "  with citus.max_adaptive_executor_pool_size = 1 (one backend per worker): ${R[pool1_ms]} ms"

# a worker backend's first call: a new connection scoring one row of one shard
shard=$(on w2 -c "SELECT shard_name('orders'::regclass, s.shardid) FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) WHERE logicalrelid = 'orders'::regclass AND groupid = (SELECT groupid FROM pg_dist_local_group) LIMIT 1")
first=()
for _ in 1 2 3 4 5; do
    first+=("$(on w2 -c "\timing on" -c "LOAD 'gnsm'" -c "SELECT gnsm_score(o) FROM $shard o LIMIT 1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)")
done
R[first_call_ms]=$(printf '%s\n' "${first[@]}" | sort -g | sed -n 3p)
R[second_call_ms]=$(on w2 -c "\timing on" -c "SELECT gnsm_score(o) FROM $shard o LIMIT 1" -c "SELECT gnsm_score(o) FROM $shard o LIMIT 1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
R[model_bytes]=$(coord -c "SELECT octet_length(model) FROM gnsm.models WHERE name = 'orders' AND is_active")
log "worker backend, first call (catalog placement, shard mapping, model load and decode; median of 5): ${R[first_call_ms]} ms; next statement ${R[second_call_ms]} ms; model ${R[model_bytes]} bytes"

# gnsm_score_bytes joined to the catalog, top 20
R[bytes_top20_local_ms]=$(ms coord "SELECT o.id, gnsm_score_bytes(o, m.model) AS s FROM orders_local o, gnsm.models m WHERE m.name = 'orders' AND m.is_active ORDER BY s DESC LIMIT 20")
R[bytes_top20_dist_ms]=$(ms coord "SELECT o.id, gnsm_score_bytes(o, m.model) AS s FROM orders o, (SELECT model FROM gnsm.models WHERE name = 'orders' AND is_active) m ORDER BY s DESC LIMIT 20")
log "gnsm_score_bytes top 20 joined to the catalog: local ${R[bytes_top20_local_ms]} ms, distributed ${R[bytes_top20_dist_ms]} ms"

# training at $big rows: a sample read on the workers
coord -c "DROP TABLE orders, orders_local" -c "SELECT gnsm_drop('orders')" >/dev/null
coord -v rows="$big" -f scripts/demo-orders.sql >/dev/null
coord -c "CREATE TABLE orders_local AS TABLE orders" -c "SELECT create_distributed_table('orders', 'id', shard_count := 32)" >/dev/null
sample=100000
p=$(coord -c "SELECT ($sample + 5 * sqrt($sample) + 64) / $big")
R[train_full_read_bytes]=$(received_bytes coord "SELECT country, currency, payment, channel, category, shipping FROM orders")
R[train_sample_read_bytes]=$(received_bytes coord "SELECT country, currency, payment, channel, category, shipping FROM orders WHERE pg_catalog.random() < $p")
topt='{"steps": 200, "seed": 1}'
R[train_dist_s]=$(coord -c "SET gnsm.max_train_rows = $sample" -c "SELECT round(seconds::numeric, 1) FROM gnsm_train('orders', $cols, '$topt')")
R[train_local_s]=$(coord -c "SET gnsm.max_train_rows = $sample" -c "SELECT round(seconds::numeric, 1) FROM gnsm_train('orders_local', $cols, '$topt')")
log "training on $big rows, gnsm.max_train_rows = $sample, 200 steps: distributed ${R[train_dist_s]} s, local ${R[train_local_s]} s"
log "  bytes from the workers: sample read ${R[train_sample_read_bytes]}, whole table ${R[train_full_read_bytes]}"

# gnsm_train_agg per tenant on a table distributed by tenant
coord -c "CREATE TABLE tenant_orders AS SELECT channel AS tenant, country, currency, payment, category FROM orders_local WHERE id <= 200000" \
      -c "CREATE TABLE tenant_orders_local AS TABLE tenant_orders" -c "SELECT create_distributed_table('tenant_orders', 'tenant')" >/dev/null
agg="SELECT tenant, octet_length(gnsm_train_agg(t, '{\"steps\": 200, \"seed\": 1, \"threads\": 1}')) FROM"
R[tenants]=$(coord -c "SELECT count(DISTINCT tenant) FROM tenant_orders_local")
R[agg_dist_ms]=$(ms coord "$agg tenant_orders t GROUP BY tenant")
R[agg_local_ms]=$(ms coord "$agg tenant_orders_local t GROUP BY tenant")
log "gnsm_train_agg, ${R[tenants]} tenants (200,000 rows, 200 steps each, 1 thread a model): distributed ${R[agg_dist_ms]} ms, local ${R[agg_local_ms]} ms"

{
    echo "{"
    first=1
    for k in $(printf '%s\n' "${!R[@]}" | sort); do
        [ $first = 1 ] || echo ","
        first=0
        printf '  "%s": %s' "$k" "${R[$k]}"
    done
    printf '\n}\n'
} >"$out.json"
log "wrote $out.json"
