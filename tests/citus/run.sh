#!/usr/bin/env bash
# Citus scenarios (issue 16, ADR 013): a throw-away coordinator + 2 workers on 127.0.0.1, then
# every function of the README's SQL reference on distributed tables against identical local
# copies (same scores), catalog changes seen by the workers in the next statement, a worker added
# after training, parallel plans on a local table of a Citus coordinator, the training sample,
# aggregates, bad input, DROP EXTENSION on every node, and the distributed/local speed ratio
# (printed, not asserted). Needs citus.so (docs/citus.md builds it) and the installed gnsm.
#   usage: tests/citus/run.sh [--rows N]     (as root; N orders rows, default 20000)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/citus/cluster.bash
if [ ! -f "$("$PG_BIN/pg_config" --pkglibdir)/citus.so" ]; then
    echo "skipped: Citus not installed (docs/citus.md builds it)"
    exit 0
fi
rows=20000
[ "${1:-}" = "--rows" ] && rows=$2
passed=0
failed=0
trap 'citus_stop' EXIT

# check NAME EXPECTED ACTUAL: one "ok"/"FAILED" line per assertion
check() {
    if [ "$2" = "$3" ]; then
        echo "ok $1"
        passed=$((passed + 1))
    else
        echo "FAILED $1: expected [$2], got [$3]"
        failed=$((failed + 1))
    fi
}
# fails NAME SQLSTATE TEXT SQL...: the statement fails with this SQLSTATE and a message containing TEXT
fails() {
    local name=$1 code=$2 text=$3 node=$4 out
    shift 4
    out=$(PGOPTIONS="-c client_min_messages=warning" on "$node" -c "\set VERBOSITY verbose" "$@" 2>&1 || true)
    case "$out" in
        *"$code"*"$text"*) echo "ok $name"; passed=$((passed + 1)) ;;
        *) echo "FAILED $name: expected $code ... $text, got: $out"; failed=$((failed + 1)) ;;
    esac
}

say_step() { echo "-- $*"; }

citus_start 2
say_step "cluster: coordinator + 2 workers, $(coord -c "SELECT split_part(citus_version(), ' on ', 1)")"
coord -c "CREATE EXTENSION gnsm"
check "CREATE EXTENSION gnsm reaches the workers" "gnsm|gnsm" "$(on w1 -c "SELECT extname FROM pg_extension WHERE extname = 'gnsm'")|$(on w2 -c "SELECT extname FROM pg_extension WHERE extname = 'gnsm'")"

check "gnsm_version() and gnsm_options() on a worker" "t|t" "$(on w1 -c "SELECT gnsm_version() LIKE 'gnsm%'")|$(on w1 -c "SELECT count(*) > 10 FROM gnsm_options()")"

say_step "tables: orders ($rows rows, demo generator) distributed by id in 32 shards, orders_local an identical copy"
coord -v rows="$rows" -f scripts/demo-orders.sql >/dev/null
coord -c "CREATE TABLE orders_local AS TABLE orders" -c "SELECT create_distributed_table('orders', 'id', shard_count := 32)" >/dev/null
cols="ARRAY['country', 'currency', 'payment', 'channel', 'category', 'shipping']"
opts='{"steps": 200, "seed": 1, "threads": 2}'

say_step "training on the distributed table"
check "gnsm_train on a distributed table" "orders|1|t|$rows" "$(coord -c "SELECT model, version, active, train_rows FROM gnsm_train('orders', $cols, '$opts')")"
check "the workers hold the replicated catalog" "orders:1:true|orders:1:true" \
    "$(on w1 -c "SELECT string_agg(name || ':' || version || ':' || is_active, ',') FROM gnsm.model_replica")|$(on w2 -c "SELECT string_agg(name || ':' || version || ':' || is_active, ',') FROM gnsm.model_replica")"

