#!/usr/bin/env bash
# Upgrade path: install the frozen 0.1.0 script, store a model made by the 0.1.0 build (fixture)
# and one trained through the 0.1.0 SQL surface, ALTER EXTENSION ... UPDATE, then check that the
# extension's objects equal a fresh install's and that both models still score as before.
# Needs $FIXTURES (tests/fixtures, copied by scripts/regress) and sql/gnsm--0.1.0.sql installed.
set -euo pipefail
# psql_q comes from tests/shell/common.bash (prepended by scripts/regress)
: "${FIXTURES:?FIXTURES must name the tests/fixtures copy}"
for db in gnsm_up_fresh gnsm_up_old; do psql_q -d postgres -c "DROP DATABASE IF EXISTS $db"; done
psql_q -d postgres -c "CREATE DATABASE gnsm_up_fresh"
psql_q -d postgres -c "CREATE DATABASE gnsm_up_old"
newest=$(psql_q -d postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'gnsm'")
psql_q -d gnsm_up_fresh -c "CREATE EXTENSION gnsm"
psql_q -d gnsm_up_old -c "CREATE EXTENSION gnsm VERSION '0.1.0'"

# the 0.1.0 world: a model the 0.1.0 build stored (COPY of its catalog row) and one trained now
psql_q -d gnsm_up_old -f "$FIXTURES/legacy_rows.sql" >/dev/null
psql_q -d gnsm_up_old -c "COPY gnsm.models (name, version, source_table, columns, column_types, vocab_sizes, options, metrics, score_quantiles, format_version, created_at, created_by, is_active, model) FROM STDIN" <"$FIXTURES/model-0.1.0.copy"
# (its row has no source_relid, as after a restore: gnsm_score(t) finds it by table name)
psql_q -d gnsm_up_old -c "CREATE TABLE rows_010 AS SELECT * FROM legacy_rows"
psql_q -d gnsm_up_old >/dev/null -c "SELECT * FROM gnsm_train('rows_010', ARRAY['a', 'c'], '{\"name\": \"trained_at_010\", \"width\": 16, \"depth\": 1, \"steps\": 20, \"threads\": 1, \"seed\": 3}')"
ids="id % 50 = 1 OR id > 500"
before_010=$(psql_q -d gnsm_up_old -c "SELECT string_agg(id || '=' || gnsm_score(t, 'trained_at_010'), ',' ORDER BY id) FROM rows_010 t WHERE $ids")
[ "$(psql_q -d gnsm_up_old -c "SELECT extversion FROM pg_extension WHERE extname = 'gnsm'")" = 0.1.0 ] || { echo "upgrade: 0.1.0 did not install"; exit 1; }

psql_q -d gnsm_up_old -c "ALTER EXTENSION gnsm UPDATE"
version=$(psql_q -d gnsm_up_old -c "SELECT extversion FROM pg_extension WHERE extname = 'gnsm'")
[ "$version" = "$newest" ] || { echo "upgrade: at $version after ALTER EXTENSION UPDATE, expected $newest"; exit 1; }

# every object of the extension, with its full definition, grants and comments
describe() {
    psql_q -d "$1" <<'SQL'
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'gnsm'),
member AS (SELECT d.classid, d.objid, d.objsubid FROM pg_depend d, ext
           WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e')
SELECT 'member ' || pg_describe_object(classid, objid, objsubid) FROM member
UNION ALL
SELECT 'function ' || pg_get_functiondef(p.oid) || ' acl=' || coalesce(p.proacl::text, '-')
       || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
FROM pg_proc p JOIN member m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid WHERE p.prokind <> 'a'
UNION ALL
SELECT format('aggregate %s trans=%s final=%s modify=%s state=%s init=%s acl=%s comment=%s', a.aggfnoid::regprocedure,
              a.aggtransfn, a.aggfinalfn, a.aggfinalmodify, a.aggtranstype::regtype, a.agginitval,
              coalesce(p.proacl::text, '-'), coalesce(obj_description(p.oid, 'pg_proc'), '-'))
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN member m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
UNION ALL
SELECT format('column %s.%s %s notnull=%s default=%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
              a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid))
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
WHERE c.relnamespace = 'gnsm'::regnamespace
UNION ALL
SELECT format('relation %s kind=%s acl=%s comment=%s', c.relname, c.relkind, coalesce(c.relacl::text, '-'),
              obj_description(c.oid, 'pg_class'))
FROM pg_class c WHERE c.relnamespace = 'gnsm'::regnamespace
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = 'gnsm'::regnamespace
UNION ALL
SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'gnsm'::regnamespace
UNION ALL
SELECT 'view ' || pg_get_viewdef('gnsm.model_list'::regclass)
UNION ALL
SELECT format('schema gnsm acl=%s comment=%s', nspacl, obj_description(oid, 'pg_namespace')) FROM pg_namespace WHERE nspname = 'gnsm'
UNION ALL
SELECT format('extension config=%s conditions=%s', extconfig::regclass[], extcondition) FROM pg_extension WHERE extname = 'gnsm'
ORDER BY 1;
SQL
}
fresh=$(describe gnsm_up_fresh)
upgraded=$(describe gnsm_up_old)
if [ "$fresh" != "$upgraded" ]; then
    echo "upgrade: an upgraded install differs from a fresh one:"
    diff <(echo "$fresh") <(echo "$upgraded") || true
    exit 1
