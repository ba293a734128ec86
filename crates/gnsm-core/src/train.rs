//! Training of the score network: noise sampling, the KL loss (method §3), data-parallel
//! gradients with rayon, AdamW + clipping + cosine decay + EMA, validation-based checkpointing, a
//! step budget and a wall-clock budget, and the two hooks the SQL layer needs.

use crate::encoding::{CodedTable, Encoder};
use crate::error::{invalid, Error, Result};
use crate::network::{NetConfig, Network, Tape};
use crate::optim::{clip_grad_norm, cosine_lr, ema_decay_at, ema_update, AdamW};
use crate::relax::{logit_scales, normal, sample_block, sigmas, temperatures, LEVELS};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Hyper-parameters of training and scoring, with the defaults the README documents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainConfig {
    /// Hidden width W of the tab-resnet.
    pub width: usize,
    /// Number of residual blocks B.
    pub depth: usize,
    /// Step budget.
    pub steps: usize,
    /// Wall-clock budget in seconds for the network training phase.
    pub max_seconds: f64,
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// Peak learning rate (cosine-decayed to `lr_min`).
    pub lr: f32,
    pub lr_min: f32,
    pub weight_decay: f32,
    pub ema_decay: f32,
    pub grad_clip: f32,
    pub seed: u64,
    /// Worker threads for training and batch scoring (the calling thread counts as one).
    pub threads: usize,
    /// Share of training rows held out for validation and checkpoint selection.
    pub val_fraction: f64,
    /// Validation rows actually evaluated (all 20 levels each); more cost time, not quality.
    pub max_val_rows: usize,
    /// Number of validation evaluations spread over training.
    pub evals: usize,
    /// Apply the method's denoise step before computing score norms.
    pub denoise: bool,
    /// Add the independent-columns log-likelihood to the density head's features.
    pub frequency_feature: bool,
    /// Candidate GMM component counts, chosen by cross-validation.
    pub gmm_components: Vec<usize>,
    /// Rows sampled to fit the density head (its features cost 21 forward passes per distinct row).
    pub max_head_rows: usize,
    /// Smallest per-level scale of the clean logits (level 0); see `relax::logit_scales`. The
    /// paper uses 1 (no scaling).
    pub signal_min: f32,
    /// Largest per-level scale of the clean logits (level L-1); the paper uses 1.
    pub signal_max: f32,
    /// Include the paper's 20 score-norm features in the density head.
    pub norm_features: bool,
    /// Fixed noise draws per level for the per-row denoising-loss features (0 = none).
    pub dsm_draws: usize,
    /// Score = standardised GMM negative log-likelihood + standardised IndepNLL (both scaled on
    /// the head's training rows) instead of the GMM alone; needs `frequency_feature`.
    pub frequency_blend: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            width: 256,
            depth: 4,
            // 1,000 steps of 256x4 take about 22 s on 2 cores; see results/quality.md
            steps: 1000,
            max_seconds: 60.0,
            batch_size: 512,
            lr: 1e-3,
            lr_min: 1e-5,
            weight_decay: 1e-4,
            ema_decay: 0.999,
            grad_clip: 1.0,
            seed: 42,
            threads: 1,
            val_fraction: 0.1,
            max_val_rows: 512,
            evals: 10,
            denoise: true,
            frequency_feature: true,
            gmm_components: vec![3, 5, 7, 9],
            // 5,000 rows: each costs 41 forward passes and the 41-d GMM's CV grows with the rows;
            // at 20,000 the head took longer than training on chess (~50 s of 107 s)
            max_head_rows: 5_000,
            // logit scales 0.2..1 (gap 2.3..11.5): chess AUROC 90.7 vs 78.2 with the paper's 1..1
            // (seed 42, 1,000 steps, GMM on all features); 0.05..0.5 lost 3 points on solar and cmc
            signal_min: 0.2,
            signal_max: 1.0,
            norm_features: true,
            // one fixed draw: GMM on norms + denoising losses + IndepNLL beat norms + IndepNLL by
            // 3-11 AUROC points on solar, cmc and chess
            dsm_draws: 1,
            // semi protocol, seeds 42-43, same networks (gnsm-eval examples/explore.rs): census 58.3 -> 64.2,
            // solar 82.2 -> 86.4, chess 70.0 -> 72.4, cmc 61.1 -> 60.4 AUROC: a rare value is
            // one of 41 GMM inputs and gets diluted there, the blend gives it its own weight
            frequency_blend: true,
        }
    }
}

