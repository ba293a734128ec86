//! gnsm-core: Gumbel Noise Score Matching for categorical and numeric rows, in pure Rust.
//!
//! The pipeline is `encoding` (vocabulary, numeric z-scores, one-hot logits) -> `relax`
//! (ExpConcrete noise and the closed-form score target) -> `net` (score networks: `tabular` tab-resnet, `conv` for label maps)
//! -> `train` (AdamW, EMA, validation) -> `score` (score-norm and denoising-loss features) with
//! `frequency` (the independent-columns NLL feature) -> `head` (scaler + Gaussian mixture density)
//! -> `fast` (the student that scores a row without the network, fitted to the head's NLL)
//! -> `model` (fit pipeline, scoring, explanations, versioned binary format, the SQL layer's
//! facade). `stats` holds the shared quantile/mean/log-sum-exp helpers. Evaluation code (data
//! sets, metrics, baselines) lives in the gnsm-eval crate, so the extension does not link it.

#![forbid(unsafe_code)]

pub mod encoding;
pub mod error;
pub mod fast;
pub mod frequency;
pub mod head;
pub mod kernels;
pub mod map;
pub mod model;
pub mod net;
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
pub const MODEL_FORMAT_VERSION: u16 = 9;
