-- The bad-input matrix: every case with its SQLSTATE and message, or its defined behaviour
-- ('ok' plus a check). No case may crash the backend: the same backend answers at the end.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gnsm;
RESET client_min_messages;
SELECT pg_backend_pid() AS start_pid \gset
CREATE FUNCTION pg_temp.outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'ok';
EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || left(SQLERRM, 150);
END $$;
-- tiny, deterministic training options
CREATE FUNCTION pg_temp.fast(name text DEFAULT NULL) RETURNS jsonb LANGUAGE sql AS $$
SELECT jsonb_strip_nulls(jsonb_build_object('width', 16, 'depth', 1, 'steps', 30, 'batch_size', 64,
       'threads', 1, 'seed', 1, 'gmm_components', jsonb_build_array(1, 2), 'evals', 2, 'name', name)) $$;
SET client_min_messages = warning;

-- tables
CREATE TABLE b_empty (a text, b text);
CREATE TABLE b_one (a text, b text); INSERT INTO b_one VALUES ('x', 'y');
CREATE TABLE b_same (a text, b text); INSERT INTO b_same SELECT 'x', 'y' FROM generate_series(1, 100);
CREATE TABLE b_nullcol (a text, b text, n text);
INSERT INTO b_nullcol SELECT 'a' || (g % 4), 'b' || (g % 4), NULL FROM generate_series(1, 200) g;
CREATE TABLE b_ids (k text, a text);
INSERT INTO b_ids SELECT 'id' || g, 'a' || (g % 3) FROM generate_series(1, 1000000) g;
CREATE TABLE b_long (a text, b text);
INSERT INTO b_long SELECT CASE WHEN g % 2 = 0 THEN repeat('L', 1048576) ELSE 'short' END, 'b' || (g % 2)
FROM generate_series(1, 40) g;
CREATE TABLE b_bytes (a bytea, b text); INSERT INTO b_bytes VALUES ('\xff00fe', 'x'), ('\x00', 'y');
CREATE TYPE b_mood AS ENUM ('calm', 'busy');
CREATE TABLE b_enum (m b_mood, a text);
INSERT INTO b_enum SELECT (ARRAY['calm', 'busy'])[1 + g % 2]::b_mood, 'a' || (g % 2) FROM generate_series(1, 200) g;
CREATE TABLE b_num (x numeric, a text);
INSERT INTO b_num SELECT CASE WHEN g % 3 = 0 THEN 'NaN'::numeric ELSE g % 3 END, 'a' || (g % 2) FROM generate_series(1, 90) g;
CREATE TABLE b_float (x float8, a text); INSERT INTO b_float VALUES ('Infinity', 'a'), ('NaN', 'b');
CREATE TABLE b_huge (x float8, a text);
INSERT INTO b_huge SELECT (ARRAY[1e308, -1e308, 1.7e308])[1 + g % 3], 'a' || (g % 2) FROM generate_series(1, 60) g;
CREATE TABLE b_numnull (x float8, a text); INSERT INTO b_numnull SELECT NULL, 'a' || (g % 2) FROM generate_series(1, 60) g;
CREATE TABLE b_ints (x int, y bigint, z boolean);
INSERT INTO b_ints SELECT g % 3, g % 5, g % 2 = 0 FROM generate_series(1, 300) g;
CREATE TABLE b_main (id int, a text, b text, c text);
INSERT INTO b_main SELECT g, 'a' || (g % 5), 'b' || (g % 5), 'c' || (g % 3) FROM generate_series(1, 300) g;
CREATE TABLE b_other (id int, a text, b text);
INSERT INTO b_other VALUES (1, 'a1', 'b1');
CREATE TABLE "b weird ""name""" ("col ü" text, "Ω" text);
INSERT INTO "b weird ""name""" SELECT 'v' || (g % 3), 'w' || (g % 2) FROM generate_series(1, 100) g;

