//! Tests of the density head: scaler, Cholesky factors, EM recovery, degenerate and bad input,
//! outlier scoring and thread-count determinism.

use super::em::{LN_2PI, MIN_COMPONENT_ROWS};
use super::linalg::precision_factor;
use super::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use ndarray::Array2;
use rand_distr::{Distribution, StandardNormal};

/// n x d standard normal samples shifted by `shift`.
fn normal(n: usize, d: usize, shift: f64, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, d), |_| {
        let z: f64 = StandardNormal.sample(&mut rng);
        z + shift
    })
}

#[test]
fn test_scaler_population_std_and_constant_column() {
    let x = ndarray::array![[1.0, 5.0], [3.0, 5.0]];
    let s = StandardScaler::fit(x.view());
    assert_eq!(s.mean, vec![2.0, 5.0]);
    assert_eq!(s.scale, vec![1.0, 1.0]);
    let x = ndarray::array![[0.0], [4.0]];
    let s = StandardScaler::fit(x.view());
    assert_eq!(s.scale, vec![2.0]);
    let mut out = [0.0];
    s.transform_row(&[4.0], &mut out);
    assert_eq!(out, [1.0]);
}

#[test]
fn test_cholesky_inverse_matches_known_matrix() {
    // [[4,2],[2,3]] = L L^T with L = [[2,0],[1,sqrt 2]]
    let (p, ld) = precision_factor(&[4.0, 2.0, 2.0, 3.0], 2, 0.0, 0).unwrap();
    assert!((ld - 8.0f64.ln()).abs() < 1e-12);
    let s2 = 2f64.sqrt();
    let expect = [0.5, -0.5 / s2, 1.0 / s2];
    for (a, b) in p.iter().zip(expect) {
        assert!((a - b).abs() < 1e-12, "{p:?}");
    }
}

#[test]
fn test_recovers_two_separated_clusters() {
    let a = normal(300, 2, -5.0, 1);
    let b = normal(300, 2, 5.0, 2);
    let x = ndarray::concatenate![ndarray::Axis(0), a, b];
    let g = GaussianMixture::fit(x.view(), 2, 0, DEFAULT_MAX_ITER, DEFAULT_TOL, DEFAULT_REG_COVAR).unwrap();
    assert_eq!(g.n_components, 2);
    let mut m: Vec<f64> = vec![g.means[0], g.means[2]];
    m.sort_by(f64::total_cmp);
    assert!((m[0] + 5.0).abs() < 0.3 && (m[1] - 5.0).abs() < 0.3, "{:?}", g.means);
    assert!(g.weights.iter().all(|w| (w - 0.5).abs() < 0.01));
}

#[test]
fn test_standard_normal_density_at_origin() {
    let d = 3;
    let x = normal(20_000, d, 0.0, 3);
    let g = GaussianMixture::fit(x.view(), 1, 0, DEFAULT_MAX_ITER, DEFAULT_TOL, DEFAULT_REG_COVAR).unwrap();
    let expect = -(d as f64) / 2.0 * LN_2PI;
    let got = g.log_likelihood(&[0.0; 3]);
    assert!((got - expect).abs() < 0.05, "{got} vs {expect}");
    // batch and single-row scoring agree exactly
    let batch = g.score_samples(x.view());
    assert_eq!(batch[7], g.log_likelihood(x.row(7).as_slice().unwrap()));
}

#[test]
fn test_degenerate_data_fits_finite() {
    let x = Array2::from_elem((50, 4), 2.5);
    let g = GaussianMixture::fit(x.view(), 5, 0, DEFAULT_MAX_ITER, DEFAULT_TOL, DEFAULT_REG_COVAR).unwrap();
    assert_eq!(g.n_components, 1);
    assert!(g.validate().is_ok());
    assert!(g.log_likelihood(&[2.5; 4]).is_finite());
    assert!(g.log_likelihood(&[1e200; 4]).is_finite());
    // fewer distinct points than components, and d = 1
    let x = Array2::from_shape_fn((40, 1), |(i, _)| (i % 2) as f64);
    let g = GaussianMixture::fit(x.view(), 5, 0, DEFAULT_MAX_ITER, DEFAULT_TOL, DEFAULT_REG_COVAR).unwrap();
    assert!(g.n_components <= 2);
    assert!(g.log_likelihood(&[0.5]).is_finite());
    // k > n is reduced to n
    let x = ndarray::array![[0.0, 1.0], [2.0, 3.0]];
    let g = GaussianMixture::fit(x.view(), 9, 0, 10, DEFAULT_TOL, DEFAULT_REG_COVAR).unwrap();
    assert!(g.n_components <= 2);
    let head = DensityHead::fit(Array2::from_elem((30, 3), 1.0).view(), &[3, 5], 5, 0).unwrap();
    assert!(head.score(&[1.0, 1.0, 1.0]).is_finite());
}

