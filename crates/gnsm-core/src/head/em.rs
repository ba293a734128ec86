//! The full-covariance Gaussian mixture: EM fitting (E-step and M-step over fixed-size chunks,
//! reduced in chunk order), validation of stored parameters, and log-density scoring.

use super::kmeans::{kmeans, Stats};
use super::linalg::{dot, packed_len, precision_factor};
use super::{uncontrolled, FitControl, CHUNK_ROWS};
use crate::error::{invalid, Error, Result};
use crate::stats::log_sum_exp_f64;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A component carrying less responsibility mass than this (in rows) is dropped.
const MIN_COMPONENT_MASS: f64 = 1e-6;
/// Fewest training rows a mixture component must explain to be kept (see the module note).
pub(super) const MIN_COMPONENT_ROWS: f64 = 10.0;
/// sklearn adds 10 machine epsilons to every component mass to avoid dividing by zero.
const MASS_EPS: f64 = 10.0 * f64::EPSILON;
/// ln(2 pi).
pub(super) const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Full-covariance Gaussian mixture, stored flat so it serialises compactly.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GaussianMixture {
    /// Number of components k (may be below the requested count, see the module doc).
    pub n_components: usize,
    /// Dimension d.
    pub dim: usize,
    /// Mixing weights, length k, summing to 1.
    pub weights: Vec<f64>,
    /// Component means, row-major k x d.
    pub means: Vec<f64>,
    /// Per component, the lower-triangular inverse `L^-1` of the covariance Cholesky factor
    /// (`Sigma = L L^T`, so `Sigma^-1 = L^-T L^-1`), packed row by row: row i holds i+1 entries,
    /// d(d+1)/2 per component.
    pub prec_chol: Vec<f64>,
    /// ln det Sigma of each component, length k.
    pub log_det_cov: Vec<f64>,
}

/// Checks that a matrix is non-empty and finite, returning it as a contiguous row-major vector.
pub(super) fn contiguous_finite(data: ArrayView2<f64>, what: &str) -> Result<Vec<f64>> {
    let (n, d) = data.dim();
    if n == 0 {
        return Err(Error::InsufficientData { reason: format!("{what} has no rows") });
    }
    if d == 0 {
        return Err(Error::InsufficientData { reason: format!("{what} has no columns") });
    }
    let x: Vec<f64> = data.iter().copied().collect();
    if let Some(pos) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::Numeric { reason: format!("{what} has a non-finite value at row {}, column {}", pos / d, pos % d) });
    }
    Ok(x)
}

impl GaussianMixture {
    /// Fits a full-covariance mixture by EM from a k-means initialisation.
    pub fn fit(data: ArrayView2<f64>, k: usize, seed: u64, max_iter: usize, tol: f64, reg_covar: f64) -> Result<GaussianMixture> {
        uncontrolled(|ctl| GaussianMixture::fit_controlled(data, k, seed, max_iter, tol, reg_covar, ctl))
    }

    /// `fit`, with its passes on the control's pool and a check for interrupts between EM steps.
    pub fn fit_controlled(data: ArrayView2<f64>, k: usize, seed: u64, max_iter: usize, tol: f64, reg_covar: f64, ctl: &mut FitControl) -> Result<GaussianMixture> {
        if k == 0 {
            return Err(invalid("n_components", "must be at least 1"));
        }
        if max_iter == 0 {
            return Err(invalid("max_iter", "must be at least 1"));
        }
        if !(tol >= 0.0 && tol.is_finite()) {
            return Err(invalid("tol", "must be a finite number >= 0"));
        }
        if !(reg_covar >= 0.0 && reg_covar.is_finite()) {
            return Err(invalid("reg_covar", "must be a finite number >= 0"));
        }
        let x = contiguous_finite(data, "the mixture's training data")?;
        let (n, d) = data.dim();
        let k = k.min(n);

        let (labels, stats) = kmeans(&x, n, d, k, seed, ctl)?;
        // one-hot responsibilities from the k-means labels, as sklearn's init_params="kmeans"
        let mut resp = vec![0.0; n * k];
        for (i, &l) in labels.iter().enumerate() {
            resp[i * k + l] = 1.0;
        }
        let mut gmm = m_step(&x, d, &resp, k, &stats, reg_covar, ctl)?;

        let mut lower_bound = f64::NEG_INFINITY;
        for _ in 0..max_iter {
            ctl.check()?;
            let kc = gmm.n_components;
            let log_w: Vec<f64> = gmm.weights.iter().map(|w| w.ln()).collect();
            let parts: Vec<Stats> = ctl.run(|| {
                x.par_chunks(CHUNK_ROWS * d)
                    .zip(resp[..n * kc].par_chunks_mut(CHUNK_ROWS * kc))
                    .map(|(xs, rs)| gmm.e_step_chunk(&log_w, xs, rs))
                    .collect()
            });
            let mut st = Stats::zeros(kc, d);
            for p in &parts {
                st.add(p);
            }
            let ll = st.ll / n as f64;
            gmm = m_step(&x, d, &resp[..n * kc], kc, &st, reg_covar, ctl)?;
            if (ll - lower_bound).abs() < tol {
                break;
            }
            lower_bound = ll;
        }
        Ok(gmm)
    }

