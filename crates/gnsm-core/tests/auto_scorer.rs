//! `"scorer": "auto"` (the default, ADR 016): the fit chooses the fast scorer when the training
//! rows hold at least `AUTO_FAST_MIN_DISTINCT_ROWS` distinct rows and the exact one below, the
//! stored model records the choice, and an explicit choice is never overridden.

use gnsm_core::model::{distinct_rows, Model};
use gnsm_core::train::{build_pool, Hooks, TrainConfig, AUTO_FAST_MIN_DISTINCT_ROWS};


/// A small, quick network (the choice does not depend on it).
fn small() -> TrainConfig {
    TrainConfig { width: 16, depth: 1, steps: 20, batch_size: 64, threads: 2, seed: 9, ..TrainConfig::default() }
}

/// `n` rows of which `distinct` differ (three columns; the rest repeat the first rows).
fn rows(n: usize, distinct: usize) -> Vec<Vec<Option<String>>> {
    (0..n)
        .map(|i| {
            let k = i % distinct;
            vec![Some(format!("a{}", k % 200)), Some(format!("b{}", k / 200)), Some(format!("c{}", k % 7))]
        })
        .collect()
}

#[test]
fn test_auto_is_the_default_and_decides_by_distinct_rows() {
    let c = TrainConfig::default();
    assert!(c.auto_scorer && !c.fast_scorer);
    assert!(!c.resolve_scorer(AUTO_FAST_MIN_DISTINCT_ROWS - 1).fast_scorer);
    let r = c.resolve_scorer(AUTO_FAST_MIN_DISTINCT_ROWS);
    assert!(r.fast_scorer && !r.auto_scorer, "the resolved config records the choice");
    // an explicit choice stays what it was
    let exact = TrainConfig { auto_scorer: false, ..TrainConfig::default() };
    assert!(!exact.resolve_scorer(10_000_000).fast_scorer);
    let fast = TrainConfig { fast_scorer: true, auto_scorer: false, ..TrainConfig::default() };
    assert!(fast.resolve_scorer(10).fast_scorer);
}

#[test]
fn test_auto_fits_the_fast_scorer_only_on_a_table_of_many_distinct_rows() {
    let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let pool = build_pool(2).unwrap();
    let few = Hooks::silent(|h| Model::fit(&names, &rows(3_000, 600), &small(), 1000, &pool, h)).unwrap();
    assert!(few.fast.is_none() && !few.config.fast_scorer, "600 distinct rows: exact");
    let data = rows(AUTO_FAST_MIN_DISTINCT_ROWS + 500, AUTO_FAST_MIN_DISTINCT_ROWS);
    let many = Hooks::silent(|h| Model::fit(&names, &data, &small(), 1000, &pool, h)).unwrap();
    assert!(many.fast.is_some() && many.config.fast_scorer, "30,000 distinct rows: fast");
    // the choice survives the byte format, and the model scores with the student
    let again = Model::from_bytes(&many.to_bytes()).unwrap();
    assert!(again.fast.is_some() && again.config == many.config);
    let codes = many.features.encoder.encode_row(&[Some("a3"), Some("b9"), Some("c6")]).unwrap();
    assert_eq!(again.score_codes(&codes).unwrap().to_bits(), many.score_codes(&codes).unwrap().to_bits());
}

#[test]
fn test_distinct_rows_counts_equal_rows_once() {
    let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let mut builder = gnsm_core::encoding::TableBuilder::new(names, 1000);
    for r in rows(1_000, 137) {
        let cells: Vec<Option<&str>> = r.iter().map(|v| v.as_deref()).collect();
        builder.push_row(&cells).unwrap();
    }
    let (_, table) = builder.finish().unwrap();
    assert_eq!(distinct_rows(&table), 137);
}
