//! k-means++ seeding and Lloyd iterations: the initialisation of EM (sklearn's
//! `init_params="kmeans"`), and the per-chunk sums both share.

use super::linalg::sq_dist;
use super::{FitControl, CHUNK_ROWS};
use crate::error::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Lloyd iterations after k-means++ seeding (an initialisation only; EM does the rest).
const KMEANS_MAX_ITER: usize = 20;

/// Sums gathered over rows by one E-step or k-means pass.
pub(super) struct Stats {
    /// Responsibility mass per component.
    pub(super) nk: Vec<f64>,
    /// Responsibility-weighted sum of rows per component (k x d).
    pub(super) sx: Vec<f64>,
    /// Sum of per-row log-likelihoods.
    pub(super) ll: f64,
    /// Whether any k-means label changed (k-means passes only).
    pub(super) changed: bool,
}

impl Stats {
    /// Zeroed sums for k components in d dimensions.
    pub(super) fn zeros(k: usize, d: usize) -> Stats {
        Stats { nk: vec![0.0; k], sx: vec![0.0; k * d], ll: 0.0, changed: false }
    }

    /// Adds another chunk's sums (called in chunk order for determinism).
    pub(super) fn add(&mut self, other: &Stats) {
        for (a, b) in self.nk.iter_mut().zip(&other.nk) {
            *a += b;
        }
        for (a, b) in self.sx.iter_mut().zip(&other.sx) {
            *a += b;
        }
        self.ll += other.ll;
        self.changed |= other.changed;
    }
}

/// k-means++ seeding (sklearn's greedy variant with 2 + ln k local trials per centre).
fn kmeans_plus_plus(x: &[f64], n: usize, d: usize, k: usize, rng: &mut ChaCha8Rng, ctl: &mut FitControl) -> Result<Vec<f64>> {
    let row = |i: usize| &x[i * d..(i + 1) * d];
    let mut centers = Vec::with_capacity(k * d);
    let first = rng.random_range(0..n);
    centers.extend_from_slice(row(first));
    let mut closest: Vec<f64> = (0..n).map(|i| sq_dist(row(i), row(first))).collect();
    let mut potential: f64 = closest.iter().sum();
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut cumsum = vec![0.0; n];
    for _ in 1..k {
        ctl.check()?;
        let mut acc = 0.0;
        for (c, v) in cumsum.iter_mut().zip(&closest) {
            acc += v;
            *c = acc;
        }
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..trials {
            let cand = if potential > 0.0 {
                let r = rng.random::<f64>() * potential;
                // first row whose cumulative mass exceeds r: zero-distance rows are never picked
                cumsum.partition_point(|&c| c <= r).min(n - 1)
            } else {
                // every row already sits on a centre: any pick is as good as any other
                rng.random_range(0..n)
            };
            let new_d: Vec<f64> = (0..n).map(|i| closest[i].min(sq_dist(row(i), row(cand)))).collect();
            let pot: f64 = new_d.iter().sum();
            if best.as_ref().is_none_or(|b| pot < b.0) {
                best = Some((pot, cand, new_d));
            }
        }
        if let Some((pot, cand, new_d)) = best {
            centers.extend_from_slice(row(cand));
            closest = new_d;
            potential = pot;
        }
    }
    Ok(centers)
}

/// Assigns one chunk of rows to their nearest centre, returning counts and sums per centre.
fn assign_chunk(xs: &[f64], labels: &mut [usize], centers: &[f64], k: usize, d: usize) -> Stats {
    let mut st = Stats::zeros(k, d);
    for (row, label) in xs.chunks_exact(d).zip(labels.iter_mut()) {
        let mut best = 0;
        let mut best_d = f64::INFINITY;
        for c in 0..k {
            let dist = sq_dist(row, &centers[c * d..(c + 1) * d]);
            if dist < best_d {
                best_d = dist;
                best = c;
            }
        }
        if *label != best {
            st.changed = true;
            *label = best;
        }
        st.nk[best] += 1.0;
        for (s, v) in st.sx[best * d..(best + 1) * d].iter_mut().zip(row) {
            *s += v;
        }
    }
    st
}

/// k-means++ then Lloyd iterations; returns labels and the matching counts/sums.
pub(super) fn kmeans(x: &[f64], n: usize, d: usize, k: usize, seed: u64, ctl: &mut FitControl) -> Result<(Vec<usize>, Stats)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut centers = kmeans_plus_plus(x, n, d, k, &mut rng, ctl)?;
    let mut labels = vec![usize::MAX; n];
    let mut iter = 0;
    loop {
        ctl.check()?;
        let parts: Vec<Stats> = ctl.run(|| {
            x.par_chunks(CHUNK_ROWS * d)
                .zip(labels.par_chunks_mut(CHUNK_ROWS))
                .map(|(xs, ls)| assign_chunk(xs, ls, &centers, k, d))
                .collect()
        });
        let mut st = Stats::zeros(k, d);
        for p in &parts {
            st.add(p);
        }
        iter += 1;
        if !st.changed || iter >= KMEANS_MAX_ITER {
            return Ok((labels, st));
        }
        for c in 0..k {
            // an empty cluster keeps its centre; the EM stage drops it if it stays empty
            if st.nk[c] > 0.0 {
                for j in 0..d {
                    centers[c * d + j] = st.sx[c * d + j] / st.nk[c];
                }
            }
        }
    }
}
