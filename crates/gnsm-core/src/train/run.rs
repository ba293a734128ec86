//! The training loop: per-thread noisy inputs and targets, the KL loss and its gradient, the
//! data-parallel step with AdamW, clipping, cosine decay and EMA, and validation checkpoints.

use super::{example_rng, Hooks, Progress, TrainConfig, TrainReport};

use crate::encoding::{CodedTable, Encoder};
use crate::error::{Error, Result};
use crate::net::tabular::{Network, Tape};
use crate::optim::{clip_grad_norm, cosine_lr, ema_decay_at, ema_update_on, AdamW};
use crate::relax::{logit_scales, normal, sample_block, sigmas, temperatures, LEVELS};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::time::Instant;

/// Per-thread buffers reused across steps.
struct Worker {
    tape: Tape,
    grads: Vec<f32>,
    d_film: Vec<Vec<f32>>,
    y: Vec<f32>,
    target: Vec<f32>,
    /// Clean input vector of the current row.
    clean: Vec<f32>,
    d_out: Vec<f32>,
    loss: f64,
}

/// Fills the noisy inputs and targets of `rows` at `levels` into the worker's `n x D` buffers:
/// numeric dims get `x + sigma z` with target z, categorical blocks the ExpConcrete noise with
/// target `softmax(-g)`.
#[allow(clippy::too_many_arguments)]
fn sample_inputs(
    encoder: &Encoder,
    data: &CodedTable,
    rows: &[usize],
    levels: &[usize],
    seed: u64,
    step: u64,
    first: usize,
    scales: &[f32; LEVELS],
    w: &mut Worker,
) {
    let d = encoder.input_dim();
    let p = encoder.n_num();
    let (taus, sigmas) = (temperatures(), sigmas());
    let sizes = encoder.block_sizes();
    let n = rows.len();
    w.y.resize(n * d, 0.0);
    w.target.resize(n * d, 0.0);
    w.clean.resize(d, 0.0);
    for (r, (&row, &t)) in rows.iter().zip(levels).enumerate() {
        let mut rng = example_rng(seed, step, (first + r) as u64);
        encoder.input_into(data.row(row), scales[t], &mut w.clean);
        for i in 0..p {
            let z = normal(&mut rng);
            w.y[r * d + i] = w.clean[i] + sigmas[t] * z;
            w.target[r * d + i] = z;
        }
        let mut off = p;
        for &k in &sizes {
            let base = r * d + off;
            sample_block(&mut rng, &w.clean[off..off + k], taus[t], &mut w.y[base..base + k], &mut w.target[base..base + k]);
            off += k;
        }
    }
}

/// The training loss of the method (section 3) for rows at `levels`: per numeric dim
/// `0.5 (o + z/sigma)^2`, per categorical block `KL(target || softmax(o))`, summed. Writes the
/// gradient times `scale` into `d_out` and returns the summed loss of all rows.
#[allow(clippy::too_many_arguments)]
fn loss_and_grad(out: &[f32], target: &[f32], n_num: usize, sizes: &[usize], levels: &[usize], d: usize, scale: f32, d_out: &mut Vec<f32>) -> f64 {
    d_out.resize(out.len(), 0.0);
    let sigmas = sigmas();
    let mut total = 0.0f64;
    for (((o, t), g), &level) in out.chunks_exact(d).zip(target.chunks_exact(d)).zip(d_out.chunks_exact_mut(d)).zip(levels) {
        for i in 0..n_num {
            let diff = o[i] + t[i] / sigmas[level];
            total += 0.5 * (diff as f64) * (diff as f64);
            g[i] = diff * scale;
        }
        let mut off = n_num;
        for &k in sizes {
            let (ob, tb, gb) = (&o[off..off + k], &t[off..off + k], &mut g[off..off + k]);
            let lse = crate::kernels::logsumexp(ob);
            for i in 0..k {
                let logq = ob[i] - lse;
                if tb[i] > 0.0 {
                    total += (tb[i] * (tb[i].ln() - logq)) as f64;
                }
                gb[i] = (logq.exp() - tb[i]) * scale;
            }
            off += k;
        }
    }
    total
}

