//! The per-position class prior: the map counterpart of the independent-columns NLL that table
//! models add to the network's evidence. `-ln p(class | pixel position)`, summed over pixels,
//! with Laplace-smoothed frequencies counted on the training maps at the working resolution.

use super::input::VOID;
use serde::{Deserialize, Serialize};

/// Log-probabilities `ln p(k | position)`, `pixels x K`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PixelPrior {
    pub classes: usize,
    pub log_probs: Vec<f32>,
}

impl PixelPrior {
    /// Counts each position's classes over `maps` (codes at the working resolution), with one
    /// pseudo-count per class so an unseen class at a position costs `ln(n + K)`, not infinity.
    pub fn fit(maps: &[&[u16]], pixels: usize, classes: usize) -> PixelPrior {
        let mut counts = vec![1.0f64; pixels * classes];
        let mut totals = vec![classes as f64; pixels];
        for m in maps {
            for (i, &code) in m.iter().enumerate() {
                if code != VOID {
                    counts[i * classes + code as usize] += 1.0;
                    totals[i] += 1.0;
                }
            }
        }
        let log_probs = counts.iter().enumerate().map(|(j, &c)| (c / totals[j / classes]).ln() as f32).collect();
        PixelPrior { classes, log_probs }
    }

    /// Per-pixel `-ln p(class | position)` (0 for void pixels).
    pub fn pixel_nll<'a>(&'a self, codes: &'a [u16]) -> impl Iterator<Item = f64> + 'a {
        codes.iter().enumerate().map(move |(i, &code)| {
            if code == VOID {
                0.0
            } else {
                -(self.log_probs[i * self.classes + code as usize] as f64)
            }
        })
    }

    /// `-ln p(map)` under independent pixels: the sum of `pixel_nll`.
    pub fn nll(&self, codes: &[u16]) -> f64 {
        self.pixel_nll(codes).sum()
    }

    /// Whether the table fits `pixels` positions.
    pub fn is_valid(&self, pixels: usize) -> bool {
        self.classes >= 2 && self.log_probs.len() == pixels * self.classes && self.log_probs.iter().all(|v| v.is_finite())
    }
}
