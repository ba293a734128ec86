//! MSMA features of a map (method §6 and §9): at each of the 20 levels, the L2 norm over all
//! pixels of the network's score on the clean map, and the map's denoising loss under one fixed
//! noise draw (the per-pixel training loss, averaged over labelled pixels), plus the per-position
//! class prior's NLL and the topology surprise. Also the per-pixel anomaly map that `explain`
//! shows.

use super::input::{network_input, MapInput, Noise, VOID};
use super::prior::PixelPrior;
use super::topology::PieceCounts;
use super::train::map_loss_and_grad;
use crate::kernels::softmax_inplace;
use crate::net::conv::{ConvLevels, ConvNet, ConvTape};
use crate::relax::{gumbel, logit_scales, temperatures, LEVELS};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Features per map: 20 score norms, 20 denoising losses, the prior NLL, the topology surprise.
pub const N_MAP_FEATURES: usize = 2 * LEVELS + 2;
/// Position of the prior NLL in the feature vector.
pub const PRIOR_FEATURE: usize = 2 * LEVELS;
/// Position of the topology surprise (`topology::PieceCounts::surprise`).
pub const TOPOLOGY_FEATURE: usize = 2 * LEVELS + 1;

/// What scoring needs besides the weights: the level context, the fixed noise, the scales.
pub struct MapScorer<'a> {
    pub net: &'a ConvNet,
    pub prior: &'a PixelPrior,
    pub topology: &'a PieceCounts,
    ctx: ConvLevels,
    /// One Gumbel draw per level, `LEVELS x pixels x K` (fixed by the seed, same for every map).
    noise: Vec<f32>,
    scales: [f32; LEVELS],
}

/// Per-thread scratch of a feature pass.
#[derive(Default)]
pub struct Scratch {
    tape: ConvTape,
    input: Vec<f32>,
    target: Vec<f32>,
    grad: Vec<f32>,
}

impl<'a> MapScorer<'a> {
    /// Prepares scoring with `net` (EMA weights), `prior`, `topology` and the model's seed and
    /// logit scales.
    pub fn new(net: &'a ConvNet, prior: &'a PixelPrior, topology: &'a PieceCounts, seed: u64, signal_min: f32, signal_max: f32) -> MapScorer<'a> {
        let c = &net.config;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xD5A1_F00D);
        let noise = (0..LEVELS * c.height * c.width * c.classes).map(|_| gumbel(&mut rng)).collect();
        MapScorer { net, prior, topology, ctx: net.level_context(&net.params), noise, scales: logit_scales(signal_min, signal_max) }
    }

    /// The feature vector of one map; with `pixel_map`, also adds each pixel's squared score norm
    /// summed over levels into it (`pixels` values).
    pub fn features(&self, x: &MapInput, scratch: &mut Scratch, mut pixel_map: Option<&mut [f64]>) -> Vec<f64> {
        let c = &self.net.config;
        let (k, pixels) = (c.classes, c.height * c.width);
        let taus = temperatures();
        let labelled = x.codes.iter().filter(|&&v| v != VOID).count().max(1) as f64;
        let mut f = vec![0.0f64; N_MAP_FEATURES];
        network_input::<ChaCha8Rng>(x, k, 1.0, 1.0, Noise::Clean, &mut scratch.input, &mut scratch.target);
        let clean = scratch.input.clone();
        let mut s = vec![0.0f32; k];
        for t in 0..LEVELS {
            self.net.forward(&self.net.params, &self.ctx, &clean, t, &mut scratch.tape);
            let mut norm2 = 0.0f64;
            for (i, o) in scratch.tape.out.chunks_exact(k).enumerate() {
                if x.codes[i] == VOID {
                    continue;
                }
                s.copy_from_slice(o);
                softmax_inplace(&mut s);
                let px: f64 = s.iter().map(|&p| ((taus[t] * (k as f32 * p - 1.0)) as f64).powi(2)).sum();
                norm2 += px;
                if let Some(m) = pixel_map.as_deref_mut() {
                    m[i] += px;
                }
            }
            f[t] = norm2.sqrt();
        }
        for t in 0..LEVELS {
            let g = &self.noise[t * pixels * k..(t + 1) * pixels * k];
            network_input::<ChaCha8Rng>(x, k, self.scales[t], taus[t], Noise::Fixed(g), &mut scratch.input, &mut scratch.target);
            self.net.forward(&self.net.params, &self.ctx, &scratch.input, t, &mut scratch.tape);
            f[LEVELS + t] = map_loss_and_grad(&scratch.tape.out, &scratch.target, k, 0.0, &mut scratch.grad) / labelled;
        }
        f[PRIOR_FEATURE] = self.prior.nll(&x.codes);
        f[TOPOLOGY_FEATURE] = self.topology.surprise(&x.codes, c.height, c.width);
        f
    }
}
