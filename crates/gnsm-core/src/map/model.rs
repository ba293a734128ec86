//! A trained map model: its options, class set, score network, per-position prior, topology
//! statistics, score-norm scale and calibrated evidence (the same calibrated unit as table rows, ADR 010), with the fit that
//! makes it and the scoring and per-pixel explanation that use it.

use super::config::MapConfig;
use super::features::{MapScorer, Scratch, N_MAP_FEATURES, PRIOR_FEATURE, TOPOLOGY_FEATURE};
use super::grid::{LabelMap, RgbImage};
use super::input::{image_channels, ClassSet, MapInput, VOID};
use super::norm_scale::NormScale;
use super::prior::PixelPrior;
use super::topology::PieceCounts;
use super::train::train_map_network;
use crate::error::{invalid, Error, Result};
use crate::model::Evidence;
use crate::net::conv::ConvNet;
use crate::relax::LEVELS;
use crate::stats::quantiles_linear;
use crate::train::{Hooks, TrainReport};
use rayon::prelude::*;

/// Number of stored training-score quantiles (as table models).
const N_QUANTILES: usize = 1001;
/// Channels of a conditioning image.
pub const RGB_CHANNELS: usize = 3;

/// A trained map model ready to score.
#[derive(Debug, Clone)]
pub struct MapModel {
    pub config: MapConfig,
    pub classes: ClassSet,
    pub net: ConvNet,
    pub prior: PixelPrior,
    pub topology: PieceCounts,
    pub norms: NormScale,
    pub evidence: Evidence,
    pub report: TrainReport,
    /// Sorted quantiles of the training maps' calibrated scores.
    pub score_quantiles: Vec<f64>,
    /// Names of the source columns (the map, then the image), set by the caller after fitting:
    /// model bytes made by the aggregate are scored by matching a row's columns by these names.
    pub columns: Vec<String>,
}

/// The three evidence terms of a map, before standardisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapTerms {
    /// Summed z-scores of the 20 score norms (`norm_scale`).
    pub network: f64,
    /// `-ln p(map)` under the per-position prior.
    pub prior: f64,
    /// Topology surprise (`topology`).
    pub topology: f64,
}

/// A map and, for image-conditioned models, its image (any size; both are resampled).
#[derive(Debug, Clone, Copy)]
pub struct MapItem<'a> {
    pub map: &'a LabelMap,
    pub image: Option<&'a RgbImage>,
}

impl MapModel {
    /// Whether the network sees the image next to the map.
    pub fn uses_image(&self) -> bool {
        self.net.config.cond_channels > 0
    }

    /// Infers the class set of the training maps: K = the given count, or the largest non-void
    /// label + 1 (at least 2, so that a map of one class still has an alternative).
    pub fn class_set(maps: &[LabelMap], config: &MapConfig) -> Result<ClassSet> {
        let largest = maps.iter().flat_map(|m| m.labels.iter()).copied().filter(|&l| Some(l) != config.void_label).max();
        let inferred = largest.map_or(2, |l| (l as usize + 1).max(2));
        if inferred > 256 && config.classes.is_none() {
            return Err(invalid("classes", format!("the maps hold label {}, more than the 256 classes a map model allows", inferred - 1)));
        }
        Ok(ClassSet { classes: config.classes.unwrap_or(inferred), void_label: config.void_label })
    }

    /// Prepares one map (and image) for the network at the working resolution.
    pub fn prepare(config: &MapConfig, classes: &ClassSet, cond: usize, item: MapItem) -> Result<MapInput> {
        let small = item.map.resize_nearest(config.height, config.width);
        let codes = classes.codes(&small, Some(item.map))?;
        let cond = if cond == 0 {
            Vec::new()
        } else {
            let img = item.image.ok_or_else(|| invalid("image", "this map model was trained with images next to its maps; give the map's image too"))?;
            image_channels(&img.resize_bilinear(config.height, config.width))
        };
        Ok(MapInput { codes, cond })
    }

