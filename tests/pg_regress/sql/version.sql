-- gnsm_version(): the diagnostic line for bug reports names every component
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gnsm;
RESET client_min_messages;
SELECT gnsm_version() ~ '^gnsm [0-9]+\.[0-9]+\.[0-9]+ \(core [0-9.]+, model format [0-9]+, simd: [a-z0-9, ]+\)$' AS well_formed,
       split_part(gnsm_version(), ' ', 2) = (SELECT extversion FROM pg_extension WHERE extname = 'gnsm') AS library_matches_sql;
