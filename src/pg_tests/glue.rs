// `#[pg_test]`s of the glue's own machinery: cursor batches, aggregate state, call sites, the
// model cache and memo, privileges and hints.

#[pg_test]
fn test_training_reads_every_cursor_batch() {
    // 25,001 rows = three cursor batches of FETCH_ROWS (10,000); 'last' appears only in the last
    // row, so the model knows it only if the third batch was read
    assert_eq!(crate::source::reader::FETCH_ROWS, 10_000);
    Spi::run(
        "CREATE TABLE batches (id int, a text, b text);
         INSERT INTO batches SELECT g, 'a' || (g % 3), 'b' || (g % 2) FROM generate_series(1, 25000) g;
         INSERT INTO batches VALUES (25001, 'last', 'b0');",
    )
    .unwrap();
    let rows = Spi::get_one::<i64>(&format!("SELECT train_rows FROM gnsm_train('batches', ARRAY['a','b'], '{FAST}')")).unwrap();
    assert_eq!(rows, Some(25_001));
    let (source_rows, vocab) =
        Spi::get_two::<i64, i32>("SELECT (metrics->>'source_rows')::bigint, vocab_sizes[1] FROM gnsm.models WHERE name = 'batches'").unwrap();
    assert_eq!(source_rows, Some(25_001));
    // the vocabulary of column a: a0, a1, a2 and 'last' (seen only in the third batch)
    assert_eq!(vocab, Some(4));
}

#[pg_test]
fn test_aggregate_state_is_never_shared_or_reused_by_a_window() {
    make_dependent_table("agg_w");
    // two identical calls in one query both return a model (Postgres evaluates identical calls once)
    let (first, second) = Spi::get_two::<bool, bool>(&format!(
        "SELECT gnsm_train_agg(s, '{FAST}') IS NOT NULL, gnsm_train_agg(s, '{FAST}') IS NOT NULL
         FROM (SELECT a, b, c FROM agg_w) s"
    ))
    .unwrap();
    assert_eq!((first, second), (Some(true), Some(true)));
    // a window frame would call the final function again on the emptied state: refused instead
    assert_fails(
        &format!("SELECT gnsm_train_agg(s, '{FAST}') OVER (ORDER BY s.a) FROM (SELECT a, b, c FROM agg_w) s"),
        "0A000",
        "does not support use as a window function",
    );
}

#[pg_test]
fn test_a_call_site_follows_the_model_named_in_each_row() {
    make_dependent_table("per_row");
    Spi::run(&format!("SELECT gnsm_train('per_row', ARRAY['a','b','c'], '{FAST}')")).unwrap();
    let other = FAST.replace("\"seed\": 1", "\"seed\": 7").replace('{', "{\"name\": \"per_row_b\", ");
    Spi::run(&format!("SELECT gnsm_train('per_row', ARRAY['a','b','c'], '{other}')")).unwrap();
    let wrong = Spi::get_one::<i64>(
        "WITH s AS (SELECT id, CASE WHEN id % 2 = 0 THEN 'per_row' ELSE 'per_row_b' END AS m, t FROM per_row t)
         SELECT count(*) FROM s
         WHERE gnsm_score(s.t, s.m) IS DISTINCT FROM
               CASE WHEN s.m = 'per_row' THEN gnsm_score(s.t, 'per_row') ELSE gnsm_score(s.t, 'per_row_b') END",
    )
    .unwrap();
    assert_eq!(wrong, Some(0));
}

#[pg_test]
fn test_model_cache_evicts_the_least_recently_used() {
    use crate::cache::models::LruMap;
    let mut cache: LruMap<&str, u32> = LruMap::new(2);
    cache.insert("a", 1);
    cache.insert("b", 2);
    assert_eq!(cache.get(&"a").as_deref(), Some(&1)); // "a" is now the most recently used
    cache.insert("c", 3);
    assert!(cache.contains(&"a") && cache.contains(&"c"), "the recently used entry and the new one stay");
    assert!(!cache.contains(&"b"), "the least recently used entry is evicted (FIFO would evict \"a\")");
    assert_eq!(crate::cache::models::MAX_CACHED_MODELS, 16);
}

