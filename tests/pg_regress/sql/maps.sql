-- Map models end to end: train on 40 synthetic 16x16 label maps (background 0, a 4x4 square of
-- class 1 at a structured position, a stripe of class 2 along the bottom), then check that
-- corrupted maps rank above clean ones, that percentiles and thresholds work, that the
-- explanation has the input's size, sums to 1 and peaks in the corrupted region, that the
-- heatmap is a PNG, and that a retrain makes version 2. Booleans and ranks, not raw floats.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gnsm;
-- a 16x16 map: square of class sq at rows sy..sy+3, columns sx..sx+3; stripe of class 2 in the
-- bottom 3 rows (or the top 3); noise > 0 sets every noise-th pixel (in a fixed pattern) to a
-- class other than the one it would have
CREATE FUNCTION pg_temp.make_map(sy int, sx int, sq int DEFAULT 1, stripe_top bool DEFAULT false, noise int DEFAULT 0)
RETURNS smallint[] LANGUAGE sql IMMUTABLE AS $$
SELECT array_agg(r ORDER BY y) FROM (
  SELECT y, array_agg(CASE WHEN noise > 0 AND (x * 7 + y * 13) % noise = 0 THEN (base + 1 + (x + y) % 2) % 3 ELSE base END
                      ::smallint ORDER BY x) AS r
  FROM (SELECT y, x, CASE WHEN (NOT stripe_top AND y >= 13) OR (stripe_top AND y <= 2) THEN 2
                          WHEN y BETWEEN sy AND sy + 3 AND x BETWEEN sx AND sx + 3 THEN sq
                          ELSE 0 END AS base
        FROM generate_series(0, 15) y, generate_series(0, 15) x) px
  GROUP BY y) rows $$;
CREATE TABLE masks (id int PRIMARY KEY, label text, mask smallint[]);
INSERT INTO masks SELECT i, 'clean', pg_temp.make_map(3 + i % 5, 2 + (i * 3) % 9) FROM generate_series(1, 40) i;
-- deterministic: steps (not max_seconds) ends training, one thread, a fixed seed
SELECT model, version, active, train_rows
FROM gnsm_train('masks', ARRAY['mask'], '{"resolution": 16, "base_channels": 4, "steps": 150, "batch_size": 8,
                                          "threads": 1, "seed": 7, "max_seconds": 600, "evals": 2}');
SELECT name, version, is_active, columns, column_types, vocab_sizes, format_version,
       options -> 'resolution' AS resolution, metrics ->> 'stopped_by' AS stopped_by,
       (metrics ->> 'parameters')::int > 0 AS has_parameters, array_length(score_quantiles, 1) AS quantiles
FROM gnsm.models WHERE name = 'masks';
-- corrupted maps (not in the table): ranked among the 40 clean ones, 1 = most anomalous
CREATE TABLE probes (id int, label text, mask smallint[]);
INSERT INTO probes VALUES
  (101, 'square of the wrong class', pg_temp.make_map(5, 6, 2)),
  (102, 'salt-and-pepper noise', pg_temp.make_map(5, 6, 1, false, 5)),
  (103, 'stripe moved to the top', pg_temp.make_map(5, 6, 1, true));
WITH scored AS (
  SELECT id, label, gnsm_score(m) AS s FROM masks m
  UNION ALL SELECT id, label, gnsm_score(p, 'masks') FROM probes p)
SELECT label, rank() OVER (ORDER BY s DESC) <= 3 AS in_top_3
FROM scored ORDER BY id > 100 DESC, id LIMIT 3;
-- every corrupted map scores above every clean one, and above the 5% threshold
SELECT (SELECT min(gnsm_score(p, 'masks')) FROM probes p) > (SELECT max(gnsm_score(m)) FROM masks m) AS corrupted_above_clean,
       (SELECT bool_and(gnsm_score(p, 'masks') > gnsm_threshold('masks', 0.05)) FROM probes p) AS above_threshold;
SELECT label, round(gnsm_score_percentile(p, 'masks')) AS percentile FROM probes p ORDER BY id;
SELECT bool_and(gnsm_score_percentile(m) BETWEEN 0 AND 100) AS percentiles_in_range,
       gnsm_threshold('masks', 0.5) < gnsm_threshold('masks', 0.01) AS thresholds_ordered
