//! `gnsm_version()`: the diagnostic line users paste into bug reports.

use pgrx::prelude::*;

/// Extension version, core version, model-format version and the SIMD the GEMM kernels use.
#[pg_extern(immutable, parallel_safe, strict)]
fn gnsm_version() -> String {
    format!(
        "gnsm {} (core {}, model format {}, simd: {})",
        env!("CARGO_PKG_VERSION"),
        gnsm_core::CORE_VERSION,
        gnsm_core::MODEL_FORMAT_VERSION,
        gnsm_core::kernels::simd_features().join(", ")
    )
}