#[pg_test]
fn test_a_backend_reads_the_network_weights_only_when_a_row_needs_them() {
    make_dependent_table("lazy_t");
    // wide enough that the weights (about 1 MB) do not come with the first read (64 KB)
    let options = FAST.replace(r#""width": 16, "depth": 1"#, r#""width": 96, "depth": 2"#);
    Spi::run(&format!("SELECT gnsm_train('lazy_t', ARRAY['a','b','c'], '{options}')")).unwrap();
    let key = crate::catalog::active_version("lazy_t").expect("trained");
    let cached = crate::cache::get(&key);
    let model = cached.table_model();
    assert!(!model.network_loaded(), "the first load reads the front section only (ADR 015)");
    // a stored training row scores from the warm memo, still without the weights
    let (codes, stored) = model.front().warm.iter().next().map(|(c, s)| (c.to_vec(), s)).expect("repeated rows are stored");
    assert_eq!(cached.score(&codes).to_bits(), stored.to_bits());
    let warm_row: f64 = Spi::get_one("SELECT gnsm_score(t) FROM lazy_t t WHERE id = 7").unwrap().unwrap();
    assert!(warm_row.is_finite());
    assert!(!model.network_loaded(), "rows with stored scores need no network");
    // so are the rows seen once (the planted ones), which a Citus shard task meets too
    let planted: f64 = Spi::get_one("SELECT gnsm_score(t) FROM lazy_t t WHERE id = 1").unwrap().unwrap();
    assert!(!model.network_loaded(), "every training row is stored");
    // a row added after training has no stored score: scoring it fetches the network section
    Spi::run("INSERT INTO lazy_t VALUES (601, 'a0', 'b4', 'c2', true)").unwrap();
    let new_row: f64 = Spi::get_one("SELECT gnsm_score(t) FROM lazy_t t WHERE id = 601").unwrap().unwrap();
    assert!(model.network_loaded());
    let codes = model.front().features.encoder.encode_row(&[Some("a0"), Some("b4"), Some("c2")]).unwrap();
    assert_eq!(model.complete_model().score_codes(&codes).unwrap().to_bits(), new_row.to_bits());
    assert!(planted > warm_row && new_row > warm_row, "broken rows rank above a common one: {planted}, {new_row} vs {warm_row}");
}

#[pg_test]
fn test_a_front_longer_than_the_first_read_is_completed_by_a_second_read() {
    // 3,000 distinct rows of six columns: the front stores each with its score (warm rows)
    Spi::run(
        "CREATE TABLE long_front_t AS SELECT g AS id, 'a' || (g % 97) AS a, 'b' || (g % 89) AS b, 'c' || (g % 83) AS c,
                'd' || (g % 79) AS d, 'e' || (g % 73) AS e, 'f' || (g % 71) AS f FROM generate_series(1, 3000) g",
    )
    .unwrap();
    Spi::run(&format!("SELECT gnsm_train('long_front_t', ARRAY['a','b','c','d','e','f'], '{FAST}')")).unwrap();
    let key = crate::catalog::active_version("long_front_t").expect("trained");
    let whole = crate::catalog::load_all(&key);
    let front_len = gnsm_core::model::front_length(&whole.bytes).expect("format 9 has a front section");
    assert!(front_len > crate::catalog::FIRST_READ_BYTES, "the test needs a long front: {front_len} bytes");
    assert!(front_len < whole.bytes.len(), "the weights follow the front");
    let front = crate::catalog::load_front(&key);
    assert_eq!(front.bytes.len(), front_len, "the second read fetches exactly the rest of the front");
    assert!(front.bytes == whole.bytes[..front_len], "the two reads join into the stored front");
    let score: f64 = Spi::get_one("SELECT gnsm_score(t) FROM long_front_t t WHERE id = 5").unwrap().unwrap();
    assert!(score.is_finite());
    assert!(!crate::cache::get(&key).table_model().network_loaded(), "a training row scores from the front");
}

#[pg_test]
fn test_text_like_values_read_in_place_are_what_their_output_function_prints() {
    // text, varchar, char(n) (padding kept) and a domain are read in place; a compressed value
    // and an out-of-line one are flattened first; an integer goes through its output function
    Spi::run(
        "CREATE DOMAIN pg_temp_code AS text;
         CREATE TABLE inplace_t (id int, t text, v varchar(8), c char(4), d pg_temp_code, n int);
         ALTER TABLE inplace_t ALTER COLUMN d SET STORAGE EXTERNAL;
         INSERT INTO inplace_t SELECT g, 't' || (g % 3), 'v' || (g % 2), 'c' || (g % 2), 'd' || (g % 3), g % 4 FROM generate_series(1, 300) g;
         INSERT INTO inplace_t VALUES (301, repeat('ab', 5000), 'v1', 'c', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i), 7)",
    )
    .unwrap();
    let stored: String = Spi::get_one(
        "SELECT pg_column_compression(t) || '/' || (pg_column_size(d) < octet_length(d))::text FROM inplace_t WHERE id = 301",
    )
    .unwrap()
    .unwrap();
    assert_eq!(stored, "pglz/false", "row 301 holds a compressed value and an uncompressed out-of-line one");
    Spi::run(&format!("SELECT gnsm_train('inplace_t', ARRAY['t','v','c','d','n'], '{FAST}')")).unwrap();
    for id in [1, 2, 301] {
        let mismatched: i64 = Spi::get_one(&format!(
            "SELECT count(*) FROM gnsm_explain((SELECT r FROM inplace_t r WHERE id = {id})) e
             JOIN LATERAL (SELECT format('%s', t) AS t, format('%s', v) AS v, format('%s', c) AS c, format('%s', d) AS d, format('%s', n) AS n
                           FROM inplace_t WHERE id = {id}) x ON true
             WHERE e.value IS DISTINCT FROM CASE e.column_name WHEN 't' THEN x.t WHEN 'v' THEN x.v WHEN 'c' THEN x.c WHEN 'd' THEN x.d ELSE x.n END"
        ))
        .unwrap()
        .unwrap();
        assert_eq!(mismatched, 0, "row {id}: every explained value is the column's output-function text");
    }
    let padded: String = Spi::get_one("SELECT value FROM gnsm_explain((SELECT r FROM inplace_t r WHERE id = 301)) WHERE column_name = 'c'").unwrap().unwrap();
    assert_eq!(padded, "c   ", "char(4) keeps its padding, as bpcharout prints it");
    // the long values are categories the model saw once: scoring finds them (not unseen)
    let planted: f64 = Spi::get_one("SELECT gnsm_score(r) FROM inplace_t r WHERE id = 301").unwrap().unwrap();
    assert!(planted.is_finite());
}