FROM masks m;
-- a bare map scores like the row that holds it (mask-only model)
SELECT gnsm_score(mask, 'masks') = gnsm_score(m) AS bare_map_scores_like_row FROM masks m WHERE id = 1;
-- a map of another size is resampled to the model's 16x16 and scores
SELECT gnsm_score(pg_temp.make_map(3, 3) || pg_temp.make_map(3, 3), 'masks') IS NOT NULL AS taller_map_scores;
-- the model argument defaults to NULL: the row's table's model explains it
SELECT array_dims(gnsm_explain_map(m)) AS dims_by_table_model FROM masks m WHERE id = 1;
-- where is it wrong: the explanation has the input's dims, sums to 1, and peaks where the map is wrong
CREATE TABLE explained AS SELECT id, label, gnsm_explain_map(p, 'masks') AS e FROM probes p;
SELECT label, array_dims(e) AS dims,
       round((SELECT sum(v) FROM unnest(e) v)::numeric, 3) AS total,
       (SELECT bool_and(v >= 0) FROM unnest(e) v) AS non_negative
FROM explained ORDER BY id;
-- the largest share: inside the wrong square (rows 6-9, columns 7-10 in 1-based subscripts) or
-- inside the moved stripe (rows 1-3) or the old stripe's place (rows 14-16)
SELECT label,
       CASE id WHEN 101 THEN y BETWEEN 6 AND 9 AND x BETWEEN 7 AND 10
               WHEN 103 THEN y <= 3 OR y >= 14
               ELSE true END AS peak_in_corrupted_region
FROM explained,
     LATERAL (SELECT y, x FROM generate_subscripts(e, 1) y, generate_subscripts(e, 2) x
              ORDER BY e[y][x] DESC, y, x LIMIT 1) peak
ORDER BY id;
-- the heatmap is a PNG, upscaled from 16x16 to 256x256 (IHDR width and height)
SELECT substring(png FROM 1 FOR 8) = '\x89504e470d0a1a0a'::bytea AS png_signature,
       ('x' || encode(substring(png FROM 17 FOR 4), 'hex'))::bit(32)::int AS width,
       ('x' || encode(substring(png FROM 21 FOR 4), 'hex'))::bit(32)::int AS height
FROM (SELECT gnsm_heatmap_png(p, 'masks') AS png FROM probes p WHERE id = 101) h;
-- a retrain makes version 2 (activate defaults to if_better for a retrain)
SELECT model, version, train_rows FROM gnsm_retrain('masks', '{"seed": 8}');
SELECT name, version, columns, format_version FROM gnsm.model_list WHERE name = 'masks' ORDER BY version;
SELECT count(*) = 1 AS one_active FROM gnsm.models WHERE name = 'masks' AND is_active;
-- the map option keys are listed
SELECT key, default_value FROM gnsm_options() WHERE meaning LIKE 'map models:%' ORDER BY key;
-- statement_timeout stops a long map training promptly: the backend's own error, nothing stored
CREATE TABLE long_masks AS SELECT id, mask FROM masks;
CREATE TEMP TABLE cancel_took (seconds float8);
SET statement_timeout = '1500ms';
DO $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  PERFORM gnsm_train('long_masks', ARRAY['mask'], '{"resolution": 32, "batch_size": 4, "steps": 10000000, "max_seconds": 3600, "threads": 2}');
EXCEPTION WHEN query_canceled THEN
  INSERT INTO cancel_took VALUES (extract(epoch FROM clock_timestamp() - t0));
END $$;
RESET statement_timeout;
SELECT seconds < 3.5 AS stopped_within_2_s_of_the_timeout FROM cancel_took;
SELECT count(*) AS stored_models FROM gnsm.models WHERE name = 'long_masks';
-- the aggregate form: the model's bytes, which carry the column names, scored by bytes
CREATE TABLE agg_model AS
SELECT gnsm_train_agg(s, '{"resolution": 16, "base_channels": 4, "steps": 150, "batch_size": 8,
                         "threads": 1, "seed": 7, "max_seconds": 600, "evals": 2}') AS model
FROM (SELECT mask FROM masks) s;
SELECT (SELECT min(gnsm_score_bytes(p, a.model)) FROM probes p) > (SELECT max(gnsm_score_bytes(m, a.model)) FROM masks m)
       AS agg_corrupted_above_clean
FROM agg_model a;
-- clean up
SELECT gnsm_drop('masks', NULL) AS dropped;
DROP TABLE masks, probes, explained, long_masks, agg_model;