# same_scores NAME DIST_SQL LOCAL_SQL: both return (id, value) for every row; all must be equal
same_scores() {
    coord -c "DROP TABLE IF EXISTS d_scores, l_scores" -c "CREATE TABLE d_scores AS $2" -c "CREATE TABLE l_scores AS $3"
    local n diff
    n=$(coord -c "SELECT count(*) FROM d_scores")
    diff=$(coord -c "SELECT count(*) FROM d_scores d FULL JOIN l_scores l USING (id) WHERE d.v IS DISTINCT FROM l.v")
    check "$1 ($n rows, identical)" "0" "$diff"
}

say_step "every scoring form on the distributed table = the same model on the local copy"
same_scores "gnsm_score(o)" "SELECT id, gnsm_score(o) AS v FROM orders o" "SELECT id, gnsm_score(o, 'orders') AS v FROM orders_local o"
same_scores "gnsm_score(o, name)" "SELECT id, gnsm_score(o, 'orders') AS v FROM orders o" "SELECT id, gnsm_score(o, 'orders') AS v FROM orders_local o"
same_scores "gnsm_score_percentile(o)" "SELECT id, gnsm_score_percentile(o) AS v FROM orders o" "SELECT id, gnsm_score_percentile(o, 'orders') AS v FROM orders_local o"
same_scores "gnsm_score_percentile(o, name)" "SELECT id, gnsm_score_percentile(o, 'orders') AS v FROM orders o" "SELECT id, gnsm_score_percentile(o, 'orders') AS v FROM orders_local o"
same_scores "gnsm_score_bytes(o, model) joined to the catalog" \
    "SELECT o.id, gnsm_score_bytes(o, m.model) AS v FROM orders o, (SELECT model FROM gnsm.models WHERE name = 'orders' AND is_active) m" \
    "SELECT id, gnsm_score(o, 'orders') AS v FROM orders_local o"
check "gnsm_threshold in a distributed WHERE" \
    "$(coord -c "SELECT count(*) FROM orders_local o WHERE gnsm_score(o, 'orders') > gnsm_threshold('orders', 0.01)")" \
    "$(coord -c "SELECT count(*) FROM orders o WHERE gnsm_score(o) > gnsm_threshold('orders', 0.01)")"
check "ORDER BY gnsm_score(o) DESC LIMIT 20 (pushed down, merged)" \
    "$(coord -c "SELECT string_agg(id::text, ',' ORDER BY s DESC, id) FROM (SELECT id, gnsm_score(o, 'orders') s FROM orders_local o ORDER BY s DESC, id LIMIT 20) q")" \
    "$(coord -c "SELECT string_agg(id::text, ',' ORDER BY s DESC, id) FROM (SELECT id, gnsm_score(o) s FROM orders o ORDER BY s DESC, id LIMIT 20) q")"
top=$(coord -c "SELECT id FROM orders_local o ORDER BY gnsm_score(o, 'orders') DESC, id LIMIT 1")
local_explain=$(coord -c "SELECT string_agg(column_name || '=' || value || ':' || contribution || ':' || most_likely, ',') FROM gnsm_explain((SELECT o FROM orders_local o WHERE id = $top), 'orders')")
check "gnsm_explain((SELECT o FROM orders o WHERE id = ...)) (README form)" "$local_explain" \
    "$(coord -c "SELECT string_agg(column_name || '=' || value || ':' || contribution || ':' || most_likely, ',') FROM gnsm_explain((SELECT o FROM orders o WHERE id = $top))")"
check "FROM orders o, gnsm_explain(o) WHERE id = ... (lateral, on a worker)" "$local_explain" \
    "$(coord -c "SELECT string_agg(column_name || '=' || value || ':' || contribution || ':' || most_likely, ',') FROM (SELECT e.* FROM orders o, gnsm_explain(o) e WHERE o.id = $top) q")"
