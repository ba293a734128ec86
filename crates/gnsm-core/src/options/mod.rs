//! The training options object (`options jsonb` of `gnsm_train`): every hyper-parameter by name,
//! with documented defaults. Parsing is pure (no Postgres) so that it can be fuzzed; the SQL layer
//! maps an [`OptionError`] to an ERROR with SQLSTATE 22023.

use crate::train::TrainConfig;
use serde_json::{Map, Value};

mod map;
mod reference;
mod suggest;

pub use map::{map_key_on_table, map_to_json, parse_map, MapOptions, MAP_KEYS, MAP_ONLY_KEYS};
pub use reference::{reference, OptionDoc};
pub use suggest::closest_key;

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
    /// Columns to model as numbers although their type defaults to categories (integers).
    pub numeric_columns: Vec<String>,
    /// Columns to model as categories although their type defaults to numbers (float, numeric).
    pub categorical_columns: Vec<String>,
}

/// Why an options object was refused: a message naming the key, and optional detail and hint.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionError {
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

/// Longest rendering of a rejected value in an error message (a 1 MB string is not echoed back).
const MAX_SHOWN_VALUE: usize = 80;

/// A JSON value as shown in an error message, cut at `MAX_SHOWN_VALUE` characters.
fn shown(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(MAX_SHOWN_VALUE) {
        Some((cut, _)) => format!("{}... ({} bytes)", &s[..cut], s.len()),
        None => s,
    }
}

/// "Invalid option" naming the key and what was expected.
fn bad(key: &str, expected: &str, got: &Value) -> OptionError {
    OptionError {
        message: format!("gnsm option \"{key}\" must be {expected}, got {}", shown(got)),
        detail: None,
        hint: Some("SELECT * FROM gnsm_options() lists every option with its default and meaning".into()),
    }
}

/// Keys accepted in `options`, in the order the README documents them.
pub const VALID_KEYS: &[&str] = &[
    "name",
    "activate",
    "keep_versions",
    "numeric_columns",
    "categorical_columns",
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
    "frequency_blend",
    "pairwise",
    "scorer",
];

/// A non-negative integer option.
fn uint(key: &str, v: &Value) -> Result<usize, OptionError> {
    match v.as_u64() {
        Some(n) if n <= usize::MAX as u64 => Ok(n as usize),
        _ => Err(bad(key, "a non-negative integer", v)),
    }
}

/// A finite number option.
fn num(key: &str, v: &Value) -> Result<f64, OptionError> {
    match v.as_f64() {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err(bad(key, "a number", v)),
    }
}

/// A list of distinct column names.
fn names(key: &str, v: &Value) -> Result<Vec<String>, OptionError> {
    let expected = "an array of distinct, non-empty column names";
    let arr = v.as_array().ok_or_else(|| bad(key, expected, v))?;
    let mut out: Vec<String> = Vec::with_capacity(arr.len());
    for x in arr {
        match x.as_str() {
            Some(s) if !s.is_empty() && s.chars().count() <= 200 && !out.iter().any(|o| o == s) => out.push(s.to_string()),
            _ => return Err(bad(key, expected, v)),
        }
    }
    Ok(out)
}

/// A boolean option.
fn boolean(key: &str, v: &Value) -> Result<bool, OptionError> {
    v.as_bool().ok_or_else(|| bad(key, "true or false", v))
}

/// The `name` option: a non-empty string of at most 200 characters, or null (the default name).
fn parse_name(key: &str, v: &Value) -> Result<Option<String>, OptionError> {
    match v {
        Value::Null => Ok(None),
        _ => match v.as_str() {
            Some(s) if !s.trim().is_empty() && s.chars().count() <= 200 => Ok(Some(s.to_string())),
            _ => Err(bad(key, "a non-empty string of at most 200 characters", v)),
        },
    }
}

/// The `activate` option.
fn parse_activate(key: &str, v: &Value) -> Result<Activate, OptionError> {
    match v.as_str() {
        Some("always") => Ok(Activate::Always),
        Some("if_better") => Ok(Activate::IfBetter),
        Some("never") => Ok(Activate::Never),
        _ => Err(bad(key, "one of \"always\", \"if_better\", \"never\"", v)),
    }
}

