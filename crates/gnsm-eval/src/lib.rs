//! gnsm-eval: evaluation of gnsm outside the extension: labelled data sets (CSV, gzip) and their
//! splits, anomaly-detection metrics, the AVF baseline, the research feature cache's files, and the examples `eval` (quality
//! benchmark), `explore` (feature ablations) and `bench` (speed). Kept out of gnsm-core so the
//! extension library does not link CSV/gzip readers or test-harness code.

#![forbid(unsafe_code)]

pub mod avf;
pub mod cache;
pub mod dataset;
pub mod metrics;
pub mod seg;