check "gnsm_explain(o, name) over many rows (pushed down)" \
    "$(coord -c "SELECT round(sum(contribution)::numeric, 6) FROM orders_local o, gnsm_explain(o, 'orders') e WHERE o.id % 97 = 0")" \
    "$(coord -c "SELECT round(sum(contribution)::numeric, 6) FROM orders o, gnsm_explain(o, 'orders') e WHERE o.id % 97 = 0")"

say_step "aggregates: avg is pushed down as sum and count, each calling gnsm_score (the second call is a memo hit)"
check "avg(gnsm_score(o)) = local avg (12 digits)" \
    "$(coord -c "SELECT round(avg(gnsm_score(o, 'orders'))::numeric, 12) FROM orders_local o")" \
    "$(coord -c "SELECT round(avg(gnsm_score(o))::numeric, 12) FROM orders o")"
worker_query=$(coord -c "EXPLAIN (VERBOSE, COSTS off) SELECT avg(gnsm_score(o)) FROM orders o" | grep -m1 -o 'Query: SELECT.*' || true)
check "the pushed-down avg calls gnsm_score twice a row" "2" "$(grep -o 'gnsm_score(' <<<"$worker_query" | wc -l | tr -d ' ')"

say_step "catalog changes reach the workers by the next statement"
coord -c "SELECT version FROM gnsm_retrain('orders', '{\"activate\": \"always\", \"seed\": 2}')" >/dev/null
check "gnsm_retrain: workers score with version 2" "2|2" \
    "$(on w1 -c "SELECT version FROM gnsm.model_replica WHERE name = 'orders' AND is_active")|$(on w2 -c "SELECT version FROM gnsm.model_replica WHERE name = 'orders' AND is_active")"
same_scores "scores after the retrain" "SELECT id, gnsm_score(o) AS v FROM orders o" "SELECT id, gnsm_score(o, 'orders') AS v FROM orders_local o"
coord -c "SELECT gnsm_activate('orders', 1)" >/dev/null
check "gnsm_activate (rollback): workers use version 1" "1" "$(on w2 -c "SELECT version FROM gnsm.model_replica WHERE name = 'orders' AND is_active")"
same_scores "scores after the rollback" "SELECT id, gnsm_score(o) AS v FROM orders o" "SELECT id, gnsm_score(o, 'orders') AS v FROM orders_local o"
coord -c "SELECT gnsm_drop('orders', 2)" >/dev/null
check "gnsm_drop of one version reaches the workers" "1" "$(on w1 -c "SELECT string_agg(version::text, ',') FROM gnsm.model_replica WHERE name = 'orders'")"
coord -c "SELECT count(*) FROM gnsm_train('orders', ARRAY['country', 'currency', 'payment'], '{\"name\": \"orders_payments\", \"steps\": 100, \"seed\": 1}')" >/dev/null
same_scores "a second model, scored by name" "SELECT id, gnsm_score(o, 'orders_payments') AS v FROM orders o" "SELECT id, gnsm_score(o, 'orders_payments') AS v FROM orders_local o"
coord -c "SELECT gnsm_drop('orders_payments')" >/dev/null
fails "a dropped model is gone on the workers" 42704 'gnsm model "orders_payments" does not exist' coord -c "SELECT count(gnsm_score(o, 'orders_payments')) FROM orders o"

if [ "$(coord -c "SHOW shared_preload_libraries")" = "citus,pg_cron" ]; then
    say_step "scheduled retraining (pg_cron on the coordinator; fires within a minute)"
    # pg_cron lives on the coordinator only: its CREATE EXTENSION must not reach the workers
    coord -c "SET citus.enable_ddl_propagation = off" -c "CREATE EXTENSION pg_cron"
    coord -c "SELECT gnsm_schedule_retrain('orders', '* * * * *', '{\"steps\": 20, \"activate\": \"always\"}')" >/dev/null
    v=""
    for _ in $(seq 1 90); do
        v=$(on w1 -c "SELECT max(version) FILTER (WHERE is_active) FROM gnsm.model_replica WHERE name = 'orders'")
        [ "$v" -gt 1 ] 2>/dev/null && break
        sleep 1
    done
    check "a pg_cron retrain on the coordinator reaches the workers" "yes" "$( [ "$v" -gt 1 ] 2>/dev/null && echo yes || echo "no (active version $v)")"
    check "gnsm_unschedule_retrain" "t" "$(coord -c "SELECT gnsm_unschedule_retrain('orders')")"
    same_scores "scores after the scheduled retrain" "SELECT id, gnsm_score(o) AS v FROM orders o" "SELECT id, gnsm_score(o, 'orders') AS v FROM orders_local o"
    coord -c "SELECT gnsm_activate('orders', 1)" -c "SELECT gnsm_drop('orders', version) FROM gnsm.models WHERE name = 'orders' AND version > 1" >/dev/null
