//! Evaluation metrics for anomaly scores: AUROC, average precision (both with the anomaly as the
//! positive class and higher score = more anomalous), precision at k, mean/std over runs, and
//! Spearman's rank correlation.

/// Indices of `scores` ordered by descending score (ties keep index order), NaN treated as lowest.
fn order_desc(scores: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    // total_cmp puts NaN above +inf; map NaN to -inf so a broken score never looks anomalous
    let key = |v: f64| if v.is_nan() { f64::NEG_INFINITY } else { v };
    idx.sort_by(|&a, &b| key(scores[b]).total_cmp(&key(scores[a])));
    idx
}

/// Share of the k highest-scored rows that are anomalies, k = the number of anomalies (ties keep
/// row order, NaN counts as lowest).
pub fn precision_at_k(scores: &[f64], labels: &[bool]) -> f64 {
    let k = labels.iter().filter(|&&l| l).count();
    order_desc(scores).iter().take(k).filter(|&&i| labels[i]).count() as f64 / k.max(1) as f64
}

/// Area under the ROC curve via Mann-Whitney U with average ranks for ties; NaN when the lengths
/// differ or one class is missing.
pub fn auroc(scores: &[f64], labels: &[bool]) -> f64 {
    if scores.len() != labels.len() {
        return f64::NAN;
    }
    let n_pos = labels.iter().filter(|&&l| l).count();
    let n_neg = labels.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return f64::NAN;
    }
    // ascending order so that rank 1 is the lowest score
    let mut idx = order_desc(scores);
    idx.reverse();
    let key = |i: usize| if scores[i].is_nan() { f64::NEG_INFINITY } else { scores[i] };
    let mut pos_rank_sum = 0.0;
    let mut start = 0;
    while start < idx.len() {
        let mut end = start + 1;
        while end < idx.len() && key(idx[end]) == key(idx[start]) {
            end += 1;
        }
        // ranks start+1..=end share their average
        let avg_rank = (start + 1 + end) as f64 / 2.0;
        let pos_in_group = idx[start..end].iter().filter(|&&i| labels[i]).count();
        pos_rank_sum += avg_rank * pos_in_group as f64;
        start = end;
    }
    let u = pos_rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    u / (n_pos as f64 * n_neg as f64)
}

/// Average precision as sklearn defines it: sum over distinct thresholds of (R_n - R_{n-1}) P_n,
/// tied scores forming one threshold; NaN when the lengths differ or there is no positive.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> f64 {
    if scores.len() != labels.len() {
        return f64::NAN;
    }
    let n_pos = labels.iter().filter(|&&l| l).count();
    if n_pos == 0 {
        return f64::NAN;
    }
    let idx = order_desc(scores);
    let key = |i: usize| if scores[i].is_nan() { f64::NEG_INFINITY } else { scores[i] };
    let (mut tp, mut seen) = (0usize, 0usize);
    let mut prev_recall = 0.0;
    let mut ap = 0.0;
    let mut start = 0;
    while start < idx.len() {
        let mut end = start + 1;
        while end < idx.len() && key(idx[end]) == key(idx[start]) {
            end += 1;
        }
        tp += idx[start..end].iter().filter(|&&i| labels[i]).count();
        seen += end - start;
        let recall = tp as f64 / n_pos as f64;
        let precision = tp as f64 / seen as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
        start = end;
    }
    ap
}

/// Mean and population standard deviation over runs (one implementation, in the core's stats).
pub use gnsm_core::stats::mean_std;

/// Spearman rank correlation with average ranks for ties; NaN when the lengths differ, there are
/// fewer than two pairs, a value is NaN, or one side is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    if x.len() != y.len() || x.len() < 2 || x.iter().chain(y).any(|v| v.is_nan()) {
        return f64::NAN;
    }
    pearson(&ranks(x), &ranks(y))
}

