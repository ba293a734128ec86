// Shared helpers of the `#[pg_test]`s (included into `mod tests` in lib.rs with the test files).

use pgrx::prelude::*;

/// Tiny, fast training options for tests (about a second per model).
const FAST: &str = r#"{"width": 16, "depth": 1, "steps": 40, "batch_size": 64, "threads": 1, "seed": 1, "gmm_components": [1, 2], "evals": 2}"#;

/// Runs `sql` and returns "ok" or "SQLSTATE: message" (PL/pgSQL catches the error).
fn outcome(sql: &str) -> String {
    Spi::run(
        "CREATE OR REPLACE FUNCTION pg_temp.outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
         BEGIN EXECUTE q; RETURN 'ok';
         EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$",
    )
    .unwrap();
    Spi::get_one_with_args::<String>("SELECT pg_temp.outcome($1)", &[sql.into()]).unwrap().unwrap()
}

/// Asserts `sql` fails with `state` and a message containing `needle`.
fn assert_fails(sql: &str, state: &str, needle: &str) {
    let got = outcome(sql);
    assert!(got.starts_with(&format!("{state}: ")) && got.contains(needle), "{sql}\n  expected {state} containing {needle:?}\n  got {got}");
}

/// A table whose columns depend on each other (b = a's partner, c = f(a, b)), 600 rows, with
/// 6 planted rows that break the dependency; ids 1..6 are the planted ones.
fn make_dependent_table(name: &str) {
    Spi::run(&format!(
        "CREATE TABLE {name} (id int PRIMARY KEY, a text, b text, c text, planted bool);
         INSERT INTO {name}
         SELECT g, 'a' || (g % 6), 'b' || (g % 6), 'c' || ((g % 6) / 2), false FROM generate_series(7, 600) g;
         INSERT INTO {name} VALUES
           (1, 'a0', 'b3', 'c0', true), (2, 'a1', 'b4', 'c0', true), (3, 'a2', 'b5', 'c1', true),
           (4, 'a3', 'b0', 'c1', true), (5, 'a4', 'b1', 'c2', true), (6, 'a5', 'b2', 'c2', true);"
    ))
    .unwrap();
}

/// Trains `name` on its a, b, c columns with the fast options.
fn train(table: &str) {
    Spi::run(&format!("SELECT gnsm_train('{table}', ARRAY['a','b','c'], '{FAST}')")).unwrap();
}

