-- statement_timeout stops a long training cleanly: the backend's own error, no partial model,
-- and the session stays usable.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gnsm;
CREATE TABLE long_train AS
SELECT 'a' || (g % 7) AS a, 'b' || (g % 5) AS b FROM generate_series(1, 2000) g;
SET statement_timeout = '1500ms';
SELECT gnsm_train('long_train', NULL, '{"steps": 10000000, "max_seconds": 3600, "threads": 2}');
RESET statement_timeout;
SELECT count(*) AS stored_models FROM gnsm.models WHERE name = 'long_train';
SELECT 'still usable' AS session;
DROP TABLE long_train;
