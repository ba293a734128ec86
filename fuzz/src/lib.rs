//! Shared pieces of the fuzz targets: a tiny trained model (made once per process) and the checks
//! every target applies to a model it gets its hands on.

use gnsm_core::encoding::UNSEEN;
use gnsm_core::model::Model;
use gnsm_core::train::{build_pool, Hooks, TrainConfig};
use std::sync::OnceLock;

/// Training options small enough to train in well under a second (width 8, 20 steps).
pub fn tiny_config() -> TrainConfig {
    TrainConfig { width: 8, depth: 1, steps: 20, batch_size: 32, threads: 1, gmm_components: vec![1, 2], evals: 2, ..TrainConfig::default() }
}

/// A model of three dependent columns, trained once per process.
pub fn tiny_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let rows: Vec<Vec<Option<String>>> = (0..200)
            .map(|i| vec![Some(format!("a{}", i % 4)), Some(format!("b{}", i % 4)), if i % 7 == 0 { None } else { Some(format!("c{}", i % 3)) }])
            .collect();
        let pool = build_pool(1).expect("pool");
        Hooks::silent(|h| Model::fit(&names, &rows, &tiny_config(), 1000, &pool, h)).expect("tiny model trains")
    })
}

/// A model of one numeric column that depends on two categorical ones, trained once per process.
pub fn tiny_mixed_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let mut b = gnsm_core::encoding::TableBuilder::with_numeric(vec!["n".into(), "a".into(), "b".into()], 1, 1000);
        for i in 0..200 {
            let n = if i % 9 == 0 { None } else { Some(format!("{}", (i % 4) as f64 * 10.0 + (i % 5) as f64 * 0.1)) };
            b.push_row(&[n.as_deref(), Some(&format!("a{}", i % 4)), Some(&format!("b{}", i % 2))]).expect("row");
        }
        let (enc, table) = b.finish().expect("mixed table");
        let pool = build_pool(1).expect("pool");
        Hooks::silent(|h| Model::fit_coded(enc, &table, &tiny_config(), &pool, h)).expect("tiny mixed model trains")
    })
}

/// Scores that every loaded model must give without panicking: a row of first codes and a row of
/// UNSEEN codes (values never seen in training); for a model trained here they must be finite.
pub fn exercise(model: &Model, must_be_finite: bool) {
    let n = model.features.encoder.n_cols();
    for codes in [vec![0u32; n], vec![UNSEEN; n]] {
        if let Ok(s) = model.score_codes(&codes) {
            assert!(!must_be_finite || s.is_finite(), "score {s} for {codes:?}");
        }
        let _ = model.explain(&codes);
    }
    let _ = model.percentile(0.0);
    let _ = model.threshold(0.01);
}
