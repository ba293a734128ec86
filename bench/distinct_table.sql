-- The generated table of distinct rows that bench/distinct_scoring.sh, parallel_scoring.sh and
-- train_memory.sh share: :rows rows, 10 categorical columns (c2 depends on c1), 2 numeric ones;
-- the id and the random ratio make every row distinct.
-- usage: psql -v rows=1000000 -f bench/distinct_table.sql
DROP TABLE IF EXISTS gen;
CREATE TABLE gen AS SELECT g AS id,
    'a' || (g % 7) AS c1, 'b' || ((g % 7) * 3 + (g / 7) % 2) AS c2, 'c' || (hashint4(g) & 15) AS c3,
    'd' || (hashint4(g + 1) & 31) AS c4, 'e' || (hashint4(g + 2) & 7) AS c5, 'f' || (hashint4(g + 3) & 63) AS c6,
    'g' || (hashint4(g + 4) & 3) AS c7, 'h' || (hashint4(g + 5) & 127) AS c8, 'i' || (hashint4(g + 6) & 11) AS c9,
    'j' || (hashint4(g + 7) & 255) AS c10,
    round((100 + 20 * sin(g))::numeric, 2)::float8 AS amount, random() AS ratio
  FROM generate_series(1, :rows) g;
VACUUM ANALYZE gen;