impl TrainConfig {
    /// Checks every field's range; the error names the field.
    pub fn validate(&self) -> Result<()> {
        let check = |ok: bool, name: &str, reason: &str| if ok { Ok(()) } else { Err(invalid(name, reason)) };
        check((1..=4096).contains(&self.width), "width", "must be between 1 and 4096")?;
        check((1..=64).contains(&self.depth), "depth", "must be between 1 and 64")?;
        check((1..=10_000_000).contains(&self.steps), "steps", "must be between 1 and 10000000")?;
        check(self.max_seconds.is_finite() && self.max_seconds > 0.0, "max_seconds", "must be a positive number of seconds")?;
        check((1..=65_536).contains(&self.batch_size), "batch_size", "must be between 1 and 65536")?;
        check(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 1.0, "lr", "must be in (0, 1]")?;
        check(self.lr_min.is_finite() && self.lr_min >= 0.0 && self.lr_min <= self.lr, "lr_min", "must be in [0, lr]")?;
        check(self.weight_decay.is_finite() && (0.0..1.0).contains(&self.weight_decay), "weight_decay", "must be in [0, 1)")?;
        check(self.ema_decay.is_finite() && (0.0..1.0).contains(&self.ema_decay), "ema_decay", "must be in [0, 1)")?;
        check(self.grad_clip.is_finite() && self.grad_clip > 0.0, "grad_clip", "must be positive")?;
        check((1..=256).contains(&self.threads), "threads", "must be between 1 and 256")?;
        check(self.val_fraction.is_finite() && (0.0..0.5).contains(&self.val_fraction), "val_fraction", "must be in [0, 0.5)")?;
        check((1..=1_000_000).contains(&self.max_val_rows), "max_val_rows", "must be between 1 and 1000000")?;
        check((1..=1000).contains(&self.evals), "evals", "must be between 1 and 1000")?;
        check(
            !self.gmm_components.is_empty() && self.gmm_components.iter().all(|&k| (1..=64).contains(&k)),
            "gmm_components",
            "must be a non-empty list of integers between 1 and 64",
        )?;
        check((100..=10_000_000).contains(&self.max_head_rows), "max_head_rows", "must be between 100 and 10000000")?;
        check(self.signal_min.is_finite() && self.signal_min > 0.0 && self.signal_min <= 10.0, "signal_min", "must be in (0, 10]")?;
        check(
            self.signal_max.is_finite() && self.signal_max >= self.signal_min && self.signal_max <= 10.0,
            "signal_max",
            "must be in [signal_min, 10]",
        )?;
        check(self.dsm_draws <= 64, "dsm_draws", "must be between 0 and 64")?;
        check(
            self.norm_features || self.dsm_draws > 0 || self.frequency_feature,
            "norm_features",
            "the density head needs at least one feature kind",
        )?;
        Ok(())
    }
}

/// What a progress callback sees after each step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub step: usize,
    /// Steps the run will make (the step budget, or fewer when the time budget binds).
    pub total_steps: usize,
    /// Mean training loss over the last steps.
    pub loss: f64,
    /// Latest validation loss, once one was computed.
    pub val_loss: Option<f64>,
    pub elapsed: f64,
}

/// Hooks called on the calling thread between steps (never from a worker thread).
pub struct Hooks<'a> {
    pub progress: &'a mut dyn FnMut(&Progress),
    /// Returns true to abort training; `train_network` then returns `Error::Interrupted`.
    pub interrupt: &'a mut dyn FnMut() -> bool,
}

impl Hooks<'_> {
    /// Runs `f` with hooks that report nothing and never interrupt.
    pub fn silent<T>(f: impl FnOnce(&mut Hooks) -> T) -> T {
        let mut progress = |_: &Progress| {};
        let mut interrupt = || false;
        let mut hooks = Hooks { progress: &mut progress, interrupt: &mut interrupt };
        f(&mut hooks)
    }
}

/// Facts about a finished training run, stored with the model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainReport {
    pub train_rows: usize,
    pub val_rows: usize,
    pub steps: usize,
    pub seconds: f64,
    pub final_loss: f64,
    pub best_val_loss: f64,
    pub best_step: usize,
    /// "steps" or "max_seconds": which budget ended training.
    pub stopped_by: String,
}

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

/// Deterministic per-example RNG: the noise of example `i` at step `step` does not depend on how
/// the batch is split across threads.
pub(crate) fn example_rng(seed: u64, step: u64, i: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15);
    rng.set_stream(step);
    rng.set_word_pos(i as u128 * 4096);
    rng
}

/// Builds a local rayon pool of `threads` threads; the caller must block signals if it needs to.
pub fn build_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("gnsm-worker-{i}"))
        .build()
        .map_err(|e| invalid("threads", format!("cannot start worker threads: {e}")))
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
fn split_ranges(n: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let parts = parts.clamp(1, n.max(1));
    (0..parts).map(|p| (p * n / parts)..((p + 1) * n / parts)).filter(|r| !r.is_empty()).collect()
}

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
                    sample_inputs(encoder, data, &idx, &lv, seed ^ 0x5EED_0F_7A11, u64::MAX, first, scales, w);
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

/// Trains the score network on the coded rows; returns the best EMA weights as a network.
pub fn train_network(
    encoder: &Encoder,
    data: &CodedTable,
    config: &TrainConfig,
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
    let net_config = NetConfig { input_dim: d, width: config.width, depth: config.depth, levels: LEVELS };
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
        // all-reduce in worker order: deterministic for a given thread count
        grads.copy_from_slice(&workers[0].grads);
        let mut d_film = workers[0].d_film.clone();
        let mut loss = workers[0].loss;
        for w in workers.iter().skip(1).take(ranges.len() - 1) {
            grads.iter_mut().zip(&w.grads).for_each(|(g, x)| *g += x);
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
        opt.step(&mut net.params, &grads, lr);
        ema_update(&mut ema, &net.params, ema_decay_at(step, config.ema_decay));
        recent_loss = if step == 0 { loss } else { 0.95 * recent_loss + 0.05 * loss };
        step += 1;

        let elapsed = start.elapsed().as_secs_f64();
        // once the step time is known, shrink the cosine horizon to what the time budget allows
        if step == 10 && horizon == config.steps {
            let per_step = elapsed / step as f64 * 1.08; // +8% for validation passes
            let affordable = step + ((config.max_seconds - elapsed).max(0.0) / per_step) as usize;
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
        if elapsed > config.max_seconds && step < horizon {
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