/// How `activate` is written in the catalog's options JSON.
fn activate_name(a: Activate) -> &'static str {
    match a {
        Activate::Always => "always",
        Activate::IfBetter => "if_better",
        Activate::Never => "never",
    }
}

/// Parses the options object (None or JSON null = all defaults); `default_threads` is the
/// `gnsm.threads` setting. Ranges are checked by `TrainConfig::validate`, which the caller runs
/// (its error is a `crate::Error`, mapped like every other core error).
pub fn parse(options: Option<&Value>, default_threads: usize) -> Result<TrainOptions, OptionError> {
    let empty = Map::new();
    let obj = match options {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(OptionError {
                message: format!("gnsm options must be a JSON object, got {}", shown(other)),
                detail: None,
                hint: Some("for example '{\"steps\": 1000, \"seed\": 7}'".into()),
            })
        }
    };
    let mut out = TrainOptions {
        name: None,
        config: TrainConfig { threads: default_threads, ..TrainConfig::default() },
        activate: Activate::Always,
        keep_versions: 0,
        numeric_columns: Vec::new(),
        categorical_columns: Vec::new(),
    };
    let c = &mut out.config;
    for (key, v) in obj {
        match key.as_str() {
            "name" => out.name = parse_name(key, v)?,
            "activate" => out.activate = parse_activate(key, v)?,
            "keep_versions" => out.keep_versions = uint(key, v)?,
            "numeric_columns" => out.numeric_columns = names(key, v)?,
            "categorical_columns" => out.categorical_columns = names(key, v)?,
            "width" => c.width = uint(key, v)?,
            "depth" => c.depth = uint(key, v)?,
            "steps" => c.steps = uint(key, v)?,
            "max_seconds" => c.max_seconds = num(key, v)?,
            "batch_size" => c.batch_size = uint(key, v)?,
            "lr" => c.lr = num(key, v)? as f32,
            "lr_min" => c.lr_min = num(key, v)? as f32,
            "weight_decay" => c.weight_decay = num(key, v)? as f32,
            "ema_decay" => c.ema_decay = num(key, v)? as f32,
            "grad_clip" => c.grad_clip = num(key, v)? as f32,
            "seed" => c.seed = uint(key, v)? as u64,
            "threads" => c.threads = uint(key, v)?,
            "val_fraction" => c.val_fraction = num(key, v)?,
            "max_val_rows" => c.max_val_rows = uint(key, v)?,
            "evals" => c.evals = uint(key, v)?,
            "denoise" => c.denoise = boolean(key, v)?,
            "frequency_feature" => c.frequency_feature = boolean(key, v)?,
            "gmm_components" => {
                let arr = v.as_array().ok_or_else(|| bad(key, "an array of integers", v))?;
                c.gmm_components = arr.iter().map(|x| uint(key, x)).collect::<Result<_, _>>()?;
            }
            "max_head_rows" => c.max_head_rows = uint(key, v)?,
            "signal_min" => c.signal_min = num(key, v)? as f32,
            "signal_max" => c.signal_max = num(key, v)? as f32,
            "norm_features" => c.norm_features = boolean(key, v)?,
            "dsm_draws" => c.dsm_draws = uint(key, v)?,
            "frequency_blend" => c.frequency_blend = boolean(key, v)?,
            "pairwise" => c.pairwise = boolean(key, v)?,
            "scorer" => {
                (c.fast_scorer, c.auto_scorer) = match v.as_str() {
                    Some("auto") => (false, true),
                    Some("fast") => (true, false),
                    Some("exact") => (false, false),
                    _ => return Err(bad(key, "one of \"auto\", \"fast\", \"exact\"", v)),
                }
            }
            other if MAP_ONLY_KEYS.contains(&other) => return Err(map_key_on_table(other)),
            other => {
                let name = shown(&Value::String(other.to_string()));
                return Err(OptionError {
                    message: format!("unknown gnsm option {name}"),
                    detail: Some(format!("valid options: {}", VALID_KEYS.join(", "))),
                    hint: closest_key(other).map(|k| format!("did you mean \"{k}\"?")),
                });
            }
        }
    }
    if let Some(both) = out.numeric_columns.iter().find(|n| out.categorical_columns.contains(n)) {
        return Err(OptionError {
            message: format!("column {} is in both numeric_columns and categorical_columns", shown(&Value::String(both.clone()))),
            detail: None,
            hint: Some("name each column in at most one of the two lists".into()),
        });
    }
    Ok(out)
}

