-- Train on a small table with dependent columns, then score, rank, explain and threshold.
-- Deterministic: one thread and a fixed seed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gnsm;
CREATE TABLE shipments (
    id       int PRIMARY KEY,
    region   text,
    carrier  text,
    service  text,
    planted  boolean
);
-- region decides the carrier, carrier decides the service; ids 1-4 break one rule each
INSERT INTO shipments
SELECT g,
       (ARRAY['north', 'south', 'east', 'west'])[1 + g % 4],
       (ARRAY['polar', 'sunline', 'eastway', 'westcargo'])[1 + g % 4],
       CASE WHEN g % 4 < 2 THEN 'express' ELSE 'ground' END,
       false
FROM generate_series(5, 800) g;
INSERT INTO shipments VALUES
    (1, 'north', 'sunline', 'express', true),
    (2, 'south', 'eastway', 'express', true),
    (3, 'east', 'eastway', 'express', true),
    (4, 'west', 'polar', 'ground', true);

SELECT model, version, active, train_rows
FROM gnsm_train('shipments', ARRAY['region', 'carrier', 'service'],
                '{"width": 32, "depth": 1, "steps": 150, "batch_size": 128, "threads": 1, "seed": 3}');

SELECT name, version, is_active, source_table, columns, column_types, vocab_sizes, train_rows
FROM gnsm.model_list ORDER BY name, version;

-- the four planted rows are the four most anomalous (listed by id: their order among themselves
-- is the model's business)
SELECT id, region, carrier, service, planted
FROM (SELECT * FROM shipments s ORDER BY gnsm_score(s) DESC, id LIMIT 4) top ORDER BY id;

-- percentiles: planted rows are beyond every training row but a handful
SELECT id, gnsm_score_percentile(s) > 99 AS beyond_p99
FROM shipments s WHERE id IN (1, 2, 3, 4, 5, 6) ORDER BY id;

-- explanations: the broken rule's column comes first, with the value that would fit
SELECT column_name, value, most_likely, contribution > 0 AS adds_to_score
FROM shipments s, gnsm_explain(s) e
WHERE s.id = 2 ORDER BY contribution DESC, column_name;

-- rows over the 1% threshold of the training scores
SELECT count(*) FILTER (WHERE planted) AS planted_flagged, count(*) <= 40 AS at_most_5pct
FROM shipments s WHERE gnsm_score(s) > gnsm_threshold('shipments', 0.01);

-- unseen values and NULLs never error, and look anomalous
SELECT gnsm_score(ROW(999, 'north', 'teleport', 'express', false)::shipments)
     > gnsm_score(ROW(999, 'north', 'polar', 'express', false)::shipments) AS unseen_is_worse,
       gnsm_score(ROW(999, 'north', NULL, 'express', false)::shipments)
     > gnsm_score(ROW(999, 'north', 'polar', 'express', false)::shipments) AS null_is_worse;

DROP TABLE shipments;
SELECT gnsm_drop('shipments');