    /// Trains a map model on `items` (images are used when every item has one and
    /// `config.use_image`); the pool runs the parallel work, hooks report and interrupt.
    pub fn fit(items: &[MapItem], config: &MapConfig, pool: &rayon::ThreadPool, hooks: &mut Hooks) -> Result<MapModel> {
        config.validate()?;
        let maps: Vec<LabelMap> = items.iter().map(|i| i.map.clone()).collect();
        let classes = MapModel::class_set(&maps, config)?;
        let with_images = config.use_image && !items.is_empty() && items.iter().all(|i| i.image.is_some());
        let cond = if with_images { RGB_CHANNELS } else { 0 };
        let inputs: Vec<MapInput> = items.iter().map(|&i| MapModel::prepare(config, &classes, cond, i)).collect::<Result<_>>()?;
        if inputs.iter().all(|x| x.codes.iter().all(|&c| c == VOID)) {
            return Err(Error::InsufficientData { reason: "every pixel of every map is the void label".into() });
        }
        let (net, report) = train_map_network(&inputs, classes.classes, cond, config, (inputs.len() * LEVELS) as f64, pool, hooks)?;
        let code_refs: Vec<&[u16]> = inputs.iter().map(|x| x.codes.as_slice()).collect();
        let prior = PixelPrior::fit(&code_refs, config.height * config.width, classes.classes);
        let topology = PieceCounts::fit(&code_refs, config.height, config.width, classes.classes);
        let features = feature_rows(&net, &prior, &topology, &inputs, pool, hooks)?;
        let norms = NormScale::fit(&features);
        let network: Vec<f64> = features.iter().map(|f| norms.term(f)).collect();
        let prior_nll: Vec<f64> = features.iter().map(|f| f[PRIOR_FEATURE]).collect();
        let surprise: Vec<f64> = features.iter().map(|f| f[TOPOLOGY_FEATURE]).collect();
        let evidence = Evidence::fit(&[network.clone(), prior_nll, surprise], vec![PRIOR_FEATURE as u32, TOPOLOGY_FEATURE as u32]);
        let mut scores: Vec<f64> = features.iter().zip(&network).map(|(f, &t)| evidence.score(t, f)).collect();
        scores.retain(|s| s.is_finite());
        scores.sort_by(f64::total_cmp);
        let score_quantiles = if scores.is_empty() { vec![0.0; 2] } else { quantiles_linear(&scores, N_QUANTILES) };
        Ok(MapModel { config: config.clone(), classes, net, prior, topology, norms, evidence, report, score_quantiles, columns: Vec::new() })
    }

    /// Calibrated anomaly scores of many maps (in parallel on `pool`); higher = more anomalous.
    pub fn score_batch(&self, items: &[MapItem], pool: &rayon::ThreadPool, hooks: &mut Hooks) -> Result<Vec<f64>> {
        let terms = self.terms_batch(items, pool, hooks)?;
        Ok(terms.iter().map(|t| self.score_terms(t)).collect())
    }

    /// The evidence terms of many maps (in parallel on `pool`).
    pub fn terms_batch(&self, items: &[MapItem], pool: &rayon::ThreadPool, hooks: &mut Hooks) -> Result<Vec<MapTerms>> {
        let inputs: Vec<MapInput> = items.iter().map(|&i| self.prepare_item(i)).collect::<Result<_>>()?;
        let features = feature_rows(&self.net, &self.prior, &self.topology, &inputs, pool, hooks)?;
        Ok(features.iter().map(|f| self.terms_of(f)).collect())
    }

    /// The calibrated score of a map from its evidence terms.
    pub fn score_terms(&self, t: &MapTerms) -> f64 {
        let mut f = vec![0.0; N_MAP_FEATURES];
        f[PRIOR_FEATURE] = t.prior;
        f[TOPOLOGY_FEATURE] = t.topology;
        self.evidence.score(t.network, &f)
    }

    /// The evidence terms of a feature vector.
    fn terms_of(&self, f: &[f64]) -> MapTerms {
        MapTerms { network: self.norms.term(f), prior: f[PRIOR_FEATURE], topology: f[TOPOLOGY_FEATURE] }
    }

    /// Calibrated anomaly score of one map, on the calling thread.
    pub fn score(&self, item: MapItem) -> Result<f64> {
        self.score_with(item, None)
    }

    /// Calibrated anomaly score of one map, its 20 network passes spread over `pool`.
    pub fn score_on(&self, item: MapItem, pool: &rayon::ThreadPool) -> Result<f64> {
        self.score_with(item, Some(pool))
    }

