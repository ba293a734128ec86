-- gnsm_version(): the diagnostic line for bug reports names every component
CREATE EXTENSION IF NOT EXISTS gnsm;
SELECT gnsm_version() ~ '^gnsm 0\.1\.0 \(core 0\.1\.0, model format 1, simd: [a-z0-9, ]+\)$' AS well_formed;
