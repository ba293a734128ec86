//! Numeric columns end to end: a mixed table whose anomalies break a dependency between a
//! category and a number (or between two numbers) while every value alone is common, the missing
//! and extreme value policies, explanations of numeric columns, and the format round trip.

use gnsm_core::frequency::IndepNll;
use gnsm_core::encoding::{CodedTable, Encoder, NumericColumn, TableBuilder, NUMERIC_MISSING};
use gnsm_eval::metrics::auroc;
use gnsm_core::model::Model;
use gnsm_core::train::{build_pool, Hooks, TrainConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::sync::OnceLock;

/// Model column order: numeric first.
const NAMES: [&str; 4] = ["amount", "ratio", "segment", "channel"];

/// A row: segment s in 0..4; amount = 10 s + N(0, 1); ratio = amount / 2 + N(0, 0.3); channel
/// is "web" for even segments and "shop" for odd ones, 90% of the time. Anomaly kind 1 takes its
/// amount (and a matching ratio) from another segment; kind 2 takes its ratio from another
/// segment's amount. Each value stays common on its own.
fn row(rng: &mut ChaCha8Rng, kind: u8) -> Vec<Option<String>> {
    let n = |rng: &mut ChaCha8Rng| -> f64 { StandardNormal.sample(rng) };
    let s = rng.random_range(0..4u32);
    let other = (s + rng.random_range(1..4u32)) % 4;
    let amount = 10.0 * f64::from(if kind == 1 { other } else { s }) + n(rng);
    let ratio = if kind == 2 { 5.0 * f64::from(other) } else { amount / 2.0 } + 0.3 * n(rng);
    let web = (s % 2 == 0) ^ (rng.random_range(0..10) == 0);
    vec![Some(format!("{amount:.3}")), Some(format!("{ratio:.3}")), Some(format!("s{s}")), Some(if web { "web" } else { "shop" }.into())]
}

/// Builds the encoder on the training rows and codes both sets.
fn build(train: &[Vec<Option<String>>], test: &[Vec<Option<String>>]) -> (Encoder, CodedTable, CodedTable) {
    let mut b = TableBuilder::with_numeric(NAMES.iter().map(|s| s.to_string()).collect(), 2, 100);
    for r in train {
        let refs: Vec<Option<&str>> = r.iter().map(|v| v.as_deref()).collect();
        b.push_row(&refs).unwrap();
    }
    let (enc, train) = b.finish().unwrap();
    let test = enc.encode_rows(test).unwrap();
    (enc, train, test)
}

struct Mixed {
    encoder: Encoder,
    train: CodedTable,
    test: CodedTable,
    labels: Vec<bool>,
    model: Model,
}

/// 3,000 inlier training rows; test: 300 inliers, 150 anomalies of each kind.
fn mixed() -> &'static Mixed {
    static CELL: OnceLock<Mixed> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let train: Vec<_> = (0..3000).map(|_| row(&mut rng, 0)).collect();
        let kinds: Vec<u8> = (0..600).map(|i| if i % 2 == 0 { 0 } else { 1 + (i / 2 % 2) as u8 }).collect();
        let test: Vec<_> = kinds.iter().map(|&k| row(&mut rng, k)).collect();
        let (encoder, train, test) = build(&train, &test);
        let config =
            TrainConfig { width: 64, depth: 2, steps: 500, batch_size: 256, lr: 3e-3, threads: 2, max_seconds: 600.0, ..TrainConfig::default() };
        let pool = build_pool(2).unwrap();
        let model = Hooks::silent(|h| Model::fit_coded(encoder.clone(), &train, &config, &pool, h)).unwrap();
        Mixed { encoder, train, test, labels: kinds.iter().map(|&k| k > 0).collect(), model }
    })
}

#[test]
fn test_mixed_dependency_anomalies_rank_above_chance_and_above_independent_columns() {
    let m = mixed();
    let pool = build_pool(2).unwrap();
    let scores = m.model.score_table(&m.test, Some(&pool)).unwrap();
    // the independent baseline: category frequencies plus a Gaussian per numeric column
    let p = m.encoder.n_num();
    let indep = IndepNll::fit(&m.train, &m.encoder.block_sizes());
    let s_indep: Vec<f64> = (0..m.test.n_rows)
        .map(|i| {
            let r = m.test.row(i);
            indep.score(&r[p..]) + m.encoder.numeric_nll(&r[..p])
        })
        .collect();
    let (a_gnsm, a_indep) = (auroc(&scores, &m.labels), auroc(&s_indep, &m.labels));
    eprintln!("mixed table AUROC: gnsm {a_gnsm:.3}, independent columns {a_indep:.3}");
    assert!(a_gnsm > 0.9, "gnsm AUROC {a_gnsm}");
    assert!(a_gnsm > a_indep + 0.2, "gnsm {a_gnsm} vs independent {a_indep}");
}

