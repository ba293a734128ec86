// `#[pg_test]`s of the label-map functions: the PNG round trip for smallint[] and integer[] maps,
// lower bounds, the declared surface, and the SQLSTATE, message, detail and hint of bad maps (the
// full bad-input list is in tests/pg_regress/sql/bad_inputs.sql).

/// SQLSTATE, message, detail and hint of the error `sql` raises ("ok" and three NULLs if none).
fn diagnostics(sql: &str) -> (String, String, Option<String>, Option<String>) {
    Spi::run(
        "CREATE OR REPLACE FUNCTION pg_temp.diagnostics(q text, OUT state text, OUT msg text, OUT detail text, OUT hint text)
         LANGUAGE plpgsql AS $$
         BEGIN EXECUTE q; state := 'ok';
         EXCEPTION WHEN OTHERS THEN
           GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
         END $$",
    )
    .unwrap();
    Spi::connect(|client| {
        let row = client
            .select("SELECT state, msg, nullif(detail, ''), nullif(hint, '') FROM pg_temp.diagnostics($1)", None, &[sql.into()])?
            .first();
        Ok::<_, pgrx::spi::Error>((
            row.get::<String>(1)?.unwrap(),
            row.get::<String>(2)?.unwrap_or_default(),
            row.get::<String>(3)?,
            row.get::<String>(4)?,
        ))
    })
    .unwrap()
}

#[pg_test]
fn test_map_png_round_trip_gives_back_the_same_array() {
    // smallint and integer, non-square, the whole 0-255 range in a bigger map
    let same = |sql: &str| assert_eq!(Spi::get_one::<bool>(sql).unwrap(), Some(true), "{sql}");
    same(
        "SELECT gnsm_map_from_png(gnsm_map_to_png(ARRAY[[0, 1, 2], [3, 4, 255]]::smallint[])) = ARRAY[[0, 1, 2], [3, 4, 255]]::smallint[]",
    );
    same("SELECT gnsm_map_from_png(gnsm_map_to_png(ARRAY[[7], [0], [9]]::int[]))::int[] = ARRAY[[7], [0], [9]]");
    Spi::run(
        "CREATE TABLE big_map AS SELECT array_agg(r ORDER BY i) AS m FROM
           (SELECT i, array_agg(((i * 7 + j * 3) % 256)::smallint ORDER BY j) AS r
            FROM generate_series(0, 63) i, generate_series(0, 36) j GROUP BY i) x",
    )
    .unwrap();
    same("SELECT gnsm_map_from_png(gnsm_map_to_png(m)) = m AND array_dims(m) = '[1:64][1:37]' FROM big_map");
    same("SELECT gnsm_map_from_png(gnsm_map_to_png(m::int[]))::int[] = m::int[] FROM big_map");
    // the result is a PNG, and a 2-D array with subscripts from 1
    same("SELECT substring(gnsm_map_to_png(ARRAY[[1, 2]]) FROM 1 FOR 8) = '\\x89504e470d0a1a0a'::bytea");
    let dims = Spi::get_one::<String>("SELECT array_dims(gnsm_map_from_png(gnsm_map_to_png(ARRAY[[1, 2, 3], [4, 5, 6]])))").unwrap();
    assert_eq!(dims.as_deref(), Some("[1:2][1:3]"));
    // lower bounds other than 1 are the same map
    same("SELECT gnsm_map_to_png('[0:1][5:7]={{0,1,2},{3,4,5}}'::smallint[]) = gnsm_map_to_png(ARRAY[[0, 1, 2], [3, 4, 5]]::smallint[])");
    // the largest side, and a 1xN map
    same("SELECT gnsm_map_from_png(gnsm_map_to_png(array_fill(3::smallint, ARRAY[1, 4096]))) = array_fill(3::smallint, ARRAY[1, 4096])");
}