else
    echo "   (pg_cron not installed: scheduled retraining not exercised)"
fi

say_step "gnsm_train_agg per tenant on a table distributed by tenant: one model per tenant, trained on the workers"
coord -c "CREATE TABLE tenant_orders AS SELECT channel AS tenant, country, currency, payment FROM orders_local" \
      -c "CREATE TABLE tenant_orders_local AS TABLE tenant_orders" \
      -c "SELECT create_distributed_table('tenant_orders', 'tenant')" >/dev/null
plan=$(coord -c "EXPLAIN (COSTS off) SELECT tenant, gnsm_train_agg(t, '{\"steps\": 60, \"seed\": 1, \"threads\": 1}') FROM tenant_orders t GROUP BY tenant")
check "the aggregate is pushed down whole to the workers" "yes" "$(grep -q 'GroupAggregate\|HashAggregate' <<<"$plan" && grep -q 'Task Count' <<<"$plan" && ! grep -q 'Combine\|Merge Method' <<<"$plan" && echo yes || echo no)"
coord -c "CREATE TABLE tenant_models AS SELECT tenant, gnsm_train_agg(t, '{\"steps\": 60, \"seed\": 1, \"threads\": 1}') AS model FROM tenant_orders t GROUP BY tenant" \
      -c "CREATE TABLE tenant_models_local AS SELECT tenant, gnsm_train_agg(t, '{\"steps\": 60, \"seed\": 1, \"threads\": 1}') AS model FROM tenant_orders_local t GROUP BY tenant"
check "one model per tenant" "$(coord -c "SELECT count(DISTINCT tenant) FROM tenant_orders_local")" "$(coord -c "SELECT count(*) FROM tenant_models")"
same_scores "each tenant's model scores its rows as the one trained on one node" \
    "SELECT row_number() OVER (ORDER BY t.tenant, t.country, t.currency, t.payment) AS id, gnsm_score_bytes(t, m.model) AS v FROM tenant_orders_local t JOIN tenant_models m USING (tenant)" \
    "SELECT row_number() OVER (ORDER BY t.tenant, t.country, t.currency, t.payment) AS id, gnsm_score_bytes(t, m.model) AS v FROM tenant_orders_local t JOIN tenant_models_local m USING (tenant)"

say_step "map models on a distributed table"
coord >/dev/null <<'SQL'
CREATE FUNCTION make_map(sy int, sx int, sq int DEFAULT 1) RETURNS smallint[] LANGUAGE sql IMMUTABLE AS $$
SELECT array_agg(r ORDER BY y) FROM (
  SELECT y, array_agg((CASE WHEN y >= 13 THEN 2 WHEN y BETWEEN sy AND sy + 3 AND x BETWEEN sx AND sx + 3 THEN sq ELSE 0 END)::smallint ORDER BY x) AS r
  FROM generate_series(0, 15) y, generate_series(0, 15) x GROUP BY y) rows $$;
