// `#[pg_test]`s: every SQL function and its error paths, run inside a throw-away cluster.
// Error paths are checked by SQLSTATE and by the culprit named in the message.

#[pg_test]
fn test_version_names_every_component() {
    let v = Spi::get_one::<String>("SELECT gnsm_version()").unwrap().unwrap();
    assert!(v.starts_with(&format!("gnsm {}", env!("CARGO_PKG_VERSION"))), "{v}");
    assert!(v.contains("core ") && v.contains(&format!("model format {}", gnsm_core::MODEL_FORMAT_VERSION)) && v.contains("simd: "), "{v}");
}

#[pg_test]
fn test_train_stores_an_active_version_and_scores_planted_rows_highest() {
    make_dependent_table("dep");
    let (name, version) = Spi::get_two::<String, i32>(&format!("SELECT model, version FROM gnsm_train('dep', ARRAY['a','b','c'], '{FAST}')")).unwrap();
    assert_eq!((name.as_deref(), version), (Some("dep"), Some(1)));
    let row = Spi::get_three::<bool, String, i32>(
        "SELECT is_active, source_table, array_length(columns, 1) FROM gnsm.models WHERE name = 'dep' AND version = 1",
    )
    .unwrap();
    assert_eq!(row, (Some(true), Some("dep".to_string()), Some(3)));
    // every planted row ranks in the top 6% (36 of 600): the pairs break a dependency
    let worst = Spi::get_one::<i64>(
        "SELECT max(r) FROM (SELECT planted, rank() OVER (ORDER BY gnsm_score(d) DESC) r FROM dep d) x WHERE planted",
    )
    .unwrap()
    .unwrap();
    assert!(worst <= 36, "a planted row ranked {worst}");
    // a newer model on the same table, not named after it, does not take over gnsm_score(d)
    let before = Spi::get_one::<f64>("SELECT gnsm_score(d) FROM dep d WHERE id = 1").unwrap().unwrap();
    Spi::run(&format!("SELECT gnsm_train('dep', ARRAY['a','b'], '{}')", FAST.replace("\"seed\": 1", "\"seed\": 9, \"name\": \"dep_ab\""))).unwrap();
    assert_eq!(Spi::get_one::<f64>("SELECT gnsm_score(d) FROM dep d WHERE id = 1").unwrap().unwrap(), before);
    assert_ne!(Spi::get_one::<f64>("SELECT gnsm_score(d, 'dep_ab') FROM dep d WHERE id = 1").unwrap().unwrap(), before);
}

#[pg_test]
fn test_retrain_adds_a_version_and_activate_rolls_back() {
    make_dependent_table("dep2");
    train("dep2");
    train("dep2");
    let active = Spi::get_one::<i32>("SELECT version FROM gnsm.models WHERE name = 'dep2' AND is_active").unwrap();
    assert_eq!(active, Some(2));
    assert_eq!(Spi::get_one::<bool>("SELECT gnsm_activate('dep2', 1)").unwrap(), Some(true));
    let active = Spi::get_one::<i32>("SELECT version FROM gnsm.models WHERE name = 'dep2' AND is_active").unwrap();
    assert_eq!(active, Some(1));
    assert_fails("SELECT gnsm_activate('dep2', 9)", "42704", "has no version 9");
    assert_eq!(Spi::get_one::<i64>("SELECT gnsm_drop('dep2', 2)").unwrap(), Some(1));
    assert_eq!(Spi::get_one::<i64>("SELECT gnsm_drop('dep2')").unwrap(), Some(1));
    assert_fails("SELECT gnsm_drop('dep2')", "42704", "\"dep2\" does not exist");
}

