//! The score of format-5 models (ADR 010): the evidence terms of a row (the density head's NLL,
//! the independent-columns NLL, the pairwise-conditional NLL), each standardised on the head's
//! training rows and summed, then calibrated into a unit that means the same for every model:
//! `-log10` of the estimated share of training rows that score at least as high. A score of 3
//! says "about 1 training row in 1,000 is this anomalous"; beyond the 99th percentile of the
//! training rows the share comes from an exponential tail fitted to them, so scores keep growing
//! (and keep their order) past the most anomalous training row.

use crate::stats::mean_std;
use serde::{Deserialize, Serialize};

/// Raw-sum quantiles kept for the calibration (0%, 0.1%, ..., 100%).
const CALIBRATION_POINTS: usize = 1001;
/// Share of training rows above which the exponential tail takes over.
const TAIL_SHARE: f64 = 0.01;

/// Standardisation of each evidence term and the calibration of their sum.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Evidence {
    /// (mean, spread) per term: the head NLL first, then the features at `feature_index`. Spreads
    /// are floored at 1 nat (see `Blend::moments` for why).
    pub terms: Vec<(f64, f64)>,
    /// Feature-vector positions of the terms after the head NLL (IndepNLL, PairwiseNLL).
    pub feature_index: Vec<u32>,
    /// Quantiles of the summed standardised terms over the head's training rows.
    pub raw_quantiles: Vec<f64>,
    /// Mean excess of the training sums above their 99th percentile (the tail's scale), at least 1.
    pub tail_scale: f64,
}

impl Evidence {
    /// Fits the standardisation and the calibration on the training rows' terms (`terms[i]` holds
    /// every row's value of term i).
    pub fn fit(terms: &[Vec<f64>], feature_index: Vec<u32>) -> Evidence {
        let moments: Vec<(f64, f64)> = terms
            .iter()
            .map(|v| {
                if v.is_empty() {
                    return (0.0, 1.0);
                }
                let (m, s) = mean_std(v);
                (m, s.max(1.0))
            })
            .collect();
        let n = terms.first().map_or(0, |v| v.len());
        let sums: Vec<f64> = (0..n).map(|r| terms.iter().zip(&moments).map(|(v, (m, s))| (v[r] - m) / s).sum()).collect();
        Evidence { terms: moments, feature_index, raw_quantiles: Vec::new(), tail_scale: 1.0 }.calibrated_on(sums)
    }

    /// The same standardisation, calibrated on these raw sums of the training rows (the fast
    /// scorer's sums, whose head term is the student's estimate).
    pub fn calibrated_on(&self, mut sums: Vec<f64>) -> Evidence {
        sums.retain(|x| x.is_finite());
        sums.sort_by(f64::total_cmp);
        let mut e = Evidence { terms: self.terms.clone(), feature_index: self.feature_index.clone(), raw_quantiles: Vec::new(), tail_scale: 1.0 };
        if sums.is_empty() {
            e.raw_quantiles = vec![0.0; 2];
            return e;
        }
        e.raw_quantiles = crate::stats::quantiles_linear(&sums, CALIBRATION_POINTS);
        let start = e.tail_start();
        let excess: Vec<f64> = sums.iter().filter(|&&x| x > start).map(|x| x - start).collect();
        // floored at one standard unit, as the terms' spreads are: on a table of few distinct rows
        // the training tail is a handful of equal sums, and its measured scale (1e-3 on the
        // README's three-column model) turned each unit of evidence into hundreds of decades
        e.tail_scale = if excess.is_empty() { 1.0 } else { (excess.iter().sum::<f64>() / excess.len() as f64).max(1.0) };
        e
    }

    /// Summed standardised terms of a row (`values` in `terms` order).
    pub fn raw(&self, values: &[f64]) -> f64 {
        self.terms.iter().zip(values).map(|((m, s), v)| (v - m) / s).sum()
    }

    /// Calibrated score of a row from its head NLL and feature vector.
    pub fn score(&self, head_nll: f64, features: &[f64]) -> f64 {
        self.calibrate(self.raw_sum(head_nll, features))
    }

    /// Summed standardised terms of a row from its head NLL and feature vector.
    pub fn raw_sum(&self, head_nll: f64, features: &[f64]) -> f64 {
        let mut raw = (head_nll - self.terms[0].0) / self.terms[0].1;
        for ((m, s), &i) in self.terms[1..].iter().zip(&self.feature_index) {
            raw += (features[i as usize] - m) / s;
        }
        raw
    }

