-- Bad input gets an ERROR with a SQLSTATE, a message naming the culprit and a hint.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gnsm;
RESET client_min_messages;
\set VERBOSITY default
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'ok';
EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE;
END $$;
CREATE TABLE t_err (a text, b text, p point);
INSERT INTO t_err SELECT 'a' || (g % 3), 'b' || (g % 2), point(g, g) FROM generate_series(1, 50) g;
CREATE TABLE t_empty (a text);

-- the messages users see
SELECT gnsm_train('no_such_table');
SELECT gnsm_train('t_err', ARRAY['a', 'nope']);
SELECT gnsm_train('t_err', ARRAY['a', 'p']);
SELECT gnsm_train('t_empty');
SELECT gnsm_train('t_err', ARRAY['a', 'b'], '{"steps": "many"}');
SELECT gnsm_train('t_err', ARRAY['a', 'b'], '{"learning_rate": 0.1}');
SELECT gnsm_score(t) FROM t_err t LIMIT 1;
SELECT gnsm_score(t, 'no_such_model') FROM t_err t LIMIT 1;
-- a row of a CTE has an anonymous type: the hint shows the form that works
WITH r AS (SELECT * FROM t_err) SELECT gnsm_score(r) FROM r;
SELECT gnsm_threshold('no_such_model', 0.01);

-- and their SQLSTATEs
SELECT q, pg_temp.sqlstate_of(q) AS sqlstate FROM (VALUES
    ('SELECT gnsm_train(''no_such_table'')'),
    ('SELECT gnsm_train(''t_err'', ARRAY[''a'', ''nope''])'),
    ('SELECT gnsm_train(''t_err'', ARRAY[''a'', ''p''])'),
    ('SELECT gnsm_train(''t_empty'')'),
    ('SELECT gnsm_train(''t_err'', ARRAY[''a'', ''b''], ''{"steps": 0}'')'),
    ('SELECT gnsm_train(''t_err'', ARRAY[''a'', ''b''], ''{"learning_rate": 0.1}'')'),
    ('SELECT gnsm_score(t) FROM t_err t'),
    ('SELECT gnsm_score(ROW(1, 2))'),
    ('SELECT gnsm_score(7)'),
    ('SELECT gnsm_score_bytes(t, ''\x1234''::bytea) FROM t_err t'),
    ('SELECT gnsm_activate(''no_such_model'', 1)'),
    ('SELECT gnsm_drop(''no_such_model'')')
) AS cases(q) ORDER BY q;
-- nothing was stored by the failed calls
SELECT count(*) AS models FROM gnsm.models;