CREATE TEMP TABLE matrix (id serial, area text, input text, q text, result text);
INSERT INTO matrix (area, input, q) VALUES
-- training data
('train', 'unknown table', $$SELECT gnsm_train('b_nope')$$),
('train', 'empty table', $$SELECT gnsm_train('b_empty', NULL, pg_temp.fast())$$),
('train', 'one row', $$SELECT gnsm_train('b_one', NULL, pg_temp.fast())$$),
('train', 'one distinct row, 100 times', $$SELECT gnsm_train('b_same', NULL, pg_temp.fast())$$),
('train', 'all-NULL column (NULL is one category)', $$SELECT gnsm_train('b_nullcol', NULL, pg_temp.fast())$$),
('train', '10^6 distinct values in a column', $$SELECT gnsm_train('b_ids', ARRAY['k', 'a'], pg_temp.fast())$$),
('train', '1 MB strings', $$SELECT gnsm_train('b_long', NULL, pg_temp.fast())$$),
('train', 'bytea column (bytes, invalid UTF-8)', $$SELECT gnsm_train('b_bytes', ARRAY['a', 'b'], pg_temp.fast())$$),
('train', 'float8 NaN/Infinity: a number (NaN = NULL), finite scores', $$SELECT gnsm_train('b_float', ARRAY['x', 'a'], pg_temp.fast()); SELECT 1 / (bool_and(gnsm_score(f) < 'Infinity'::float8))::int FROM b_float f$$),
('train', 'numeric with NaN', $$SELECT gnsm_train('b_num', ARRAY['x', 'a'], pg_temp.fast())$$),
('train', 'default columns take numeric ones, numbers first', $$SELECT gnsm_train('b_num', NULL, pg_temp.fast()); SELECT 1 / (columns = ARRAY['x', 'a'] AND vocab_sizes[1] = 0)::int FROM gnsm.models WHERE name = 'b_num' AND version = 2$$),
('train', 'float8 of +-1e308 (sums overflow), finite scores', $$SELECT gnsm_train('b_huge', NULL, pg_temp.fast()); SELECT 1 / (bool_and(gnsm_score(h) < 'Infinity'::float8))::int FROM b_huge h$$),
('train', 'float8 column that is all NULL', $$SELECT gnsm_train('b_numnull', NULL, pg_temp.fast())$$),
('train', 'numeric_columns naming a text column', $$SELECT gnsm_train('b_num', NULL, '{"numeric_columns": ["a"]}')$$),
('train', 'int, bigint, boolean columns', $$SELECT gnsm_train('b_ints', NULL, pg_temp.fast())$$),
('train', 'enum column', $$SELECT gnsm_train('b_enum', NULL, pg_temp.fast())$$),
('train', 'quoted names, Unicode columns', $$SELECT gnsm_train('"b weird ""name"""', NULL, pg_temp.fast('weird'))$$),
('train', 'unknown column', $$SELECT gnsm_train('b_main', ARRAY['a', 'zz'])$$),
('train', 'NULL in the column list', $$SELECT gnsm_train('b_main', ARRAY['a', NULL])$$),
('train', 'empty column list', $$SELECT gnsm_train('b_main', ARRAY[]::text[])$$),
('train', 'column listed twice', $$SELECT gnsm_train('b_main', ARRAY['a', 'a'])$$),
-- options
('options', 'not an object', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '[1, 2]')$$),
('options', 'unknown key', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"stepz": 5}')$$),
('options', 'steps as string', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"steps": "many"}')$$),
('options', 'width as float', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"width": 1.5}')$$),
('options', 'name as number', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"name": 7}')$$),
('options', 'name of 1 MB', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], jsonb_build_object('name', repeat('n', 1048576)))$$),
('options', 'huge steps', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"steps": 1e30}')$$),
('options', 'steps above the cap', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"steps": 10000001}')$$),
('options', 'zero steps', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"steps": 0}')$$),
('options', 'negative steps', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"steps": -5}')$$),
('options', 'zero max_seconds', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"max_seconds": 0}')$$),
('options', 'negative max_seconds', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"max_seconds": -1}')$$),
('options', 'zero threads', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"threads": 0}')$$),
('options', 'gmm_components empty', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"gmm_components": []}')$$),
('options', 'activate misspelt', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"activate": "yes"}')$$),
('options', 'GUC gnsm.threads = 0', $$SET gnsm.threads = 0$$),
('options', 'GUC gnsm.max_categories = -1', $$SET gnsm.max_categories = -1$$);
UPDATE matrix SET result = pg_temp.outcome(q);

