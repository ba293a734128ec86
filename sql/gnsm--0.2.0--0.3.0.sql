-- gnsm 0.2.0 -> 0.3.0: gnsm_train_agg declares FINALFUNC_MODIFY = READ_WRITE (its final function
-- takes the collected rows out of the state: with the old READ_ONLY default later window frames
-- trained on the emptied state's fragments), the scoring functions get COSTs that reflect their
-- measured per-row cost (so the planner runs them in parallel on big tables), gnsm_options()
-- lists the training options, label maps convert to and from PNG (gnsm_map_from_png,
-- gnsm_map_to_png), and every object gets a COMMENT. Append-only; tests/shell/upgrade.sh checks
-- that an upgraded install equals a fresh one.
\echo Use "ALTER EXTENSION gnsm UPDATE TO '0.3.0'" to load this file. \quit

CREATE OR REPLACE AGGREGATE gnsm_train_agg (
	"row" anyelement
)
(
	SFUNC = "gnsm_train_agg_gnsm_train_agg_state",
	STYPE = internal,
	FINALFUNC = "gnsm_train_agg_gnsm_train_agg_finalize",
	FINALFUNC_MODIFY = READ_WRITE
);

CREATE OR REPLACE AGGREGATE gnsm_train_agg (
	"row" anyelement,
	"options" jsonb
)
(
	SFUNC = "gnsm_train_agg_options_gnsm_train_agg_options_state",
	STYPE = internal,
	FINALFUNC = "gnsm_train_agg_options_gnsm_train_agg_options_finalize",
	FINALFUNC_MODIFY = READ_WRITE
);

ALTER FUNCTION gnsm_score(anyelement) COST 1000;
ALTER FUNCTION gnsm_score(anyelement, text) COST 1000;
ALTER FUNCTION gnsm_score_bytes(anyelement, bytea) COST 1000;
ALTER FUNCTION gnsm_score_percentile(anyelement, text) COST 1000;
ALTER FUNCTION gnsm_explain(anyelement, text) COST 100000;

CREATE  FUNCTION "gnsm_options"() RETURNS TABLE (
	"key" TEXT,
	"default_value" jsonb,
	"meaning" TEXT
)
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'gnsm_options_wrapper';

CREATE  FUNCTION "gnsm_map_from_png"(
	"png" bytea
) RETURNS smallint[]
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'gnsm_map_from_png_wrapper';

CREATE  FUNCTION "gnsm_map_to_png"(
	"map" INT[]
) RETURNS bytea
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'gnsm_map_to_png_wrapper';

COMMENT ON FUNCTION gnsm_train(regclass, text[], jsonb) IS
    'trains a gnsm model on the columns of a table (NULL: every column gnsm can model) and stores it as a new version; SELECT * FROM gnsm_options() lists the keys of the options jsonb';
COMMENT ON FUNCTION gnsm_retrain(text, jsonb) IS
    'retrains a model on its source table''s current rows with its stored columns and options (overridden by the jsonb), as a new version';
COMMENT ON FUNCTION gnsm_score(anyelement) IS
    'anomaly score of a table row under the active model trained on its table; higher is more anomalous';
COMMENT ON FUNCTION gnsm_score(anyelement, text) IS
    'anomaly score of a row under the active version of the named model; higher is more anomalous';
COMMENT ON FUNCTION gnsm_score_bytes(anyelement, bytea) IS
    'anomaly score of a row under a model given as bytes (made by gnsm_train_agg)';
COMMENT ON FUNCTION gnsm_score_percentile(anyelement, text) IS
    'percentile (0-100) of a row''s score among the training rows'' scores; 99 means only 1% of training rows looked more anomalous';
COMMENT ON FUNCTION gnsm_threshold(text, double precision) IS
    'score above which the given share (0-1) of the training rows lies, e.g. 0.01 for the top 1%';
COMMENT ON FUNCTION gnsm_explain(anyelement, text) IS
    'one row per model column: value, contribution to the score, share of the network signal, and the most likely value in its place';
COMMENT ON FUNCTION gnsm_activate(text, integer) IS
    'makes the given version of a model the active one (roll back or forward)';
COMMENT ON FUNCTION gnsm_drop(text, integer) IS
    'drops one version of a model, or every version when the version is NULL; returns how many';
COMMENT ON FUNCTION gnsm_schedule_retrain(text, text, jsonb) IS
    'schedules gnsm_retrain(model, options) with pg_cron (cron syntax); returns the pg_cron job id';
COMMENT ON FUNCTION gnsm_unschedule_retrain(text) IS
    'removes a model''s pg_cron retraining schedule; false when it had none';
COMMENT ON FUNCTION gnsm_options() IS
    'every training option key with its default and meaning (for gnsm_train, gnsm_retrain and gnsm_train_agg)';
COMMENT ON FUNCTION gnsm_version() IS
    'gnsm, core and model-format versions and the SIMD features in use, for bug reports';
COMMENT ON AGGREGATE gnsm_train_agg(anyelement) IS
    'trains a gnsm model on the aggregated rows (e.g. one per GROUP BY group) and returns its bytes, for gnsm_score_bytes';
COMMENT ON AGGREGATE gnsm_train_agg(anyelement, jsonb) IS
    'trains a gnsm model on the aggregated rows with training options and returns its bytes, for gnsm_score_bytes';
COMMENT ON FUNCTION gnsm_train_agg_gnsm_train_agg_state(internal, anyelement) IS
    'internal: transition function of gnsm_train_agg(anyelement)';
COMMENT ON FUNCTION gnsm_train_agg_gnsm_train_agg_finalize(internal) IS
    'internal: final function of gnsm_train_agg(anyelement); trains the model';
COMMENT ON FUNCTION gnsm_train_agg_options_gnsm_train_agg_options_state(internal, anyelement, jsonb) IS
    'internal: transition function of gnsm_train_agg(anyelement, jsonb)';
COMMENT ON FUNCTION gnsm_train_agg_options_gnsm_train_agg_options_finalize(internal) IS
    'internal: final function of gnsm_train_agg(anyelement, jsonb); trains the model';
COMMENT ON FUNCTION gnsm_map_from_png(bytea) IS
    'decodes an 8-bit greyscale or palette PNG (pixel value or palette index = class) into a 2-D smallint[] label map, one inner array per image row';
COMMENT ON FUNCTION gnsm_map_to_png(integer[]) IS
    'encodes a 2-D integer[] (or smallint[], cast implicitly) label map, one inner array per row with labels 0 to 255, as an 8-bit greyscale PNG';

-- map models (issue 12): gnsm_train trains one on a label-map column, gnsm_score and friends
-- score maps, and these two say where a map is wrong
CREATE  FUNCTION "gnsm_explain_map"(
	"row" anyelement,
	"model" TEXT DEFAULT NULL
) RETURNS real[]
STABLE PARALLEL SAFE COST 100000
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'gnsm_explain_map_wrapper';

CREATE  FUNCTION "gnsm_heatmap_png"(
	"row" anyelement,
	"model" TEXT DEFAULT NULL
) RETURNS bytea
STABLE PARALLEL SAFE COST 100000
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'gnsm_heatmap_png_wrapper';

COMMENT ON FUNCTION gnsm_train(regclass, text[], jsonb) IS
    'trains a gnsm model on the columns of a table (NULL: every column gnsm can model; one smallint[]/integer[] label-map column, optionally with one bytea image column: a map model) and stores it as a new version; SELECT * FROM gnsm_options() lists the keys of the options jsonb';
COMMENT ON FUNCTION gnsm_explain_map(anyelement, text) IS
    'where a map is wrong: each pixel''s share of a map model''s score (sums to 1) as a 2-D real[] of the input map''s size; pass the row (or, for a model without images, the bare map and the model name)';
COMMENT ON FUNCTION gnsm_heatmap_png(anyelement, text) IS
    'a PNG of the map (or of its image, for an image model) with a heat overlay where a map model finds it anomalous';