CREATE TABLE masks (id int PRIMARY KEY, mask smallint[]);
INSERT INTO masks SELECT i, make_map(3 + i % 5, 2 + (i * 3) % 9) FROM generate_series(1, 40) i;
INSERT INTO masks VALUES (41, make_map(5, 6, 2));
CREATE TABLE masks_local AS TABLE masks;
SELECT create_distributed_table('masks', 'id', shard_count := 8);
SQL
coord -c "SELECT count(*) FROM gnsm_train('masks', ARRAY['mask'], '{\"resolution\": 16, \"base_channels\": 4, \"steps\": 60, \"batch_size\": 8, \"threads\": 1, \"seed\": 7, \"max_seconds\": 600}')" >/dev/null
same_scores "gnsm_score(map row) on a distributed map table" "SELECT id, gnsm_score(m) AS v FROM masks m" "SELECT id, gnsm_score(m, 'masks') AS v FROM masks_local m"
same_scores "gnsm_explain_map(m)" "SELECT id, md5(gnsm_explain_map(m)::text) AS v FROM masks m" "SELECT id, md5(gnsm_explain_map(m, 'masks')::text) AS v FROM masks_local m"
same_scores "gnsm_heatmap_png(m)" "SELECT id, md5(gnsm_heatmap_png(m)) AS v FROM masks m" "SELECT id, md5(gnsm_heatmap_png(m, 'masks')) AS v FROM masks_local m"
same_scores "gnsm_map_to_png / gnsm_map_from_png round trip" "SELECT id, gnsm_map_from_png(gnsm_map_to_png(mask))::text AS v FROM masks" "SELECT id, mask::text AS v FROM masks_local"

say_step "training reads a sample on the workers when the table is larger than gnsm.max_train_rows"
sample_rows=$((rows / 4))
full_bytes=$(received_bytes coord "SELECT country, currency, payment, channel, category, shipping FROM orders")
check "a sampled training run trains on gnsm.max_train_rows rows" "$sample_rows" \
    "$(coord -c "SET gnsm.max_train_rows = $sample_rows" -c "SELECT train_rows FROM gnsm_train('orders', $cols, '{\"name\": \"orders_sampled\", \"steps\": 20, \"seed\": 1}')")"
check "the catalog records the table's row count" "$rows" "$(coord -c "SELECT metrics->>'source_rows' FROM gnsm.models WHERE name = 'orders_sampled'")"
p=$(coord -c "SELECT ($sample_rows + 5 * sqrt($sample_rows) + 64) / $rows")
sample_bytes=$(received_bytes coord "SELECT country, currency, payment, channel, category, shipping FROM orders WHERE pg_catalog.random() < $p")
echo "   bytes from the workers: whole table $full_bytes, the sampling read $sample_bytes"
check "the sampling read moves under half the table's bytes" "yes" "$( [ "$sample_bytes" -lt $((full_bytes / 2)) ] && echo yes || echo no)"

say_step "bad input on Citus"
fails "an unknown model named on a distributed table" 42704 'gnsm model "nope" does not exist' coord -c "SELECT gnsm_score(o, 'nope') FROM orders o LIMIT 1"
fails "a distributed table without a model" 42704 'no active gnsm model was trained on table "tenant_orders"' coord -c "SELECT gnsm_score(t) FROM tenant_orders t LIMIT 1"
fails "damaged model bytes on the workers" XX001 'gnsm model bytes' coord -c "SELECT gnsm_score_bytes(o, '\\x474e534d0700'::bytea) FROM orders o LIMIT 1"
fails "a shard row scored on a worker without a model" 42704 'no active gnsm model was trained on table "tenant_orders"' w1 -c "SELECT gnsm_score(t) FROM tenant_orders t LIMIT 1"

