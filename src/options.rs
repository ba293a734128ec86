//! The `options jsonb` of `gnsm_train`: every hyper-parameter by name, with documented defaults;
//! an unknown key or a wrong type is an error that lists the valid keys.

use crate::errors::{raise, raise_core};
use gnsm_core::train::TrainConfig;
use pgrx::PgSqlErrorCode;
use serde_json::{Map, Value};

/// What `gnsm_train` does after training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activate {
    /// The new version becomes the active one.
    Always,
    /// Only when its validation loss is no worse than the active version's.
    IfBetter,
    /// Stored but not activated (activate later with gnsm_activate).
    Never,
}

/// Parsed training options.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Model name; defaults to the table's name.
    pub name: Option<String>,
    pub config: TrainConfig,
    pub activate: Activate,
    /// After storing, keep only this many newest versions (plus the active one); 0 keeps all.
    pub keep_versions: usize,
}

/// Keys accepted in `options`, in the order the README documents them.
pub const VALID_KEYS: &[&str] = &[
    "name",
    "activate",
    "keep_versions",
    "width",
    "depth",
    "steps",
    "max_seconds",
    "batch_size",
    "lr",
    "lr_min",
    "weight_decay",
    "ema_decay",
    "grad_clip",
    "seed",
    "threads",
    "val_fraction",
    "max_val_rows",
    "evals",
    "denoise",
    "frequency_feature",
    "gmm_components",
    "max_head_rows",
    "signal_min",
    "signal_max",
    "norm_features",
    "dsm_draws",
];

/// Raises "invalid option" naming the key and what was expected.
fn bad(key: &str, expected: &str, got: &Value) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        format!("gnsm option \"{key}\" must be {expected}, got {got}"),
        None,
        Some("see the options table in the README"),
    )
}

/// A non-negative integer option.
fn uint(key: &str, v: &Value) -> usize {
    match v.as_u64() {
        Some(n) if n <= usize::MAX as u64 => n as usize,
        _ => bad(key, "a non-negative integer", v),
    }
}

/// A finite number option.
fn num(key: &str, v: &Value) -> f64 {
    match v.as_f64() {
        Some(x) if x.is_finite() => x,
        _ => bad(key, "a number", v),
    }
}

/// A boolean option.
fn boolean(key: &str, v: &Value) -> bool {
    v.as_bool().unwrap_or_else(|| bad(key, "true or false", v))
}

/// Parses the options object; `threads` defaults to the `gnsm.threads` setting.
pub fn parse(options: Option<&Value>, default_threads: usize) -> TrainOptions {
    let empty = Map::new();
    let obj = match options {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(other) => raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("gnsm options must be a JSON object, got {other}"),
            None,
            Some("for example '{\"steps\": 1000, \"seed\": 7}'"),
        ),
    };
    let mut out = TrainOptions {
        name: None,
        config: TrainConfig { threads: default_threads, ..TrainConfig::default() },
        activate: Activate::Always,
        keep_versions: 0,
    };
    let c = &mut out.config;
    for (key, v) in obj {
        match key.as_str() {
            "name" => match v.as_str() {
                Some(s) if !s.trim().is_empty() && s.len() <= 200 => out.name = Some(s.to_string()),
                _ => bad(key, "a non-empty string of at most 200 characters", v),
            },
            "activate" => {
                out.activate = match v.as_str() {
                    Some("always") => Activate::Always,
                    Some("if_better") => Activate::IfBetter,
                    Some("never") => Activate::Never,
                    _ => bad(key, "one of \"always\", \"if_better\", \"never\"", v),
                }
            }
            "keep_versions" => out.keep_versions = uint(key, v),
            "width" => c.width = uint(key, v),
            "depth" => c.depth = uint(key, v),
            "steps" => c.steps = uint(key, v),
            "max_seconds" => c.max_seconds = num(key, v),
            "batch_size" => c.batch_size = uint(key, v),
            "lr" => c.lr = num(key, v) as f32,
            "lr_min" => c.lr_min = num(key, v) as f32,
            "weight_decay" => c.weight_decay = num(key, v) as f32,
            "ema_decay" => c.ema_decay = num(key, v) as f32,
            "grad_clip" => c.grad_clip = num(key, v) as f32,
            "seed" => c.seed = uint(key, v) as u64,
            "threads" => c.threads = uint(key, v),
            "val_fraction" => c.val_fraction = num(key, v),
            "max_val_rows" => c.max_val_rows = uint(key, v),
            "evals" => c.evals = uint(key, v),
            "denoise" => c.denoise = boolean(key, v),
            "frequency_feature" => c.frequency_feature = boolean(key, v),
            "gmm_components" => {
                let arr = v.as_array().unwrap_or_else(|| bad(key, "an array of integers", v));
                c.gmm_components = arr.iter().map(|x| uint(key, x)).collect();
            }
            "max_head_rows" => c.max_head_rows = uint(key, v),
            "signal_min" => c.signal_min = num(key, v) as f32,
            "signal_max" => c.signal_max = num(key, v) as f32,
            "norm_features" => c.norm_features = boolean(key, v),
            "dsm_draws" => c.dsm_draws = uint(key, v),
            other => raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("unknown gnsm option \"{other}\""),
                Some(format!("valid options: {}", VALID_KEYS.join(", "))),
                None,
            ),
        }
    }
    if let Err(e) = out.config.validate() {
        raise_core(e, "gnsm options");
    }
    out
}

/// The effective options as JSON, for the catalog (defaults filled in).
pub fn to_json(o: &TrainOptions) -> Value {
    let c = &o.config;
    serde_json::json!({
        "name": o.name,
        "activate": match o.activate { Activate::Always => "always", Activate::IfBetter => "if_better", Activate::Never => "never" },
        "keep_versions": o.keep_versions,
        "width": c.width, "depth": c.depth, "steps": c.steps, "max_seconds": c.max_seconds,
        "batch_size": c.batch_size, "lr": c.lr, "lr_min": c.lr_min, "weight_decay": c.weight_decay,
        "ema_decay": c.ema_decay, "grad_clip": c.grad_clip, "seed": c.seed, "threads": c.threads,
        "val_fraction": c.val_fraction, "max_val_rows": c.max_val_rows, "evals": c.evals,
        "denoise": c.denoise, "frequency_feature": c.frequency_feature,
        "gmm_components": c.gmm_components, "max_head_rows": c.max_head_rows,
        "signal_min": c.signal_min, "signal_max": c.signal_max, "norm_features": c.norm_features,
        "dsm_draws": c.dsm_draws,
    })
}