/// Splits `0..n` into at most `parts` contiguous ranges of near-equal size.
pub(crate) fn split_ranges(n: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let parts = parts.clamp(1, n.max(1));
    (0..parts).map(|p| (p * n / parts)..((p + 1) * n / parts)).filter(|r| !r.is_empty()).collect()
}

/// Parameters per task of the gradient all-reduce (64 KiB of f32).
const REDUCE_CHUNK: usize = 16_384;

/// Rows per forward call in validation (bounds the tape's memory).
const VAL_CHUNK: usize = 256;

/// Mean validation loss over all levels of `rows`, with fixed noise, using weights `params`.
fn validation_loss(
    net: &Network,
    params: &[f32],
    encoder: &Encoder,
    data: &CodedTable,
    rows: &[usize],
    seed: u64,
    scales: &[f32; LEVELS],
    workers: &mut [Worker],
    pool: &rayon::ThreadPool,
) -> f64 {
    if rows.is_empty() {
        return f64::NAN;
    }
    let ctx = net.level_context(params);
    let sizes = encoder.block_sizes();
    let d = encoder.input_dim();
    // every row at every level: rows x LEVELS examples
    let examples: Vec<(usize, usize)> = rows.iter().flat_map(|&r| (0..LEVELS).map(move |t| (r, t))).collect();
    let ranges = split_ranges(examples.len(), workers.len());
    let total: f64 = pool.install(|| {
        workers
            .par_iter_mut()
            .zip(ranges.par_iter())
            .map(|(w, range)| {
                let mut sum = 0.0;
                for (ci, chunk) in examples[range.clone()].chunks(VAL_CHUNK).enumerate() {
                    let idx: Vec<usize> = chunk.iter().map(|e| e.0).collect();
                    let lv: Vec<usize> = chunk.iter().map(|e| e.1).collect();
                    let first = range.start + ci * VAL_CHUNK;
                    sample_inputs(encoder, data, &idx, &lv, seed ^ 0x005E_ED0F_7A11, u64::MAX, first, scales, w);
                    net.forward(params, &ctx, &w.y, &lv, &mut w.tape);
                    let mut scratch = std::mem::take(&mut w.d_out);
                    sum += loss_and_grad(&w.tape.out, &w.target, encoder.n_num(), &sizes, &lv, d, 0.0, &mut scratch);
                    w.d_out = scratch;
                }
                sum
            })
            .collect::<Vec<f64>>()
            .into_iter()
            .sum()
    });
    total / examples.len() as f64
}

