//! The options reference that `gnsm_options()` returns: every key with its default and meaning,
//! so error hints can point at something installed rather than at the README.

use super::{map_to_json, parse, parse_map, to_json, MAP_KEYS, MAP_ONLY_KEYS, VALID_KEYS};
use serde_json::Value;

/// One option: its key, its default (JSON; null where the default depends on the call) and what
/// it means.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionDoc {
    pub key: &'static str,
    pub default: Value,
    pub meaning: String,
}

/// What each key means, in `VALID_KEYS` order (the README's options table says the same).
const MEANINGS: &[(&str, &str)] = &[
    ("name", "model name; default: the table's name (gnsm_train) or \"aggregate\" (gnsm_train_agg)"),
    ("activate", "\"always\", \"if_better\" (only if the validation loss is no worse than the active version's) or \"never\"; gnsm_retrain defaults to \"if_better\""),
    ("keep_versions", "after storing, drop all but the N newest versions (never the active one); 0 keeps all"),
    ("numeric_columns", "integer (or float/numeric) columns to model as numbers"),
    ("categorical_columns", "float/numeric columns to model as categories (their text form)"),
    ("width", "hidden width of the score network"),
    ("depth", "residual blocks of the score network"),
    ("steps", "training step budget"),
    ("max_seconds", "wall-clock budget of the whole fit, in seconds: reading the rows, the network (the learning-rate schedule shrinks to leave room for the rest), the density head, the fast scorer and the stored scores; a seeded run is reproducible only when steps, not this, ends training"),
    ("batch_size", "rows per training step"),
    ("lr", "peak learning rate (cosine schedule)"),
    ("lr_min", "final learning rate"),
    ("weight_decay", "AdamW weight decay"),
    ("ema_decay", "decay of the exponential moving average of the weights (warmed up)"),
    ("grad_clip", "gradient-norm clip"),
    ("seed", "random seed: same seed and threads give the same model when steps ends training"),
    ("threads", "worker threads; default: the gnsm.threads setting"),
    ("val_fraction", "share of rows held out for validation"),
    ("max_val_rows", "validation rows evaluated (all 20 noise levels each)"),
    ("evals", "validation evaluations per run"),
    ("denoise", "the method's denoise step before the score norms"),
    ("frequency_feature", "add the independent-columns log-likelihood to the density head"),
    ("gmm_components", "mixture sizes tried by 5-fold cross-validation (default [1]: one Gaussian, which a cluster of anomalies in the training table cannot claim)"),
    ("max_head_rows", "rows sampled to fit the density head"),
    ("signal_min", "scale of the clean logits at the noisiest level (1 = the paper)"),
    ("signal_max", "scale of the clean logits at the least noisy level (1 = the paper)"),
    ("norm_features", "the paper's 20 score norms as density-head features"),
    ("dsm_draws", "fixed noise draws per level for the per-row denoising-loss features (0 = off)"),
    ("frequency_blend", "add the standardised independent-columns NLL to the score (needs frequency_feature); false = no such term"),
    ("pairwise", "add the standardised pairwise-conditional NLL to the score: each value's worst surprise given one other column of its row"),
    ("scorer", "\"auto\": \"fast\" when the training rows hold at least 30,000 distinct rows, else \"exact\" (ADR 016; metrics->>'scorer' says which); \"exact\": the score network's 41 forward passes per distinct row (milliseconds); \"fast\": also fit a small network to the exact score's head after training and score each row with one pass of it (microseconds; ADR 011 gives its ranking against the exact one)"),
];

/// What each map-only key means, in `MAP_ONLY_KEYS` order; each says it is for map models, and
/// the shared trainer keys (steps, seed...) apply to both families with the map defaults of
/// `MapConfig` (steps 3000, max_seconds 120, batch_size 16 maps).
const MAP_MEANINGS: &[(&str, &str)] = &[
    ("resolution", "map models: working resolution, N or [height, width] (multiples of 4, 8 to 512); every map and image is resampled to it"),
    ("classes", "map models: number of classes K (labels 0..K-1); default: the largest training label + 1"),
    ("void_label", "map models: a label meaning \"not labelled\", ignored by training, scoring and explanation"),
    ("base_channels", "map models: base channel count of the convolutional score network (2x at coarser resolutions)"),
    ("use_image", "map models: use the conditioning image column when the model has one"),
    ("flip", "map models: random horizontal flips of training maps (and images)"),
];

/// Every option with its default as `gnsm_train` applies it (`threads` from `default_threads`):
/// the table keys, then the map-only keys with the map defaults.
pub fn reference(default_threads: usize) -> Vec<OptionDoc> {
    let defaults = to_json(&parse(None, default_threads).expect("the empty options object parses"));
    let map_defaults = map_to_json(&parse_map(None, default_threads).expect("the empty options object parses"));
    let table = VALID_KEYS.iter().map(|&key| {
        let default = defaults.get(key).cloned().unwrap_or(Value::Null);
        let mut meaning = MEANINGS.iter().find(|(k, _)| *k == key).map(|(_, m)| m.to_string()).unwrap_or_default();
        // a shared trainer key whose map default differs says so (the default column is the
        // table models')
        match map_defaults.get(key) {
            Some(m) if MAP_KEYS.contains(&key) && !m.is_null() && *m != default => meaning.push_str(&format!("; map models: default {m}")),
            _ => {}
        }
        OptionDoc { key, default, meaning }
    });
    let map = MAP_ONLY_KEYS.iter().map(|&key| OptionDoc {
        key,
        default: map_defaults.get(key).cloned().unwrap_or(Value::Null),
        meaning: MAP_MEANINGS.iter().find(|(k, _)| *k == key).map(|(_, m)| m.to_string()).unwrap_or_default(),
    });
    table.chain(map).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_every_key_has_a_meaning_and_its_parsed_default() {
        let docs = reference(3);
        assert_eq!(docs.len(), VALID_KEYS.len() + MAP_ONLY_KEYS.len());
        assert_eq!(MEANINGS.len(), VALID_KEYS.len(), "one meaning per key, no stray ones");
        assert_eq!(MAP_MEANINGS.len(), MAP_ONLY_KEYS.len(), "one meaning per map key, no stray ones");
        assert!(docs.iter().all(|d| !d.meaning.is_empty()), "{docs:?}");
        let get = |k: &str| docs.iter().find(|d| d.key == k).unwrap().default.clone();
        assert_eq!(get("steps"), serde_json::json!(1000));
        assert_eq!(get("threads"), serde_json::json!(3));
        assert_eq!(get("activate"), serde_json::json!("always"));
        assert_eq!(get("name"), Value::Null);
        assert_eq!(get("resolution"), serde_json::json!([64, 64]));
        // shared keys name the map default where it differs from the table one
        let meaning = |k: &str| docs.iter().find(|d| d.key == k).unwrap().meaning.clone();
        assert!(meaning("steps").ends_with("; map models: default 3000"), "{}", meaning("steps"));
        assert!(meaning("max_seconds").ends_with("; map models: default 120.0"), "{}", meaning("max_seconds"));
        assert!(!meaning("seed").contains("map models"), "same default for both: {}", meaning("seed"));
        assert!(!meaning("width").contains("map models"), "a table-only key: {}", meaning("width"));
    }
}
