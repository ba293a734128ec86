-- A wide table of categorical columns for bench/train_budget.sh: :rows rows, :cols columns of
-- 4, 8, 16 or 32 values (hashed, so rows are mostly distinct).
-- usage: psql -v rows=60000 -v cols=160 -f bench/wide_table.sql
DROP TABLE IF EXISTS wide;
SELECT format('CREATE TABLE wide AS SELECT g AS id, %s FROM generate_series(1, %s) g',
  string_agg(format('''v'' || (hashint4(g * 131 + %s) & %s) AS c%s', i, (ARRAY[3,7,15,31])[1 + i % 4], i), ', '), :rows)
FROM generate_series(1, :cols) i \gexec
VACUUM ANALYZE wide;
