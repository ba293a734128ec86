-- The model catalog (ADR 001): every trained model version, in the fixed schema `gnsm`.
CREATE SCHEMA gnsm;
COMMENT ON SCHEMA gnsm IS 'gnsm model catalog';
GRANT USAGE ON SCHEMA gnsm TO PUBLIC;

CREATE TABLE gnsm.models (
    name            text        NOT NULL,
    version         integer     NOT NULL CHECK (version > 0),
    source_table    text        NOT NULL,          -- schema-qualified, quoted as regclass prints it
    source_relid    oid,                           -- NULL for aggregate-made models
    columns         text[]      NOT NULL,
    column_types    text[]      NOT NULL,          -- format_type() of each column at training time
    vocab_sizes     integer[]   NOT NULL,
    options         jsonb       NOT NULL,          -- effective hyper-parameters, defaults filled in
    metrics         jsonb       NOT NULL,          -- rows, seconds, losses, steps, sampling
    score_quantiles float8[]    NOT NULL,          -- training-row score at 0%, 1%, ..., 100%
    format_version  integer     NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      name        NOT NULL DEFAULT current_user,
    is_active       boolean     NOT NULL DEFAULT false,
    model           bytea       NOT NULL,
    PRIMARY KEY (name, version)
);
COMMENT ON TABLE gnsm.models IS 'every gnsm model version; the active one of each name scores';
-- at most one active version per name
CREATE UNIQUE INDEX models_one_active ON gnsm.models (name) WHERE is_active;
CREATE INDEX models_by_relid ON gnsm.models (source_relid) WHERE is_active;
-- pg_dump keeps the models (extension tables are skipped otherwise)
SELECT pg_catalog.pg_extension_config_dump('gnsm.models', '');

-- the catalog without the model bytes
CREATE VIEW gnsm.model_list AS
SELECT name, version, is_active, source_table, columns, column_types, vocab_sizes,
       (metrics ->> 'train_rows')::bigint AS train_rows,
       round((metrics ->> 'seconds')::numeric, 1) AS train_seconds,
       round((metrics ->> 'best_val_loss')::numeric, 4) AS val_loss,
       options, format_version, created_at, created_by,
       pg_size_pretty(octet_length(model)::bigint) AS size
FROM gnsm.models;
COMMENT ON VIEW gnsm.model_list IS 'gnsm models without their bytes';
-- Privileges are ordinary grants (README "Privileges"). No data is granted to PUBLIC: model bytes
-- hold the source table's values (the vocabulary), so reading them is as sensitive as reading the
-- table. Scoring needs SELECT on gnsm.models; training, activating and dropping also need
-- INSERT, UPDATE, DELETE; gnsm.model_list shows metadata without bytes.
REVOKE ALL ON gnsm.models FROM PUBLIC;
REVOKE ALL ON gnsm.model_list FROM PUBLIC;