#[pg_test]
fn test_privileges_are_as_the_readme_states() {
    Spi::run("CREATE ROLE gnsm_stranger").unwrap();
    let check = |sql: &str| Spi::get_one::<bool>(sql).unwrap().unwrap();
    assert!(check("SELECT has_schema_privilege('gnsm_stranger', 'gnsm', 'USAGE')"), "PUBLIC keeps USAGE on the schema");
    assert!(check("SELECT has_function_privilege('gnsm_stranger', 'gnsm_score(anyelement)', 'EXECUTE')"), "default EXECUTE");
    assert!(check("SELECT has_function_privilege('gnsm_stranger', 'gnsm_train(regclass, text[], jsonb)', 'EXECUTE')"));
    for table in ["gnsm.models", "gnsm.model_list"] {
        for privilege in ["SELECT", "INSERT", "UPDATE", "DELETE"] {
            assert!(!check(&format!("SELECT has_table_privilege('gnsm_stranger', '{table}', '{privilege}')")), "{privilege} on {table}");
        }
    }
    let definers = Spi::get_one::<i64>(
        "SELECT count(*) FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
         JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'gnsm' WHERE p.prosecdef",
    )
    .unwrap();
    assert_eq!(definers, Some(0), "nothing is SECURITY DEFINER");
}