#[test]
fn test_bad_input_is_an_error_not_a_panic() {
    let x = ndarray::array![[0.0, f64::NAN]];
    assert!(GaussianMixture::fit(x.view(), 1, 0, 10, 1e-3, 1e-6).is_err());
    let empty = Array2::<f64>::zeros((0, 3));
    assert!(GaussianMixture::fit(empty.view(), 1, 0, 10, 1e-3, 1e-6).is_err());
    let x = ndarray::array![[0.0], [1.0]];
    assert!(GaussianMixture::fit(x.view(), 0, 0, 10, 1e-3, 1e-6).is_err());
    assert!(DensityHead::fit(x.view(), &[], 5, 0).is_err());
    assert!(DensityHead::fit(x.view(), &[3], 1, 0).is_err());
    let g = GaussianMixture::fit(x.view(), 1, 0, 10, 1e-3, 1e-6).unwrap();
    assert!(g.log_likelihood(&[0.0, 1.0]).is_nan());
}

#[test]
fn test_density_head_scores_outlier_high() {
    let x = normal(2_000, 5, 0.0, 4);
    let head = DensityHead::fit(x.view(), &DEFAULT_CANDIDATES, DEFAULT_FOLDS, 7).unwrap();
    assert!(DEFAULT_CANDIDATES.contains(&head.n_components));
    let inlier_max = (0..100).map(|i| head.score(x.row(i).as_slice().unwrap())).fold(f64::MIN, f64::max);
    let outlier = head.score(&[8.0, -8.0, 8.0, -8.0, 8.0]);
    assert!(outlier > inlier_max + 50.0, "{outlier} vs {inlier_max}");
    let batch = head.score_batch(x.view());
    assert_eq!(batch[3], head.score(x.row(3).as_slice().unwrap()));
}

#[test]
fn test_a_few_training_outliers_get_no_component_of_their_own() {
    // 995 inliers and 5 identical far outliers among the training rows (the unsupervised use):
    // with a spike component of their own they would be the most likely rows of all
    let mut x = normal(995, 3, 0.0, 8);
    let far = Array2::from_elem((5, 3), 25.0);
    x = ndarray::concatenate![ndarray::Axis(0), x, far];
    let head = DensityHead::fit(x.view(), &[3, 5, 7], DEFAULT_FOLDS, 3).unwrap();
    let outlier = head.score(&[25.0, 25.0, 25.0]);
    let inlier_max = (0..995).map(|i| head.score(x.row(i).as_slice().unwrap())).fold(f64::MIN, f64::max);
    assert!(outlier > inlier_max, "outlier {outlier} vs most anomalous inlier {inlier_max}");
    assert!(head.gmm.weights.iter().all(|&w| w * 1000.0 >= MIN_COMPONENT_ROWS - 1e-9), "{:?}", head.gmm.weights);
}

#[test]
fn test_same_seed_identical_fit_any_thread_count() {
    let x = ndarray::concatenate![ndarray::Axis(0), normal(3_000, 6, 0.0, 5), normal(2_000, 6, 3.0, 6)];
    let fit = || GaussianMixture::fit(x.view(), 4, 11, DEFAULT_MAX_ITER, DEFAULT_TOL, DEFAULT_REG_COVAR).unwrap();
    let a = fit();
    let b = fit();
    assert_eq!(a, b);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let c = pool.install(fit);
    assert_eq!(a, c);
}

#[test]
fn test_an_interrupt_stops_the_head_fit_and_a_quiet_hook_changes_nothing() {
    let x = normal(4_000, 8, 0.0, 9);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    // a hook that never interrupts is asked at least once per cross-validation fit, and the head
    // is the one fitted without a control (the pool changes where passes run, not what they sum)
    let mut calls = 0usize;
    let mut count = || {
        calls += 1;
        false
    };
    let head = DensityHead::fit_controlled(x.view(), &DEFAULT_CANDIDATES, DEFAULT_FOLDS, 7, &mut FitControl::new(Some(&pool), &mut count)).unwrap();
    assert_eq!(head, DensityHead::fit(x.view(), &DEFAULT_CANDIDATES, DEFAULT_FOLDS, 7).unwrap());
    assert!(calls >= DEFAULT_CANDIDATES.len() * DEFAULT_FOLDS, "{calls} checks");
    // a hook that interrupts at its 10th call stops the fit there, with Interrupted
    let mut asked = 0usize;
    let mut stop = || {
        asked += 1;
        asked >= 10
    };
    let stopped = DensityHead::fit_controlled(x.view(), &DEFAULT_CANDIDATES, DEFAULT_FOLDS, 7, &mut FitControl::new(Some(&pool), &mut stop));
    assert!(matches!(stopped, Err(crate::Error::Interrupted)), "{stopped:?}");
    assert_eq!(asked, 10);
}

#[test]
fn test_head_fit_checks_for_interrupts_well_within_a_second() {
    // a cancel must stop training within a second (issue 13); the head's longest step is one EM
    // or k-means pass over its rows: 20,000 rows (four times the default max_head_rows) x 41
    // features, nine components
    let x = normal(20_000, 41, 0.0, 10);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let mut last = std::time::Instant::now();
    let mut worst = std::time::Duration::ZERO;
    let mut hook = || {
        let now = std::time::Instant::now();
        worst = worst.max(now - last);
        last = now;
        false
    };
    DensityHead::fit_controlled(x.view(), &[9], DEFAULT_FOLDS, 1, &mut FitControl::new(Some(&pool), &mut hook)).unwrap();
    // generous against a loaded machine: one pass takes tens of milliseconds here
    assert!(worst < std::time::Duration::from_millis(1000), "longest gap between checks {worst:?}");
}
