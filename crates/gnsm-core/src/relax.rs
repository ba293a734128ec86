//! Gumbel-softmax relaxation in log space (ExpConcrete) and its closed-form score (method §2-3).

use crate::kernels::{logsumexp, softmax_inplace};
use rand::Rng;

/// Number of noise levels L.
pub const LEVELS: usize = 20;
/// Highest temperature (level 0, most noise).
pub const TAU_MAX: f64 = 20.0;
/// Lowest temperature (level L-1, least noise).
pub const TAU_MIN: f64 = 2.0;

/// L values geometric from `first` (level 0) to `last` (level L-1): `exp(linspace(ln first,
/// ln last, L))`, computed in f64.
fn geometric_levels(first: f64, last: f64) -> [f32; LEVELS] {
    let mut out = [0.0f32; LEVELS];
    let (a, b) = (first.ln(), last.ln());
    for (i, v) in out.iter_mut().enumerate() {
        *v = (a + (b - a) * i as f64 / (LEVELS - 1) as f64).exp() as f32;
    }
    out
}

/// The L temperatures, geometric and descending: `exp(linspace(ln 20, ln 2, 20))`.
pub fn temperatures() -> [f32; LEVELS] {
    geometric_levels(TAU_MAX, TAU_MIN)
}

/// Largest numeric noise scale (level 0).
pub const SIGMA_MAX: f64 = 1.0;
/// Smallest numeric noise scale (level L-1).
pub const SIGMA_MIN: f64 = 0.1;

/// The L numeric noise scales, geometric and descending: `exp(linspace(ln 1, ln 0.1, 20))`.
pub fn sigmas() -> [f32; LEVELS] {
    geometric_levels(SIGMA_MAX, SIGMA_MIN)
}

/// A standard normal sample (the numeric noise z of the method).
#[inline]
pub fn normal<R: Rng + ?Sized>(rng: &mut R) -> f32 {
    rand_distr::Distribution::sample(&rand_distr::StandardNormal, rng)
}

/// Per-level scale of the clean logits, geometric from `min` (level 0, most noise) to `max`
/// (level L-1). Why: with the paper's one-hot logits (gap 11.5 between the active class and the
/// rest) the argmax of a noisy block is the clean class with probability 1 - K e^-11.5 at *every*
/// temperature, because tau divides signal and noise alike. The optimal denoiser then reads each
/// block on its own and never needs the other columns, so the score network learns almost nothing
/// about the joint. Shrinking the gap (scale s multiplies it to 11.5 s) makes the clean class
/// ambiguous at the noisy levels, and the network has to infer it from the other columns: that is
/// where the column dependencies enter. `min = max = 1` is the paper's method.
pub fn logit_scales(min: f32, max: f32) -> [f32; LEVELS] {
    geometric_levels(min as f64, max as f64)
}

/// A standard Gumbel sample `-ln(-ln U)`, with U kept away from 0 and 1.
#[inline]
pub fn gumbel<R: Rng + ?Sized>(rng: &mut R) -> f32 {
    // f64 uniform in (0,1): the open interval keeps both logarithms finite
    let u: f64 = rng.random::<f64>().clamp(1e-12, 1.0 - 1e-12);
    (-(-u.ln()).ln()) as f32
}

/// Samples one noisy categorical block: `y = (g + l)/tau - lse(...)` into `y`, and the score
/// matching target `softmax(l - tau*y) = softmax(-g)` into `target`.
pub fn sample_block<R: Rng + ?Sized>(rng: &mut R, logits: &[f32], tau: f32, y: &mut [f32], target: &mut [f32]) {
    for ((yk, tk), &lk) in y.iter_mut().zip(target.iter_mut()).zip(logits) {
        let g = gumbel(rng);
        *yk = (g + lk) / tau;
        *tk = -g;
    }
    let lse = logsumexp(y);
    for yk in y.iter_mut() {
        *yk -= lse;
    }
    // softmax(-g) in place: the same value as softmax(l - tau*y) without the cancellation error
    softmax_inplace(target);
}

/// Noisy block from a given Gumbel draw `g` (no sampling): `y = (g + s l)/tau - lse`, target
/// `softmax(-g)`. Used for the fixed-noise per-row DSM loss at scoring time.
pub fn noisy_block_from(g: &[f32], logits: &[f32], scale: f32, tau: f32, y: &mut [f32], target: &mut [f32]) {
    for (((yk, tk), &lk), &gk) in y.iter_mut().zip(target.iter_mut()).zip(logits).zip(g) {
        *yk = (gk + scale * lk) / tau;
        *tk = -gk;
    }
    let lse = logsumexp(y);
    for yk in y.iter_mut() {
        *yk -= lse;
    }
    softmax_inplace(target);
}

