#!/usr/bin/env bash
# Distinct-row scoring speed (issue 13) against the installed extension (run scripts/demo first):
# rows/s of `SELECT gnsm_score(t, model) FROM t` with the memo off and no parallel workers, for the
# default scorer ("scorer": "auto", ADR 016: the fast scorer when the training rows hold at least
# 30,000 distinct rows, else the exact one; the record's "fitted" says which), the fast one and the
# exact one, next to count(*) and an independent-columns score in plain SQL on the same table, in
# one run. Tables: census (all 33 columns, from ../shared/data) and generated tables of distinct
# rows (10 categorical columns, 2 numeric) of each size given. Prints a markdown table, merges the
# records into results/sql_bench.json under "distinct_scoring" and draws
# results/distinct_scoring.svg (rows/s per method against table size).
# usage: bench/distinct_scoring.sh [GENERATED_ROWS ...]     (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=gnsm_distinct
gen_sizes=("$@"); [ ${#gen_sizes[@]} -gt 0 ] || gen_sizes=(1000000)
# extra training options (a smoke run passes a small step budget)
extra_opts="${GNSM_BENCH_TRAIN_OPTS:-}"
[ -n "$extra_opts" ] || extra_opts='{}'
# the exact scorer runs at 400-700 rows/s: it is timed on this many rows of each table
exact_rows=3000
P() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -At -d "$DB" "$@"; }
runuser -u postgres -- psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
P -c "CREATE EXTENSION gnsm"
# seconds of one statement (psql's \timing output)
timed() { P -c '\timing on' -c "SET max_parallel_workers_per_gather = 0" -c "SET gnsm.score_cache_rows = 0" -c "$1" | grep -oE 'Time: [0-9.]+' | tail -1 | awk '{printf "%.3f", $2/1000}'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN{printf "%.0f", n/s}'; }

# census: the header names the columns, every value is text, the label column is left out
cols=$(set +o pipefail; zcat ../shared/data/census/census.csv.gz | head -1 | tr -d '\r')
IFS=',' read -r -a names <<< "$cols"
ddl=""; model_cols=()
for c in "${names[@]}"; do
    q="\"$c\""
    ddl+="${ddl:+, }$q text"
    [ "$c" != "is_anomaly" ] && model_cols+=("$c")
done
P -c "CREATE TABLE census ($ddl)"
zcat ../shared/data/census/census.csv.gz | P -c "COPY census FROM STDIN WITH (FORMAT csv, HEADER true)"
P -c "ALTER TABLE census DROP COLUMN is_anomaly" -c "VACUUM ANALYZE census"

# generated: 10 categorical columns with a dependency between the first two, 2 numeric ones; an id
# and a random float make every row distinct; one table per size
gen_tables=()
for n in "${gen_sizes[@]}"; do
    P -v rows="$n" -f bench/distinct_table.sql
    P -c "ALTER TABLE gen RENAME TO gen_$n"
    gen_tables+=("gen_$n")
done

json=()
printf '| table | rows | distinct rows | scorer | gnsm rows/s | IndepNLL-SQL rows/s | count(*) rows/s | gnsm / IndepNLL-SQL |\n|---|---|---|---|---|---|---|---|\n'
for t in census "${gen_tables[@]}"; do
    if [ "$t" = census ]; then
        arr=$(printf "'%s'," "${model_cols[@]}"); arr="ARRAY[${arr%,}]"; opts='{}'
        catcols=("${model_cols[@]}")
    else
        arr="ARRAY['c1','c2','c3','c4','c5','c6','c7','c8','c9','c10','amount','ratio']"; opts='{"numeric_columns": ["amount", "ratio"]}'
        catcols=(c1 c2 c3 c4 c5 c6 c7 c8 c9 c10)
    fi
    n=$(P -c "SELECT count(*) FROM $t")
    distinct=$(P -c "SELECT count(*) FROM (SELECT DISTINCT * FROM $t) d")
    for scorer in auto fast exact; do
        o=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); d.update(json.loads(sys.argv[4])); d.update(name=sys.argv[2], scorer=sys.argv[3], seed=1); print(json.dumps(d))" "$opts" "${t}_$scorer" "$scorer" "$extra_opts")
        P -c "SET client_min_messages = warning" -c "SELECT count(*) FROM gnsm_train('$t', $arr, '$o')" >/dev/null
    done
    count_s=$(timed "SELECT count(*) FROM $t")
    # IndepNLL in plain SQL: per column, ln of its value's relative frequency, joined back by value
    withs=(); joins=(); sum=()
    for i in "${!catcols[@]}"; do
        c="\"${catcols[$i]}\""
        withs+=("f$i AS (SELECT $c v, ln(count(*)::float8 / $n) lp FROM $t GROUP BY 1)")
        joins+=("LEFT JOIN f$i ON f$i.v IS NOT DISTINCT FROM t.$c")
        sum+=("coalesce(f$i.lp, 0)")
    done
    indep_q="WITH $(IFS=,; echo "${withs[*]}") SELECT max(-($(IFS=+; echo "${sum[*]}"))) FROM $t t ${joins[*]}"
    indep_s=$(timed "$indep_q")
    # what "auto" chose; a model that scores exactly is timed on exact_rows rows
    fitted=$(P -c "SELECT metrics->>'scorer' FROM gnsm.models WHERE name = '${t}_auto'")
    for scorer in auto fast exact; do
        fit=$scorer; [ "$scorer" = auto ] && fit=$fitted
        rows=$n; [ "$fit" = fast ] || rows=$(( n < exact_rows ? n : exact_rows ))
        secs=$(timed "SELECT max(gnsm_score(t, '${t}_$scorer')) FROM (SELECT * FROM $t LIMIT $rows) t")
        r=$(rate "$rows" "$secs"); ri=$(rate "$n" "$indep_s"); rc=$(rate "$n" "$count_s")
        label=$scorer; [ "$scorer" = auto ] && label="auto ($fit)"
        printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$n" "$distinct" "$label" "$r" "$ri" "$rc" "$(awk -v a="$r" -v b="$ri" 'BEGIN{printf "%.2f", a/b}')"
        json+=("{\"table\":\"$t\",\"rows\":$n,\"distinct_rows\":$distinct,\"scorer\":\"$scorer\",\"fitted\":\"$fit\",\"scored_rows\":$rows,\"rows_per_s\":$r,\"indep_sql_rows_per_s\":$ri,\"count_rows_per_s\":$rc}")
    done
done
mkdir -p results
records="[$(IFS=,; echo "${json[*]}")]"
python3 bench/python/merge_results.py results/sql_bench.json distinct_scoring "$records"
python3 bench/python/plot_distinct.py results/sql_bench.json results/distinct_scoring.svg
runuser -u postgres -- psql -X -q -d postgres -c "DROP DATABASE $DB"
