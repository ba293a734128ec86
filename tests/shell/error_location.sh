#!/usr/bin/env bash
# With VERBOSITY verbose, an error's LOCATION names the code that raised it (the caller of the
# error helper), not the helper's own file.
set -euo pipefail
# psql_q comes from tests/shell/common.bash (prepended by scripts/regress)
psql_q -d postgres -c "DROP DATABASE IF EXISTS gnsm_location" >/dev/null
psql_q -d postgres -c "CREATE DATABASE gnsm_location" >/dev/null
psql_q -d gnsm_location -c "CREATE EXTENSION gnsm" >/dev/null
out=$(psql -X -d gnsm_location -v VERBOSITY=verbose -c "\set VERBOSITY verbose" \
        -c "SELECT gnsm_threshold('no_such_model', 0.01)" \
        -c "CREATE TABLE loc_t AS SELECT 'a' AS a" \
        -c "SELECT gnsm_train('loc_t', ARRAY['nope'])" 2>&1 || true)
psql_q -d postgres -c "DROP DATABASE gnsm_location" >/dev/null
locations=$(echo "$out" | grep '^LOCATION:' || true)
n=$(echo "$locations" | grep -c 'LOCATION' || true)
if [ "$n" -ne 2 ] || echo "$locations" | grep -q 'errors.rs'; then
    echo "error_location: expected 2 LOCATION lines naming the raising code, got:"
    echo "$out"
    exit 1
fi
echo "error_location: $n errors located in $(echo "$locations" | grep -oE '[a-z_]+\.rs:[0-9]+' | sort -u | tr '\n' ' ')"
