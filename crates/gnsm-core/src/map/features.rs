//! MSMA features of a map (method §6 and §9): at each of the 20 levels, the L2 norm over all
//! pixels of the network's score on the clean map, plus the per-position class prior's NLL and
//! the topology surprise; also the per-pixel anomaly map that `explain` shows. Table rows add the
//! denoising loss under fixed noise at each level; maps do not, since their score uses the norms
//! alone (`norm_scale`, ADR 012), and those 20 extra network passes would double its cost.

use super::input::{network_input, MapInput, Noise, VOID};
use super::prior::PixelPrior;
use super::topology::PieceCounts;
use crate::kernels::softmax_inplace;
use crate::net::conv::{ConvLevels, ConvNet, ConvTape};
use crate::relax::{temperatures, LEVELS};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Features per map: 20 score norms, the prior NLL, the topology surprise.
pub const N_MAP_FEATURES: usize = LEVELS + 2;
/// Position of the prior NLL in the feature vector.
pub const PRIOR_FEATURE: usize = LEVELS;
/// Position of the topology surprise (`topology::PieceCounts::surprise`).
pub const TOPOLOGY_FEATURE: usize = LEVELS + 1;

/// What scoring needs besides the weights: the level context, the prior and the topology.
pub struct MapScorer<'a> {
    pub net: &'a ConvNet,
    pub prior: &'a PixelPrior,
    pub topology: &'a PieceCounts,
    ctx: ConvLevels,
}

/// Per-thread scratch of a feature pass.
#[derive(Default)]
pub struct Scratch {
    tape: ConvTape,
    input: Vec<f32>,
    target: Vec<f32>,
}

impl<'a> MapScorer<'a> {
    /// Prepares scoring with `net` (EMA weights), `prior` and `topology`.
    pub fn new(net: &'a ConvNet, prior: &'a PixelPrior, topology: &'a PieceCounts) -> MapScorer<'a> {
        MapScorer { net, prior, topology, ctx: net.level_context(&net.params) }
    }

    /// The clean network input of a map (level-independent).
    fn clean_input(&self, x: &MapInput, scratch: &mut Scratch) -> Vec<f32> {
        network_input::<ChaCha8Rng>(x, self.net.config.classes, 1.0, 1.0, Noise::Clean, &mut scratch.input, &mut scratch.target);
        scratch.input.clone()
    }

    /// The squared score norm at level `t` of a map's clean input; with `pixel_map`, also adds
    /// each pixel's squared norm into it.
    fn level_norm2(&self, x: &MapInput, clean: &[f32], t: usize, scratch: &mut Scratch, mut pixel_map: Option<&mut [f64]>) -> f64 {
        let k = self.net.config.classes;
        let tau = temperatures()[t];
        self.net.forward(&self.net.params, &self.ctx, clean, t, &mut scratch.tape);
        let mut s = vec![0.0f32; k];
        let mut norm2 = 0.0f64;
        for (i, o) in scratch.tape.out.chunks_exact(k).enumerate() {
            if x.codes[i] == VOID {
                continue;
            }
            s.copy_from_slice(o);
            softmax_inplace(&mut s);
            let px: f64 = s.iter().map(|&p| ((tau * (k as f32 * p - 1.0)) as f64).powi(2)).sum();
            norm2 += px;
            if let Some(m) = pixel_map.as_deref_mut() {
                m[i] += px;
            }
        }
        norm2
    }

    /// The feature vector from the 20 squared norms and the map's codes.
    fn assemble(&self, x: &MapInput, norms2: &[f64]) -> Vec<f64> {
        let c = &self.net.config;
        let mut f = vec![0.0f64; N_MAP_FEATURES];
        for (t, n2) in norms2.iter().enumerate() {
            f[t] = n2.sqrt();
        }
        f[PRIOR_FEATURE] = self.prior.nll(&x.codes);
        f[TOPOLOGY_FEATURE] = self.topology.surprise(&x.codes, c.height, c.width);
        f
    }

    /// The feature vector of one map on the calling thread (batches run maps in parallel); with
    /// `pixel_map`, also adds each pixel's squared score norm summed over levels into it.
    pub fn features(&self, x: &MapInput, scratch: &mut Scratch, mut pixel_map: Option<&mut [f64]>) -> Vec<f64> {
        let clean = self.clean_input(x, scratch);
        let norms2: Vec<f64> = (0..LEVELS).map(|t| self.level_norm2(x, &clean, t, scratch, pixel_map.as_deref_mut())).collect();
        self.assemble(x, &norms2)
    }

    /// `features` of one map with its 20 network passes spread over `pool` (one map scored on its
    /// own, as a SQL call does); the per-pixel map is summed in level order, so the result does
    /// not depend on the thread count.
    pub fn features_on(&self, x: &MapInput, pool: &rayon::ThreadPool, pixel_map: Option<&mut [f64]>) -> Vec<f64> {
        let clean = self.clean_input(x, &mut Scratch::default());
        let want_pixels = pixel_map.is_some();
        let pixels = x.codes.len();
        let per_level: Vec<(f64, Vec<f64>)> = pool.install(|| {
            (0..LEVELS)
                .into_par_iter()
                .map_init(Scratch::default, |s, t| {
                    let mut px = if want_pixels { vec![0.0; pixels] } else { Vec::new() };
                    let n2 = self.level_norm2(x, &clean, t, s, want_pixels.then_some(px.as_mut_slice()));
                    (n2, px)
                })
                .collect()
        });
        if let Some(m) = pixel_map {
            for (_, px) in &per_level {
                for (a, b) in m.iter_mut().zip(px) {
                    *a += b;
                }
            }
        }
        let norms2: Vec<f64> = per_level.iter().map(|l| l.0).collect();
        self.assemble(x, &norms2)
    }
}
