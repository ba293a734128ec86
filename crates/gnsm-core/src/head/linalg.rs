//! Dense linear algebra of the Gaussian mixture: dot products, Cholesky factors of covariances
//! and their packed triangular inverses (the precision factors scoring uses).

use crate::error::{Error, Result};

/// How many times the ridge is multiplied by 10 before a covariance is declared hopeless.
const MAX_REG_RETRIES: i32 = 5;

/// Number of entries of a packed lower-triangular d x d matrix.
pub(super) fn packed_len(d: usize) -> usize {
    d * (d + 1) / 2
}

/// Dot product with four accumulators (lets the compiler vectorise; the order is fixed).
#[inline]
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let ca = a.chunks_exact(4);
    let cb = b.chunks_exact(4);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Squared Euclidean distance.
#[inline]
pub(super) fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// In-place Cholesky of a dense row-major d x d matrix (lower triangle read and written);
/// false when a pivot is not strictly positive and finite.
fn cholesky_in_place(a: &mut [f64], d: usize) -> bool {
    for j in 0..d {
        let s = a[j * d + j] - dot(&a[j * d..j * d + j], &a[j * d..j * d + j]);
        if !(s > 0.0 && s.is_finite()) {
            return false;
        }
        let ljj = s.sqrt();
        a[j * d + j] = ljj;
        for i in j + 1..d {
            let t = dot(&a[i * d..i * d + j], &a[j * d..j * d + j]);
            a[i * d + j] = (a[i * d + j] - t) / ljj;
        }
    }
    true
}

/// Inverse of a lower-triangular dense factor, returned packed; None if not finite.
fn invert_lower_packed(l: &[f64], d: usize) -> Option<Vec<f64>> {
    // dense inverse first (column-by-column forward substitution), then pack
    let mut inv = vec![0.0; d * d];
    for c in 0..d {
        for i in c..d {
            let mut s = if i == c { 1.0 } else { 0.0 };
            for k in c..i {
                s -= l[i * d + k] * inv[k * d + c];
            }
            inv[i * d + c] = s / l[i * d + i];
        }
    }
    let mut packed = Vec::with_capacity(packed_len(d));
    for i in 0..d {
        packed.extend_from_slice(&inv[i * d..i * d + i + 1]);
    }
    packed.iter().all(|v| v.is_finite()).then_some(packed)
}

/// Factors `cov + reg I`, raising the ridge tenfold on failure; returns (packed L^-1, ln det).
pub(super) fn precision_factor(cov: &[f64], d: usize, reg_covar: f64, component: usize) -> Result<(Vec<f64>, f64)> {
    let base = if reg_covar > 0.0 { reg_covar } else { 1e-10 };
    let mut tried = reg_covar;
    for attempt in 0..=MAX_REG_RETRIES {
        let reg = if attempt == 0 { reg_covar } else { base * 10f64.powi(attempt) };
        tried = reg;
        let mut a = cov.to_vec();
        for i in 0..d {
            a[i * d + i] += reg;
        }
        if cholesky_in_place(&mut a, d) {
            if let Some(p) = invert_lower_packed(&a, d) {
                let log_det = 2.0 * (0..d).map(|i| a[i * d + i].ln()).sum::<f64>();
                if log_det.is_finite() {
                    return Ok((p, log_det));
                }
            }
        }
    }
    Err(Error::Numeric {
        reason: format!("covariance of mixture component {component} is not positive definite even with a ridge of {tried:e}"),
    })
}
