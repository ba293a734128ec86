//! Training of the convolutional score network on label maps: the per-pixel KL loss of the
//! method (§3, §9), one random level per map, maps split across the pool's threads with their
//! gradients reduced in a fixed order, and the trainer of table rows' schedule (AdamW, clipping,
//! cosine decay, EMA, best-validation checkpoint, step and wall-clock budgets, hooks).

use super::config::MapConfig;
use super::input::{network_input, MapInput, Noise};
use crate::error::{Error, Result};
use crate::kernels::logsumexp;
use crate::net::conv::{ConvConfig, ConvLevelGrads, ConvNet, ConvTape};
use crate::optim::{clip_grad_norm, cosine_lr, ema_decay_at, ema_update, AdamW};
use crate::relax::{logit_scales, temperatures, LEVELS};
use crate::train::{example_rng, split_ranges, Hooks, Progress, TrainReport};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::time::Instant;

/// Per-thread buffers reused across steps.
struct Worker {
    tape: ConvTape,
    grads: Vec<f32>,
    d_levels: ConvLevelGrads,
    input: Vec<f32>,
    target: Vec<f32>,
    d_out: Vec<f32>,
    loss: f64,
}

/// Per-pixel KL(target || softmax(o)) summed over the map's labelled pixels; writes its gradient
/// times `scale` into `d_out` (zero at void pixels, whose target is all zero).
pub(crate) fn map_loss_and_grad(out: &[f32], target: &[f32], k: usize, scale: f32, d_out: &mut Vec<f32>) -> f64 {
    d_out.resize(out.len(), 0.0);
    let mut total = 0.0f64;
    for ((o, t), g) in out.chunks_exact(k).zip(target.chunks_exact(k)).zip(d_out.chunks_exact_mut(k)) {
        if t.iter().all(|&v| v == 0.0) {
            g.fill(0.0);
            continue;
        }
        let lse = logsumexp(o);
        for i in 0..k {
            let logq = o[i] - lse;
            if t[i] > 0.0 {
                total += (t[i] * (t[i].ln() - logq)) as f64;
            }
            g[i] = (logq.exp() - t[i]) * scale;
        }
    }
    total
}