-- a model to score against, then the scoring cases
SELECT count(*) FROM gnsm_train('b_main', ARRAY['a', 'b', 'c'], pg_temp.fast());
SELECT gnsm_score(m) AS normal_score FROM b_main m WHERE id = 1 \gset
CREATE TABLE b_copy AS SELECT * FROM b_main;   -- same columns, another table
SELECT count(*) FROM gnsm_train('b_copy', ARRAY['a', 'b', 'c'], pg_temp.fast('doomed'));
DROP TABLE b_copy;
INSERT INTO matrix (area, input, q) VALUES
('score', 'row of another table', $$SELECT gnsm_score(o) FROM b_other o$$),
('score', 'another table''s row, model named', $$SELECT gnsm_score(o, 'b_main') FROM b_other o$$),
('score', 'anonymous record', $$SELECT gnsm_score(ROW('a1', 'b1', 'c1'))$$),
('score', 'a scalar', $$SELECT gnsm_score(42)$$),
('score', 'unknown model name', $$SELECT gnsm_score(m, 'b_nope') FROM b_main m$$),
('score', 'NULL row (STRICT: NULL)', $$SELECT 1 / (gnsm_score(NULL::b_main) IS NULL)::int$$),
('score', 'unseen value and NULL score higher', $$SELECT 1 / (gnsm_score(ROW(1, 'a1', 'zzz', NULL)::b_main) > gnsm_score(ROW(1, 'a1', 'b1', 'c1')::b_main))::int$$),
('score', '1 MB unseen string', $$SELECT 1 / (gnsm_score(ROW(1, repeat('u', 1048576), 'b1', 'c1')::b_main) > gnsm_score(ROW(1, 'a1', 'b1', 'c1')::b_main))::int$$),
('score', 'explain a row of unseen values', $$SELECT 1 / (count(*) = 3)::int FROM gnsm_explain(ROW(1, 'q', 'r', 's')::b_main)$$),
('score', 'percentile of an unseen row in [0, 100]', $$SELECT 1 / (gnsm_score_percentile(ROW(1, 'q', 'r', 's')::b_main) BETWEEN 0 AND 100)::int$$),
('score', 'threshold contamination 0', $$SELECT gnsm_threshold('b_main', 0)$$),
('score', 'threshold contamination 1.5', $$SELECT gnsm_threshold('b_main', 1.5)$$),
('score', 'threshold contamination NaN', $$SELECT gnsm_threshold('b_main', 'NaN')$$),
('score', 'empty bytea as model', $$SELECT gnsm_score_bytes(m, ''::bytea) FROM b_main m$$),
('score', 'random bytes as model', $$SELECT gnsm_score_bytes(m, decode(repeat('ab', 300), 'hex')) FROM b_main m$$),
('score', 'model bytes of a future format', $$SELECT gnsm_score_bytes(m, overlay(model PLACING '\x6300'::bytea FROM 5)) FROM b_main m, gnsm.models g WHERE g.name = 'b_main'$$),
('score', 'model whose table was dropped, retrained', $$SELECT gnsm_retrain('doomed')$$),
('score', 'model whose table was dropped, by name', $$SELECT 1 / (count(gnsm_score(m, 'doomed')) = 300)::int FROM b_main m$$),
('schema', 'column type changed (rolled back)', $$ALTER TABLE b_main ALTER COLUMN c TYPE int USING 0; SELECT gnsm_score(m) FROM b_main m$$),
('schema', 'column renamed (rolled back)', $$ALTER TABLE b_main RENAME COLUMN a TO a2; SELECT gnsm_score(m) FROM b_main m$$),
('schema', 'table renamed (found by OID)', $$ALTER TABLE b_enum RENAME TO b_enum2; SELECT 1 / (count(gnsm_score(e)) = 200)::int FROM b_enum2 e$$),
('catalog', 'model bytes truncated by hand', $$UPDATE gnsm.models SET model = substring(model FROM 1 FOR 100) WHERE name = 'b_ints'; SELECT gnsm_score(i) FROM b_ints i$$),
('catalog', 'model bytes flipped by hand', $$UPDATE gnsm.models SET model = overlay(model PLACING '\xdeadbeef'::bytea FROM 200) WHERE name = 'b_nullcol'; SELECT gnsm_score(x) FROM b_nullcol x$$),
('catalog', 'activate an unknown version', $$SELECT gnsm_activate('weird', 99)$$),
('catalog', 'drop an unknown model', $$SELECT gnsm_drop('b_nope')$$);
UPDATE matrix SET result = pg_temp.outcome(q) WHERE result IS NULL;