    /// Checks that the flat arrays agree with k and d (for models read from bytes).
    pub fn validate(&self) -> Result<()> {
        let (k, d) = (self.n_components, self.dim);
        let ok = k > 0
            && d > 0
            && self.weights.len() == k
            && self.means.len() == k * d
            && self.prec_chol.len() == k * packed_len(d)
            && self.log_det_cov.len() == k
            && self.weights.iter().all(|w| *w > 0.0 && w.is_finite())
            && self.means.iter().chain(&self.prec_chol).chain(&self.log_det_cov).all(|v| v.is_finite());
        if ok {
            Ok(())
        } else {
            Err(Error::Numeric { reason: "Gaussian mixture parameters are inconsistent or not finite".into() })
        }
    }

    /// Cheap shape check used before indexing on the scoring path.
    fn shape_ok(&self) -> bool {
        let (k, d) = (self.n_components, self.dim);
        self.weights.len() == k && self.means.len() == k * d && self.prec_chol.len() == k * packed_len(d) && self.log_det_cov.len() == k
    }

    /// Writes each component's ln(w_c N(x | mu_c, Sigma_c)) into `lp`; returns their log-sum-exp.
    fn component_log_probs(&self, x: &[f64], log_w: &[f64], diff: &mut [f64], lp: &mut [f64]) -> f64 {
        let d = self.dim;
        let pl = packed_len(d);
        for c in 0..self.n_components {
            for ((o, v), m) in diff.iter_mut().zip(x).zip(&self.means[c * d..(c + 1) * d]) {
                *o = v - m;
            }
            let p = &self.prec_chol[c * pl..(c + 1) * pl];
            let mut maha = 0.0;
            let mut off = 0;
            for i in 0..d {
                let y = dot(&p[off..off + i + 1], &diff[..i + 1]);
                maha += y * y;
                off += i + 1;
            }
            let v = log_w[c] - 0.5 * (d as f64 * LN_2PI + self.log_det_cov[c] + maha);
            // an astronomically far finite point overflows maha; keep it finite so that
            // log-sum-exp and the responsibilities never turn into NaN
            lp[c] = if v.is_finite() { v } else { f64::MIN };
        }
        let lse = log_sum_exp_f64(lp);
        if lse.is_finite() {
            lse
        } else {
            f64::MIN
        }
    }

    /// E-step over one chunk: writes responsibilities and returns the sufficient statistics.
    fn e_step_chunk(&self, log_w: &[f64], xs: &[f64], resp: &mut [f64]) -> Stats {
        let (k, d) = (self.n_components, self.dim);
        let mut st = Stats::zeros(k, d);
        let mut diff = vec![0.0; d];
        let mut lp = vec![0.0; k];
        for (row, r) in xs.chunks_exact(d).zip(resp.chunks_exact_mut(k)) {
            let lse = self.component_log_probs(row, log_w, &mut diff, &mut lp);
            st.ll += lse;
            for c in 0..k {
                let v = (lp[c] - lse).exp();
                r[c] = v;
                st.nk[c] += v;
                for (s, xv) in st.sx[c * d..(c + 1) * d].iter_mut().zip(row) {
                    *s += v * xv;
                }
            }
        }
        st
    }

    /// Log density of one point: finite for finite input of the right length, NaN for a wrong
    /// length or a NaN coordinate, -inf for an infinite coordinate.
    pub fn log_likelihood(&self, x: &[f64]) -> f64 {
        if x.len() != self.dim || !self.shape_ok() || self.n_components == 0 {
            return f64::NAN;
        }
        if x.iter().any(|v| v.is_nan()) {
            return f64::NAN;
        }
        if x.iter().any(|v| v.is_infinite()) {
            return f64::NEG_INFINITY;
        }
        let log_w: Vec<f64> = self.weights.iter().map(|w| w.ln()).collect();
        let mut diff = vec![0.0; self.dim];
        let mut lp = vec![0.0; self.n_components];
        self.component_log_probs(x, &log_w, &mut diff, &mut lp)
    }

