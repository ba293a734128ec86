//! The topology term of a map's evidence: into how many separate pieces (4-connected regions)
//! each class falls, against the training maps. Salt-and-pepper errors, a second object and a
//! torn one all change piece counts while moving few pixels, which the per-position prior barely
//! sees and a score norm over thousands of pixels dilutes.

use super::input::VOID;
use serde::{Deserialize, Serialize};

/// Spread floor of a class's log piece count. A class that is always one piece in training has
/// zero spread; with the floor, one extra piece (ln 3 - ln 2 = 0.41) counts about 1.4 units
/// instead of infinitely many. 0.3 is the only value tried (ADR 012).
const MIN_LOG_SPREAD: f64 = 0.3;

/// Mean and spread of `ln(1 + pieces)` per class over the training maps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PieceCounts {
    pub log_mean: Vec<f64>,
    pub log_spread: Vec<f64>,
}

/// Number of 4-connected pieces of each class in a `height x width` map of codes (void pixels
/// belong to no piece).
pub fn pieces(codes: &[u16], height: usize, width: usize, classes: usize) -> Vec<u32> {
    let mut counts = vec![0u32; classes];
    let mut seen = vec![false; codes.len()];
    let mut stack = Vec::new();
    for start in 0..codes.len() {
        let class = codes[start];
        if seen[start] || class == VOID {
            continue;
        }
        counts[class as usize] += 1;
        // flood fill with an explicit stack (recursion would overflow on a large region)
        seen[start] = true;
        stack.push(start);
        while let Some(p) = stack.pop() {
            let (r, c) = (p / width, p % width);
            let mut visit = |q: usize| {
                if !seen[q] && codes[q] == class {
                    seen[q] = true;
                    stack.push(q);
                }
            };
            if r > 0 {
                visit(p - width);
            }
            if r + 1 < height {
                visit(p + width);
            }
            if c > 0 {
                visit(p - 1);
            }
            if c + 1 < width {
                visit(p + 1);
            }
        }
    }
    counts
}

impl PieceCounts {
    /// Fits the per-class mean and spread of `ln(1 + pieces)` over `maps` (codes at the working
    /// resolution).
    pub fn fit(maps: &[&[u16]], height: usize, width: usize, classes: usize) -> PieceCounts {
        let n = maps.len().max(1) as f64;
        let logs: Vec<Vec<f64>> = maps.iter().map(|m| pieces(m, height, width, classes).iter().map(|&c| (c as f64).ln_1p()).collect()).collect();
        let log_mean: Vec<f64> = (0..classes).map(|k| logs.iter().map(|l| l[k]).sum::<f64>() / n).collect();
        let log_spread = (0..classes)
            .map(|k| {
                let var = logs.iter().map(|l| (l[k] - log_mean[k]).powi(2)).sum::<f64>() / n;
                var.sqrt().max(MIN_LOG_SPREAD)
            })
            .collect();
        PieceCounts { log_mean, log_spread }
    }

    /// How unusual the map's piece counts are against the training maps: the sum over classes of
    /// the absolute z-score of `ln(1 + pieces)`. Two-sided: more pieces than usual is speckle or
    /// a torn object, fewer is an over-smoothed or blocky map whose network score norms are
    /// *smaller* than usual (the CamVid blocky corruption ranked below clean maps with the
    /// one-sided excess, ADR 012).
    pub fn surprise(&self, codes: &[u16], height: usize, width: usize) -> f64 {
        let counts = pieces(codes, height, width, self.log_mean.len());
        counts.iter().enumerate().map(|(k, &c)| (((c as f64).ln_1p() - self.log_mean[k]) / self.log_spread[k]).abs()).sum()
    }

    /// Whether the statistics cover `classes` classes with finite values and positive spreads.
    pub fn is_valid(&self, classes: usize) -> bool {
        self.log_mean.len() == classes
            && self.log_spread.len() == classes
            && self.log_mean.iter().all(|v| v.is_finite())
            && self.log_spread.iter().all(|&s| s.is_finite() && s >= MIN_LOG_SPREAD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_four_connected_and_skip_void() {
        // class 1 in two pieces touching only diagonally; class 0 split in two by them and the void pixel
        let codes = [1, 0, 0, 0, 1, VOID, 0, 0, 0];
        assert_eq!(pieces(&codes, 3, 3, 2), vec![2, 2]);
    }

    #[test]
    fn fragmented_maps_are_surprising_and_typical_ones_are_not() {
        let one_blob: Vec<u16> = (0..64).map(|p| u16::from((2..6).contains(&(p / 8)) && (2..6).contains(&(p % 8)))).collect();
        let maps: Vec<&[u16]> = vec![&one_blob; 10];
        let stats = PieceCounts::fit(&maps, 8, 8, 2);
        assert!(stats.is_valid(2));
        assert_eq!(stats.surprise(&one_blob, 8, 8), 0.0);
        let mut speckled = one_blob.clone();
        for p in [0, 7, 56, 63] {
            speckled[p] = 1;
        }
        // 5 pieces instead of 1: (ln 6 - ln 2) / 0.3
        assert!((stats.surprise(&speckled, 8, 8) - (6f64.ln() - 2f64.ln()) / MIN_LOG_SPREAD).abs() < 1e-9);
        // no blob at all is fewer pieces: (ln 2 - ln 1) / 0.3 for class 1; class 0 stays one piece
        assert!((stats.surprise(&[0; 64], 8, 8) - 2f64.ln() / MIN_LOG_SPREAD).abs() < 1e-9);
    }
}
