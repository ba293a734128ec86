//! Elementwise and row-wise kernels of the network, plus the GEMM entry point.
//!
//! Matrix products go through ndarray's `general_mat_mul`, backed by `matrixmultiply`, which picks
//! an AVX2/FMA (or SSE2) micro-kernel at run time: no `-C target-cpu` is needed and the same binary
//! runs on any x86_64. The elementwise kernels here are plain loops over contiguous slices so that
//! LLVM vectorises them for the baseline target; they are a small share of a step (the GEMMs are
//! about 90% of the FLOPs at width 256), which is why they have no hand-written SIMD path.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

/// `c = alpha * a @ b + beta * c` through the runtime-dispatched SIMD GEMM.
#[inline]
pub fn gemm(alpha: f32, a: &ArrayView2<f32>, b: &ArrayView2<f32>, beta: f32, c: &mut ArrayViewMut2<f32>) {
    general_mat_mul(alpha, a, b, beta, c);
}

/// The SIMD instruction sets this CPU offers that the GEMM kernels use, in report order.
pub fn simd_features() -> Vec<&'static str> {
    let mut out = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            out.push("avx2");
        }
        if std::is_x86_feature_detected!("fma") {
            out.push("fma");
        }
        if out.is_empty() && std::is_x86_feature_detected!("avx") {
            out.push("avx");
        }
        if out.is_empty() && std::is_x86_feature_detected!("sse2") {
            out.push("sse2");
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        out.push("neon");
    }
    if out.is_empty() {
        out.push("scalar");
    }
    out
}

/// Adds `bias` to every row of the row-major `n x bias.len()` matrix `x`.
pub fn add_bias_rows(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// Accumulates the column sums of row-major `x` into `out` (bias gradients).
pub fn add_col_sums(x: &[f32], out: &mut [f32]) {
    for row in x.chunks_exact(out.len()) {
        for (o, v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
}

/// LayerNorm epsilon, PyTorch's default.
pub const LN_EPS: f32 = 1e-5;

/// LayerNorm forward per row: writes the normalised `xhat`, the affine output `y` and `rstd`.
pub fn layernorm_forward(x: &[f32], gain: &[f32], bias: &[f32], xhat: &mut [f32], y: &mut [f32], rstd: &mut [f32]) {
    let w = gain.len();
    for (r, ((xr, hr), yr)) in x.chunks_exact(w).zip(xhat.chunks_exact_mut(w)).zip(y.chunks_exact_mut(w)).enumerate() {
        let mean = xr.iter().sum::<f32>() / w as f32;
        let var = xr.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / w as f32;
        let rs = 1.0 / (var + LN_EPS).sqrt();
        rstd[r] = rs;
        for i in 0..w {
            let h = (xr[i] - mean) * rs;
            hr[i] = h;
            yr[i] = h * gain[i] + bias[i];
        }
    }
}

/// LayerNorm backward: given dL/dy, accumulates dL/dgain, dL/dbias and ADDS dL/dx into `dx`.
pub fn layernorm_backward(dy: &[f32], xhat: &[f32], rstd: &[f32], gain: &[f32], dgain: &mut [f32], dbias: &mut [f32], dx: &mut [f32]) {
    let w = gain.len();
    let inv_w = 1.0 / w as f32;
    for (r, ((dyr, hr), dxr)) in dy.chunks_exact(w).zip(xhat.chunks_exact(w)).zip(dx.chunks_exact_mut(w)).enumerate() {
        let mut sum_g = 0.0f32;
        let mut sum_gh = 0.0f32;
        for i in 0..w {
            let g = dyr[i] * gain[i];
            sum_g += g;
            sum_gh += g * hr[i];
            dgain[i] += dyr[i] * hr[i];
            dbias[i] += dyr[i];
        }
        let rs = rstd[r];
        for i in 0..w {
            let g = dyr[i] * gain[i];
            dxr[i] += rs * (g - inv_w * sum_g - hr[i] * inv_w * sum_gh);
        }
    }
}

/// erf with absolute error below 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), enough for f32.
#[inline]
pub fn erf(x: f32) -> f32 {
    let z = (x as f64).abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07 + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    let r = 1.0 - erfc;
    (if x >= 0.0 { r } else { -r }) as f32
}

const INV_SQRT2: f32 = std::f32::consts::FRAC_1_SQRT_2;
const INV_SQRT_2PI: f32 = 0.398_942_3;

/// Exact (erf) GELU, PyTorch's default: `x * Phi(x)`.
pub fn gelu_forward(x: &[f32], y: &mut [f32]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = 0.5 * v * (1.0 + erf(v * INV_SQRT2));
    }
}

/// exp of an f32 without a library call, so that loops over it vectorise: `2^n p(r)` with
/// `x = n ln2 + r`, `|r| <= ln2 / 2`, and the degree-6 Taylor polynomial p (relative error below
/// 2e-7, about one f32 ulp). Inputs are clamped to [-87, 88], where f32 exp is finite and normal.
#[inline(always)]
fn exp_f32_poly(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = round_half_away(x * std::f32::consts::LOG2_E);
    // ln 2 split in two so that n * LN2_HI is exact
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (0.166_666_67 + r * (0.041_666_668 + r * (0.008_333_334 + r * 0.001_388_889)))));
    f32::from_bits(((n as i32 + 127) as u32) << 23) * p
}