    /// Raw sum where the exponential tail starts (the training rows' 99th percentile).
    fn tail_start(&self) -> f64 {
        let q = &self.raw_quantiles;
        crate::stats::quantile_linear(q, 1.0 - TAIL_SHARE)
    }

    /// Calibrated score of a raw sum: `-log10` of the share of training rows at or above it.
    pub fn calibrate(&self, raw: f64) -> f64 {
        if raw.is_nan() {
            return f64::NAN;
        }
        let q = &self.raw_quantiles;
        let start = self.tail_start();
        let share = if raw > start {
            TAIL_SHARE * (-(raw - start) / self.tail_scale).exp()
        } else if raw <= q[0] {
            1.0
        } else {
            // linear between the stored quantiles: the share above is 1 - position
            let i = q.partition_point(|&v| v <= raw).clamp(1, q.len() - 1);
            let (lo, hi) = (q[i - 1], q[i]);
            let frac = if hi > lo { (raw - lo) / (hi - lo) } else { 1.0 };
            let pos = ((i - 1) as f64 + frac) / (q.len() - 1) as f64;
            (1.0 - pos).max(TAIL_SHARE)
        };
        // beyond exp(-745) the share underflows to 0; the raw distance still orders such rows
        if share > 0.0 {
            -share.log10()
        } else {
            -(TAIL_SHARE.log10()) + (raw - start) / self.tail_scale / std::f64::consts::LN_10
        }
    }

    /// Whether every stored number is usable (a reader's check on foreign bytes).
    pub fn is_valid(&self, n_features: usize) -> bool {
        self.terms.len() == self.feature_index.len() + 1
            && self.feature_index.iter().all(|&i| (i as usize) < n_features)
            && self.terms.iter().all(|(m, s)| m.is_finite() && s.is_finite() && *s > 0.0)
            && self.raw_quantiles.len() >= 2
            && self.raw_quantiles.iter().all(|x| x.is_finite())
            && self.raw_quantiles.windows(2).all(|w| w[0] <= w[1])
            && self.tail_scale.is_finite()
            && self.tail_scale >= 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fitted() -> Evidence {
        let a: Vec<f64> = (0..5000).map(|i| (i % 97) as f64).collect();
        let b: Vec<f64> = (0..5000).map(|i| ((i * 7) % 89) as f64 * 0.5).collect();
        Evidence::fit(&[a, b], vec![0])
    }

    #[test]
    fn test_calibrated_score_is_the_training_tail_share() {
        let e = fitted();
        let raws: Vec<f64> = (0..5000).map(|i| e.raw(&[(i % 97) as f64, ((i * 7) % 89) as f64 * 0.5])).collect();
        // the share of training rows scoring at least s is about 10^-s, inside the 99% range
        for s in [0.3, 1.0, 1.5] {
            let above = raws.iter().filter(|&&r| e.calibrate(r) >= s).count() as f64 / raws.len() as f64;
            assert!((above.log10() + s).abs() < 0.05, "s {s}: share {above}");
        }
        // the tail starts at 2 (1%) and keeps growing with the raw sum
        let top = e.raw_quantiles[e.raw_quantiles.len() - 1];
        assert!(e.calibrate(top) > 2.0);
        assert!(e.calibrate(top + 10.0) > e.calibrate(top + 1.0));
        assert!(e.calibrate(top + 1e6).is_finite());
        assert_eq!(e.calibrate(f64::NEG_INFINITY), 0.0);
        assert!(e.is_valid(2));
    }

    #[test]
    fn test_calibration_keeps_the_order_of_raw_sums() {
        let e = fitted();
        let lo = e.raw_quantiles[0] - 1.0;
        let hi = e.raw_quantiles[e.raw_quantiles.len() - 1] + 50.0;
        let mut prev = f64::NEG_INFINITY;
        for i in 0..=20_000 {
            let raw = lo + (hi - lo) * i as f64 / 20_000.0;
            let s = e.calibrate(raw);
            assert!(s >= prev, "calibration decreased at raw {raw}");
            prev = s;
        }
    }

    #[test]
    fn test_constant_training_terms_still_calibrate() {
        let e = Evidence::fit(&[vec![3.0; 10], vec![1.0; 10]], vec![0]);
        assert!(e.is_valid(2));
        assert_eq!(e.calibrate(0.0), e.calibrate(0.0));
        assert!(e.calibrate(5.0) > e.calibrate(0.0));
    }
}