fi
members=$(echo "$fresh" | grep -c '^member ')

# the model the 0.1.0 build stored scores and explains as it did then (float tolerance 1e-9)
psql_q -d gnsm_up_old -F ' ' -c "SELECT id, gnsm_score(t, 'legacy') FROM legacy_rows t WHERE $ids ORDER BY id" >/tmp/gnsm_up_scores.$$
psql_q -d gnsm_up_old -F ' ' -c "SELECT e.* FROM legacy_rows t, gnsm_explain(t, 'legacy') e WHERE id = 501" >/tmp/gnsm_up_explain.$$
# by table, without naming the model
by_table=$(psql_q -d gnsm_up_old -c "SELECT gnsm_score(t) = gnsm_score(t, 'legacy') FROM legacy_rows t WHERE id = 501")
after_010=$(psql_q -d gnsm_up_old -c "SELECT string_agg(id || '=' || gnsm_score(t, 'trained_at_010'), ',' ORDER BY id) FROM rows_010 t WHERE $ids")
# the new 0.2.0 surface is there after the upgrade
psql_q -d gnsm_up_old -c "SELECT 'gnsm_schedule_retrain(text,text,jsonb)'::regprocedure, 'gnsm_unschedule_retrain(text)'::regprocedure" >/dev/null
# 0.3.0: both gnsm_train_agg forms consume their state in the final function (READ_WRITE)
read_write=$(psql_q -d gnsm_up_old -c "SELECT count(*) FROM pg_aggregate WHERE aggfnoid::regproc::text LIKE '%gnsm_train_agg' AND aggfinalmodify = 'w'")
[ "$read_write" = 2 ] || { echo "upgrade: gnsm_train_agg is not FINALFUNC_MODIFY = READ_WRITE after the upgrade ($read_write of 2)"; exit 1; }
for db in gnsm_up_fresh gnsm_up_old; do psql_q -d postgres -c "DROP DATABASE $db"; done

same_numbers() { # FILE_A FILE_B: same lines, numbers equal within 1e-9 relative
    awk 'NR == FNR { a[FNR] = $0; n = FNR; next }
         { split(a[FNR], x, " "); m = split($0, y, " ");
           for (i = 1; i <= m; i++) {
             if (y[i] ~ /^-?[0-9.]+(e-?[0-9]+)?$/) { d = x[i] - y[i]; if (d < 0) d = -d; s = (y[i] < 0 ? -y[i] : y[i]);
               if (d > 1e-9 * (s > 1 ? s : 1)) { print "line " FNR ": " a[FNR] " vs " $0; bad = 1 } }
             else if (x[i] != y[i]) { print "line " FNR ": " a[FNR] " vs " $0; bad = 1 } }
           k = FNR }
         END { if (k != n) { print "line count " n " vs " k; bad = 1 } exit bad }' "$1" "$2"
}
ok=1
same_numbers "$FIXTURES/scores-0.1.0.txt" /tmp/gnsm_up_scores.$$ || { echo "upgrade: the 0.1.0 model's scores changed"; ok=0; }
same_numbers "$FIXTURES/explain-0.1.0.txt" /tmp/gnsm_up_explain.$$ || { echo "upgrade: the 0.1.0 model's explanation changed"; ok=0; }
rm -f /tmp/gnsm_up_scores.$$ /tmp/gnsm_up_explain.$$
[ "$by_table" = t ] || { echo "upgrade: gnsm_score(t) did not find the restored model by its table"; ok=0; }
[ "$before_010" = "$after_010" ] || { echo "upgrade: a model trained under 0.1.0 scores differently after the upgrade"; ok=0; }
[ $ok = 1 ] || exit 1
echo "upgrade: 0.1.0 -> $version equals a fresh install ($members objects); 0.1.0 models score as before"
