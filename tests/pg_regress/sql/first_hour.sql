-- What a new user is told (issue 17): NOTICEs for every column the default choice leaves out, a
-- NOTICE when a tiny input trains as long as a big one, and the options reference that option
-- errors point to. Deterministic: the trainings here fail or are tiny, so no timing is printed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gnsm;
SET client_min_messages = notice;
\set VERBOSITY default

-- the key and the date column are left out, each with its reason (then: identical rows)
CREATE TABLE fh_signups (id int PRIMARY KEY, signed_up date, plan text);
INSERT INTO fh_signups SELECT g, date '2026-01-01' + g, 'basic' FROM generate_series(1, 50) g;
SELECT gnsm_train('fh_signups');

-- two rows still train the full step budget: said before it starts
SELECT gnsm_train_agg(s, '{"width": 16, "depth": 1, "steps": 20, "threads": 1}') IS NOT NULL AS trained
FROM (VALUES ('a', 'x'), ('b', 'y')) AS s(p, q);

-- the reference option errors point to
SELECT key, default_value FROM gnsm_options() WHERE key IN ('steps', 'activate', 'name', 'gmm_components') ORDER BY key;
SELECT count(*) AS options, count(*) FILTER (WHERE meaning <> '') AS explained FROM gnsm_options();
SELECT gnsm_train('fh_signups', ARRAY['plan'], '{"steps": -1}');

DROP TABLE fh_signups;
