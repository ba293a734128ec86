//! Per-feature standardisation of the density head's inputs, like sklearn's `StandardScaler`.

use crate::stats::mean_std;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// Per-feature centring and scaling, like sklearn's `StandardScaler`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StandardScaler {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
}

impl StandardScaler {
    /// Learns column means and population standard deviations (1.0 for a constant column).
    pub fn fit(data: ArrayView2<f64>) -> StandardScaler {
        let (n, d) = data.dim();
        let mut mean = vec![0.0; d];
        let mut scale = vec![1.0; d];
        if n == 0 {
            return StandardScaler { mean, scale };
        }
        for (j, col) in data.columns().into_iter().enumerate() {
            let (m, std) = mean_std(&col.to_vec());
            mean[j] = m;
            // a constant column would divide by ~0; sklearn leaves it unscaled
            scale[j] = if std > 10.0 * f64::EPSILON * m.abs().max(1.0) { std } else { 1.0 };
        }
        StandardScaler { mean, scale }
    }

    /// Writes `(x - mean) / scale` into `out` (over the shortest of the three lengths).
    pub fn transform_row(&self, x: &[f64], out: &mut [f64]) {
        for (((o, v), m), s) in out.iter_mut().zip(x).zip(&self.mean).zip(&self.scale) {
            *o = (v - m) / s;
        }
    }

    /// Number of features the scaler was fitted on.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Scales every row of `data` into a new contiguous matrix.
    pub fn transform(&self, data: ArrayView2<f64>) -> Array2<f64> {
        let mut out = data.to_owned();
        for mut row in out.rows_mut() {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = (*v - m) / s;
            }
        }
        out
    }
}