#[pg_test]
fn test_score_cache_rows_zero_disables_the_memo_at_once() {
    make_dependent_table("memo_t");
    train("memo_t");
    let memo_rows = || {
        let key = crate::catalog::active_version("memo_t").unwrap();
        crate::cache::get(&key).memo.len()
    };
    Spi::run("SELECT sum(gnsm_score(t)) FROM memo_t t").unwrap();
    assert!(memo_rows() > 0, "the memo fills by default");
    Spi::run("SET LOCAL gnsm.score_cache_rows = 0").unwrap();
    let with = Spi::get_one::<f64>("SELECT sum(gnsm_score(t)) FROM memo_t t").unwrap();
    assert_eq!(memo_rows(), 0, "0 disables the memo for a model cached before");
    Spi::run("RESET gnsm.score_cache_rows").unwrap();
    let again = Spi::get_one::<f64>("SELECT sum(gnsm_score(t)) FROM memo_t t").unwrap();
    assert_eq!(with, again, "the memo never changes a score");
}

#[pg_test]
fn test_anonymous_rows_get_a_hint_that_works() {
    make_dependent_table("cte_t");
    train("cte_t");
    assert_fails("WITH r AS (SELECT * FROM cte_t) SELECT gnsm_score(r) FROM r", "42704", "anonymous type");
    // what the hint proposes
    let n = Spi::get_one::<i64>("WITH r AS (SELECT * FROM cte_t) SELECT count(gnsm_score(r, 'cte_t')) FROM r").unwrap();
    assert_eq!(n, Some(600));
    let same = Spi::get_one::<bool>(
        "WITH r AS (SELECT * FROM cte_t) SELECT bool_and(gnsm_score(r, 'cte_t') = gnsm_score(t)) FROM r JOIN cte_t t USING (id)",
    )
    .unwrap();
    assert_eq!(same, Some(true));
}

#[pg_test]
fn test_retrain_keeps_the_better_active_version_by_default() {
    make_dependent_table("safe_rt");
    // a well-trained version 1 (trained with activate "always", stored in its options)
    let good = FAST.replace("\"steps\": 40", "\"steps\": 200");
    Spi::run(&format!("SELECT gnsm_train('safe_rt', ARRAY['a','b','c'], '{good}')")).unwrap();
    // a retrain cut short validates worse: stored as version 2, not activated
    let (version, active) = Spi::get_two::<i32, bool>("SELECT version, active FROM gnsm_retrain('safe_rt', '{\"steps\": 1}')").unwrap();
    assert_eq!((version, active), (Some(2), Some(false)));
    let losses = Spi::get_two::<f64, f64>(
        "SELECT max(val_loss) FILTER (WHERE version = 2)::float8, max(val_loss) FILTER (WHERE version = 1)::float8 FROM gnsm.model_list WHERE name = 'safe_rt'",
    )
    .unwrap();
    assert!(losses.0.unwrap() > losses.1.unwrap(), "the cut-short retrain validates worse: {losses:?}");
    assert_eq!(Spi::get_one::<i32>("SELECT version FROM gnsm.models WHERE name = 'safe_rt' AND is_active").unwrap(), Some(1));
    // the caller can still ask for it
    let active = Spi::get_one::<bool>("SELECT active FROM gnsm_retrain('safe_rt', '{\"steps\": 1, \"activate\": \"always\"}')").unwrap();
    assert_eq!(active, Some(true));
}

