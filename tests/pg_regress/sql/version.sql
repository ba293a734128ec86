-- gnsm_version(): the diagnostic line for bug reports names every component
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gnsm;
RESET client_min_messages;
SELECT gnsm_version() ~ '^gnsm 0\.1\.0 \(core 0\.1\.0, model format 2, simd: [a-z0-9, ]+\)$' AS well_formed;