-- schema changes that must commit before the next statement sees them
ALTER TABLE b_main DROP COLUMN b;
INSERT INTO matrix (area, input, q) VALUES
('schema', 'column dropped after training', $$SELECT gnsm_score(m) FROM b_main m$$);
UPDATE matrix SET result = pg_temp.outcome(q) WHERE result IS NULL;
ALTER TABLE b_main ADD COLUMN b text;
UPDATE b_main SET b = 'b' || (id % 5);
ALTER TYPE b_mood ADD VALUE 'angry';
INSERT INTO matrix (area, input, q) VALUES
('schema', 'column re-added (matched by name): same score', $$SELECT 1 / (gnsm_score(m) = $$ || :normal_score || $$)::int FROM b_main m WHERE id = 1$$),
('schema', 'enum value added after training scores as unseen', $$SELECT 1 / (gnsm_score(ROW('angry', 'a0')::b_enum2) > gnsm_score(ROW('calm', 'a0')::b_enum2))::int$$);
UPDATE matrix SET result = pg_temp.outcome(q) WHERE result IS NULL;

-- label maps: 2-D smallint[]/integer[] arrays (one inner array per row) and label-map PNGs
INSERT INTO matrix (area, input, q) VALUES
('maps', '1-D array', $$SELECT gnsm_map_to_png(ARRAY[0, 1, 1, 0])$$),
('maps', '3-D array', $$SELECT gnsm_map_to_png(ARRAY[[[0, 1], [1, 0]], [[1, 0], [0, 1]]])$$),
('maps', 'empty array', $$SELECT gnsm_map_to_png('{}'::smallint[])$$),
('maps', 'NULL pixel', $$SELECT gnsm_map_to_png(ARRAY[[0, 1], [NULL, 0]]::smallint[])$$),
('maps', 'negative label', $$SELECT gnsm_map_to_png(ARRAY[[0, -1], [1, 0]])$$),
('maps', 'label 65535 (the void code)', $$SELECT gnsm_map_to_png(ARRAY[[0, 65535]])$$),
('maps', 'label above 255 into a PNG', $$SELECT gnsm_map_to_png(ARRAY[[0, 1], [300, 0]])$$),
('maps', 'ragged ARRAY[] (Postgres refuses it)', $$SELECT gnsm_map_to_png(ARRAY[[0, 1], [1]])$$),
('maps', 'ragged text literal (Postgres refuses it)', $$SELECT gnsm_map_to_png('{{0,1},{1}}'::smallint[])$$),
('maps', '5000x1 map (side above 4096)', $$SELECT gnsm_map_to_png(array_fill(0, ARRAY[5000, 1]))$$),
('maps', 'lower bounds other than 1: the same map', $$SELECT 1 / (gnsm_map_to_png('[0:1][5:6]={{0,1},{2,3}}'::int[]) = gnsm_map_to_png(ARRAY[[0, 1], [2, 3]]))::int$$),
('maps', 'PNG round trip, 2x3 smallint and 3x1 integer', $$SELECT 1 / (gnsm_map_from_png(gnsm_map_to_png(ARRAY[[0, 1, 2], [255, 4, 5]]::smallint[])) = ARRAY[[0, 1, 2], [255, 4, 5]]::smallint[] AND gnsm_map_from_png(gnsm_map_to_png(ARRAY[[7], [0], [9]])) = ARRAY[[7], [0], [9]]::smallint[])::int$$),
('maps', 'untyped literal (read as integer[]): same PNG', $$SELECT 1 / (gnsm_map_to_png('{{0,1},{1,0}}') = gnsm_map_to_png(ARRAY[[0, 1], [1, 0]]::smallint[]))::int$$),
('maps', 'bigint[] map (no implicit cast to integer[])', $$SELECT gnsm_map_to_png(ARRAY[[0, 1]]::bigint[])$$),
('maps', 'bytes that are not a PNG', $$SELECT gnsm_map_from_png('\x00010203'::bytea)$$),
('maps', 'RGB PNG', $$SELECT gnsm_map_from_png(decode('89504e470d0a1a0a0000000d49484452000000020000000108020000007b40e8dd0000000d49444154789c63f8cf0004ff01070001ffe2239e590000000049454e44ae426082', 'hex'))$$),
('maps', 'truncated PNG', $$SELECT gnsm_map_from_png(substring(gnsm_map_to_png(array_fill(1, ARRAY[20, 20])) FROM 1 FOR 40))$$);
UPDATE matrix SET result = pg_temp.outcome(q) WHERE result IS NULL;

