-- gnsm_train_agg's final function takes the collected rows out of its state, so the aggregate is
-- FINALFUNC_MODIFY = READ_WRITE, and a window frame is refused (under READ_ONLY a later frame
-- started from the emptied state and trained on a fragment: checked, it then failed with
-- "every training row is identical" on this table).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gnsm;
CREATE TABLE agg_rows AS
SELECT g AS id, 'a' || (g % 4) AS a, 'b' || (g % 4) AS b FROM generate_series(1, 400) g;

SELECT p.proname, a.aggfinalmodify
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE p.proname = 'gnsm_train_agg' ORDER BY p.pronargs;

-- two identical calls in one query: both return a model
WITH m AS (
    SELECT gnsm_train_agg(s, '{"width": 16, "depth": 1, "steps": 20, "threads": 1, "seed": 3}') AS first,
           gnsm_train_agg(s, '{"width": 16, "depth": 1, "steps": 20, "threads": 1, "seed": 3}') AS second
    FROM (SELECT a, b FROM agg_rows) s
)
SELECT first IS NOT NULL AS first_trained, second IS NOT NULL AS second_trained,
       length(first) = length(second) AS same_size
FROM m;

-- a window frame would call the final function once per frame on the same state: refused
SELECT gnsm_train_agg(s) OVER (ORDER BY s.a) FROM (SELECT a, b FROM agg_rows) s;
SELECT gnsm_train_agg(s, '{"steps": 20}') OVER () FROM (SELECT a, b FROM agg_rows) s;

DROP TABLE agg_rows;
