//! Choice of the number of mixture components by k-fold cross-validation of the 10% quantile
//! of held-out log-likelihoods (the tail is what matters for anomaly detection, not the mean).

use super::{FitControl, GaussianMixture, CV_QUANTILE, DEFAULT_MAX_ITER, DEFAULT_REG_COVAR, DEFAULT_TOL};
use crate::error::{Error, Result};
use crate::stats::quantile_linear;
use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Picks the candidate with the best mean held-out 10%-quantile log-likelihood (ties: fewer).
/// The (candidate, fold) fits run one after another, each with its passes in parallel, so that
/// the calling thread can check for interrupts between EM steps.
pub(super) fn select_by_cv(scaled: &Array2<f64>, cands: &[usize], folds: usize, seed: u64, ctl: &mut FitControl) -> Result<usize> {
    let n = scaled.nrows();
    let mut perm: Vec<usize> = (0..n).collect();
    perm.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    // KFold layout: the first n % folds folds get one extra row
    let mut bounds = Vec::with_capacity(folds + 1);
    bounds.push(0);
    for f in 0..folds {
        let size = n / folds + usize::from(f < n % folds);
        bounds.push(bounds[f] + size);
    }
    let fold_data: Vec<(Array2<f64>, Array2<f64>)> = (0..folds)
        .map(|f| {
            let held: Vec<usize> = perm[bounds[f]..bounds[f + 1]].to_vec();
            let train: Vec<usize> = perm[..bounds[f]].iter().chain(&perm[bounds[f + 1]..]).copied().collect();
            (scaled.select(ndarray::Axis(0), &train), scaled.select(ndarray::Axis(0), &held))
        })
        .collect();
    let tasks: Vec<(usize, usize)> = (0..cands.len()).flat_map(|c| (0..folds).map(move |f| (c, f))).collect();
    let mut results: Vec<Result<f64>> = Vec::with_capacity(tasks.len());
    for &(c, f) in &tasks {
        let (train, held) = &fold_data[f];
        let fitted = GaussianMixture::fit_controlled(train.view(), cands[c], seed, DEFAULT_MAX_ITER, DEFAULT_TOL, DEFAULT_REG_COVAR, ctl);
        if let Err(Error::Interrupted) = fitted {
            return Err(Error::Interrupted);
        }
        results.push(fitted.map(|gmm| {
            let mut held_ll = ctl.run(|| gmm.score_samples(held.view()));
            held_ll.sort_by(f64::total_cmp);
            quantile_linear(&held_ll, CV_QUANTILE)
        }));
    }

    let mut best: Option<(f64, usize)> = None;
    let mut first_err = None;
    for (c, &cand) in cands.iter().enumerate() {
        let mut sum = 0.0;
        let mut failed = false;
        for r in &results[c * folds..(c + 1) * folds] {
            match r {
                Ok(q) => sum += q,
                Err(e) => {
                    // a candidate that cannot be fitted on some fold is skipped, not fatal
                    failed = true;
                    first_err.get_or_insert_with(|| e.clone());
                }
            }
        }
        let avg = sum / folds as f64;
        if failed || !avg.is_finite() {
            continue;
        }
        // strict comparison over ascending candidates: ties go to fewer components
        if best.is_none_or(|(b, _)| avg > b) {
            best = Some((avg, cand));
        }
    }
    match (best, first_err) {
        (Some((_, cand)), _) => Ok(cand),
        (None, Some(e)) => Err(e),
        (None, None) => Err(Error::Numeric { reason: "no candidate gave a finite cross-validated likelihood".into() }),
    }
}