#[pg_test]
fn test_score_cost_lets_the_planner_choose_a_parallel_plan() {
    // about 11 MB: above min_parallel_table_scan_size (8 MB), default planner settings otherwise
    Spi::run(
        "CREATE TABLE cost_big AS SELECT g AS id, 'a' || (g % 7) AS a, 'b' || (g % 5) AS b, repeat('x', 20) AS pad
         FROM generate_series(1, 200000) g; ANALYZE cost_big; SET LOCAL max_parallel_workers_per_gather = 2",
    )
    .unwrap();
    let plan = |sql: &str| {
        Spi::connect(|c| {
            let mut out = String::new();
            for r in c.select(&format!("EXPLAIN (COSTS OFF) {sql}"), None, &[])? {
                out.push_str(&r.get::<String>(1)?.unwrap_or_default());
                out.push('\n');
            }
            Ok::<_, pgrx::spi::Error>(out)
        })
        .unwrap()
    };
    let query = "SELECT id, gnsm_score(t, 'm') FROM cost_big t";
    let with_cost = plan(query);
    assert!(with_cost.contains("Gather"), "COST 1000: a parallel plan\n{with_cost}");
    // and a query over 20,000 rows (the size of a Citus shard task, or the README's demo) stays
    // under jit_above_cost: JIT compiles nothing that speeds up a C call, and each new backend
    // paid tens of milliseconds for it (ADR 015)
    let total_cost = |sql: &str| {
        Spi::get_one::<pgrx::Json>(&format!("EXPLAIN (FORMAT JSON) {sql}")).unwrap().map(|j| j.0[0]["Plan"]["Total Cost"].as_f64().unwrap()).unwrap()
    };
    let jit_above: f64 = Spi::get_one::<String>("SELECT current_setting('jit_above_cost')").unwrap().unwrap().parse().unwrap();
    Spi::run("CREATE TABLE cost_shard AS SELECT * FROM cost_big WHERE id <= 20000; ANALYZE cost_shard").unwrap();
    let shard = total_cost("SELECT count(*) FROM cost_shard t WHERE gnsm_score(t, 'm') > 2");
    assert!(shard < jit_above, "20,000 rows cost {shard}, jit_above_cost {jit_above}");
    // the same query under the default COST 1 the functions had before stays serial
    Spi::run("ALTER FUNCTION gnsm_score(anyelement, text) COST 1").unwrap();
    let cheap = plan(query);
    assert!(!cheap.contains("Gather"), "COST 1: serial\n{cheap}");
    let cost = Spi::get_one::<f32>("SELECT procost FROM pg_proc WHERE oid = 'gnsm_score(anyelement)'::regprocedure").unwrap();
    assert_eq!(cost, Some(1000.0));
}

#[pg_test]
fn test_default_columns_of_a_view_leave_its_identifier_out() {
    make_dependent_table("view_src");
    Spi::run("CREATE VIEW view_rows AS SELECT id, a, b, c FROM view_src").unwrap();
    Spi::run(&format!("SELECT gnsm_train('view_rows', NULL, '{FAST}')")).unwrap();
    let cols = Spi::get_one::<Vec<String>>("SELECT columns FROM gnsm.models WHERE name = 'view_rows'").unwrap().unwrap();
    assert_eq!(cols, vec!["a", "b", "c"], "the view's id (distinct in every row) is left out, as the table's key is");
    // named explicitly, it is modelled
    Spi::run(&format!("SELECT gnsm_train('view_rows', ARRAY['id', 'a'], '{}')", FAST.replace('{', "{\"name\": \"view_ids\", "))).unwrap();
    let cols = Spi::get_one::<Vec<String>>("SELECT columns FROM gnsm.models WHERE name = 'view_ids'").unwrap().unwrap();
    assert_eq!(cols, vec!["id", "a"]);
}