/// Trains the score network on the coded rows; returns the best EMA weights as a network. The
/// time budget leaves room for `after` one-row forward passes of the network that the caller
/// runs once training is done (the density head's features, the fast scorer, the warm scores).
pub fn train_network(
    encoder: &Encoder,
    data: &CodedTable,
    config: &TrainConfig,
    after: f64,
    pool: &rayon::ThreadPool,
    hooks: &mut Hooks,
) -> Result<(Network, TrainReport)> {
    config.validate()?;
    if data.n_rows == 0 {
        return Err(Error::InsufficientData { reason: "the table has no rows".into() });
    }
    let start = Instant::now();
    let d = encoder.input_dim();
    let sizes = encoder.block_sizes();
    let scales = logit_scales(config.signal_min, config.signal_max);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let net_config = config.net_config(d);
    let mut net = Network::new(net_config, &mut rng);

    // validation split: a seeded shuffle; tiny tables (< 20 rows) train and validate on all rows
    let mut order: Vec<usize> = (0..data.n_rows).collect();
    order.shuffle(&mut rng);
    let n_val = ((data.n_rows as f64 * config.val_fraction).round() as usize).min(data.n_rows.saturating_sub(1));
    let (val_rows, train_rows) = if data.n_rows < 20 || n_val == 0 {
        (order.clone(), order)
    } else {
        let (v, t) = order.split_at(n_val);
        (v.to_vec(), t.to_vec())
    };
    let val_eval: Vec<usize> = val_rows.iter().copied().take(config.max_val_rows).collect();

    let n_workers = config.threads.max(1);
    let mut workers: Vec<Worker> = (0..n_workers)
        .map(|_| Worker {
            tape: Tape::default(),
            grads: vec![0.0; net.n_params()],
            d_film: net.zero_film_grads(),
            y: vec![],
            target: vec![],
            clean: vec![],
            d_out: vec![],
            loss: 0.0,
        })
        .collect();
    let mut opt = AdamW::new(net.n_params(), config.weight_decay);
    let mut ema = net.params.clone();
    let mut best = (f64::INFINITY, ema.clone(), 0usize);
    let mut grads = vec![0.0f32; net.n_params()];
    let mut horizon = config.steps;
    // what the fit does after training must fit in max_seconds too: `after` forward passes of one
    // row each, and a training step costs about 3 per row of its batch, so the reserve is that
    // many steps' time (default on 5,000 head rows: 5,000 x 41 / 1,536 = 133 steps)
    let reserve_steps = after / (3.0 * config.batch_size.max(1) as f64);
    let mut reserve = 0.0;
    let mut stopped_by = "steps";
    let eval_every = (config.steps / config.evals).max(1);
    let mut recent_loss = 0.0f64;
    let mut last_val = None;
    let mut step = 0usize;
    let batch = config.batch_size;
    let scale = 1.0 / batch as f32;

    while step < horizon {
        if (hooks.interrupt)() {
            return Err(Error::Interrupted);
        }
        let lr = cosine_lr(step, horizon, config.lr, config.lr_min);
        let mut step_rng = example_rng(config.seed, step as u64, u64::MAX >> 16);
        let rows: Vec<usize> = (0..batch).map(|_| train_rows[step_rng.random_range(0..train_rows.len())]).collect();
        let levels: Vec<usize> = (0..batch).map(|_| step_rng.random_range(0..LEVELS)).collect();
        let ctx = net.level_context(&net.params);
        let ranges = split_ranges(batch, n_workers);
        let (params, seed) = (&net.params, config.seed);
        let net_ref = &net;
        pool.install(|| {
            workers.par_iter_mut().zip(ranges.par_iter()).for_each(|(w, range)| {
                w.grads.fill(0.0);
                w.d_film.iter_mut().for_each(|f| f.fill(0.0));
                let (rs, lv) = (&rows[range.clone()], &levels[range.clone()]);
                sample_inputs(encoder, data, rs, lv, seed, step as u64, range.start, &scales, w);
                net_ref.forward(params, &ctx, &w.y, lv, &mut w.tape);
                let mut d_out = std::mem::take(&mut w.d_out);
                w.loss = loss_and_grad(&w.tape.out, &w.target, encoder.n_num(), &sizes, lv, d, scale, &mut d_out);
                net_ref.backward(params, &ctx, &w.y, lv, &w.tape, &d_out, &mut w.grads, &mut w.d_film);
                w.d_out = d_out;
            })
        });
        // all-reduce in worker order: deterministic for a given thread count (each parameter sums
        // the workers in the same order whichever thread adds its chunk)
        let used = &workers[..ranges.len()];
        pool.install(|| {
            grads.par_chunks_mut(REDUCE_CHUNK).enumerate().for_each(|(c, g)| {
                let (at, len) = (c * REDUCE_CHUNK, g.len());
                g.copy_from_slice(&used[0].grads[at..at + len]);
                for w in &used[1..] {
                    g.iter_mut().zip(&w.grads[at..at + len]).for_each(|(g, x)| *g += x);
                }
            })
        });
        let mut d_film = workers[0].d_film.clone();
        let mut loss = workers[0].loss;
        for w in workers.iter().skip(1).take(ranges.len() - 1) {
            for (a, b) in d_film.iter_mut().zip(&w.d_film) {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
            }
            loss += w.loss;
        }
        net.backward_levels(&net.params, &ctx, &d_film, &mut grads);
        let loss = loss / batch as f64;
        if !loss.is_finite() {
            return Err(Error::Numeric { reason: format!("training loss became {loss} at step {step}; try a smaller lr") });
        }
        clip_grad_norm(&mut grads, config.grad_clip);
        opt.step_on(&mut net.params, &grads, lr, pool);
        ema_update_on(&mut ema, &net.params, ema_decay_at(step, config.ema_decay), pool);
        recent_loss = if step == 0 { loss } else { 0.95 * recent_loss + 0.05 * loss };
        step += 1;

        let elapsed = start.elapsed().as_secs_f64();
        // once the step time is known, shrink the cosine horizon to what the time budget allows
        if step == 10 && horizon == config.steps {
            let per_step = elapsed / step as f64 * 1.08; // +8% for validation passes
            reserve = reserve_steps * per_step;
            let affordable = step + ((config.max_seconds - reserve - elapsed).max(0.0) / per_step) as usize;
            if affordable < horizon {
                horizon = affordable.max(step);
                stopped_by = "max_seconds";
            }
        }
        if step % eval_every == 0 || step == horizon {
            let v = validation_loss(&net, &ema, encoder, data, &val_eval, config.seed, &scales, &mut workers, pool);
            last_val = Some(v);
            if v <= best.0 || !best.0.is_finite() {
                best = (v, ema.clone(), step);
            }
        }
        if elapsed + reserve > config.max_seconds && step < horizon {
            stopped_by = "max_seconds";
            horizon = step;
            let v = validation_loss(&net, &ema, encoder, data, &val_eval, config.seed, &scales, &mut workers, pool);
            last_val = Some(v);
            if v <= best.0 {
                best = (v, ema.clone(), step);
            }
        }
        (hooks.progress)(&Progress {
            step,
            total_steps: horizon,
            loss: recent_loss,
            val_loss: last_val,
            elapsed: start.elapsed().as_secs_f64(),
        });
    }
    net.params = best.1;
    let report = TrainReport {
        train_rows: train_rows.len(),
        val_rows: val_rows.len(),
        steps: step,
        seconds: start.elapsed().as_secs_f64(),
        final_loss: recent_loss,
        best_val_loss: best.0,
        best_step: best.2,
        stopped_by: stopped_by.to_string(),
    };
    Ok((net, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_split_ranges_cover_everything() {
        let r = split_ranges(10, 3);
        assert_eq!(r, vec![0..3, 3..6, 6..10]);
        assert_eq!(split_ranges(2, 8).len(), 2);
    }

    #[test]
    fn test_config_validation_names_the_field() {
        let c = TrainConfig { steps: 0, ..TrainConfig::default() };
        assert!(matches!(c.validate(), Err(Error::InvalidParam { name, .. }) if name == "steps"));
        let c = TrainConfig { max_seconds: f64::NAN, ..TrainConfig::default() };
        assert!(c.validate().is_err());
    }

    #[test]
    fn test_loss_gradient_matches_finite_differences() {
        // one row: 2 numeric dims, then a block of 3, at level 5
        let out = [0.3f32, -1.2, 0.1, 0.5, -0.4];
        let target = [0.7f32, -0.4, 0.2, 0.5, 0.3];
        let (sizes, levels) = ([3usize], [5usize]);
        let mut grad = Vec::new();
        loss_and_grad(&out, &target, 2, &sizes, &levels, 5, 1.0, &mut grad);
        let mut scratch = Vec::new();
        for i in 0..5 {
            let h = 1e-2f32;
            let (mut up, mut down) = (out, out);
            up[i] += h;
            down[i] -= h;
            let fd = (loss_and_grad(&up, &target, 2, &sizes, &levels, 5, 0.0, &mut scratch)
                - loss_and_grad(&down, &target, 2, &sizes, &levels, 5, 0.0, &mut scratch))
                / (2.0 * h as f64);
            assert!((fd - grad[i] as f64).abs() < 1e-3 * (1.0 + fd.abs()), "dim {i}: fd {fd} vs {}", grad[i]);
        }
        // the numeric term is minimised where the output is the Gaussian score -z/sigma
        let sigma = sigmas()[5];
        let best = [-0.7 / sigma, 0.4 / sigma, 0.1, 0.5, -0.4];
        let tail = loss_and_grad(&best, &target, 2, &sizes, &levels, 5, 0.0, &mut scratch);
        let block = loss_and_grad(&best[2..], &target[2..], 0, &sizes, &levels, 3, 0.0, &mut scratch);
        assert!((tail - block).abs() < 1e-9);
    }

    #[test]
    fn test_example_noise_is_independent_of_chunking() {
        let mut a = example_rng(1, 5, 17);
        let mut b = example_rng(1, 5, 17);
        let mut c = example_rng(1, 5, 18);
        let (x, y, z): (u64, u64, u64) = (a.random(), b.random(), c.random());
        assert_eq!(x, y);
        assert_ne!(x, z);
    }
}
