-- The demo's main job, run by scripts/demo against the loaded `orders` table.
\pset footer off
SELECT gnsm_version();
