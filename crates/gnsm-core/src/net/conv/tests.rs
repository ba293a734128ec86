//! Gradient, equivariance, format and learning checks of the conv network.

use super::*;
use crate::optim::AdamW;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A config of the given shape.
fn cfg(k: usize, e: usize, c: usize, h: usize, w: usize) -> ConvConfig {
    ConvConfig { classes: k, cond_channels: e, base_channels: c, height: h, width: w }
}

/// Uniform random values in `[lo, hi)`.
fn uniform(rng: &mut ChaCha8Rng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

/// Loss = sum(out * probe): its gradient w.r.t. out is `probe`, which exercises every path.
fn probe_loss(net: &ConvNet, params: &[f32], input: &[f32], level: usize, probe: &[f32]) -> f64 {
    let ctx = net.level_context(params);
    let mut tape = ConvTape::default();
    net.forward(params, &ctx, input, level, &mut tape);
    tape.out.iter().zip(probe).map(|(a, b)| (*a as f64) * (*b as f64)).sum()
}

/// Full analytic gradient of `probe_loss`, through the level MLP.
fn probe_grads(net: &ConvNet, params: &[f32], input: &[f32], level: usize, probe: &[f32]) -> Vec<f32> {
    let ctx = net.level_context(params);
    let mut tape = ConvTape::default();
    net.forward(params, &ctx, input, level, &mut tape);
    let mut grads = vec![0.0f32; net.n_params()];
    let mut d_levels = net.zero_level_grads();
    net.backward(params, &ctx, &tape, probe, level, &mut grads, &mut d_levels);
    net.backward_levels(params, &ctx, &d_levels, &mut grads);
    grads
}

#[test]
fn test_gradients_of_every_tensor_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let config = cfg(3, 2, 4, 8, 12);
    let net = ConvNet::new(config.clone(), &mut rng);
    // random offsets so biases, gains and FiLM are not at their symmetric init values
    let params: Vec<f32> = net.params.iter().map(|p| p + rng.random_range(-0.2..0.2)).collect();
    let input = uniform(&mut rng, 8 * 12 * 5, -2.0, 1.0);
    let probe = uniform(&mut rng, 8 * 12 * 3, -1.0, 1.0);
    let level = 7;
    let grads = probe_grads(&net, &params, &input, level, &probe);

    let tensors = net.layout().named_tensors();
    assert_eq!(tensors.iter().map(|(_, t)| t.len()).sum::<usize>(), net.n_params(), "layout covers params");
    let (mut checked, mut worst, mut failures) = (0, 0.0f64, Vec::new());
    for (name, t) in &tensors {
        // two distinct entries per tensor (one for 1-wide ones), the first at random
        let first = rng.random_range(0..t.len());
        for j in 0..2.min(t.len()) {
            let i = t.offset + (first + j * t.len() / 2) % t.len();
            let a = grads[i] as f64;
            // a step that moves a LeakyReLU input across its kink biases the difference: accept
            // the best of three step sizes (a wrong gradient fails all)
            let err = [1e-2f32, 3e-3, 1e-3]
                .iter()
                .map(|&h| {
                    let mut p = params.clone();
                    p[i] = params[i] + h;
                    let up = probe_loss(&net, &p, &input, level, &probe);
                    p[i] = params[i] - h;
                    let down = probe_loss(&net, &p, &input, level, &probe);
                    let fd = (up - down) / (2.0 * h as f64);
                    ((a - fd).abs() / 1f64.max(a.abs()).max(fd.abs()), fd)
                })
                .fold((f64::INFINITY, 0.0), |best, e| if e.0 < best.0 { e } else { best });
            worst = worst.max(err.0);
            if err.0 > 2e-2 {
                failures.push(format!("{name}[{}]: analytic {a} vs finite difference {}", i - t.offset, err.1));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(checked >= 60, "{checked} checks");
    eprintln!("conv gradient check: {checked} parameters over {} tensors, worst relative error {worst:.2e}", tensors.len());
}

#[test]
fn test_gradients_are_not_trivially_zero() {
    // the finite-difference check passes vacuously where both sides are ~0: make sure every
    // tensor receives some gradient at this input
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let net = ConvNet::new(cfg(3, 2, 4, 8, 12), &mut rng);
    let input = uniform(&mut rng, 8 * 12 * 5, -2.0, 1.0);
    let probe = uniform(&mut rng, 8 * 12 * 3, -1.0, 1.0);
    let grads = probe_grads(&net, &net.params, &input, 3, &probe);
    for (name, t) in net.layout().named_tensors() {
        let norm: f32 = t.slice(&grads).iter().map(|g| g * g).sum();
        assert!(norm > 1e-12 && norm.is_finite(), "{name}: gradient norm {norm}");
    }
}

#[test]
fn test_shifted_map_gives_shifted_interior_output() {
    // zero padding, per-pixel LayerNorm and 2x2 pooling commute with shifts by multiples of 4
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let (k, n, shift) = (2usize, 128usize, 4usize);
    let net = ConvNet::new(cfg(k, 0, 4, n, n), &mut rng);
    let ctx = net.level_context(&net.params);
    let x = uniform(&mut rng, n * n * k, -1.0, 1.0);
    let mut shifted = vec![0.0f32; x.len()];
    for r in 0..n - shift {
        for c in 0..n - shift {
            let (d, s) = (((r + shift) * n + c + shift) * k, (r * n + c) * k);
            shifted[d..d + k].copy_from_slice(&x[s..s + k]);
        }
    }
    let (mut a, mut b) = (ConvTape::default(), ConvTape::default());
    net.forward(&net.params, &ctx, &x, 5, &mut a);
    net.forward(&net.params, &ctx, &shifted, 5, &mut b);
    // the receptive field reaches ~50 pixels: compare a window well inside both maps
    for r in 56..68 {
        for c in 56..68 {
            for j in 0..k {
                let (u, v) = (a.out[(r * n + c) * k + j], b.out[((r + shift) * n + c + shift) * k + j]);
                assert!((u - v).abs() <= 1e-4 * (1.0 + u.abs()), "({r},{c},{j}): {u} vs {v}");
            }
        }
    }
}

#[test]
fn test_from_parts_round_trip_and_rejects_wrong_lengths() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let net = ConvNet::new(cfg(4, 3, 8, 16, 8), &mut rng);
    let back = ConvNet::from_parts(net.config.clone(), net.fourier.clone(), net.params.clone()).expect("round trip");
    assert_eq!(back, net);
    let mut short = net.params.clone();
    short.pop();
    assert!(ConvNet::from_parts(net.config.clone(), net.fourier.clone(), short).is_none());
    assert!(ConvNet::from_parts(net.config.clone(), net.fourier[1..].to_vec(), net.params.clone()).is_none());
    let mut other = net.config.clone();
    other.base_channels = 9;
    assert!(ConvNet::from_parts(other, net.fourier.clone(), net.params.clone()).is_none());
    let mut bad = net.config.clone();
    bad.height = 10;
    assert!(ConvNet::from_parts(bad, net.fourier.clone(), net.params.clone()).is_none());
}

#[test]
fn test_validate_rejects_bad_shapes() {
    assert!(cfg(2, 0, 16, 64, 64).validate().is_ok());
    assert!(cfg(12, 3, 24, 8, 12).validate().is_ok());
    for bad in [
        cfg(2, 0, 16, 10, 64),
        cfg(2, 0, 16, 64, 6),
        cfg(2, 0, 16, 4, 64),
        cfg(0, 3, 16, 64, 64),
        cfg(2, 0, 0, 64, 64),
        cfg(2, 0, usize::MAX, 64, 64),
        cfg(2, usize::MAX, 16, 64, 64),
        cfg(2, 0, 16, usize::MAX - 3, 64),
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
        assert_eq!(bad.param_count(), None);
    }
}

#[test]
fn test_param_count_and_flops_formulas() {
    let (k, e, c) = (2usize, 3usize, 16usize);
    let config = cfg(k, e, c, 64, 64);
    let t = 128;
    let block = |ch: usize| 4 * ch + 2 * (9 * ch * ch) + t * 2 * ch + 2 * ch;
    let expected = 9 * (k + e) * c
        + c
        + 2 * (t * t + t)
        + 2 * block(c)
        + 4 * block(2 * c)
        + (9 * c * 2 * c + 2 * c)
        + (18 * c * 2 * c + 2 * c)
        + (18 * c * c + c)
        + 2 * c
        + (9 * c * k + k);
    assert_eq!(config.param_count(), Some(expected));
    // the two full-resolution blocks dominate: 4 convs of 9*C*C multiply-adds per pixel
    let blocks_at_h = 2.0 * 4.0 * 4096.0 * 9.0 * (c * c) as f64;
    let flops = config.forward_flops_per_map();
    assert!(flops > blocks_at_h && flops < 3.0 * blocks_at_h, "{flops}");
}

#[test]
fn test_forward_and_backward_are_deterministic() {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let net = ConvNet::new(cfg(3, 1, 4, 8, 8), &mut rng);
    let ctx = net.level_context(&net.params);
    let input = uniform(&mut rng, 64 * 4, -1.0, 1.0);
    let probe = uniform(&mut rng, 64 * 3, -1.0, 1.0);
    let mut tape = ConvTape::default();
    let mut runs = Vec::new();
    for _ in 0..2 {
        // the same tape reused, then a fresh one: reused buffers must not leak state
        for fresh in [false, true] {
            if fresh {
                tape = ConvTape::default();
            }
            net.forward(&net.params, &ctx, &input, 19, &mut tape);
            let mut grads = vec![0.0f32; net.n_params()];
            let mut d_levels = net.zero_level_grads();
            net.backward(&net.params, &ctx, &tape, &probe, 19, &mut grads, &mut d_levels);
            runs.push((tape.out.clone(), grads, d_levels));
        }
    }
    for r in &runs[1..] {
        assert!(r.0.iter().zip(&runs[0].0).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(r.1.iter().zip(&runs[0].1).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(r.2, runs[0].2);
    }
    // summing two maps' level gradients equals (up to rounding) backward of both into one buffer
    let mut sum = runs[0].2.clone();
    sum.add_assign(&runs[1].2);
    let mut both = net.zero_level_grads();
    let mut grads = vec![0.0f32; net.n_params()];
    for _ in 0..2 {
        net.backward(&net.params, &ctx, &tape, &probe, 19, &mut grads, &mut both);
    }
    for (a, b) in sum.film.iter().flatten().zip(both.film.iter().flatten()) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + a.abs()), "{a} vs {b}");
    }
}

#[test]
fn test_adam_learns_a_fixed_batch() {
    // KL(one-hot || softmax(out)) per pixel = cross-entropy towards fixed label maps, from
    // inputs that carry a noisy view of the labels: must halve within 200 AdamW steps
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let (k, h, w, n_maps) = (3usize, 8usize, 8usize, 4usize);
    let p = h * w;
    let mut net = ConvNet::new(cfg(k, 0, 8, h, w), &mut rng);
    let labels: Vec<Vec<usize>> = (0..n_maps).map(|_| (0..p).map(|_| rng.random_range(0..k)).collect()).collect();
    let mut inputs = Vec::new();
    for l in &labels {
        let mut v = vec![0.0f32; p * k];
        for (px, &y) in l.iter().enumerate() {
            for j in 0..k {
                v[px * k + j] = if j == y { 1.0 } else { 0.0 } + rng.random_range(-0.8f32..0.8);
            }
        }
        inputs.push(v);
    }
    let levels: Vec<usize> = (0..n_maps).map(|i| i * 5).collect();
    let mut opt = AdamW::new(net.n_params(), 0.0);
    let mut tape = ConvTape::default();
    let mut probs = vec![0.0f32; k];
    let mut d_out = vec![0.0f32; p * k];
    let (mut first, mut last) = (0.0f64, 0.0f64);
    for step in 0..200 {
        let ctx = net.level_context(&net.params);
        let mut grads = vec![0.0f32; net.n_params()];
        let mut d_levels = net.zero_level_grads();
        let mut loss = 0.0f64;
        for m in 0..n_maps {
            net.forward(&net.params, &ctx, &inputs[m], levels[m], &mut tape);
            for (px, &y) in labels[m].iter().enumerate() {
                crate::kernels::softmax_into(&tape.out[px * k..(px + 1) * k], &mut probs);
                loss -= (probs[y].max(1e-30) as f64).ln();
                for j in 0..k {
                    d_out[px * k + j] = (probs[j] - if j == y { 1.0 } else { 0.0 }) / (p * n_maps) as f32;
                }
            }
            net.backward(&net.params, &ctx, &tape, &d_out, levels[m], &mut grads, &mut d_levels);
        }
        net.backward_levels(&net.params, &ctx, &d_levels, &mut grads);
        loss /= (p * n_maps) as f64;
        if step == 0 {
            first = loss;
        }
        last = loss;
        opt.step(&mut net.params, &grads, 1e-2);
    }
    assert!(last < 0.5 * first, "loss {first} -> {last}");
}

#[test]
#[ignore = "timing; run with --release -- --ignored --nocapture"]
fn test_time_forward_and_backward_64x64() {
    use std::time::Instant;
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    for config in [cfg(2, 0, 16, 64, 64), cfg(12, 3, 24, 64, 64), cfg(2, 3, 16, 64, 64), cfg(2, 3, 32, 64, 64)] {
        let net = ConvNet::new(config.clone(), &mut rng);
        let ctx = net.level_context(&net.params);
        let input = uniform(&mut rng, 64 * 64 * config.in_channels(), -1.0, 1.0);
        let probe = uniform(&mut rng, 64 * 64 * config.classes, -1.0, 1.0);
        let mut tape = ConvTape::default();
        let mut grads = vec![0.0f32; net.n_params()];
        let mut d_levels = net.zero_level_grads();
        net.forward(&net.params, &ctx, &input, 3, &mut tape);
        let reps = 20;
        let t0 = Instant::now();
        for _ in 0..reps {
            net.forward(&net.params, &ctx, &input, 3, &mut tape);
        }
        let fwd = t0.elapsed().as_secs_f64() / reps as f64;
        let t0 = Instant::now();
        for _ in 0..reps {
            net.forward(&net.params, &ctx, &input, 3, &mut tape);
            net.backward(&net.params, &ctx, &tape, &probe, 3, &mut grads, &mut d_levels);
        }
        let both = t0.elapsed().as_secs_f64() / reps as f64;
        let gflops = config.forward_flops_per_map() / 1e9;
        eprintln!(
            "{config:?}: params {}, forward {:.3} GFLOP, forward {:.2} ms ({:.1} GFLOP/s), forward+backward {:.2} ms",
            net.n_params(),
            gflops,
            fwd * 1e3,
            gflops / fwd,
            both * 1e3
        );
    }
}
