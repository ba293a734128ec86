//! Writes the small seed corpora checked in under fuzz/corpus/ (run from fuzz/:
//! `cargo run --release --example make_corpus`): a tiny valid model and damaged copies of it, option objects,
//! and structured table inputs.

use std::fs;
use std::path::Path;

/// Writes one seed file.
fn put(dir: &str, name: &str, bytes: &[u8]) {
    let d = Path::new("corpus").join(dir);
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join(name), bytes).unwrap();
}

fn main() {
    // the smallest model the format allows (width 2, one feature, one GMM component) keeps seed
    // inputs short, which keeps decoding fast (about 40 KB, most of it the level-embedding MLP)
    let micro = gnsm_core::train::TrainConfig {
        width: 2,
        norm_features: false,
        dsm_draws: 0,
        gmm_components: vec![1],
        ..gnsm_fuzz::tiny_config()
    };
    let names = vec!["a".to_string(), "b".to_string()];
    let rows: Vec<Vec<Option<&str>>> = (0..50).map(|i| vec![Some(["x", "y"][i % 2]), Some(["p", "q", "r"][i % 3])]).collect();
    let pool = gnsm_core::train::build_pool(1).unwrap();
    let model = gnsm_core::train::Hooks::silent(|h| gnsm_core::model::Model::fit(&names, &rows, &micro, 100, &pool, h)).unwrap();
    let bytes = model.to_bytes();
    put("model_decode", "tiny_model", &bytes);
    // a model with a numeric column (format 4 encoder statistics)
    let mut b = gnsm_core::encoding::TableBuilder::with_numeric(vec!["n".into(), "a".into()], 1, 100);
    for i in 0..50 {
        b.push_row(&[Some(&(i as f64 * 0.5).to_string()), Some(["x", "y"][i % 2])]).unwrap();
    }
    let (enc, table) = b.finish().unwrap();
    let mixed = gnsm_core::train::Hooks::silent(|h| gnsm_core::model::Model::fit_coded(enc, &table, &micro, &pool, h)).unwrap();
    put("model_decode", "tiny_mixed_model", &mixed.to_bytes());
    put("model_decode", "truncated", &bytes[..bytes.len() / 2]);
    put("model_decode", "header_only", &bytes[..14]);
    let mut future = bytes.clone();
    future[4] = 99;
    put("model_decode", "future_version", &future);
    for (i, text) in [
        r#"{}"#,
        r#"{"steps": 10, "width": 8, "name": "m", "activate": "if_better", "gmm_components": [1, 2]}"#,
        r#"{"steps": 1e30, "lr": -1, "max_seconds": 0}"#,
        r#"{"threads": 18446744073709551615, "seed": 0, "frequency_blend": false}"#,
        r#"[1, 2]"#,
        r#"{"name": null, "dsm_draws": 64, "signal_min": 10, "signal_max": 10}"#,
    ]
    .iter()
    .enumerate()
    {
        put("options_parse", &format!("seed{i}"), text.as_bytes());
    }
    // structured inputs are read by `arbitrary` from raw bytes: a few byte strings of varied shape
    put("row_encode", "empty", b"");
    put("row_encode", "ascii", b"\x03a\x00b\x00c\x00\x05\x02\x03\x01xy\x01z\x00\x01\x02q");
    put("row_encode", "unicode", &[&"\u{1F600}\u{0301}\x00\x02".as_bytes()[..], &[0xFF, 0xFE], "\u{FEFF}naïve\x00".as_bytes()].concat());
}