/// Normalises each block of `x` to a log-probability vector (`x_j - logsumexp(x_j)`).
pub fn normalize_blocks(x: &mut [f32], block_sizes: &[usize]) {
    let mut off = 0;
    for &k in block_sizes {
        let lse = logsumexp(&x[off..off + k]);
        for v in &mut x[off..off + k] {
            *v -= lse;
        }
        off += k;
    }
}

/// Log-density of the ExpConcrete distribution at log-probabilities `y` (one block of K):
/// `ln((K-1)!) + (K-1) ln tau + sum_k (l_k - tau y_k) - K lse(l - tau y)`.
pub fn exp_concrete_log_density(y: &[f64], logits: &[f64], tau: f64) -> f64 {
    let k = y.len();
    let a: Vec<f64> = logits.iter().zip(y).map(|(l, yk)| l - tau * yk).collect();
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + a.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    let log_fact: f64 = (1..k).map(|i| (i as f64).ln()).sum();
    log_fact + (k as f64 - 1.0) * tau.ln() + a.iter().sum::<f64>() - k as f64 * lse
}

/// Closed-form score of the ExpConcrete density w.r.t. y: `-tau + tau*K*softmax(l - tau*y)`.
pub fn exp_concrete_score(y: &[f64], logits: &[f64], tau: f64) -> Vec<f64> {
    let k = y.len() as f64;
    let a: Vec<f64> = logits.iter().zip(y).map(|(l, yk)| l - tau * yk).collect();
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = a.iter().map(|v| (v - m).exp()).sum();
    a.iter().map(|v| -tau + tau * k * (v - m).exp() / z).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn test_temperatures_are_geometric_from_20_to_2() {
        let t = temperatures();
        assert!((t[0] - 20.0).abs() < 1e-4 && (t[19] - 2.0).abs() < 1e-5);
        assert!((t[1] - 17.72).abs() < 0.01 && (t[18] - 2.26).abs() < 0.01);
        let ratio = t[1] / t[0];
        for w in t.windows(2) {
            assert!((w[1] / w[0] - ratio).abs() < 1e-5);
        }
    }

    #[test]
    fn test_score_target_is_finite_difference_gradient_and_sums_to_zero() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for &tau in &[2.0f64, 5.3, 20.0] {
            let logits = [0.0, -11.512925, -11.512925, -11.512925, -11.512925];
            let mut y = [0.0f32; 5];
            let mut target = [0.0f32; 5];
            let lf: Vec<f32> = logits.iter().map(|&v| v as f32).collect();
            sample_block(&mut rng, &lf, tau as f32, &mut y, &mut target);
            let y64: Vec<f64> = y.iter().map(|&v| v as f64).collect();
            let score = exp_concrete_score(&y64, &logits, tau);
            assert!(score.iter().sum::<f64>().abs() < 1e-9, "sum {}", score.iter().sum::<f64>());
            for k in 0..5 {
                let h = 1e-5;
                let (mut yp, mut ym) = (y64.clone(), y64.clone());
                yp[k] += h;
                ym[k] -= h;
                let fd = (exp_concrete_log_density(&yp, &logits, tau) - exp_concrete_log_density(&ym, &logits, tau)) / (2.0 * h);
                assert!((fd - score[k]).abs() < 1e-4 * (1.0 + score[k].abs()), "tau {tau} k {k}: fd {fd} vs {}", score[k]);
            }
            // the sampled target softmax(-g) is the same quantity: score = tau*(K*target - 1)
            for k in 0..5 {
                let from_target = tau * (5.0 * target[k] as f64 - 1.0);
                assert!((from_target - score[k]).abs() < 1e-3 * (1.0 + score[k].abs()), "{from_target} vs {}", score[k]);
            }
        }
    }

    #[test]
    fn test_sigmas_are_geometric_from_1_to_0_1() {
        let s = sigmas();
        assert!((s[0] - 1.0).abs() < 1e-6 && (s[19] - 0.1).abs() < 1e-6);
        assert!(s.windows(2).all(|w| w[1] < w[0]));
    }

    #[test]
    fn test_gaussian_score_target() {
        // for x~ = x + sigma z, the score of N(x, sigma^2) at x~ is -z / sigma: the numeric loss
        // 0.5 ||o + z/sigma||^2 is minimised by o = that score
        let (x, sigma, z) = (0.3f64, 0.4f64, -1.7f64);
        let xt = x + sigma * z;
        let log_p = |v: f64| -0.5 * ((v - x) / sigma).powi(2);
        let h = 1e-6;
        let fd = (log_p(xt + h) - log_p(xt - h)) / (2.0 * h);
        assert!((fd - (-z / sigma)).abs() < 1e-6);
    }

    #[test]
    fn test_noisy_block_is_log_probability() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let l = [0.0f32, -11.5, -11.5];
        let (mut y, mut t) = ([0.0f32; 3], [0.0f32; 3]);
        sample_block(&mut rng, &l, 2.0, &mut y, &mut t);
        assert!(logsumexp(&y).abs() < 1e-5);
        assert!((t.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}
