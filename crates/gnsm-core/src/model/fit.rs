//! The fitting pipeline: train the score network, count the frequency models, compute the
//! density head's features on a seeded sample of rows, fit the head and the calibrated evidence
//! sum (ADR 010), store the training rows' score quantiles and their exact scores (warm scores).

use super::{Evidence, Model, WarmScores, MAX_WARM_ROWS, N_QUANTILES};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use crate::encoding::{CodedTable, Encoder, TableBuilder};
use crate::error::{Error, Result};
use crate::frequency::{IndepNll, PairwiseNll, MAX_PAIR_ENTRIES};
use crate::fast::{FastScorer, Teacher};
use crate::head::{DensityHead, FitControl};
use crate::relax::logit_scales;
use crate::score::FeatureMap;
use crate::stats::quantiles_linear;
use crate::train::{train_network, Hooks, TrainConfig};
use ndarray::ArrayView2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// One-row forward passes of the network that the fit runs after training, for training's time
/// reserve: the head's features (`forwards` passes per head row), the fast scorer's teacher (two
/// perturbed copies of each head row) and student (`FastScorer::cost_in_forwards` per teacher
/// row), or the warm scores of an exact model (one row at a time on the pool: 1.25 times the
/// batched passes, measured 2.9 ms a row on one thread against 1.2 ms batched on two, 160 columns).
fn forward_rows_after_training(config: &TrainConfig, encoder: &Encoder, n_rows: usize, distinct: usize) -> f64 {
    let forwards = config.forwards_per_row() as f64;
    let head_rows = n_rows.min(config.max_head_rows) as f64;
    if config.fast_scorer {
        let inputs = FastScorer::n_inputs(encoder.n_num(), encoder.block_sizes().len(), config.frequency_feature || config.pairwise);
        let student = FastScorer::cost_in_forwards(inputs, config.net_config(encoder.input_dim()).forward_flops_per_row());
        3.0 * head_rows * (forwards + student)
    } else {
        head_rows * forwards + 1.25 * distinct.min(MAX_WARM_ROWS) as f64 * forwards
    }
}

/// What is left of a `max_seconds` budget since `start`, and at least a quarter of it: work that
/// cannot be cut short (reading the rows, counting them) may use up to three quarters, and a
/// network trained for no time at all would be no model.
pub fn budget_left(max_seconds: f64, start: Instant) -> f64 {
    (max_seconds - start.elapsed().as_secs_f64()).max(0.25 * max_seconds)
}

/// Distinct rows of a coded table (numeric cells are coded by value, so equal rows code alike).
pub fn distinct_rows(table: &CodedTable) -> usize {
    let mut seen: HashSet<&[u32], foldhash::fast::RandomState> = HashSet::with_capacity_and_hasher(table.n_rows.min(1 << 20), Default::default());
    (0..table.n_rows).filter(|&r| seen.insert(table.row(r))).count()
}

impl Model {
    /// Trains a model on raw rows (values in `names` order; `None` is NULL).
    pub fn fit<S: AsRef<str>>(
        names: &[String],
        rows: &[Vec<Option<S>>],
        config: &TrainConfig,
        max_categories: usize,
        pool: &rayon::ThreadPool,
        hooks: &mut Hooks,
    ) -> Result<Model> {
        let mut builder = TableBuilder::new(names.to_vec(), max_categories);
        for row in rows {
            let r: Vec<Option<&str>> = row.iter().map(|v| v.as_ref().map(|s| s.as_ref())).collect();
            builder.push_row(&r)?;
        }
        let (encoder, table) = builder.finish()?;
        Model::fit_coded(encoder, &table, config, pool, hooks)
    }