-- map models: a mask-only model (classes 0..1) and an image model, 8x8, a few steps
CREATE TABLE b_maps (id int, note text, mask smallint[], mask2 smallint[]);
INSERT INTO b_maps SELECT g, 'n' || g, m, m FROM generate_series(1, 12) g,
  LATERAL (SELECT array_agg(r ORDER BY y) AS m FROM (SELECT y, array_agg(((x + y + g) % 4 = 0)::int::smallint ORDER BY x) AS r
           FROM generate_series(0, 7) y, generate_series(0, 7) x GROUP BY y) rows) mm;
CREATE TABLE b_imgs (id int, mask smallint[], image bytea);
INSERT INTO b_imgs SELECT id, mask, gnsm_map_to_png(mask) FROM b_maps;
CREATE TABLE b_badimg (mask smallint[], image bytea);
INSERT INTO b_badimg SELECT mask, '\x00010203'::bytea FROM b_maps;
CREATE TABLE b_nullimg (mask smallint[], image bytea);
INSERT INTO b_nullimg SELECT mask, CASE WHEN id <> 3 THEN gnsm_map_to_png(mask) END FROM b_maps;
CREATE FUNCTION pg_temp.map_fast() RETURNS jsonb LANGUAGE sql AS $$
SELECT '{"resolution": 8, "base_channels": 2, "steps": 5, "batch_size": 4, "threads": 1, "seed": 1, "evals": 1}'::jsonb $$;
SELECT count(*) FROM gnsm_train('b_maps', ARRAY['mask'], pg_temp.map_fast());
SELECT count(*) FROM gnsm_train('b_imgs', ARRAY['mask', 'image'], pg_temp.map_fast());
INSERT INTO matrix (area, input, q) VALUES
('map models', 'score a 1-D array', $$SELECT gnsm_score(ARRAY[0, 1, 1]::smallint[], 'b_maps')$$),
('map models', 'score a ragged array (Postgres refuses it)', $$SELECT gnsm_score('{{0,1},{1}}'::smallint[], 'b_maps')$$),
('map models', 'score a map with a NULL pixel', $$SELECT gnsm_score(ARRAY[[0, NULL], [1, 0]]::smallint[], 'b_maps')$$),
('map models', 'score a label outside the classes 0..1', $$SELECT gnsm_score(ARRAY[[0, 1], [5, 0]]::smallint[], 'b_maps')$$),
('map models', 'score a 10000x10000 map', $$SELECT gnsm_score(array_fill(0::smallint, ARRAY[10000, 10000]), 'b_maps')$$),
('map models', 'score an empty array', $$SELECT gnsm_score('{}'::smallint[], 'b_maps')$$),
('map models', 'score a 5x7 map (trained on 8x8: resampled)', $$SELECT 1 / (gnsm_score(array_fill(0, ARRAY[5, 7]), 'b_maps') IS NOT NULL)::int$$),
('map models', 'score a bare map without a model name', $$SELECT gnsm_score(ARRAY[[0, 1], [1, 0]]::smallint[])$$),
('map models', 'score rows of the table by its model', $$SELECT 1 / (count(gnsm_score(m)) = 12)::int FROM b_maps m$$),
('map models', 'train a map column with a text column', $$SELECT gnsm_train('b_maps', ARRAY['mask', 'note'])$$),
('map models', 'train two map columns', $$SELECT gnsm_train('b_maps', ARRAY['mask', 'mask2'])$$),
('map models', 'train an image column without a map', $$SELECT gnsm_train('b_imgs', ARRAY['image'])$$),
('map models', 'train on image bytes that are no image', $$SELECT gnsm_train('b_badimg', ARRAY['mask', 'image'], pg_temp.map_fast())$$),
('map models', 'train with a NULL image in one row', $$SELECT gnsm_train('b_nullimg', ARRAY['mask', 'image'], pg_temp.map_fast())$$),
('map models', 'score an image model: row without its image', $$SELECT gnsm_score(i, 'b_imgs') FROM b_nullimg i WHERE image IS NULL$$),
('map models', 'score an image model: bad image bytes', $$SELECT gnsm_score(i, 'b_imgs') FROM b_badimg i LIMIT 1$$),
('map models', 'score an image model with a bare map', $$SELECT gnsm_score(ARRAY[[0, 1], [1, 0]]::smallint[], 'b_imgs')$$),
('map models', 'gnsm_explain on a map model', $$SELECT count(*) FROM b_maps m, gnsm_explain(m, 'b_maps') e$$),
('map models', 'gnsm_explain_map on a table model', $$SELECT gnsm_explain_map(m, 'b_main') FROM b_main m LIMIT 1$$),
('map models', 'a map option on a table model', $$SELECT gnsm_train('b_main', ARRAY['a', 'b'], '{"classes": 3}')$$),
('map models', 'a table option on a map model', $$SELECT gnsm_train('b_maps', ARRAY['mask'], '{"width": 8}')$$),
('map models', 'unknown map option', $$SELECT gnsm_train('b_maps', ARRAY['mask'], '{"resolutoin": 16}')$$),
('map models', 'resolution not a multiple of 4', $$SELECT gnsm_train('b_maps', ARRAY['mask'], '{"resolution": 10}')$$),
('map models', 'gnsm_train_agg over two map columns', $$SELECT gnsm_train_agg(m) FROM b_maps m$$),
('map models', 'gnsm_train_agg over a map and a text column', $$SELECT gnsm_train_agg(s) FROM (SELECT note, mask FROM b_maps) s$$),
('map models', 'gnsm_train_agg with a NULL image', $$SELECT gnsm_train_agg(s, pg_temp.map_fast()) FROM (SELECT mask, image FROM b_nullimg) s$$),
('map models', 'gnsm_train_agg map model, scored by bytes', $$SELECT 1 / (count(gnsm_score_bytes(m, g.model)) = 12)::int FROM b_maps m, (SELECT gnsm_train_agg(s, pg_temp.map_fast()) AS model FROM (SELECT mask FROM b_maps) s) g$$);
UPDATE matrix SET result = pg_temp.outcome(q) WHERE result IS NULL;

