//! The options object of a map model (a `gnsm_train` whose column is a label map): the same
//! `name`/`activate`/`keep_versions` as tables, the trainer keys both families share, and the
//! map-only keys (`resolution`, `classes`, `void_label`, `base_channels`, `use_image`, `flip`).
//! A key of the other family is refused by name, so `{"width": 32}` (a table network's width) on
//! a map model cannot be mistaken for the map's width: a map's size is `resolution`.

use super::{bad, boolean, closest_key, num, parse_activate, parse_name, shown, uint, Activate, OptionError, VALID_KEYS};
use crate::map::MapConfig;
use serde_json::{Map, Value};

/// Parsed options of a map model.
#[derive(Debug, Clone)]
pub struct MapOptions {
    /// Model name; defaults to the table's name.
    pub name: Option<String>,
    pub config: MapConfig,
    pub activate: Activate,
    /// After storing, keep only this many newest versions (plus the active one); 0 keeps all.
    pub keep_versions: usize,
}

/// Keys only a map model takes.
pub const MAP_ONLY_KEYS: &[&str] = &["resolution", "classes", "void_label", "base_channels", "use_image", "flip"];

/// Keys a map model takes, in the order `gnsm_options()` lists them.
pub const MAP_KEYS: &[&str] = &[
    "name",
    "activate",
    "keep_versions",
    "resolution",
    "classes",
    "void_label",
    "base_channels",
    "use_image",
    "flip",
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
    "evals",
    "signal_min",
    "signal_max",
];

/// The error for a map-only key in a table model's options.
pub fn map_key_on_table(key: &str) -> OptionError {
    OptionError {
        message: format!("gnsm option {} applies to map models only", shown(&Value::String(key.to_string()))),
        detail: Some("a map model is trained when the column list names one smallint[] or integer[] label-map column".into()),
        hint: Some("leave the key out for a table model; SELECT * FROM gnsm_options() marks the map-only keys".into()),
    }
}

/// `resolution`: N (N x N) or [height, width]; the ranges are `MapConfig::validate`'s.
fn resolution(key: &str, v: &Value) -> Result<(usize, usize), OptionError> {
    let expected = "a side length or an array [height, width]";
    let (h, w) = match v {
        Value::Number(_) => uint(key, v).map(|n| (n, n)).map_err(|_| bad(key, expected, v))?,
        Value::Array(a) if a.len() == 2 => {
            (uint(key, &a[0]).map_err(|_| bad(key, expected, v))?, uint(key, &a[1]).map_err(|_| bad(key, expected, v))?)
        }
        _ => return Err(bad(key, expected, v)),
    };
    // checked here as well as by MapConfig::validate, so the error names the option the user
    // wrote ("resolution") rather than the config's fields ("height", "width")
    if !MapConfig::valid_side(h) || !MapConfig::valid_side(w) {
        return Err(bad(key, "a side length (or [height, width]) that is a multiple of 4 between 8 and 512", v));
    }
    Ok((h, w))
}

/// Parses a map model's options (None or JSON null = all defaults); `default_threads` is the
/// `gnsm.threads` setting. Ranges are checked by `MapConfig::validate`, which the caller runs.
pub fn parse_map(options: Option<&Value>, default_threads: usize) -> Result<MapOptions, OptionError> {
    let empty = Map::new();
    let obj = match options {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(OptionError {
                message: format!("gnsm options must be a JSON object, got {}", shown(other)),
                detail: None,
                hint: Some("for example '{\"steps\": 500, \"resolution\": 32}'".into()),
            })
        }
    };
    let mut out = MapOptions {
        name: None,
        config: MapConfig { threads: default_threads, ..MapConfig::default() },
        activate: Activate::Always,
        keep_versions: 0,
    };
    let c = &mut out.config;
    for (key, v) in obj {
        match key.as_str() {
            "name" => out.name = parse_name(key, v)?,
            "activate" => out.activate = parse_activate(key, v)?,
            "keep_versions" => out.keep_versions = uint(key, v)?,
            "resolution" => (c.height, c.width) = resolution(key, v)?,
            "classes" if v.is_null() => c.classes = None,
            "classes" => c.classes = Some(uint(key, v)?),
            "void_label" if v.is_null() => c.void_label = None,
            "void_label" => match v.as_u64() {
                Some(n) if n < u64::from(u16::MAX) => c.void_label = Some(n as u16),
                _ => return Err(bad(key, "null or a label from 0 to 65534", v)),
            },
            "base_channels" => c.base_channels = uint(key, v)?,
            "use_image" => c.use_image = boolean(key, v)?,
            "flip" => c.flip = boolean(key, v)?,
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
            "evals" => c.evals = uint(key, v)?,
            "signal_min" => c.signal_min = num(key, v)? as f32,
            "signal_max" => c.signal_max = num(key, v)? as f32,
            other if VALID_KEYS.contains(&other) => {
                return Err(OptionError {
                    message: format!(
                        "gnsm option {} applies to table models only, not to a map model",
                        shown(&Value::String(other.to_string()))
                    ),
                    detail: Some(format!("map models take: {}", MAP_KEYS.join(", "))),
                    hint: Some(if other == "width" || other == "depth" {
                        "a map's working size is \"resolution\" (N or [height, width]); its network size is \"base_channels\"".into()
                    } else {
                        "leave the key out; SELECT * FROM gnsm_options() marks which keys apply to map models".into()
                    }),
                })
            }
            other => {
                return Err(OptionError {
                    message: format!("unknown gnsm option {}", shown(&Value::String(other.to_string()))),
                    detail: Some(format!("map models take: {}", MAP_KEYS.join(", "))),
                    hint: closest_key(other).map(|k| format!("did you mean \"{k}\"?")),
                })
            }
        }
    }
    Ok(out)
}

