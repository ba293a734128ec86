//! The fitting pipeline: train the score network, count the frequency models, compute the
//! density head's features on a seeded sample of rows, fit the head and the calibrated evidence
//! sum (ADR 010), store the training rows' score quantiles and their exact scores (warm scores).

use super::{Evidence, Model, WarmScores, N_QUANTILES};
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
        let (network, report) = train_network(&encoder, table, config, pool, hooks)?;
        // the frequency model counts categories; numeric columns are scored from the encoder's stats
        let frequency = config.frequency_feature.then(|| IndepNll::fit(table, &encoder.block_sizes()));
        let pairwise = match config.pairwise {
            true => Some(PairwiseNll::fit_controlled(table, &encoder.block_sizes(), MAX_PAIR_ENTRIES, &mut *hooks.interrupt)?),
            false => None,
        };
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
                Some(FastScorer::fit(&teacher, config.seed, pool, &mut *hooks.interrupt)?)
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