/// The effective options as JSON, for the catalog (defaults filled in).
pub fn to_json(o: &TrainOptions) -> Value {
    let c = &o.config;
    serde_json::json!({
        "name": o.name,
        "activate": activate_name(o.activate),
        "keep_versions": o.keep_versions,
        "numeric_columns": o.numeric_columns, "categorical_columns": o.categorical_columns,
        "width": c.width, "depth": c.depth, "steps": c.steps, "max_seconds": c.max_seconds,
        "batch_size": c.batch_size, "lr": c.lr, "lr_min": c.lr_min, "weight_decay": c.weight_decay,
        "ema_decay": c.ema_decay, "grad_clip": c.grad_clip, "seed": c.seed, "threads": c.threads,
        "val_fraction": c.val_fraction, "max_val_rows": c.max_val_rows, "evals": c.evals,
        "denoise": c.denoise, "frequency_feature": c.frequency_feature,
        "gmm_components": c.gmm_components, "max_head_rows": c.max_head_rows,
        "signal_min": c.signal_min, "signal_max": c.signal_max, "norm_features": c.norm_features,
        "dsm_draws": c.dsm_draws, "frequency_blend": c.frequency_blend, "pairwise": c.pairwise,
        "scorer": match (c.auto_scorer, c.fast_scorer) {
            (true, _) => "auto",
            (false, true) => "fast",
            (false, false) => "exact",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a JSON text with 2 default threads.
    fn p(text: &str) -> Result<TrainOptions, OptionError> {
        parse(Some(&serde_json::from_str(text).unwrap()), 2)
    }

    #[test]
    fn test_defaults_and_overrides() {
        let o = p(r#"{"steps": 7, "name": "m", "activate": "never", "gmm_components": [2, 3]}"#).unwrap();
        assert_eq!((o.config.steps, o.name.as_deref(), o.activate, o.config.threads), (7, Some("m"), Activate::Never, 2));
        assert_eq!(o.config.gmm_components, vec![2, 3]);
        assert_eq!(parse(None, 3).unwrap().config.threads, 3);
    }

    #[test]
    fn test_errors_name_the_key_and_cut_long_values() {
        assert!(p(r#"{"stepz": 1}"#).unwrap_err().message.contains("unknown gnsm option \"stepz\""));
        assert!(p(r#"{"steps": "many"}"#).unwrap_err().message.contains("\"steps\" must be a non-negative integer"));
        assert!(p(r#"{"steps": -1}"#).is_err() && p(r#"{"lr": "x"}"#).is_err() && p(r#"[1]"#).is_err());
        assert!(p(r#"{"numeric_columns": "a"}"#).unwrap_err().message.contains("array of distinct"));
        assert!(p(r#"{"numeric_columns": ["a", "a"]}"#).is_err() && p(r#"{"numeric_columns": [""]}"#).is_err());
        assert!(p(r#"{"numeric_columns": ["a"], "categorical_columns": ["a"]}"#).unwrap_err().message.contains("in both"));
        let long = format!(r#"{{"name": "{}"}}"#, "x".repeat(1 << 20));
        let e = p(&long).unwrap_err();
        assert!(e.message.len() < 300 && e.message.contains("1048578 bytes"), "{}", e.message);
    }

    #[test]
    fn test_json_round_trip_keeps_every_option() {
        let o = p(r#"{"steps": 9, "seed": 4, "activate": "if_better", "keep_versions": 3, "dsm_draws": 2, "numeric_columns": ["a"]}"#).unwrap();
        assert_eq!(o.numeric_columns, vec!["a"]);
        let again = parse(Some(&to_json(&o)), 1).unwrap();
        assert_eq!(to_json(&o), to_json(&again));
    }
}
