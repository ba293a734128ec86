//! End-to-end correctness tests of the core crate: a planted-anomaly table whose anomalies are
//! visible only in the joint distribution, determinism, the model format's round trip and
//! corruption handling, and the unseen-value policy.

use gnsm_core::frequency::IndepNll;
use gnsm_core::encoding::{CodedTable, TableBuilder, UNSEEN};
use gnsm_eval::metrics::auroc;
use gnsm_core::model::Model;
use gnsm_core::train::{build_pool, Hooks, TrainConfig};
use gnsm_core::Error;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::OnceLock;

/// Category count of the dependent columns.
const K: u32 = 5;

/// A row of the planted table: a, b free; c = (a + b) mod K; d = (a + 2b) mod K. An anomaly keeps
/// a and b but draws c and d so that at least one breaks its rule: every value stays common, only
/// the combination is wrong.
fn planted_row(rng: &mut ChaCha8Rng, anomaly: bool) -> Vec<String> {
    let (a, b) = (rng.random_range(0..K), rng.random_range(0..K));
    let (mut c, mut d) = ((a + b) % K, (a + 2 * b) % K);
    if anomaly {
        c = (c + rng.random_range(1..K)) % K;
        d = (d + rng.random_range(1..K)) % K;
    }
    vec![format!("a{a}"), format!("b{b}"), format!("c{c}"), format!("d{d}")]
}

/// Codes `rows` with `builder`'s vocabulary after fitting it on the training rows.
fn build(train: &[Vec<String>], test: &[Vec<String>]) -> (gnsm_core::encoding::Encoder, CodedTable, CodedTable) {
    let names: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
    let mut b = TableBuilder::new(names, 100);
    for r in train {
        let row: Vec<Option<&str>> = r.iter().map(|v| Some(v.as_str())).collect();
        b.push_row(&row).unwrap();
    }
    let (enc, codes) = b.finish().unwrap();
    let test_raw: Vec<Vec<Option<String>>> = test.iter().map(|r| r.iter().map(|v| Some(v.clone())).collect()).collect();
    let test_codes = enc.encode_rows(&test_raw).unwrap();
    (enc, codes, test_codes)
}

/// A small, fast configuration (about 1-2 s of training at opt-level 3 on 2 threads).
fn small_config() -> TrainConfig {
    TrainConfig { width: 64, depth: 2, steps: 400, batch_size: 256, lr: 3e-3, threads: 2, max_seconds: 600.0, ..TrainConfig::default() }
}

/// The planted data set and a model trained on its inliers, shared by the tests of this file.
struct Planted {
    encoder: gnsm_core::encoding::Encoder,
    train: CodedTable,
    test: CodedTable,
    labels: Vec<bool>,
    model: Model,
}

/// Builds (once) 3,000 inlier training rows and a test set of 400 inliers + 400 anomalies.
fn planted() -> &'static Planted {
    static CELL: OnceLock<Planted> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let train: Vec<Vec<String>> = (0..3000).map(|_| planted_row(&mut rng, false)).collect();
        let labels: Vec<bool> = (0..800).map(|i| i % 2 == 1).collect();
        let test: Vec<Vec<String>> = labels.iter().map(|&l| planted_row(&mut rng, l)).collect();
        let (encoder, train, test) = build(&train, &test);
        let pool = build_pool(2).unwrap();
        let model = Hooks::silent(|h| Model::fit_coded(encoder.clone(), &train, &small_config(), &pool, h)).unwrap();
        Planted { encoder, train, test, labels, model }
    })
}

#[test]
fn test_planted_dependency_anomalies_rank_far_above_chance_and_above_indep_nll() {
    let p = planted();
    let pool = build_pool(2).unwrap();
    let scores = p.model.score_table(&p.test, Some(&pool)).unwrap();
    let indep = IndepNll::fit(&p.train, &p.encoder.block_sizes());
    let s_indep: Vec<f64> = (0..p.test.n_rows).map(|i| indep.score(p.test.row(i))).collect();
    let (a_gnsm, a_indep) = (auroc(&scores, &p.labels), auroc(&s_indep, &p.labels));
    eprintln!("planted: gnsm AUROC {a_gnsm:.3}, IndepNLL {a_indep:.3}");
    assert!(a_gnsm > 0.9, "gnsm AUROC {a_gnsm:.3} (indep {a_indep:.3})");
    assert!(a_gnsm > a_indep + 0.2, "gnsm AUROC {a_gnsm:.3} vs indep {a_indep:.3}");
}

