//! Evaluation of the map family on segmentation label maps: the two data sets (Weizmann Horse
//! with real ISNet predictions, CamVid street scenes), agreement measures (Dice, Spearman), the
//! baselines a map score has to beat, and graded synthetic corruptions of CamVid maps.
//!
//! - `data`: `load_horse`, `load_camvid`.
//! - `baselines`: `PixelPrior` (per-position class frequencies), `ShapeStats` (area and
//!   connected-component z-scores).
//! - `corrupt`: `FAMILIES`, `corrupt` and the six corruption functions.
//! - `figure`: the benchmark's picture of worst- and best-scored maps with their heatmaps.

pub mod baselines;
pub mod corrupt;
pub mod data;
pub mod figure;

pub use baselines::{component_counts, PixelPrior, ShapeStats};
pub use corrupt::{corrupt, FAMILIES};
pub use data::{load_camvid, load_horse, CamvidItem, HorseItem, CAMVID_CLASSES};

use gnsm_core::map::LabelMap;

/// Dice agreement of two maps of the same size: with `Some(c)` the binary Dice of class c (1.0
/// when neither map has it), with `None` the mean Dice over the classes present in either map;
/// NaN when the sizes differ.
pub fn dice(a: &LabelMap, b: &LabelMap, class: Option<u16>) -> f64 {
    if a.height != b.height || a.width != b.width || a.labels.len() != b.labels.len() {
        return f64::NAN;
    }
    let k = a.max_label().max(b.max_label()) as usize + 1;
    // one pass fills per-class counts: pixels in a, in b, and in both
    let (mut in_a, mut in_b, mut both) = (vec![0u64; k], vec![0u64; k], vec![0u64; k]);
    for (&x, &y) in a.labels.iter().zip(&b.labels) {
        in_a[x as usize] += 1;
        in_b[y as usize] += 1;
        if x == y {
            both[x as usize] += 1;
        }
    }
    let class_dice = |c: usize| {
        let total = in_a[c] + in_b[c];
        if total == 0 {
            1.0
        } else {
            2.0 * both[c] as f64 / total as f64
        }
    };
    match class {
        Some(c) if (c as usize) < k => class_dice(c as usize),
        Some(_) => 1.0,
        None => {
            let present: Vec<usize> = (0..k).filter(|&c| in_a[c] + in_b[c] > 0).collect();
            present.iter().map(|&c| class_dice(c)).sum::<f64>() / present.len() as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(h: usize, w: usize, labels: &[u16]) -> LabelMap {
        LabelMap::new(h, w, labels.to_vec()).unwrap()
    }

    #[test]
    fn dice_identical_disjoint_and_partial() {
        let a = map(2, 3, &[0, 1, 1, 0, 2, 2]);
        assert_eq!(dice(&a, &a, None), 1.0);
        assert_eq!(dice(&a, &a, Some(1)), 1.0);
        let x = map(1, 4, &[1, 1, 0, 0]);
        let y = map(1, 4, &[0, 0, 1, 1]);
        assert_eq!(dice(&x, &y, Some(1)), 0.0);
        assert_eq!(dice(&x, &y, None), 0.0);
        // neither map has class 5
        assert_eq!(dice(&x, &y, Some(5)), 1.0);
        let z = map(1, 4, &[1, 0, 0, 0]);
        // class 1: 2*1/(2+1); class 0: 2*2/(2+3)
        assert!((dice(&x, &z, Some(1)) - 2.0 / 3.0).abs() < 1e-12);
        assert!((dice(&x, &z, None) - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-12);
        assert!(dice(&x, &map(2, 2, &[1, 1, 0, 0]), None).is_nan());
    }

}