/// Mean per-pixel validation loss over all levels of `maps`, with fixed noise, using `params`.
fn validation_loss(net: &ConvNet, params: &[f32], maps: &[&MapInput], scales: &[f32; LEVELS], seed: u64, workers: &mut [Worker], pool: &rayon::ThreadPool) -> f64 {
    if maps.is_empty() {
        return f64::NAN;
    }
    let ctx = net.level_context(params);
    let (k, taus) = (net.config.classes, temperatures());
    let examples: Vec<(usize, usize)> = (0..maps.len()).flat_map(|m| (0..LEVELS).map(move |t| (m, t))).collect();
    let ranges = split_ranges(examples.len(), workers.len());
    let total: f64 = pool.install(|| {
        workers
            .par_iter_mut()
            .zip(ranges.par_iter())
            .map(|(w, range)| {
                let mut sum = 0.0;
                for i in range.clone() {
                    let (m, t) = examples[i];
                    let mut rng = example_rng(seed ^ 0x005E_ED0F_7A11, u64::MAX, i as u64);
                    network_input(maps[m], k, scales[t], taus[t], Noise::Sample(&mut rng), &mut w.input, &mut w.target);
                    net.forward(params, &ctx, &w.input, t, &mut w.tape);
                    let mut scratch = std::mem::take(&mut w.d_out);
                    sum += map_loss_and_grad(&w.tape.out, &w.target, k, 0.0, &mut scratch) / labelled(maps[m]) as f64;
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

/// Number of labelled (non-void) pixels, at least 1.
fn labelled(m: &MapInput) -> usize {
    m.codes.iter().filter(|&&c| c != super::input::VOID).count().max(1)
}

/// Trains the score network on `maps` (already at the working resolution); returns the best EMA
/// weights. Time for `reserve_forwards` forward passes (the feature pass that follows) is kept
/// out of `max_seconds`, priced from the measured step time (a step is about 3 passes per map).
pub fn train_map_network(
    maps: &[MapInput],
    classes: usize,
    cond_channels: usize,
    config: &MapConfig,
    reserve_forwards: f64,
    pool: &rayon::ThreadPool,
    hooks: &mut Hooks,
) -> Result<(ConvNet, TrainReport)> {
    config.validate()?;
    if maps.len() < 2 {
        return Err(Error::InsufficientData { reason: format!("a map model needs at least 2 maps, got {}", maps.len()) });
    }
    let start = Instant::now();
    let scales = logit_scales(config.signal_min, config.signal_max);
    let taus = temperatures();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let net_config = ConvConfig { classes, cond_channels, base_channels: config.base_channels, height: config.height, width: config.width };
    net_config.validate()?;
    let mut net = ConvNet::new(net_config, &mut rng);

    // validation split: a seeded shuffle; under 20 maps, train and validate on all of them
    let mut order: Vec<usize> = (0..maps.len()).collect();
    order.shuffle(&mut rng);
    let n_val = ((maps.len() as f64 * config.val_fraction).round() as usize).min(maps.len() - 1);
    let (val_idx, train_idx) = if maps.len() < 20 || n_val == 0 {
        (order.clone(), order)
    } else {
        let (v, t) = order.split_at(n_val);
        (v.to_vec(), t.to_vec())
    };
    let val_maps: Vec<&MapInput> = val_idx.iter().map(|&i| &maps[i]).collect();

    let n_workers = config.threads.max(1);
    let mut workers: Vec<Worker> = (0..n_workers)
        .map(|_| Worker {
            tape: ConvTape::default(),
            grads: vec![0.0; net.n_params()],
            d_levels: net.zero_level_grads(),
            input: vec![],
            target: vec![],
            d_out: vec![],
            loss: 0.0,
        })
        .collect();
    let mut opt = AdamW::new(net.n_params(), config.weight_decay);
    let mut ema = net.params.clone();
    let mut best = (f64::INFINITY, ema.clone(), 0usize);
    let mut grads = vec![0.0f32; net.n_params()];
    let mut horizon = config.steps;
    let mut stopped_by = "steps";
    let eval_every = (config.steps / config.evals).max(1);
    let (mut recent_loss, mut last_val, mut step) = (0.0f64, None, 0usize);
    let batch = config.batch_size;
    let mut reserve_seconds = 0.0;

    while step < horizon {
        if (hooks.interrupt)() {
            return Err(Error::Interrupted);
        }
        let lr = cosine_lr(step, horizon, config.lr, config.lr_min);
        let mut step_rng = example_rng(config.seed, step as u64, u64::MAX >> 16);
        let picks: Vec<(usize, usize, bool)> = (0..batch)
            .map(|_| {
                let m = train_idx[step_rng.random_range(0..train_idx.len())];
                (m, step_rng.random_range(0..LEVELS), config.flip && step_rng.random::<bool>())
            })
            .collect();
        let ctx = net.level_context(&net.params);
        let ranges = split_ranges(batch, n_workers);
        let (params, seed, net_ref) = (&net.params, config.seed, &net);
        pool.install(|| {
            workers.par_iter_mut().zip(ranges.par_iter()).for_each(|(w, range)| {
                w.grads.fill(0.0);
                w.d_levels = net_ref.zero_level_grads();
                w.loss = 0.0;
                for i in range.clone() {
                    let (m, t, flip) = picks[i];
                    let flipped;
                    let x = if flip {
                        flipped = maps[m].flipped(config.height, config.width);
                        &flipped
                    } else {
                        &maps[m]
                    };
                    let mut rng = example_rng(seed, step as u64, i as u64);
                    network_input(x, classes, scales[t], taus[t], Noise::Sample(&mut rng), &mut w.input, &mut w.target);
                    net_ref.forward(params, &ctx, &w.input, t, &mut w.tape);
                    let scale = 1.0 / (batch * labelled(x)) as f32;
                    let mut d_out = std::mem::take(&mut w.d_out);
                    w.loss += map_loss_and_grad(&w.tape.out, &w.target, classes, scale, &mut d_out) / labelled(x) as f64;
                    net_ref.backward(params, &ctx, &w.tape, &d_out, t, &mut w.grads, &mut w.d_levels);
                    w.d_out = d_out;
                }
            })
        });
        // all-reduce in worker order: deterministic for a given thread count
        grads.copy_from_slice(&workers[0].grads);
        let mut d_levels = workers[0].d_levels.clone();
        let mut loss = workers[0].loss;
        for w in workers.iter().skip(1).take(ranges.len() - 1) {
            grads.iter_mut().zip(&w.grads).for_each(|(g, x)| *g += x);
            d_levels.add_assign(&w.d_levels);
            loss += w.loss;
        }
        net.backward_levels(&net.params, &ctx, &d_levels, &mut grads);
        let loss = loss / batch as f64;
        if !loss.is_finite() {
            return Err(Error::Numeric { reason: format!("training loss became {loss} at step {step}; try a smaller lr") });
        }
        clip_grad_norm(&mut grads, config.grad_clip);
        opt.step(&mut net.params, &grads, lr);
        ema_update(&mut ema, &net.params, ema_decay_at(step, config.ema_decay));
        recent_loss = if step == 0 { loss } else { 0.95 * recent_loss + 0.05 * loss };
        step += 1;

        let elapsed = start.elapsed().as_secs_f64();
        // once the step time is known, shrink the cosine horizon to what the time budget allows
        if step == 5 && horizon == config.steps {
            let per_step = elapsed / step as f64 * 1.08; // +8% for validation passes
            reserve_seconds = reserve_forwards * per_step / (3.0 * batch as f64);
            let affordable = step + ((config.max_seconds - reserve_seconds - elapsed).max(0.0) / per_step) as usize;
            if affordable < horizon {
                horizon = affordable.max(step);
                stopped_by = "max_seconds";
            }
        }
        let out_of_time = elapsed + reserve_seconds > config.max_seconds && step < horizon;
        if step % eval_every == 0 || step == horizon || out_of_time {
            let v = validation_loss(&net, &ema, &val_maps, &scales, config.seed, &mut workers, pool);
            last_val = Some(v);
            if v <= best.0 || !best.0.is_finite() {
                best = (v, ema.clone(), step);
            }
        }
        if out_of_time {
            stopped_by = "max_seconds";
            horizon = step;
        }
        (hooks.progress)(&Progress { step, total_steps: horizon, loss: recent_loss, val_loss: last_val, elapsed: start.elapsed().as_secs_f64() });
    }
    net.params = best.1;
    let report = TrainReport {
        train_rows: train_idx.len(),
        val_rows: val_idx.len(),
        steps: step,
        seconds: start.elapsed().as_secs_f64(),
        final_loss: recent_loss,
        best_val_loss: best.0,
        best_step: best.2,
        stopped_by: stopped_by.to_string(),
    };
    Ok((net, report))
}