/// `f32::round` (half away from zero) for |y| < 2^23, without its library call: on the baseline
/// x86-64 target (SSE2) `round` is a call to libm's `roundf` per element, which kept the GELU
/// loops scalar (4.6% of a training step in `roundf` itself, profiled). Truncation through `i32`
/// and an exact comparison of the remainder give the same value (the sign of a zero result may
/// differ, which nothing downstream sees: `exp_f32_poly` subtracts it and casts it to `i32`).
#[inline(always)]
fn round_half_away(y: f32) -> f32 {
    let t = y as i32 as f32;
    let frac = y - t;
    if frac.abs() >= 0.5 {
        t + 1.0f32.copysign(y)
    } else {
        t
    }
}

/// erf in f32 without a library call (Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7
/// against the f64 erf above's 1.2e-7), so that GELU loops vectorise.
#[inline(always)]
pub fn erf_f32(x: f32) -> f32 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152_1 + t * 1.061_405_4))));
    (1.0 - poly * exp_f32_poly(-z * z)).copysign(x)
}

/// GELU (`x * Phi(x)`) with the vectorisable f32 erf: the activation of networks trained by
/// model format 8 and later. Profiled, the f64 erf was a third of a scoring forward pass
/// (24.6% of `examples/bench --score-only`); this one made scoring 1.14-1.21x faster
/// (`--gelu-ab`, same network, interleaved). The loop runs compiled for the widest instruction
/// set the CPU has (`pulp`'s runtime dispatch; ADR 004's revisit: the GELU loops were 23% of a
/// training step in the baseline target's 4-lane SSE2) with identical results: Rust never fuses
/// a multiply and an add, so every operation rounds as in the portable loop (tested).
pub fn gelu_f32_forward(x: &[f32], y: &mut [f32]) {
    pulp::Arch::new().dispatch(GeluF32 { x, d: y, backward: false });
}

/// The loop of `gelu_f32_forward`, inlined into each target's copy.
#[inline(always)]
fn gelu_f32_forward_portable(x: &[f32], y: &mut [f32]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = 0.5 * v * (1.0 + erf_f32(v * INV_SQRT2));
    }
}

/// Backward of `gelu_f32_forward` in place: `d *= Phi(x) + x * phi(x)` (dispatched as the forward).
pub fn gelu_f32_backward(x: &[f32], d: &mut [f32]) {
    pulp::Arch::new().dispatch(GeluF32 { x, d, backward: true });
}

/// One GELU loop for `pulp` to compile per instruction set: `with_simd` is inlined into each of
/// pulp's target-feature functions (a closure was not: it stayed one baseline-compiled copy).
struct GeluF32<'a> {
    x: &'a [f32],
    d: &'a mut [f32],
    backward: bool,
}

