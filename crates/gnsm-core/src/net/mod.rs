//! Score networks, one per model family. Both take the noised log-probabilities of the relaxed
//! categorical data (`relax`) and a noise-level index, embed the level with the same frozen
//! Fourier features + MLP and condition every block on it with FiLM, and output one logit per
//! category, trained against the same KL target (method §3-4, §9).
//!
//! - `tabular`: the tab-resnet for table rows (one vector per row).
//! - `conv`: the convolutional network for 2-D label maps (one class per pixel).

pub mod conv;
pub mod tabular;