#[pg_test]
fn test_default_columns_skip_keys_and_put_numbers_first() {
    Spi::run(
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
         CREATE TABLE mixed (id bigint PRIMARY KEY, code text UNIQUE, m mood, flag bool, n int, price numeric, t text);
         INSERT INTO mixed SELECT g, 'k' || g, (ARRAY['sad','ok','happy'])[1 + g % 3]::mood, g % 2 = 0, g % 4, g, 'x' || (g % 5)
         FROM generate_series(1, 200) g;",
    )
    .unwrap();
    Spi::run(&format!("SELECT gnsm_train('mixed', NULL, '{FAST}')")).unwrap();
    let cols = Spi::get_one::<Vec<String>>("SELECT columns FROM gnsm.models WHERE name = 'mixed'").unwrap().unwrap();
    // numeric columns come first (the model's order); integers stay categories
    assert_eq!(cols, vec!["price", "m", "flag", "n", "t"]);
    let types = Spi::get_one::<Vec<String>>("SELECT column_types FROM gnsm.models WHERE name = 'mixed'").unwrap().unwrap();
    assert_eq!(types, vec!["numeric", "mood", "boolean", "integer", "text"]);
    let sizes = Spi::get_one::<Vec<i32>>("SELECT vocab_sizes FROM gnsm.models WHERE name = 'mixed'").unwrap().unwrap();
    assert_eq!(sizes[0], 0, "a numeric column has no vocabulary");
    // enum, bool, int and numeric values score without error, NULLs too
    let n = Spi::get_one::<i64>("SELECT count(gnsm_score(x)) FROM mixed x").unwrap();
    assert_eq!(n, Some(200));
    Spi::run("INSERT INTO mixed VALUES (999, 'k999', NULL, NULL, NULL, NULL, NULL)").unwrap();
    assert!(Spi::get_one::<f64>("SELECT gnsm_score(x) FROM mixed x WHERE id = 999").unwrap().unwrap().is_finite());
}

#[pg_test]
fn test_unseen_values_and_nulls_score_as_more_anomalous() {
    make_dependent_table("dep3");
    train("dep3");
    let seen = Spi::get_one::<f64>("SELECT gnsm_score(ROW(100, 'a1', 'b1', 'c0', false)::dep3)").unwrap().unwrap();
    let unseen = Spi::get_one::<f64>("SELECT gnsm_score(ROW(100, 'a1', 'zzz', 'c0', false)::dep3)").unwrap().unwrap();
    let null = Spi::get_one::<f64>("SELECT gnsm_score(ROW(100, 'a1', NULL, 'c0', false)::dep3)").unwrap().unwrap();
    assert!(unseen > seen && null > seen, "seen {seen}, unseen {unseen}, null {null}");
}

#[pg_test]
fn test_score_by_name_percentile_threshold_and_explain() {
    make_dependent_table("dep4");
    Spi::run(&format!(
        "SELECT gnsm_train('dep4', ARRAY['a','b','c'], '{}')",
        FAST.replace("\"seed\": 1", "\"seed\": 1, \"name\": \"dep4_model\"")
    ))
    .unwrap();
    let by_table = Spi::get_one::<f64>("SELECT gnsm_score(d) FROM dep4 d WHERE id = 1").unwrap().unwrap();
    let by_name = Spi::get_one::<f64>("SELECT gnsm_score(d, 'dep4_model') FROM dep4 d WHERE id = 1").unwrap().unwrap();
    assert_eq!(by_table, by_name);
    let pct = Spi::get_one::<f64>("SELECT gnsm_score_percentile(d) FROM dep4 d WHERE id = 1").unwrap().unwrap();
    assert!(pct > 90.0 && pct <= 100.0, "{pct}");
    let t1 = Spi::get_one::<f64>("SELECT gnsm_threshold('dep4_model', 0.01)").unwrap().unwrap();
    let t10 = Spi::get_one::<f64>("SELECT gnsm_threshold('dep4_model', 0.10)").unwrap().unwrap();
    assert!(t1 >= t10);
    assert_fails("SELECT gnsm_threshold('dep4_model', 1.5)", "22023", "contamination");
    let rows = Spi::get_one::<i64>("SELECT count(*) FROM dep4 d, gnsm_explain(d) e WHERE d.id = 1").unwrap();
    assert_eq!(rows, Some(3));
    let cols = Spi::get_one::<Vec<String>>("SELECT array_agg(column_name ORDER BY column_name) FROM dep4 d, gnsm_explain(d) e WHERE d.id = 1")
        .unwrap()
        .unwrap();
    assert_eq!(cols, vec!["a", "b", "c"]);
    let nonneg = Spi::get_one::<bool>("SELECT bool_and(contribution >= 0 AND share >= 0) FROM dep4 d, gnsm_explain(d) e").unwrap();
    assert_eq!(nonneg, Some(true));
}