impl pulp::WithSimd for GeluF32<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        match self.backward {
            false => gelu_f32_forward_portable(self.x, self.d),
            true => gelu_f32_backward_portable(self.x, self.d),
        }
    }
}

/// The loop of `gelu_f32_backward`, inlined into each target's copy.
#[inline(always)]
fn gelu_f32_backward_portable(x: &[f32], d: &mut [f32]) {
    for (g, &v) in d.iter_mut().zip(x) {
        let cdf = 0.5 * (1.0 + erf_f32(v * INV_SQRT2));
        let pdf = INV_SQRT_2PI * exp_f32_poly(-0.5 * v * v);
        *g *= cdf + v * pdf;
    }
}


/// GELU backward in place: `d *= Phi(x) + x * phi(x)`.
pub fn gelu_backward(x: &[f32], d: &mut [f32]) {
    for (g, &v) in d.iter_mut().zip(x) {
        let cdf = 0.5 * (1.0 + erf(v * INV_SQRT2));
        let pdf = INV_SQRT_2PI * (-0.5 * v * v).exp();
        *g *= cdf + v * pdf;
    }
}

/// Slope of LeakyReLU for negative inputs, PyTorch's default.
pub const LEAKY_SLOPE: f32 = 0.01;

/// LeakyReLU forward.
pub fn leaky_forward(x: &[f32], y: &mut [f32]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = if v > 0.0 { v } else { LEAKY_SLOPE * v };
    }
}

/// LeakyReLU backward in place.
pub fn leaky_backward(x: &[f32], d: &mut [f32]) {
    for (g, &v) in d.iter_mut().zip(x) {
        if v <= 0.0 {
            *g *= LEAKY_SLOPE;
        }
    }
}

/// SiLU forward (`x * sigmoid(x)`).
pub fn silu_forward(x: &[f32], y: &mut [f32]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = v / (1.0 + (-v).exp());
    }
}

/// SiLU backward in place: `d *= s * (1 + x * (1 - s))` with `s = sigmoid(x)`.
pub fn silu_backward(x: &[f32], d: &mut [f32]) {
    for (g, &v) in d.iter_mut().zip(x) {
        let s = 1.0 / (1.0 + (-v).exp());
        *g *= s * (1.0 + v * (1.0 - s));
    }
}

/// Numerically stable log-sum-exp of a slice.
#[inline]
pub fn logsumexp(x: &[f32]) -> f32 {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !m.is_finite() {
        return m;
    }
    m + x.iter().map(|v| (v - m).exp()).sum::<f32>().ln()
}

/// Softmax of `x` into `out`.
#[inline]
pub fn softmax_into(x: &[f32], out: &mut [f32]) {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut s = 0.0;
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v - m).exp();
        s += *o;
    }
    let inv = 1.0 / s;
    for o in out.iter_mut() {
        *o *= inv;
    }
}