-- model format 9 keeps the network weights in a section of their own, checked when they are read:
-- rows with stored scores never read them, so the row scored here pairs a1 with b2, which
-- training never saw together
INSERT INTO matrix (area, input, q) VALUES
('catalog', 'network weights flipped by hand, a row that needs them', $$UPDATE gnsm.models SET model = overlay(model PLACING '\xdeadbeef'::bytea FROM length(model) - 64) WHERE name = 'b_main'; SELECT gnsm_score(m, 'b_main') FROM (SELECT 'a1'::text AS a, 'b2'::text AS b, c FROM b_main) m$$);
UPDATE matrix SET result = pg_temp.outcome(q) WHERE result IS NULL;

SELECT id, area, input, result FROM matrix ORDER BY id;
SELECT count(*) AS cases, count(*) FILTER (WHERE result = 'ok') AS defined_ok,
       count(*) FILTER (WHERE result <> 'ok') AS clear_errors,
       count(*) FILTER (WHERE result LIKE 'XX000%') AS internal_errors
FROM matrix;
-- no case crashed the backend
SELECT pg_backend_pid() = :start_pid AS same_backend;
-- leave the shared regression database as it was for the next test files
SET client_min_messages = warning;
DELETE FROM gnsm.models WHERE source_table LIKE 'b%' OR name IN ('weird', 'doomed');
DROP TABLE b_empty, b_one, b_same, b_nullcol, b_ids, b_long, b_bytes, b_enum2, b_num, b_float, b_huge, b_numnull, b_ints,
           b_main, b_other, "b weird ""name""";
DROP TABLE b_maps, b_imgs, b_badimg, b_nullimg;
DROP TYPE b_mood;
SELECT count(*) AS models_left FROM gnsm.models;
