#!/usr/bin/env bash
# pg_dump then pg_restore into a new database keeps every model version, and scores before and
# after are identical. Runs as postgres against the cluster given by PGHOST/PGPORT.
set -euo pipefail
# psql_q and active_backend come from tests/shell/common.bash (prepended by scripts/regress)
dump="$(mktemp -d)/gnsm.dump"
for db in gnsm_dump_src gnsm_dump_dst; do psql_q -d postgres -c "DROP DATABASE IF EXISTS $db"; done
psql_q -d postgres -c "CREATE DATABASE gnsm_dump_src"
psql_q -d gnsm_dump_src >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION gnsm;
CREATE TABLE items AS SELECT g AS id, 'k' || (g % 5) AS kind, 'c' || (g % 5 / 2) AS color FROM generate_series(1, 300) g;
INSERT INTO items VALUES (1000, 'k0', 'c2');
SELECT count(*) FROM gnsm_train('items', ARRAY['kind', 'color'], '{"width": 16, "depth": 1, "steps": 40, "threads": 1, "seed": 2}');
SELECT count(*) FROM gnsm_train('items', ARRAY['kind', 'color'], '{"width": 16, "depth": 1, "steps": 40, "threads": 1, "seed": 3, "name": "items_b"}');
SQL
before=$(psql_q -d gnsm_dump_src -c "SELECT string_agg(id || '=' || gnsm_score(i), ',' ORDER BY id) FROM items i")
before_b=$(psql_q -d gnsm_dump_src -c "SELECT string_agg(id || '=' || gnsm_score(i, 'items_b'), ',' ORDER BY id) FROM items i")
pg_dump -Fc -d gnsm_dump_src -f "$dump"
psql_q -d postgres -c "CREATE DATABASE gnsm_dump_dst"
pg_restore -d gnsm_dump_dst "$dump"
after=$(psql_q -d gnsm_dump_dst -c "SELECT string_agg(id || '=' || gnsm_score(i), ',' ORDER BY id) FROM items i")
after_b=$(psql_q -d gnsm_dump_dst -c "SELECT string_agg(id || '=' || gnsm_score(i, 'items_b'), ',' ORDER BY id) FROM items i")
versions=$(psql_q -d gnsm_dump_dst -c "SELECT count(*) FROM gnsm.models")
for db in gnsm_dump_src gnsm_dump_dst; do psql_q -d postgres -c "DROP DATABASE $db"; done
rm -rf "$(dirname "$dump")"
[ "$versions" = 2 ] || { echo "dump_restore: expected 2 models after restore, got $versions"; exit 1; }
[ "$before" = "$after" ] && [ "$before_b" = "$after_b" ] || { echo "dump_restore: scores differ after restore"; exit 1; }
echo "dump_restore: 2 models restored, 301 scores identical"