/// Softmax of `x` in place.
#[inline]
pub fn softmax_inplace(x: &mut [f32]) {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut s = 0.0;
    for v in x.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    let inv = 1.0 / s;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_the_dispatched_gelu_loops_equal_the_portable_ones_bit_for_bit() {
        // pre-activations of every size the network sees, plus the far tails and exact zeros
        let x: Vec<f32> = (0..100_003).map(|i| ((i as f32) * 0.7548776).sin() * 9.0 * ((i % 7) as f32 - 3.0)).chain([0.0, -0.0, 40.0, -40.0, 1e-30]).collect();
        let (mut a, mut b) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
        gelu_f32_forward(&x, &mut a);
        gelu_f32_forward_portable(&x, &mut b);
        assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()), "forward differs");
        let d: Vec<f32> = x.iter().map(|v| 1.0 - v * 0.01).collect();
        let (mut a, mut b) = (d.clone(), d);
        gelu_f32_backward(&x, &mut a);
        gelu_f32_backward_portable(&x, &mut b);
        assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()), "backward differs");
    }

    #[test]
    fn test_round_half_away_is_f32_round_on_exp_s_range() {
        // every f32 in [-130, 130] whose fraction is near a half or an integer, and a dense sweep
        let mut ys: Vec<f32> = (-260..=260).flat_map(|h| {
            let y = h as f32 * 0.5;
            [y, f32::from_bits(y.to_bits().wrapping_sub(1)), f32::from_bits(y.to_bits().wrapping_add(1))]
        }).collect();
        ys.extend((0..2_000_000).map(|i| -130.0 + i as f32 * 1.3e-4));
        ys.extend([0.0, -0.0, 0.49999997, -0.49999997, 0.5, -0.5, 1.5, -1.5]);
        for y in ys.into_iter().filter(|y| !y.is_nan()) {
            assert_eq!(round_half_away(y), y.round(), "{y:e}");
        }
        // and exp_f32_poly, which uses it, equals the libm-rounding version bit for bit
        let old = |x: f32| {
            let x = x.clamp(-87.0, 88.0);
            let n = (x * std::f32::consts::LOG2_E).round();
            let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
            let p = 1.0 + r * (1.0 + r * (0.5 + r * (0.166_666_67 + r * (0.041_666_668 + r * (0.008_333_334 + r * 0.001_388_889)))));
            f32::from_bits(((n as i32 + 127) as u32) << 23) * p
        };
        for i in 0..4_000_000 {
            let x = -100.0 + i as f32 * 4.75e-5;
            assert_eq!(exp_f32_poly(x).to_bits(), old(x).to_bits(), "{x:e}");
        }
    }

    #[test]
    fn test_erf_matches_reference_values() {
        // erf values from Abramowitz & Stegun table 7.1
        for (x, e) in [(0.0f32, 0.0f32), (0.5, 0.520_499_9), (1.0, 0.842_700_8), (2.0, 0.995_322_3), (-1.0, -0.842_700_8)] {
            assert!((erf(x) - e).abs() < 2e-7, "erf({x}) = {} vs {e}", erf(x));
            assert!((erf_f32(x) - e).abs() < 3e-7, "erf_f32({x}) = {} vs {e}", erf_f32(x));
        }
    }

    #[test]
    fn test_f32_gelu_matches_the_erf_gelu_and_its_own_derivative() {
        let xs: Vec<f32> = (-4000..=4000).map(|i| i as f32 * 0.002).chain([-90.0, -30.0, 30.0, 90.0]).collect();
        for &x in &xs {
            let e = exp_f32_poly(x.clamp(-80.0, 80.0));
            let want = x.clamp(-80.0, 80.0).exp();
            assert!(((e - want) / want).abs() < 3e-7, "exp({x}) = {e} vs {want}");
        }
        let (mut exact, mut fast) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
        gelu_forward(&xs, &mut exact);
        gelu_f32_forward(&xs, &mut fast);
        for ((x, a), b) in xs.iter().zip(&exact).zip(&fast) {
            assert!((a - b).abs() <= 4e-7 * x.abs().max(1.0), "gelu({x}): {a} vs {b}");
        }
        // the backward is the forward's derivative (central differences in f64 on the f32 function)
        let mut d = vec![1.0f32; xs.len()];
        gelu_f32_backward(&xs, &mut d);
        for (&x, &g) in xs.iter().zip(&d).filter(|(x, _)| x.abs() < 6.0) {
            let h = 1e-2f32;
            let (mut up, mut down) = ([0.0f32], [0.0f32]);
            gelu_f32_forward(&[x + h], &mut up);
            gelu_f32_forward(&[x - h], &mut down);
            let numeric = (up[0] as f64 - down[0] as f64) / (2.0 * h as f64);
            assert!((numeric - g as f64).abs() < 2e-4, "gelu'({x}): {g} vs {numeric}");
        }
    }

    #[test]
    fn test_softmax_and_logsumexp_agree() {
        let x = [1.0f32, -2.0, 0.5, 3.0];
        let mut p = [0.0; 4];
        softmax_into(&x, &mut p);
        let lse = logsumexp(&x);
        for (pi, xi) in p.iter().zip(x) {
            assert!((pi.ln() - (xi - lse)).abs() < 1e-6);
        }
    }

    #[test]
    fn test_simd_features_never_empty() {
        assert!(!simd_features().is_empty());
    }
}