#[test]
fn test_same_seed_and_threads_give_identical_model_bytes() {
    let p = planted();
    let pool = build_pool(2).unwrap();
    let mut again = Hooks::silent(|h| Model::fit_coded(p.encoder.clone(), &p.train, &small_config(), &pool, h)).unwrap();
    let mut first = p.model.clone();
    // the wall-clock duration is the one stored field that cannot repeat; everything else must
    first.report.seconds = 0.0;
    again.report.seconds = 0.0;
    assert!(first.to_bytes() == again.to_bytes(), "two trainings with seed 42 and 2 threads differ");
}

#[test]
fn test_model_bytes_round_trip_and_score_identically() {
    let p = planted();
    let bytes = p.model.to_bytes();
    let back = Model::from_bytes(&bytes).unwrap();
    assert!(back.to_bytes() == bytes);
    for i in 0..20 {
        let row = p.test.row(i);
        assert_eq!(p.model.score_codes(row).unwrap().to_bits(), back.score_codes(row).unwrap().to_bits());
    }
}

#[test]
fn test_truncated_and_bit_flipped_models_are_corrupt_not_panics() {
    let bytes = planted().model.to_bytes();
    let mut cuts: Vec<usize> = (0..64).collect();
    cuts.extend((1..50).map(|i| i * bytes.len() / 50));
    for cut in cuts {
        let r = std::panic::catch_unwind(|| Model::from_bytes(&bytes[..cut]));
        assert!(matches!(r, Ok(Err(Error::CorruptModel { .. }))), "truncation at {cut}");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..200 {
        let mut b = bytes.clone();
        let i = rng.random_range(0..b.len());
        b[i] ^= 1 << rng.random_range(0..8);
        let r = std::panic::catch_unwind(|| Model::from_bytes(&b));
        assert!(matches!(r, Ok(Err(Error::CorruptModel { .. }))), "bit flip at byte {i}");
    }
    assert!(matches!(Model::from_bytes(b"not a model"), Err(Error::CorruptModel { .. })));
}

#[test]
fn test_unseen_value_scores_higher_than_the_seen_value() {
    let p = planted();
    for i in 0..40 {
        let row = p.test.row(i).to_vec();
        if p.labels[i] {
            continue;
        }
        let base = p.model.score_codes(&row).unwrap();
        for j in 0..row.len() {
            let mut v = row.clone();
            v[j] = UNSEEN;
            let s = p.model.score_codes(&v).unwrap();
            assert!(s > base, "row {i} column {j}: unseen {s} <= seen {base}");
        }
    }
}

/// Spearman rank correlation (ties broken by position; the scores here are continuous).
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let ranks = |v: &[f64]| {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0; v.len()];
        for (rank, &i) in idx.iter().enumerate() {
            r[i] = rank as f64;
        }
        r
    };
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let d2: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - y) * (x - y)).sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

#[test]
fn test_fast_scorer_ranks_like_the_exact_one_and_survives_the_round_trip() {
    let p = planted();
    let pool = build_pool(2).unwrap();
    // a model trained with the fast scorer carries it, and scores with it
    let model = Hooks::silent(|h| {
        Model::fit_coded(p.encoder.clone(), &p.train, &TrainConfig { fast_scorer: true, ..small_config() }, &pool, h)
    })
    .unwrap();
    let fast = model.fast.as_ref().expect("\"scorer\": \"fast\" fits a fast scorer");
    let scores = model.score_table(&p.test, Some(&pool)).unwrap();
    let exact = model.score_table_exact(&p.test, Some(&pool)).unwrap();
    assert_eq!(scores[5], fast.score(&model.features, p.test.row(5)));
    assert_eq!(scores[5], model.score_codes(p.test.row(5)).unwrap());
    let (a_fast, a_exact) = (auroc(&scores, &p.labels), auroc(&exact, &p.labels));
    assert!(a_fast > a_exact - 0.02, "fast AUROC {a_fast} vs exact {a_exact}");
    let rho = spearman(&scores, &exact);
    assert!(rho > 0.9, "Spearman {rho}");
    // the bytes keep it; the default (exact) model has none and scores from the network, exactly
    // as the fast model's exact path does (same seed, same network)
    let back = Model::from_bytes(&model.to_bytes()).unwrap();
    assert_eq!(back.score_table(&p.test, Some(&pool)).unwrap(), scores);
    assert!(p.model.fast.is_none());
    let s = p.model.score_table(&p.test, Some(&pool)).unwrap();
    assert_eq!(s, exact);
}