    /// Trains a model on rows already coded by `encoder` (the SQL layer's path).
    pub fn fit_coded(
        encoder: Encoder,
        table: &CodedTable,
        config: &TrainConfig,
        pool: &rayon::ThreadPool,
        hooks: &mut Hooks,
    ) -> Result<Model> {
        config.validate()?;
        let start = Instant::now();
        // "scorer": "auto" is decided before training, whose time reserve counts the teacher rows
        let distinct = distinct_rows(table);
        let config = &config.resolve_scorer(distinct);
        // the frequency models count categories (numeric columns are scored from the encoder's
        // stats); they do not depend on the network, so they are counted first and their time
        // (1.1 s for 160 columns of 60,000 rows) comes out of the training's share of max_seconds
        let frequency = config.frequency_feature.then(|| IndepNll::fit(table, &encoder.block_sizes()));
        let pairwise = match config.pairwise {
            true => Some(PairwiseNll::fit_controlled(table, &encoder.block_sizes(), MAX_PAIR_ENTRIES, &mut *hooks.interrupt)?),
            false => None,
        };
        let train_config = TrainConfig { max_seconds: budget_left(config.max_seconds, start), ..config.clone() };
        let after = forward_rows_after_training(config, &encoder, table.n_rows, distinct);
        let (network, report) = train_network(&encoder, table, &train_config, after, pool, hooks)?;
        // the density head is fitted on a seeded sample of the training rows
        let mut rows: Vec<usize> = (0..table.n_rows).collect();
        if rows.len() > config.max_head_rows {
            let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x4EAD);
            rows.shuffle(&mut rng);
            rows.truncate(config.max_head_rows);
            rows.sort_unstable();
        }
        let fmap = FeatureMap::new(encoder, network, frequency, config.denoise).with_kinds(
            config.norm_features,
            config.dsm_draws,
            logit_scales(config.signal_min, config.signal_max),
        ).with_pairwise(pairwise);
        let nf = fmap.n_features();
        let mut feats = Vec::with_capacity(rows.len() * nf);
        for chunk in rows.chunks(4096) {
            if (hooks.interrupt)() {
                return Err(Error::Interrupted);
            }
            let refs: Vec<&[u32]> = chunk.iter().map(|&r| table.row(r)).collect();
            feats.extend(fmap.features(&refs, Some(pool)));
        }
        // the head sees the network features and IndepNLL; the PairwiseNLL (last) only the sum
        let hd = fmap.n_head_features();
        let head_feats: Vec<f64> = feats.chunks_exact(nf).flat_map(|f| f[..hd].iter().copied()).collect();
        let view = ArrayView2::from_shape((rows.len(), hd), &head_feats).map_err(|e| Error::Numeric { reason: e.to_string() })?;
        // on the pool gnsm.threads sized, stopping between EM steps when the caller cancels
        let mut ctl = FitControl::new(Some(pool), &mut *hooks.interrupt);
        let head = DensityHead::fit_controlled(view, &config.gmm_components, 5, config.seed, &mut ctl)?;
        let gmm: Vec<f64> = head_feats.chunks_exact(hd).map(|f| head.score(f)).collect();
        // evidence terms: the head NLL, IndepNLL (the head's last feature) when blended, and the
        // PairwiseNLL (the last feature) when counted
        let mut index: Vec<u32> = Vec::new();
        if config.frequency_blend && fmap.frequency.is_some() {
            index.push(hd as u32 - 1);
        }
        if fmap.pairwise.is_some() {
            index.push(nf as u32 - 1);
        }
        let mut terms = vec![gmm.clone()];
        terms.extend(index.iter().map(|&i| feats.chunks_exact(nf).map(|f| f[i as usize]).collect::<Vec<f64>>()));
        let evidence = Evidence::fit(&terms, index);
        // the fast scorer learns the head's NLL from these rows and perturbed copies (issue 13)
        let fast = match config.fast_scorer {
            true => {
                let teacher = Teacher { features: &fmap, head: &head, evidence: &evidence, table, rows: &rows, row_features: &feats };
                let deadline = start + Duration::from_secs_f64(config.max_seconds);
                Some(FastScorer::fit(&teacher, config.seed, deadline, pool, &mut *hooks.interrupt)?)
            }
            false => None,
        };
        // the training rows' scores by the scorer that will score (the exact one from the values
        // above, not a second pass of the head)
        let mut scores: Vec<f64> = match &fast {
            Some(fs) => rows.iter().map(|&r| fs.score(&fmap, table.row(r))).collect(),
            None => gmm.iter().zip(feats.chunks_exact(nf)).map(|(&g, f)| evidence.score(g, f)).collect(),
        };
        scores.sort_by(f64::total_cmp);
        let mut model = Model {
            features: fmap,
            head,
            config: config.clone(),
            report,
            score_quantiles: quantiles_linear(&scores, N_QUANTILES),
            blend: None,
            evidence: Some(evidence),
            fast,
            warm: WarmScores::default(),
        };
        // the training rows' scores, within a tenth of the time budget (at most 5 s); the rows
        // seen once only while the whole fit is still inside max_seconds (they save a backend
        // the network read, ADR 015, but are not worth overrunning the budget the user set)
        let budget = Duration::from_secs_f64((config.max_seconds * 0.1).min(5.0));
        let left = Duration::from_secs_f64((config.max_seconds - start.elapsed().as_secs_f64()).max(0.0));
        model.warm = model.warm_up(table, pool, budget, left, &mut *hooks.interrupt)?;
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::TableBuilder;

    /// An encoder of `cols` categorical columns of 10 values each.
    fn encoder(cols: usize) -> Encoder {
        let mut b = TableBuilder::new((0..cols).map(|i| format!("c{i}")).collect(), 100);
        for v in 0..10 {
            let row: Vec<String> = (0..cols).map(|_| format!("v{v}")).collect();
            b.push_row(&row.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>()).unwrap();
        }
        b.finish().unwrap().0
    }

    #[test]
    fn test_the_reserve_counts_every_pass_after_training() {
        let exact = TrainConfig { auto_scorer: false, ..TrainConfig::default() };
        let fast = TrainConfig { fast_scorer: true, auto_scorer: false, ..exact.clone() };
        let e = encoder(6);
        // exact: 5,000 head rows and the warm rows (at most 4,096), 41 passes each
        assert_eq!(forward_rows_after_training(&exact, &e, 100_000, 0), 5_000.0 * 41.0);
        assert_eq!(forward_rows_after_training(&exact, &e, 100_000, 1_000_000), 5_000.0 * 41.0 + 1.25 * 4_096.0 * 41.0);
        // fast: three times the head rows, and the student on top, which grows with the columns
        let narrow = forward_rows_after_training(&fast, &e, 100_000, 0);
        assert!(narrow > 15_000.0 * 41.0, "{narrow}");
        let wide = forward_rows_after_training(&fast, &encoder(160), 100_000, 0);
        assert!(wide - 15_000.0 * 41.0 > 5.0 * (narrow - 15_000.0 * 41.0), "{wide} vs {narrow}");
    }

    #[test]
    fn test_budget_left_keeps_at_least_a_quarter() {
        let ten_ago = Instant::now().checked_sub(Duration::from_secs(10)).unwrap();
        assert!((budget_left(60.0, ten_ago) - 50.0).abs() < 0.5);
        assert_eq!(budget_left(8.0, ten_ago), 2.0);
    }
}