    /// Log density of every row (NaN for all rows if the width is wrong).
    pub fn score_samples(&self, data: ArrayView2<f64>) -> Vec<f64> {
        let (n, d) = data.dim();
        if d != self.dim || d == 0 {
            return vec![f64::NAN; n];
        }
        let x = data.as_standard_layout();
        let Some(xs) = x.as_slice() else {
            return vec![f64::NAN; n];
        };
        let parts: Vec<Vec<f64>> =
            xs.par_chunks(CHUNK_ROWS * d).map(|c| c.chunks_exact(d).map(|r| self.log_likelihood(r)).collect()).collect();
        parts.concat()
    }
}

/// M-step: weights, means and covariance factors from responsibilities (n x k) and their sums,
/// dropping components with less mass than `MIN_COMPONENT_ROWS` rows (see the module note).
fn m_step(x: &[f64], d: usize, resp: &[f64], k: usize, st: &Stats, reg_covar: f64, ctl: &FitControl) -> Result<GaussianMixture> {
    let min_mass = MIN_COMPONENT_MASS.max(MIN_COMPONENT_ROWS);
    let mut alive: Vec<usize> = (0..k).filter(|&c| st.nk[c] >= min_mass).collect();
    if alive.is_empty() {
        // cannot happen (the masses sum to n >= 1) but keep the heaviest rather than fail
        let best = (0..k).max_by(|&a, &b| st.nk[a].total_cmp(&st.nk[b])).unwrap_or(0);
        alive.push(best);
    }
    let ka = alive.len();
    let nk: Vec<f64> = alive.iter().map(|&c| st.nk[c] + MASS_EPS).collect();
    let mut means = Vec::with_capacity(ka * d);
    for (a, &c) in alive.iter().enumerate() {
        means.extend(st.sx[c * d..(c + 1) * d].iter().map(|s| s / nk[a]));
    }

    // scatter matrices sum_i r_ic (x_i - mu_c)(x_i - mu_c)^T as a GEMM per chunk: centred rows
    // weighted by sqrt(r) times their transpose
    let parts: Vec<Vec<f64>> = ctl.run(|| {
        x.par_chunks(CHUNK_ROWS * d)
            .zip(resp.par_chunks(CHUNK_ROWS * k))
            .map(|(xs, rs)| {
                let rows = xs.len() / d;
                let mut acc = vec![0.0; ka * d * d];
                let mut centred = Array2::<f64>::zeros((rows, d));
                for (a, &c) in alive.iter().enumerate() {
                    let mu = &means[a * d..(a + 1) * d];
                    for (i, mut out) in centred.rows_mut().into_iter().enumerate() {
                        let w = rs[i * k + c].sqrt();
                        let row = &xs[i * d..(i + 1) * d];
                        for ((o, v), m) in out.iter_mut().zip(row).zip(mu) {
                            *o = w * (v - m);
                        }
                    }
                    let slot = &mut acc[a * d * d..(a + 1) * d * d];
                    if let Ok(mut s) = ArrayViewMut2::from_shape((d, d), slot) {
                        ndarray::linalg::general_mat_mul(1.0, &centred.t(), &centred, 1.0, &mut s);
                    }
                }
                acc
            })
            .collect()
    });
    let mut scatter = vec![0.0; ka * d * d];
    for p in &parts {
        for (a, b) in scatter.iter_mut().zip(p) {
            *a += b;
        }
    }

    let mut prec_chol = Vec::with_capacity(ka * packed_len(d));
    let mut log_det_cov = Vec::with_capacity(ka);
    for a in 0..ka {
        let cov: Vec<f64> = scatter[a * d * d..(a + 1) * d * d].iter().map(|s| s / nk[a]).collect();
        let (p, ld) = precision_factor(&cov, d, reg_covar, a)?;
        prec_chol.extend(p);
        log_det_cov.push(ld);
    }
    let total: f64 = nk.iter().sum();
    let weights = nk.iter().map(|v| v / total).collect();
    Ok(GaussianMixture { n_components: ka, dim: d, weights, means, prec_chol, log_det_cov })
}