say_step "parallel plans on a local table of a Citus coordinator"
plan=$(coord -c "SET parallel_setup_cost = 0" -c "SET parallel_tuple_cost = 0" -c "SET min_parallel_table_scan_size = 0" -c "SET max_parallel_workers_per_gather = 2" -c "EXPLAIN (COSTS off) SELECT sum(gnsm_score(o, 'orders')) FROM orders_local o")
check "the plan is parallel" "yes" "$(grep -q Gather <<<"$plan" && echo yes || echo no)"
# (a parallel sum adds in another order: equal to 1e-9 relative, not to the last digit)
serial=$(coord -c "SELECT sum(gnsm_score(o, 'orders')) FROM orders_local o")
check "parallel scoring of a local table works and equals the serial sum" "t" \
    "$(coord -c "SET parallel_setup_cost = 0" -c "SET parallel_tuple_cost = 0" -c "SET min_parallel_table_scan_size = 0" -c "SET max_parallel_workers_per_gather = 2" -c "SELECT abs(sum(gnsm_score(o, 'orders')) - $serial) <= 1e-9 * abs($serial) FROM orders_local o")"

say_step "a worker added after training gets the models when it receives shards"
citus_add_worker w3
coord -c "SELECT rebalance_table_shards('orders', shard_transfer_mode := 'block_writes')" >/dev/null
check "w3 holds shards of orders" "yes" "$(on w3 -c "SELECT count(*) > 0 FROM pg_dist_placement p JOIN pg_dist_shard s USING (shardid) WHERE s.logicalrelid = 'orders'::regclass AND p.groupid = (SELECT groupid FROM pg_dist_local_group)" | sed 's/t/yes/; s/f/no/')"
check "w3 has the replicated catalog" "orders:1:true" "$(on w3 -c "SELECT string_agg(name || ':' || version || ':' || is_active, ',' ORDER BY name, version) FROM gnsm.model_replica WHERE name = 'orders'")"
same_scores "scores after the rebalance onto w3" "SELECT id, gnsm_score(o) AS v FROM orders o" "SELECT id, gnsm_score(o, 'orders') AS v FROM orders_local o"

say_step "speed: distributed vs local, Citus default executor settings (printed, not asserted)"
coord -c "SELECT count(gnsm_score(o)) FROM orders o" >/dev/null
for i in 1 2 3; do
    d=$(ms coord "SELECT count(*) FROM orders o WHERE gnsm_score(o) > 2")
    l=$(ms coord "SELECT count(*) FROM orders_local o WHERE gnsm_score(o, 'orders') > 2")
    echo "   run $i: distributed ${d} ms, local ${l} ms, ratio $(awk -v d="$d" -v l="$l" 'BEGIN {printf "%.2f", d / l}')"
done

say_step "DROP EXTENSION gnsm CASCADE cleans every node"
coord -c "DROP EXTENSION gnsm CASCADE"
left=""
for n in coord w1 w2 w3; do
    left+="$(on "$n" -c "SELECT count(*) FROM pg_extension WHERE extname = 'gnsm'"):$(on "$n" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'gnsm'") "
done
check "no gnsm extension or schema left on coord, w1, w2, w3" "0:0 0:0 0:0 0:0 " "$left"
check "no replica left in Citus's metadata" "0" "$(coord -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE '%model_replica%'")"

say_step "single-node Citus: the coordinator holds the shards (no workers, so no replica)"
citus_stop
citus_start 0
coord -c "SELECT citus_set_coordinator_host('127.0.0.1', $PORT_coord)" \
      -c "SELECT citus_set_node_property('127.0.0.1', $PORT_coord, 'shouldhaveshards', true)" >/dev/null
coord -c "CREATE EXTENSION gnsm"
coord -v rows=5000 -f scripts/demo-orders.sql >/dev/null
coord -c "CREATE TABLE orders_local AS TABLE orders" -c "SELECT create_distributed_table('orders', 'id', shard_count := 8)" >/dev/null
coord -c "SELECT count(*) FROM gnsm_train('orders', $cols, '{\"steps\": 50, \"seed\": 1}')" >/dev/null
check "no replica on a cluster without workers" "0" "$(coord -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE '%model_replica%'")"
same_scores "gnsm_score(o) on shards placed on the coordinator" "SELECT id, gnsm_score(o) AS v FROM orders o" "SELECT id, gnsm_score(o, 'orders') AS v FROM orders_local o"

echo "citus: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
