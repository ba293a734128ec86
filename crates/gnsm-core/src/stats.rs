//! Small statistics shared by the core: quantiles, mean and standard deviation, log-sum-exp.
//!
//! There are deliberately two quantile definitions, each with its call sites named below. They
//! must not be unified: `quantiles_linear` fills `Model::score_quantiles`, which is stored in every
//! model and read back by `percentile`/`threshold`, and `nearest_rank` fills
//! `NumericColumn::quantiles`, the candidate values of explanations; changing either definition
//! changes stored models' bytes and the scores, percentiles and explanations of existing models.

/// The p-quantile of sorted values with linear interpolation (numpy's default), NaN when empty.
///
/// Used by: `quantiles_linear` (the 1001 stored training-score quantiles), the density head's
/// cross-validation (10% quantile of held-out log-likelihoods, `head::select`) and
/// `Model::threshold`. The expression order is fixed: stored quantiles are bit-compared by the
/// format tests.
pub fn quantile_linear(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
}

/// `count` evenly spaced linear-interpolation quantiles (0%, ..., 100%) of sorted values; empty
/// when there are no values.
pub fn quantiles_linear(sorted: &[f64], count: usize) -> Vec<f64> {
    if sorted.is_empty() {
        return Vec::new();
    }
    // i / (count - 1) is in [0, 1], so the clamp inside quantile_linear changes nothing
    (0..count).map(|i| quantile_linear(sorted, i as f64 / (count - 1) as f64)).collect()
}

/// The nearest-rank q-quantile of sorted, non-empty values: the smallest value with at least a
/// share q of the values at or below it (`ceil(q n)`-th value, ranks from 1).
///
/// Used by: `NumericColumn::fit` (the values explanations try in place of a numeric value); an
/// actual training value, never one interpolated between two.
pub fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Index of percentile `p` (0..=100) in a table of `len` evenly spaced quantiles: rounded down.
///
/// Used by: `Model::catalog_percentiles` (the 101 percentiles the SQL layer stores in its
/// catalog, from the 1001 stored quantiles: index `p * 1000 / 100 = 10 p`, exact).
pub fn percentile_index(p: usize, len: usize) -> usize {
    p * (len - 1) / 100
}

/// Mean and population standard deviation (ddof = 0, numpy's default); NaNs for no values.
/// Two passes: the one-pass formula loses all precision when |mean| >> std.
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// ln sum exp of `v` (f64), finite whenever every entry is finite; the f32 kernel of the network
/// is `kernels::logsumexp`.
pub fn log_sum_exp_f64(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_quantile_linear_interpolates_and_clamps() {
        let v = [1.0, 2.0, 4.0];
        assert_eq!(quantile_linear(&v, 0.25), 1.5);
        assert_eq!(quantile_linear(&v, 0.75), 3.0);
        assert_eq!(quantile_linear(&v, -1.0), 1.0);
        assert_eq!(quantile_linear(&v, 2.0), 4.0);
        assert!(quantile_linear(&[], 0.5).is_nan());
    }

    #[test]
    fn test_quantiles_linear_endpoints_and_count() {
        let q = quantiles_linear(&[0.0, 10.0], 11);
        assert_eq!(q.len(), 11);
        assert_eq!((q[0], q[5], q[10]), (0.0, 5.0, 10.0));
        assert!(quantiles_linear(&[], 11).is_empty());
    }

    #[test]
    fn test_nearest_rank_returns_a_sample_value() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(nearest_rank(&v, 0.5), 2.0);
        assert_eq!(nearest_rank(&v, 0.51), 3.0);
        assert_eq!(nearest_rank(&v, 0.0), 1.0);
        assert_eq!(nearest_rank(&v, 1.0), 4.0);
    }

    #[test]
    fn test_percentile_index_rounds_down() {
        assert_eq!(percentile_index(0, 1001), 0);
        assert_eq!(percentile_index(37, 1001), 370);
        assert_eq!(percentile_index(100, 1001), 1000);
        assert_eq!(percentile_index(50, 4), 1);
    }

    #[test]
    fn test_mean_std_population() {
        let (m, s) = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!((m, s), (5.0, 2.0));
        let (m, s) = mean_std(&[]);
        assert!(m.is_nan() && s.is_nan());
    }

    #[test]
    fn test_log_sum_exp_is_stable() {
        assert!((log_sum_exp_f64(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-9);
        assert_eq!(log_sum_exp_f64(&[f64::NEG_INFINITY; 2]), f64::NEG_INFINITY);
    }
}