#[test]
fn test_extreme_and_missing_values_score_higher() {
    let m = mixed();
    let enc = &m.model.features.encoder;
    let score = |amount: Option<&str>| {
        let cells = enc.encode_row(&[amount, Some("10.0"), Some("s2"), Some("web")]).unwrap();
        m.model.score_codes(&cells).unwrap()
    };
    let normal = score(Some("20.1"));
    for odd in [Some("60"), Some("1e300"), Some("-Infinity"), Some("Infinity"), None, Some("NaN")] {
        let s = score(odd);
        assert!(s.is_finite() && s > normal, "{odd:?}: {s} vs {normal}");
    }
    // NaN is a missing value, exactly like NULL
    assert_eq!(score(Some("NaN")), score(None));
}

#[test]
fn test_numeric_explanation_points_at_the_broken_column() {
    let m = mixed();
    let enc = &m.model.features.encoder;
    // segment s0 with an amount of s3 and its matching ratio
    let cells = enc.encode_row(&[Some("30.2"), Some("15.1"), Some("s0"), Some("web")]).unwrap();
    let (score, cols) = m.model.explain(&cells).unwrap();
    assert_eq!(cols.iter().map(|c| c.column.as_str()).collect::<Vec<_>>(), NAMES);
    assert_eq!(cols[0].value, "30.2");
    let top = cols.iter().max_by(|a, b| a.contribution.total_cmp(&b.contribution)).unwrap();
    assert!(top.contribution > 0.0 && top.contribution <= score - m.model.score_quantiles[0] + 1e-9);
    // the fix is a segment of the amount, or an amount of the segment
    assert!(top.column == "segment" || top.column == "amount" || top.column == "ratio", "{cols:?}");
    if top.column == "amount" {
        let v: f64 = top.most_likely.parse().expect("a number");
        assert!(v < 5.0, "amount should move towards segment s0's range, got {v}");
    }
    for c in &cols[..2] {
        assert!(c.most_likely == c.value || c.most_likely.parse::<f64>().is_ok(), "{c:?}");
        assert!(c.share >= 0.0 && c.share <= 1.0);
    }
    assert!((cols.iter().map(|c| c.share).sum::<f64>() - 1.0).abs() < 1e-6);
}

#[test]
fn test_mixed_model_round_trips_and_is_deterministic() {
    let m = mixed();
    let bytes = m.model.to_bytes();
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), gnsm_core::MODEL_FORMAT_VERSION);
    let back = Model::from_bytes(&bytes).unwrap();
    assert_eq!(back.features.encoder, m.model.features.encoder);
    assert_eq!(back.score_table(&m.test, None).unwrap(), m.model.score_table(&m.test, None).unwrap());
    // corrupted statistics are refused (checksum recomputed so the decoder sees them)
    let mut bad = back.clone();
    bad.features.encoder.numeric[0].std = f64::NAN;
    assert!(Model::from_bytes(&bad.to_bytes()).is_err());
    // same seed and threads: identical bytes
    let config = TrainConfig { width: 16, depth: 1, steps: 30, batch_size: 64, threads: 2, gmm_components: vec![1, 2], ..TrainConfig::default() };
    let pool = build_pool(2).unwrap();
    let fit = || {
        let mut model = Hooks::silent(|h| Model::fit_coded(m.encoder.clone(), &m.train, &config, &pool, h)).unwrap();
        // the wall-clock duration is the one stored field that cannot repeat
        model.report.seconds = 0.0;
        model.to_bytes()
    };
    assert!(fit() == fit(), "two trainings with the same seed and threads differ");
}

#[test]
fn test_numeric_only_table_trains_and_flags_outliers() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut b = TableBuilder::with_numeric(vec!["x".into(), "y".into()], 2, 10);
    for _ in 0..1000 {
        let x: f64 = StandardNormal.sample(&mut rng);
        let e: f64 = StandardNormal.sample(&mut rng);
        b.push_row(&[Some(&x.to_string()), Some(&(2.0 * x + 0.1 * e).to_string())]).unwrap();
    }
    let (enc, train) = b.finish().unwrap();
    assert_eq!(enc.input_dim(), 2);
    let config = TrainConfig { width: 32, depth: 1, steps: 300, batch_size: 128, threads: 1, lr: 3e-3, ..TrainConfig::default() };
    let pool = build_pool(1).unwrap();
    let model = Hooks::silent(|h| Model::fit_coded(enc, &train, &config, &pool, h)).unwrap();
    let e = &model.features.encoder;
    let on_line = model.score_codes(&e.encode_row(&[Some("1.0"), Some("2.0")]).unwrap()).unwrap();
    // each value is within 1.5 std of its marginal, but far off the line y = 2x
    let off_line = model.score_codes(&e.encode_row(&[Some("1.0"), Some("-2.0")]).unwrap()).unwrap();
    assert!(off_line > on_line + 1.0, "off {off_line} vs on {on_line}");
    assert_eq!(NumericColumn::z(NUMERIC_MISSING), None);
}
