-- Numeric columns: float8/numeric columns are numbers by default (z-scored, Gaussian noise), integer
-- columns are categories unless numeric_columns names them. Deterministic: one thread, fixed seed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gnsm;
CREATE TABLE orders (
    id      int PRIMARY KEY,
    region  text,
    amount  float8,
    price   numeric(8,2),
    qty     int,
    planted boolean
);
-- the region decides the amount's range (north ~10, south ~20, east ~30, west ~40) and the
-- price (amount / qty); ids 1-3 take an amount from another region, every value common alone
INSERT INTO orders
SELECT g,
       (ARRAY['north', 'south', 'east', 'west'])[1 + g % 4],
       10 * (1 + g % 4) + ((g * 7919) % 100) / 100.0 - 0.5,
       round(((10 * (1 + g % 4) + ((g * 7919) % 100) / 100.0 - 0.5) / (1 + g % 3))::numeric, 2),
       1 + g % 3,
       false
FROM generate_series(10, 1200) g;
INSERT INTO orders VALUES
    (1, 'north', 40.2, 40.20, 1, true),
    (2, 'west', 10.1, 5.05, 2, true),
    (3, 'south', 30.3, 10.10, 3, true);

SELECT model, version, active, train_rows
FROM gnsm_train('orders', ARRAY['region', 'amount', 'price', 'qty'],
                '{"width": 32, "depth": 1, "steps": 200, "batch_size": 128, "threads": 1, "seed": 3}');

-- model order: the numeric columns first; vocab_sizes is 0 for a numeric column
SELECT columns, column_types, vocab_sizes, options->'numeric_columns' AS numeric_columns
FROM gnsm.model_list WHERE name = 'orders';

-- the three planted rows are the three most anomalous
SELECT id, region, amount, planted FROM orders o ORDER BY gnsm_score(o) DESC, id LIMIT 3;

-- amount and price agree with each other in every planted row: the explanation blames the region
-- and proposes the region whose range they fit
SELECT DISTINCT ON (o.id) o.id, column_name, value, most_likely
FROM orders o, gnsm_explain(o) e
WHERE o.planted ORDER BY o.id, contribution DESC;
-- a numeric column's proposal is a training value: amount 25 in the north becomes ~10
SELECT column_name, value, most_likely::float8 BETWEEN 9 AND 11 AS fits_north, contribution > 0 AS adds_to_score
FROM gnsm_explain(ROW(0, 'north', 25, 10.00, 1, false)::orders) WHERE column_name = 'amount';

-- NULL, NaN and infinities: finite scores, more anomalous than the row's normal amount; NaN is NULL
WITH s AS (
    SELECT gnsm_score(ROW(0, 'north', a, 10.00, 1, false)::orders) AS score, label
    FROM (VALUES (10.0::float8, 'normal'), (NULL, 'null'), ('NaN', 'nan'), ('Infinity', 'inf'),
                 ('-Infinity', '-inf'), (1e300, 'huge')) v(a, label)
)
SELECT label, score > (SELECT score FROM s WHERE label = 'normal') AS more_anomalous,
       score < 'Infinity'::float8 AS finite
FROM s WHERE label <> 'normal' ORDER BY label;
SELECT gnsm_score(ROW(0, 'north', 'NaN', 10.00, 1, false)::orders)
     = gnsm_score(ROW(0, 'north', NULL, 10.00, 1, false)::orders) AS nan_scores_as_null;

-- kinds can be overridden: qty as a number, amount as categories
SELECT model, version FROM gnsm_train('orders', ARRAY['region', 'amount', 'qty'],
    '{"name": "orders_kinds", "numeric_columns": ["qty"], "categorical_columns": ["amount"],
      "width": 16, "depth": 1, "steps": 20, "threads": 1, "seed": 3}');
SELECT columns, vocab_sizes[1] AS qty_size, vocab_sizes[3] > 100 AS amount_is_categorical
FROM gnsm.model_list WHERE name = 'orders_kinds';
-- ... and a retrain keeps them
SELECT version FROM gnsm_retrain('orders_kinds', '{"steps": 10}');
SELECT version, columns, vocab_sizes[1] AS qty_size FROM gnsm.model_list WHERE name = 'orders_kinds' ORDER BY version;

-- without a column list, float and numeric columns are picked (keys are not)
SELECT model FROM gnsm_train('orders', NULL, '{"name": "orders_auto", "steps": 10, "width": 16, "depth": 1, "threads": 1}');
SELECT columns FROM gnsm.model_list WHERE name = 'orders_auto';

-- mistakes in the kind options
\set VERBOSITY default
SELECT gnsm_train('orders', ARRAY['region', 'amount'], '{"numeric_columns": ["region"]}');
SELECT gnsm_train('orders', ARRAY['region', 'amount'], '{"numeric_columns": ["qty"]}');
SELECT gnsm_train('orders', ARRAY['amount'], '{"numeric_columns": ["amount"], "categorical_columns": ["amount"]}');
SELECT gnsm_train('orders', ARRAY['amount'], '{"numeric_columns": "amount"}');
\set VERBOSITY terse

-- the aggregate models numbers too, and a numeric column fed text that is not a number is an error
CREATE TEMP TABLE agg_model AS
SELECT gnsm_train_agg(r, '{"steps": 20, "width": 16, "depth": 1, "threads": 1}') AS bytes
FROM (SELECT region, amount FROM orders) r;
SELECT count(*) AS scored, bool_and(s < 'Infinity') AS finite
FROM (SELECT gnsm_score_bytes(r, (SELECT bytes FROM agg_model)) AS s FROM (SELECT region, amount FROM orders) r) q;
DO $$
BEGIN
    PERFORM gnsm_score_bytes(r, (SELECT bytes FROM agg_model)) FROM (SELECT 'north'::text AS region, '12 units'::text AS amount) r;
EXCEPTION WHEN invalid_text_representation THEN
    -- the model's key holds its checksum, which changes with the stored training time
    RAISE WARNING '22P02: %', regexp_replace(SQLERRM, 'bytes:[0-9a-f:]*', 'bytes:...');
END $$;

DROP TABLE orders;
SELECT gnsm_drop('orders') + gnsm_drop('orders_kinds') + gnsm_drop('orders_auto') AS dropped;
