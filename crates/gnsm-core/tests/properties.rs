//! Property tests (proptest) on the core: encoding round trips, finite scores for any row, and
//! that a never-seen value never makes a row look more normal.

use gnsm_core::encoding::{TableBuilder, UNSEEN};
use gnsm_core::model::Model;
use gnsm_core::train::{build_pool, Hooks, TrainConfig};
use proptest::prelude::*;
use std::sync::OnceLock;

/// A column value: NULL, or a string from a mix of ASCII, empty, Unicode and long values.
fn value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        4 => "[a-c]{0,2}".prop_map(Some),
        1 => "\\PC{0,12}".prop_map(Some),
        1 => (0usize..3000).prop_map(|n| Some("x".repeat(n))),
    ]
}

/// A table of 1-5 columns and 1-60 rows (names are unique, rows have the table's arity).
fn table() -> impl Strategy<Value = (Vec<String>, Vec<Vec<Option<String>>>)> {
    (1usize..=5).prop_flat_map(|cols| {
        let names: Vec<String> = (0..cols).map(|j| format!("c{j}")).collect();
        (Just(names), prop::collection::vec(prop::collection::vec(value(), cols), 1..60))
    })
}

/// Three dependent columns (b follows a, c follows b), trained once for all cases.
fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let rows: Vec<Vec<Option<String>>> = (0..400)
            .map(|i| {
                let k = i % 5;
                vec![Some(format!("a{k}")), Some(format!("b{k}")), if i % 11 == 0 { None } else { Some(format!("c{}", k / 2)) }]
            })
            .collect();
        let config =
            TrainConfig { width: 16, depth: 1, steps: 60, batch_size: 64, threads: 1, gmm_components: vec![1, 2], evals: 2, ..TrainConfig::default() };
        let pool = build_pool(1).unwrap();
        Hooks::silent(|h| Model::fit(&names, &rows, &config, 1000, &pool, h)).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Every training row codes back to itself, codes display as their values, and a value that
    /// was not in the table codes as UNSEEN.
    #[test]
    fn prop_encoding_round_trips((names, rows) in table()) {
        let mut b = TableBuilder::new(names.clone(), 10_000);
        for r in &rows {
            let refs: Vec<Option<&str>> = r.iter().map(|v| v.as_deref()).collect();
            b.push_row(&refs).unwrap();
        }
        let (enc, coded) = match b.finish() {
            Ok(done) => done,
            // one distinct row is refused: nothing to learn
            Err(gnsm_core::Error::InsufficientData { .. }) => {
                prop_assert!(rows.iter().all(|r| r == &rows[0]));
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        prop_assert_eq!(coded.n_rows, rows.len());
        for (i, r) in rows.iter().enumerate() {
            let codes = enc.encode_row(r).unwrap();
            prop_assert_eq!(&codes[..], coded.row(i));
            for ((col, &c), v) in enc.columns.iter().zip(&codes).zip(r) {
                prop_assert_eq!(col.display(c), v.clone().unwrap_or_else(|| "NULL".into()));
            }
        }
        let never: Vec<Option<String>> = (0..names.len()).map(|_| Some("\u{1F47B} never seen".into())).collect();
        prop_assert!(enc.encode_row(&never).unwrap().iter().all(|&c| c == UNSEEN));
        prop_assert!(enc.encode_row(&never[..names.len() - 1]).is_err(), "wrong arity is an error");
    }

    /// Any row, with any mix of seen, never-seen and NULL values, gets a finite score, a
    /// percentile in [0, 100] and finite, non-negative explanation contributions.
    #[test]
    fn prop_scores_are_finite_for_any_row(row in prop::collection::vec(value(), 3)) {
        let m = model();
        let codes = m.features.encoder.encode_row(&row).unwrap();
        let s = m.score_codes(&codes).unwrap();
        prop_assert!(s.is_finite(), "score {} for {:?}", s, row);
        let p = m.percentile(s);
        prop_assert!((0.0..=100.0).contains(&p));
        let (s2, cols) = m.explain(&codes).unwrap();
        prop_assert_eq!(s, s2);
        prop_assert!(cols.iter().all(|c| c.contribution.is_finite() && c.contribution >= 0.0));
    }

    /// Replacing one value of a row by a never-seen value never lowers its score: an unknown value
    /// is evidence of an anomaly, never of normality.
    #[test]
    fn prop_a_never_seen_value_never_makes_a_row_more_normal(k in 0usize..5, col in 0usize..3, null_c in any::<bool>()) {
        let m = model();
        let row = vec![Some(format!("a{k}")), Some(format!("b{k}")), if null_c { None } else { Some(format!("c{}", k / 2)) }];
        let mut worse = row.clone();
        worse[col] = Some("never seen".into());
        let s = m.score_codes(&m.features.encoder.encode_row(&row).unwrap()).unwrap();
        let s_unseen = m.score_codes(&m.features.encoder.encode_row(&worse).unwrap()).unwrap();
        prop_assert!(s_unseen > s, "{:?}: {} vs {:?}: {}", row, s, worse, s_unseen);
    }
}