    /// The evidence terms of one map, before standardisation.
    pub fn terms(&self, item: MapItem) -> Result<MapTerms> {
        let x = self.prepare_item(item)?;
        let f = self.scorer().features(&x, &mut Scratch::default(), None);
        Ok(self.terms_of(&f))
    }

    /// Per-pixel anomaly map at the input's size: each pixel's share of the squared score norm
    /// summed over the 20 levels (shares sum to 1; void pixels get 0). On the calling thread.
    pub fn explain(&self, item: MapItem) -> Result<Vec<f32>> {
        self.explain_with(item, None)
    }

    /// `explain` with the 20 network passes spread over `pool`.
    pub fn explain_on(&self, item: MapItem, pool: &rayon::ThreadPool) -> Result<Vec<f32>> {
        self.explain_with(item, Some(pool))
    }

    /// The features of one map, on `pool` when given.
    fn features_with(&self, x: &MapInput, pool: Option<&rayon::ThreadPool>, pixel_map: Option<&mut [f64]>) -> Vec<f64> {
        match pool {
            Some(p) => self.scorer().features_on(x, p, pixel_map),
            None => self.scorer().features(x, &mut Scratch::default(), pixel_map),
        }
    }

    /// `score` or `score_on`.
    fn score_with(&self, item: MapItem, pool: Option<&rayon::ThreadPool>) -> Result<f64> {
        let x = self.prepare_item(item)?;
        Ok(self.score_features(&self.features_with(&x, pool, None)))
    }

    /// `explain` or `explain_on`.
    fn explain_with(&self, item: MapItem, pool: Option<&rayon::ThreadPool>) -> Result<Vec<f32>> {
        let x = self.prepare_item(item)?;
        let (h, w) = (self.config.height, self.config.width);
        let mut pixel = vec![0.0f64; h * w];
        self.features_with(&x, pool, Some(&mut pixel));
        let (ih, iw) = (item.map.height, item.map.width);
        let rows = super::grid::nearest_index(h, ih);
        let cols = super::grid::nearest_index(w, iw);
        let mut out: Vec<f64> = Vec::with_capacity(ih * iw);
        for &r in &rows {
            out.extend(cols.iter().map(|&c| pixel[r * w + c]));
        }
        // void pixels of the input explain nothing, whatever their working-resolution neighbour says
        for (o, &l) in out.iter_mut().zip(&item.map.labels) {
            if Some(l) == self.classes.void_label {
                *o = 0.0;
            }
        }
        let total: f64 = out.iter().sum();
        Ok(out.iter().map(|&v| if total > 0.0 { (v / total) as f32 } else { 0.0 }).collect())
    }

    /// The calibrated score from a feature vector.
    fn score_features(&self, f: &[f64]) -> f64 {
        self.evidence.score(self.norms.term(f), f)
    }

    /// `prepare` with this model's options.
    fn prepare_item(&self, item: MapItem) -> Result<MapInput> {
        MapModel::prepare(&self.config, &self.classes, self.net.config.cond_channels, item)
    }

    /// The scorer of this model.
    fn scorer(&self) -> MapScorer<'_> {
        MapScorer::new(&self.net, &self.prior, &self.topology)
    }
}

/// Feature vectors of `inputs`, computed on `pool` in chunks between which `hooks` may interrupt.
fn feature_rows(
    net: &ConvNet,
    prior: &PixelPrior,
    topology: &PieceCounts,
    inputs: &[MapInput],
    pool: &rayon::ThreadPool,
    hooks: &mut Hooks,
) -> Result<Vec<Vec<f64>>> {
    let scorer = MapScorer::new(net, prior, topology);
    let mut out = Vec::with_capacity(inputs.len());
    // a chunk of 8 maps per thread takes well under a second at 64x64, so cancel stays prompt
    let chunk = 8 * pool.current_num_threads().max(1);
    for block in inputs.chunks(chunk) {
        if (hooks.interrupt)() {
            return Err(Error::Interrupted);
        }
        let rows: Vec<Vec<f64>> = pool.install(|| block.par_iter().map_init(Scratch::default, |s, x| scorer.features(x, s, None)).collect());
        out.extend(rows);
    }
    debug_assert!(out.iter().all(|f| f.len() == N_MAP_FEATURES));
    Ok(out)
}
