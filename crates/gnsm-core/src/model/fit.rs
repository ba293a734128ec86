//! The fitting pipeline: train the score network, count the frequency model, compute the
//! density head's features on a seeded sample of rows, fit the head and the score blend, and
//! store the training rows' score quantiles.

use super::{Blend, Model, N_QUANTILES};
use crate::encoding::{CodedTable, Encoder, TableBuilder};
use crate::error::{Error, Result};
use crate::frequency::IndepNll;
use crate::head::DensityHead;
use crate::relax::logit_scales;
use crate::score::FeatureMap;
use crate::stats::quantiles_linear;
use crate::train::{train_network, Hooks, TrainConfig};
use ndarray::ArrayView2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

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
        let (network, report) = train_network(&encoder, table, config, pool, hooks)?;
        // the frequency model counts categories; numeric columns are scored from the encoder's stats
        let frequency = config.frequency_feature.then(|| IndepNll::fit(table, &encoder.block_sizes()));
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
        );
        let nf = fmap.n_features();
        let mut feats = Vec::with_capacity(rows.len() * nf);
        for chunk in rows.chunks(4096) {
            if (hooks.interrupt)() {
                return Err(Error::Interrupted);
            }
            let refs: Vec<&[u32]> = chunk.iter().map(|&r| table.row(r)).collect();
            feats.extend(fmap.features(&refs, Some(pool)));
        }
        let view = ArrayView2::from_shape((rows.len(), nf), &feats).map_err(|e| Error::Numeric { reason: e.to_string() })?;
        let head = DensityHead::fit(view, &config.gmm_components, 5, config.seed)?;
        let gmm: Vec<f64> = feats.chunks_exact(nf).map(|f| head.score(f)).collect();
        // the IndepNLL feature is the last one when present
        let blend = (config.frequency_blend && fmap.frequency.is_some())
            .then(|| Blend::fit(&gmm, &feats.chunks_exact(nf).map(|f| f[nf - 1]).collect::<Vec<_>>()));
        // the training rows' scores from the GMM values above (not a second pass of the head)
        let mut scores: Vec<f64> = gmm.iter().zip(feats.chunks_exact(nf)).map(|(&g, f)| Blend::score(blend.as_ref(), g, f)).collect();
        scores.sort_by(f64::total_cmp);
        Ok(Model { features: fmap, head, config: config.clone(), report, score_quantiles: quantiles_linear(&scores, N_QUANTILES), blend })
    }
}