#[pg_test]
fn test_map_functions_are_immutable_strict_parallel_safe_and_described() {
    let n = Spi::get_one::<i64>(
        "SELECT count(*) FROM pg_proc WHERE proname IN ('gnsm_map_from_png', 'gnsm_map_to_png')
           AND provolatile = 'i' AND proparallel = 's' AND proisstrict AND obj_description(oid, 'pg_proc') IS NOT NULL",
    )
    .unwrap();
    assert_eq!(n, Some(2));
    let sigs = Spi::get_one::<String>(
        "SELECT string_agg(oid::regprocedure::text || ' -> ' || prorettype::regtype::text, '; ' ORDER BY oid::regprocedure::text)
         FROM pg_proc WHERE proname LIKE 'gnsm_map_%'",
    )
    .unwrap()
    .unwrap();
    assert_eq!(sigs, "gnsm_map_from_png(bytea) -> smallint[]; gnsm_map_to_png(integer[]) -> bytea");
    assert_eq!(
        Spi::get_one::<bool>("SELECT gnsm_map_to_png(NULL::smallint[]) IS NULL AND gnsm_map_from_png(NULL) IS NULL").unwrap(),
        Some(true)
    );
}

#[pg_test]
fn test_bad_maps_name_the_pixel_and_say_what_to_do() {
    // a NULL pixel: named from (0, 0), its SQL subscripts in the detail (lower bounds kept)
    let (state, msg, detail, hint) = diagnostics("SELECT gnsm_map_to_png('[0:1][0:1]={{0,1},{NULL,0}}'::smallint[])");
    assert_eq!((state.as_str(), msg.as_str()), ("22004", "gnsm_map_to_png: pixel (1, 0) is NULL"));
    assert_eq!(detail.as_deref(), Some("pixels count from (0, 0) at the top left; this one is element [1][0] of the array"));
    assert!(hint.unwrap().contains("class index"));
    let (state, msg, detail, _) = diagnostics("SELECT gnsm_map_to_png(ARRAY[[0, 1, 2], [3, -1, 5]])");
    assert_eq!((state.as_str(), msg.as_str()), ("22003", "gnsm_map_to_png: label -1 at pixel (1, 1) is outside 0..65534"));
    assert_eq!(detail.as_deref(), Some("pixels count from (0, 0) at the top left; this one is element [2][2] of the array"));
    assert_fails("SELECT gnsm_map_to_png(ARRAY[[0, 65535]])", "22003", "label 65535 at pixel (0, 1) is outside 0..65534");
    // labels a PNG cannot hold
    let (state, msg, _, hint) = diagnostics("SELECT gnsm_map_to_png(ARRAY[[0, 1], [256, 0]])");
    assert_eq!(
        (state.as_str(), msg.as_str()),
        ("22003", "gnsm_map_to_png: label 256 at pixel (1, 0) does not fit an 8-bit PNG (labels 0 to 255)")
    );
    assert!(hint.unwrap().contains("arrays"));
    // shapes
    let (state, msg, _, hint) = diagnostics("SELECT gnsm_map_to_png(ARRAY[0, 1, 1, 0])");
    assert_eq!(
        (state.as_str(), msg.as_str()),
        ("22023", "gnsm_map_to_png: a map must be a 2-D array (rows x columns); got a 1-D array of 4 elements")
    );
    assert!(hint.unwrap().contains("ARRAY[[0,1],[1,0]]"));
    assert_fails("SELECT gnsm_map_to_png(ARRAY[[[0, 1], [1, 0]], [[0, 1], [1, 0]]])", "22023", "got a 3-D array (2x2x2)");
    assert_fails("SELECT gnsm_map_to_png('{}'::smallint[])", "22023", "got an empty array");
    assert_fails(
        "SELECT gnsm_map_to_png(array_fill(0, ARRAY[2, 4097]))",
        "54000",
        "at most 4096 rows and 4096 columns; got a 2x4097 array",
    );
    // PNGs that are not label maps
    let (state, msg, _, hint) = diagnostics("SELECT gnsm_map_from_png('\\x0001020304'::bytea)");
    assert_eq!(state, "22023");
    assert!(msg.starts_with("gnsm_map_from_png: the image is not a PNG file"), "{msg}");
    assert_eq!(hint.as_deref(), Some("convert it to an 8-bit greyscale or palette PNG whose pixel values are class indices"));
    assert_fails(
        "SELECT gnsm_map_from_png(substring(gnsm_map_to_png(array_fill(1, ARRAY[20, 20])) FROM 1 FOR 40))",
        "22023",
        "the image could not be decoded",
    );
}