#[pg_test]
fn test_aggregate_trains_one_model_per_group() {
    make_dependent_table("dep5");
    Spi::run(&format!(
        "CREATE TABLE group_models AS
         SELECT planted, gnsm_train_agg(s, '{FAST}') AS model
         FROM (SELECT planted, a, b, c FROM dep5) s GROUP BY planted"
    ))
    .unwrap();
    assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM group_models WHERE model IS NOT NULL").unwrap(), Some(2));
    let n = Spi::get_one::<i64>(
        "SELECT count(gnsm_score_bytes(s, m.model)) FROM (SELECT planted, a, b, c FROM dep5) s JOIN group_models m USING (planted)",
    )
    .unwrap();
    assert_eq!(n, Some(600));
}

#[pg_test]
fn test_table_names_are_quoted_not_executed() {
    Spi::run(
        r#"CREATE TABLE "x""; DROP TABLE y; --" ("we""ird" text, b text);
           CREATE TABLE y (v int);
           INSERT INTO "x""; DROP TABLE y; --" SELECT 'v' || (g % 3), 'w' || (g % 2) FROM generate_series(1, 100) g;"#,
    )
    .unwrap();
    Spi::run(&format!(r#"SELECT gnsm_train('"x""; DROP TABLE y; --"', ARRAY['we"ird', 'b'], '{FAST}')"#)).unwrap();
    assert_eq!(Spi::get_one::<bool>("SELECT to_regclass('y') IS NOT NULL").unwrap(), Some(true));
    let n = Spi::get_one::<i64>(r#"SELECT count(gnsm_score(t)) FROM "x""; DROP TABLE y; --" t"#).unwrap();
    assert_eq!(n, Some(100));
}

#[pg_test]
fn test_training_errors_name_the_culprit() {
    Spi::run(
        "CREATE TABLE e1 (a text, b text, p point, x float8);
         CREATE TABLE e_empty (a text);
         CREATE TABLE e_same (a text, b text); INSERT INTO e_same SELECT 'x', 'y' FROM generate_series(1, 50);
         CREATE TABLE e_ids (a text, b text); INSERT INTO e_ids SELECT 'id' || g, 'y' || (g % 2) FROM generate_series(1, 3000) g;
         CREATE TABLE e_keys (id int PRIMARY KEY, p point);
         INSERT INTO e1 SELECT 'a' || (g % 3), 'b' || (g % 2), point(g, g), g FROM generate_series(1, 100) g;",
    )
    .unwrap();
    assert_fails("SELECT gnsm_train('nope')", "42P01", "\"nope\" does not exist");
    assert_fails("SELECT gnsm_train('e1', ARRAY['a', 'zz'])", "42703", "column \"zz\" of relation \"e1\" does not exist");
    assert_fails("SELECT gnsm_train('e1', ARRAY['a', 'p'])", "0A000", "column \"p\" of relation \"e1\" has unsupported type point");
    assert_fails("SELECT gnsm_train('e1', ARRAY['a', 'x'], '{\"numeric_columns\": [\"a\"]}')", "42804", "cannot model as a number");
    assert_fails("SELECT gnsm_train('e1', ARRAY['a', 'x'], '{\"categorical_columns\": [\"b\"]}')", "42703", "names column \"b\"");
    assert_fails("SELECT gnsm_train('e1', ARRAY['a', 'a'])", "42701", "listed twice");
    assert_fails("SELECT gnsm_train('e1', ARRAY[]::text[])", "22023", "column list is empty");
    assert_fails("SELECT gnsm_train('e1', ARRAY['a', NULL])", "22004", "contains NULL");
    assert_fails("SELECT gnsm_train('e_empty')", "22000", "\"e_empty\" is empty");
    assert_fails("SELECT gnsm_train('e_same')", "22000", "every training row is identical");
    assert_fails("SELECT gnsm_train('e_ids')", "54000", "column \"a\" has more than 1000 distinct values");
    assert_fails("SELECT gnsm_train('e_keys')", "0A000", "no column gnsm can model that is not a key");
    assert_fails("SELECT gnsm_train('e1', ARRAY['a','b'], '{\"stepz\": 5}')", "22023", "unknown gnsm option \"stepz\"");
    assert_fails("SELECT gnsm_train('e1', ARRAY['a','b'], '{\"steps\": \"many\"}')", "22023", "\"steps\" must be a non-negative integer");
    assert_fails("SELECT gnsm_train('e1', ARRAY['a','b'], '{\"steps\": 0}')", "22023", "\"steps\"");
    assert_fails("SELECT gnsm_train('e1', ARRAY['a','b'], '{\"max_seconds\": -1}')", "22023", "\"max_seconds\"");
    assert_fails("SELECT gnsm_train('e1', ARRAY['a','b'], '[1]')", "22023", "must be a JSON object");
    assert_fails("SELECT gnsm_train('e1', ARRAY['a','b'], '{\"activate\": \"maybe\"}')", "22023", "\"activate\"");
    assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM gnsm.models WHERE source_table LIKE 'e%'").unwrap(), Some(0));
}

#[pg_test]
fn test_scoring_errors_name_the_culprit() {
    make_dependent_table("dep6");
    train("dep6");
    Spi::run("CREATE TABLE other (a text, b text); CREATE TABLE retyped (a text, b text, c int);").unwrap();
    Spi::run("INSERT INTO other VALUES ('a0', 'b0'); INSERT INTO retyped VALUES ('a0', 'b0', 1)").unwrap();
    assert_fails("SELECT gnsm_score(o) FROM other o", "42704", "no active gnsm model was trained on table \"other\"");
    assert_fails("SELECT gnsm_score(ROW('a0', 'b0'))", "42704", "anonymous type");
    assert_fails("SELECT gnsm_score(42)", "42804", "expects a table row");
    assert_fails("SELECT gnsm_score(o, 'nope') FROM other o", "42704", "gnsm model \"nope\" does not exist");
    assert_fails("SELECT gnsm_score(o, 'dep6') FROM other o", "42703", "needs column \"c\"");
    assert_fails("SELECT gnsm_score(r, 'dep6') FROM retyped r", "42804", "column \"c\" has type integer");
    assert_fails("SELECT gnsm_score_bytes(o, '\\x00'::bytea) FROM other o", "XX001", "bad magic bytes");
    // corrupt the stored bytes by hand: a clear error, never a crash
    Spi::run("UPDATE gnsm.models SET model = substring(model FROM 1 FOR 40) WHERE name = 'dep6'").unwrap();
    assert_fails("SELECT gnsm_score(d) FROM dep6 d", "XX001", "truncated or damaged");
}

#[pg_test]
fn test_scoring_runs_in_parallel_workers() {
    make_dependent_table("dep7");
    train("dep7");
    Spi::run(
        "SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
         SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL max_parallel_workers_per_gather = 2;",
    )
    .unwrap();
    let plan = Spi::connect(|c| {
        let rows = c.select("EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) SELECT sum(gnsm_score(d)) FROM dep7 d", None, &[])?;
        let mut out = String::new();
        for r in rows {
            out.push_str(&r.get::<String>(1)?.unwrap_or_default());
            out.push('\n');
        }
        Ok::<_, pgrx::spi::Error>(out)
    })
    .unwrap();
    assert!(plan.contains("Partial Aggregate") && plan.contains("gnsm_score(d.*)"), "{plan}");
    assert!(plan.contains("Workers Launched: 1") || plan.contains("Workers Launched: 2"), "{plan}");
}

#[pg_test]
fn test_scoring_needs_select_on_the_catalog() {
    make_dependent_table("priv");
    train("priv");
    Spi::run("CREATE ROLE gnsm_reader; GRANT SELECT ON priv TO gnsm_reader; GRANT USAGE ON SCHEMA public TO gnsm_reader").unwrap();
    Spi::run("SET LOCAL ROLE gnsm_reader").unwrap();
    assert_fails("SELECT gnsm_score(p) FROM priv p", "42501", "permission denied for table models");
    assert_fails("SELECT gnsm_drop('priv')", "42501", "permission denied for table models");
    Spi::run("RESET ROLE; GRANT SELECT ON gnsm.models TO gnsm_reader; SET LOCAL ROLE gnsm_reader").unwrap();
    assert_eq!(Spi::get_one::<i64>("SELECT count(gnsm_score(p)) FROM priv p").unwrap(), Some(600));
    assert_fails("SELECT gnsm_drop('priv')", "42501", "permission denied for table models");
}

#[pg_test]
fn test_training_uses_the_callers_privileges() {
    make_dependent_table("secret");
    Spi::run("CREATE ROLE gnsm_nobody; GRANT INSERT, UPDATE ON gnsm.models TO gnsm_nobody; SET LOCAL ROLE gnsm_nobody").unwrap();
    assert_fails(&format!("SELECT gnsm_train('secret', ARRAY['a','b','c'], '{FAST}')"), "42501", "permission denied for table secret");
}

/// AUROC of scores against labels computed in SQL (Mann-Whitney with average ranks for ties).
const SQL_AUROC: &str = "WITH s AS (SELECT is_anomaly = 1 AS pos, gnsm_score(c) AS sc FROM real_cmc c),
     r AS (SELECT pos, rank() OVER (ORDER BY sc) + (count(*) OVER (PARTITION BY sc) - 1) / 2.0 AS ar FROM s),
     n AS (SELECT count(*) FILTER (WHERE pos) AS n1, count(*) FILTER (WHERE NOT pos) AS n0 FROM s)
SELECT ((SELECT sum(ar) FROM r WHERE pos) - n1 * (n1 + 1) / 2.0) / (n1 * n0) FROM n";

#[pg_test]
fn test_sql_auroc_matches_core_evaluation_on_real_data() {
    use gnsm_eval::dataset::read_labeled_csv;
    use gnsm_core::encoding::TableBuilder;
    use gnsm_eval::metrics::auroc;
    use gnsm_core::model::Model;
    use gnsm_core::train::{build_pool, Hooks};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cmc/cmc.csv");
    let Ok(data) = read_labeled_csv(&path) else {
        // the product never needs ../shared; a checkout without it cannot run this comparison
        pgrx::warning!("skipped: {} is not readable", path.display());
        return;
    };
    // the same rows, in file order, into a table: every feature as text, the label as int
    let cols: Vec<String> = data.columns.iter().map(|c| pgrx::spi::quote_identifier(c)).collect();
    Spi::run(&format!("CREATE TABLE real_cmc ({}, is_anomaly int)", cols.iter().map(|c| format!("{c} text")).collect::<Vec<_>>().join(", "))).unwrap();
    for (row, &label) in data.rows.iter().zip(&data.labels) {
        let values: Vec<String> = row.iter().map(|v| format!("'{}'", v.as_deref().unwrap_or_default().replace('\'', "''"))).collect();
        Spi::run(&format!("INSERT INTO real_cmc VALUES ({}, {})", values.join(", "), i32::from(label))).unwrap();
    }
    let options = r#"{"width": 64, "depth": 2, "steps": 150, "batch_size": 256, "threads": 1, "seed": 42}"#;
    let names = data.columns.iter().map(|c| format!("'{}'", c.replace('\'', "''"))).collect::<Vec<_>>().join(", ");
    Spi::run(&format!("SELECT gnsm_train('real_cmc', ARRAY[{names}], '{options}')")).unwrap();
    let sql_auroc = Spi::get_one::<pgrx::AnyNumeric>(SQL_AUROC).unwrap().unwrap();
    let sql_auroc: f64 = sql_auroc.try_into().unwrap();

    // the core's own evaluation: unsupervised protocol (train on all rows, score all rows)
    let mut b = TableBuilder::new(data.columns.clone(), 1000);
    for row in &data.rows {
        let r: Vec<Option<&str>> = row.iter().map(|v| v.as_deref()).collect();
        b.push_row(&r).unwrap();
    }
    let (encoder, table) = b.finish().unwrap();
    let config = crate::options::parse(Some(&serde_json::from_str(options).unwrap()), 1).config;
    let pool = build_pool(1).unwrap();
    let model = Hooks::silent(|h| Model::fit_coded(encoder, &table, &config, &pool, h)).unwrap();
    let scores = model.score_table(&table, None).unwrap();
    let core_auroc = auroc(&scores, &data.labels);
    assert!((sql_auroc - core_auroc).abs() < 1e-9, "SQL AUROC {sql_auroc} vs core {core_auroc}");
    assert!(core_auroc > 0.5, "AUROC {core_auroc}");
}

#[pg_test]
fn test_retrain_reuses_columns_and_options_and_prunes_old_versions() {
    make_dependent_table("dep8");
    train("dep8");
    Spi::run("INSERT INTO dep8 SELECT g, 'a1', 'b1', 'c0', false FROM generate_series(1000, 1100) g").unwrap();
    let (v, rows) = Spi::get_two::<i32, i64>("SELECT version, train_rows FROM gnsm_retrain('dep8')").unwrap();
    assert_eq!((v, rows), (Some(2), Some(701)));
    let (cols, width) = Spi::get_two::<Vec<String>, i64>("SELECT columns, (options->>'width')::bigint FROM gnsm.models WHERE name = 'dep8' AND version = 2").unwrap();
    assert_eq!(cols.unwrap(), vec!["a", "b", "c"]);
    assert_eq!(width, Some(16));
    // overrides apply; keep_versions = 2 drops version 1
    Spi::run(r#"SELECT gnsm_retrain('dep8', '{"keep_versions": 2, "seed": 5, "activate": "always"}')"#).unwrap();
    let versions = Spi::get_one::<Vec<i32>>("SELECT array_agg(version ORDER BY version) FROM gnsm.models WHERE name = 'dep8'").unwrap().unwrap();
    assert_eq!(versions, vec![2, 3]);
    // "never" stores the new version without activating it (glue.rs tests "if_better" with a worse retrain)
    Spi::run(r#"SELECT gnsm_retrain('dep8', '{"activate": "never"}')"#).unwrap();
    assert_eq!(Spi::get_one::<i32>("SELECT version FROM gnsm.models WHERE name = 'dep8' AND is_active").unwrap(), Some(3));
    assert_fails("SELECT gnsm_retrain('nope')", "42704", "\"nope\" does not exist");
    Spi::run("DROP TABLE dep8").unwrap();
    assert_fails("SELECT gnsm_retrain('dep8')", "55000", "no longer exists");
}

#[pg_test]
fn test_training_samples_above_max_train_rows() {
    make_dependent_table("big");
    Spi::run("SET LOCAL gnsm.max_train_rows = 200").unwrap();
    let rows = Spi::get_one::<i64>(&format!("SELECT train_rows FROM gnsm_train('big', ARRAY['a','b','c'], '{FAST}')")).unwrap();
    assert_eq!(rows, Some(200));
    let (sampled, source_rows) =
        Spi::get_two::<bool, i64>("SELECT (metrics->>'sampled')::bool, (metrics->>'source_rows')::bigint FROM gnsm.models WHERE name = 'big'").unwrap();
    assert_eq!((sampled, source_rows), (Some(true), Some(600)));
}

#[pg_test]
fn test_schedule_retrain_checks_model_options_and_pg_cron() {
    make_dependent_table("sch");
    train("sch");
    assert_fails("SELECT gnsm_schedule_retrain('nope', '0 3 * * *')", "42704", "gnsm model \"nope\" does not exist");
    assert_fails("SELECT gnsm_schedule_retrain('sch', '0 3 * * *', '{\"stepz\": 1}')", "22023", "unknown gnsm option \"stepz\"");
    assert_fails("SELECT gnsm_schedule_retrain('sch', '0 3 * * *', '[1]')", "22023", "must be a JSON object");
    // this test cluster has no pg_cron (tests/shell/cron_retrain.sh covers a cluster that has it)
    assert_fails("SELECT gnsm_schedule_retrain('sch', '0 3 * * *')", "0A000", "needs the pg_cron extension");
    assert_fails("SELECT gnsm_unschedule_retrain('sch')", "0A000", "needs the pg_cron extension");
}

#[pg_test]
fn test_scores_do_not_depend_on_the_tables_column_order() {
    make_dependent_table("ord_a");
    train("ord_a");
    // the same rows in a table whose columns come in another order (and with an extra column)
    Spi::run(
        "CREATE TABLE ord_b (c text, extra int, b text, id int, a text);
         INSERT INTO ord_b SELECT c, 7, b, id, a FROM ord_a;",
    )
    .unwrap();
    let mismatches = Spi::get_one::<i64>(
        "SELECT count(*) FROM ord_a x JOIN ord_b y USING (id) WHERE gnsm_score(x) IS DISTINCT FROM gnsm_score(y, 'ord_a')",
    )
    .unwrap();
    assert_eq!(mismatches, Some(0));
    let n = Spi::get_one::<i64>("SELECT count(*) FROM ord_b y WHERE gnsm_score(y, 'ord_a') IS NOT NULL").unwrap();
    assert_eq!(n, Some(600));
}


#[pg_test]
fn test_auto_scorer_fits_the_fast_scorer_only_on_a_table_of_many_distinct_rows() {
    // 600 rows, 12 distinct: "auto" (the default) keeps the exact scorer and says so
    make_dependent_table("autofew");
    Spi::run(&format!("SELECT gnsm_train('autofew', ARRAY['a','b','c'], '{FAST}')")).unwrap();
    let row = |sql: &str| Spi::get_one::<String>(sql).unwrap().unwrap();
    assert_eq!(row("SELECT options->>'scorer' FROM gnsm.models WHERE name = 'autofew'"), "auto");
    assert_eq!(row("SELECT metrics->>'scorer' FROM gnsm.models WHERE name = 'autofew'"), "exact");
    assert_eq!(row("SELECT metrics->>'distinct_rows' FROM gnsm.models WHERE name = 'autofew'"), "12");
    // 30,000 distinct rows (ADR 016's threshold): the fast scorer, which scores every row
    Spi::run(
        "CREATE TABLE automany AS SELECT 'a' || (g % 300) AS a, 'b' || (g / 300) AS b, 'c' || (g % 7) AS c
         FROM generate_series(0, 29999) g",
    )
    .unwrap();
    // (500 head rows: the student's teacher rows are what a debug build spends its time on)
    let opts = FAST.replace("\"seed\": 1", "\"seed\": 1, \"max_head_rows\": 500");
    Spi::run(&format!("SELECT gnsm_train('automany', ARRAY['a','b','c'], '{opts}')")).unwrap();
    assert_eq!(row("SELECT metrics->>'scorer' FROM gnsm.models WHERE name = 'automany'"), "fast");
    assert_eq!(row("SELECT metrics->>'distinct_rows' FROM gnsm.models WHERE name = 'automany'"), "30000");
    let scored = Spi::get_one::<i64>("SELECT count(gnsm_score(t)) FROM automany t").unwrap();
    assert_eq!(scored, Some(30_000));
}

#[pg_test]
fn test_fast_scorer_scores_explains_and_places_rows_like_the_exact_path() {
    make_dependent_table("fastdep");
    let opts = FAST.replace("\"seed\": 1", "\"seed\": 1, \"scorer\": \"fast\", \"name\": \"fastdep_fast\"");
    Spi::run(&format!("SELECT gnsm_train('fastdep', ARRAY['a','b','c'], '{opts}')")).unwrap();
    assert_eq!(Spi::get_one::<String>("SELECT options->>'scorer' FROM gnsm.models WHERE name = 'fastdep_fast'").unwrap().as_deref(), Some("fast"));
    // the planted rows rank on top, as with the exact scorer on this table
    let top: Vec<i32> = Spi::get_one::<Vec<i32>>(
        "SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM fastdep t ORDER BY gnsm_score(t, 'fastdep_fast') DESC LIMIT 6) s",
    )
    .unwrap()
    .unwrap();
    assert_eq!(top, vec![1, 2, 3, 4, 5, 6]);
    // gnsm_explain blames a column of the broken pair, scoring the candidates with the same scorer
    let top = Spi::get_one::<String>(
        "SELECT e.column_name FROM fastdep t, gnsm_explain(t, 'fastdep_fast') e WHERE t.id = 1 ORDER BY e.contribution DESC LIMIT 1",
    )
    .unwrap()
    .unwrap();
    assert!(top == "a" || top == "b", "{top}");
    let pct = Spi::get_one::<f64>("SELECT gnsm_score_percentile(t, 'fastdep_fast') FROM fastdep t WHERE id = 1").unwrap().unwrap();
    assert!(pct > 99.0, "{pct}");
    assert_fails(
        "SELECT gnsm_train('fastdep', ARRAY['a','b','c'], '{\"scorer\": \"quick\"}')",
        "22023",
        "gnsm option \"scorer\" must be one of \"auto\", \"fast\", \"exact\"",
    );
}