/// The effective map options as JSON, for the catalog (defaults filled in; `parse_map` reads it back).
pub fn map_to_json(o: &MapOptions) -> Value {
    let c = &o.config;
    serde_json::json!({
        "name": o.name,
        "activate": super::activate_name(o.activate),
        "keep_versions": o.keep_versions,
        "resolution": [c.height, c.width], "classes": c.classes, "void_label": c.void_label,
        "base_channels": c.base_channels, "use_image": c.use_image, "flip": c.flip,
        "steps": c.steps, "max_seconds": c.max_seconds, "batch_size": c.batch_size, "lr": c.lr,
        "lr_min": c.lr_min, "weight_decay": c.weight_decay, "ema_decay": c.ema_decay,
        "grad_clip": c.grad_clip, "seed": c.seed, "threads": c.threads,
        "val_fraction": c.val_fraction, "evals": c.evals, "signal_min": c.signal_min, "signal_max": c.signal_max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a JSON text with 2 default threads.
    fn p(text: &str) -> Result<MapOptions, OptionError> {
        parse_map(Some(&serde_json::from_str(text).unwrap()), 2)
    }

    #[test]
    fn test_map_options_parse_and_round_trip() {
        let o = p(r#"{"resolution": [16, 24], "classes": 3, "void_label": 255, "steps": 5, "base_channels": 4}"#).unwrap();
        assert_eq!((o.config.height, o.config.width, o.config.classes, o.config.void_label), (16, 24, Some(3), Some(255)));
        assert_eq!((o.config.steps, o.config.base_channels, o.config.threads), (5, 4, 2));
        assert_eq!(p(r#"{"resolution": 32}"#).unwrap().config.height, 32);
        let again = parse_map(Some(&map_to_json(&o)), 1).unwrap();
        assert_eq!(map_to_json(&o), map_to_json(&again));
        assert_eq!(parse_map(None, 3).unwrap().config, MapConfig { threads: 3, ..MapConfig::default() });
    }

    #[test]
    fn test_keys_of_the_other_family_are_named() {
        assert!(p(r#"{"width": 32}"#).unwrap_err().message.contains("\"width\" applies to table models only"));
        assert!(p(r#"{"resolutoin": 32}"#).unwrap_err().message.contains("unknown gnsm option \"resolutoin\""));
        assert!(p(r#"{"resolution": [1, 2, 3]}"#).is_err() && p(r#"{"void_label": 65535}"#).is_err());
        // a side that is not a multiple of 4 is named by the option the user wrote
        for bad_side in [r#"{"resolution": 30}"#, r#"{"resolution": [64, 4]}"#, r#"{"resolution": 1024}"#] {
            let e = p(bad_side).unwrap_err();
            assert!(e.message.contains("\"resolution\"") && e.message.contains("multiple of 4"), "{}", e.message);
        }
        assert!(p(r#"{"classes": "x"}"#).is_err() && p("[1]").is_err());
        let e = crate::options::parse(Some(&serde_json::json!({"classes": 3})), 1).unwrap_err();
        assert!(e.message.contains("\"classes\" applies to map models only"), "{}", e.message);
    }
}
