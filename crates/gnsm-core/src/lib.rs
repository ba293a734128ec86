//! gnsm-core: Gumbel Noise Score Matching for categorical rows, in pure Rust.
//!
//! The pipeline is `encoding` (vocabulary, one-hot logits) -> `relax` (ExpConcrete noise and the
//! closed-form score target) -> `network` (tab-resnet forward/backward) -> `train` (AdamW, EMA,
//! validation) -> `score` (score-norm features, denoise step, `gmm` density head) -> `model`
//! (versioned binary format). `metrics`, `baselines` and `dataset` serve tests and evaluation.

#![forbid(unsafe_code)]

pub mod baselines;
pub mod dataset;
pub mod encoding;
pub mod error;
pub mod head;
pub mod kernels;
pub mod metrics;
pub mod model;
pub mod network;
pub mod optim;
pub mod options;
pub mod relax;
pub mod score;
pub mod stats;
pub mod train;

pub use error::{Error, Result};

/// Version of this crate, reported by `gnsm_version()`.
pub const CORE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Version of the binary model format this build writes (it reads every earlier one too).
pub const MODEL_FORMAT_VERSION: u16 = 4;