/// Ranks 1..=n in ascending order, tied values sharing the average of their ranks.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut out = vec![0.0; v.len()];
    let mut start = 0;
    while start < idx.len() {
        let mut end = start + 1;
        while end < idx.len() && v[idx[end]] == v[idx[start]] {
            end += 1;
        }
        let avg = (start + 1 + end) as f64 / 2.0;
        for &i in &idx[start..end] {
            out[i] = avg;
        }
        start = end;
    }
    out
}

/// Pearson correlation; NaN when either side has zero variance.
fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    sxy / (sxx * syy).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_monotone_reversed_and_ties() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y: Vec<f64> = x.iter().map(|v: &f64| v.exp()).collect();
        assert!((spearman(&x, &y) - 1.0).abs() < 1e-12);
        let rev: Vec<f64> = x.iter().map(|v| -v * v).collect();
        assert!((spearman(&x, &rev) + 1.0).abs() < 1e-12);
        // ties share ranks: x ranks [1.5, 1.5, 3, 4], y ranks [1, 2, 3, 4]
        let r = spearman(&[1.0, 1.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]);
        assert!((r - 4.5 / 5.0f64.sqrt() / 4.5f64.sqrt()).abs() < 1e-12, "{r}");
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 3.0]), vec![3.0, 1.0, 3.0, 3.0]);
        assert!(spearman(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
        assert!(spearman(&[1.0], &[1.0]).is_nan());
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn test_auroc_perfect_and_inverted() {
        let labels = [false, false, true, true];
        assert!(close(auroc(&[0.1, 0.2, 0.8, 0.9], &labels), 1.0));
        assert!(close(auroc(&[0.9, 0.8, 0.2, 0.1], &labels), 0.0));
    }

    #[test]
    fn test_auroc_with_ties_uses_average_ranks() {
        // pairs (pos, neg): (0.5 vs 0.1) win, (0.5 vs 0.5) half, (0.3 vs 0.1) win, (0.3 vs 0.5) loss
        let scores = [0.1, 0.5, 0.5, 0.3];
        let labels = [false, false, true, true];
        assert!(close(auroc(&scores, &labels), 2.5 / 4.0));
        // all scores equal -> 0.5
        assert!(close(auroc(&[1.0; 5], &[true, false, false, true, false]), 0.5));
    }

    #[test]
    fn test_auroc_missing_class_is_nan() {
        assert!(auroc(&[0.1, 0.2], &[true, true]).is_nan());
        assert!(auroc(&[0.1, 0.2], &[false, false]).is_nan());
        assert!(auroc(&[0.1], &[false, true]).is_nan());
    }

    #[test]
    fn test_average_precision_hand_computed() {
        // sklearn example: y=[0,0,1,1], s=[0.1,0.4,0.35,0.8] -> 0.8333...
        let ap = average_precision(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]);
        assert!(close(ap, 5.0 / 6.0), "{ap}");
        assert!(close(average_precision(&[0.9, 0.1], &[true, false]), 1.0));
    }

    #[test]
    fn test_average_precision_groups_ties() {
        // thresholds: 0.9 -> (1 pos of 1 row), 0.5 -> tie of 1 pos + 1 neg: R=1, P=2/3
        // AP = 0.5*1 + 0.5*(2/3)
        let ap = average_precision(&[0.9, 0.5, 0.5, 0.1], &[true, true, false, false]);
        assert!(close(ap, 0.5 + 1.0 / 3.0), "{ap}");
        // everything tied: AP = prevalence
        assert!(close(average_precision(&[1.0; 4], &[true, false, false, false]), 0.25));
        assert!(average_precision(&[1.0, 2.0], &[false, false]).is_nan());
    }

    #[test]
    fn test_mean_std_population() {
        let (m, s) = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert!(close(m, 5.0) && close(s, 2.0));
        let (m, s) = mean_std(&[]);
        assert!(m.is_nan() && s.is_nan());
    }
}
