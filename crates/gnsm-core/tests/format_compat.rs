//! Golden tests: a model written by the 0.1.0 release (format 2, tests/fixtures/model-0.1.0.copy,
//! a COPY of its catalog row), one written by 0.2.0 (format 3, tests/fixtures/model-format3.bin)
//! and one written in format 8 (the last one-section format, tests/fixtures/model-format8.bin)
//! still load and score exactly as they were scored when written.

use gnsm_core::model::Model;

/// The model bytes from the COPY text row (last column, `\\x` + hex).
fn fixture_bytes() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/model-0.1.0.copy");
    let text = std::fs::read_to_string(path).expect("fixture");
    let hex = text.trim_end().rsplit('\t').next().unwrap().trim_start_matches("\\\\x");
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

/// Asserts that `model` scores each row as recorded when its fixture was written (to 1e-9).
fn assert_scores_as_recorded(model: &Model, cases: &[([Option<&str>; 3], f64)]) {
    for (row, expected) in cases {
        let codes = model.features.encoder.encode_row(row).unwrap();
        let got = model.score_codes(&codes).unwrap();
        assert!((got - expected).abs() <= 1e-9 * expected.abs(), "{row:?}: {got} vs {expected}");
    }
}

#[test]
fn test_release_0_1_0_model_scores_as_it_did() {
    let bytes = fixture_bytes();
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), 2, "the fixture is a format 2 model");
    let model = Model::from_bytes(&bytes).unwrap();
    assert!(model.blend.is_none() && !model.config.frequency_blend, "format 2 scored with the GMM alone");
    // tests/fixtures/scores-0.1.0.txt: ids 1 (a1,b3,c1), 501 (a1,b0,c0), 502 (a2,b9,c1)
    let cases = [
        ([Some("a1"), Some("b3"), Some("c1")], -228.0622878269643),
        ([Some("a1"), Some("b0"), Some("c0")], -196.89116685709058),
        ([Some("a2"), Some("b9"), Some("c1")], -194.45147365545884),
    ];
    assert_scores_as_recorded(&model, &cases);
    // written again in today's format, it reads back with the same scores
    let again = Model::from_bytes(&model.to_bytes()).unwrap();
    let codes = again.features.encoder.encode_row(&[Some("a1"), Some("b0"), Some("c0")]).unwrap();
    assert_eq!(again.score_codes(&codes).unwrap(), model.score_codes(&codes).unwrap());
}

#[test]
fn test_release_0_2_0_model_scores_as_it_did() {
    // written by the 0.2.0 core (format 3): W16 B1, 60 steps, on 300 rows of a/b/c (c has NULLs)
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/model-format3.bin");
    let bytes = std::fs::read(path).expect("fixture");
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), 3, "the fixture is a format 3 model");
    let model = Model::from_bytes(&bytes).unwrap();
    assert!(model.blend.is_some() && model.features.encoder.numeric.is_empty());
    let cases = [
        ([Some("a1"), Some("b2"), Some("c1")], -0.7885816122957606),
        ([Some("a1"), Some("b7"), None], 19540.268316421192),
        ([Some("a3"), Some("zz"), Some("c0")], 818075.8134095523),
    ];
    assert_scores_as_recorded(&model, &cases);
    let again = Model::from_bytes(&model.to_bytes()).unwrap();
    // format 7: the newest that says its network computes GELU with the f64 erf it was trained with
    assert_eq!(u16::from_le_bytes([again.to_bytes()[4], again.to_bytes()[5]]), 7);
    let codes = again.features.encoder.encode_row(&[Some("a1"), Some("b7"), None]).unwrap();
    assert_eq!(again.score_codes(&codes).unwrap(), model.score_codes(&codes).unwrap());
}

#[test]
fn test_the_format_version_carries_the_networks_gelu() {
    use gnsm_core::net::tabular::Gelu;
    // the 0.2.0 model computes GELU with the f64 erf; the same network with the f32 one scores
    // a little differently, and each reads back as the GELU it was written with
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/model-format3.bin");
    let old = Model::from_bytes(&std::fs::read(path).expect("fixture")).unwrap();
    assert_eq!(old.features.network.gelu, Gelu::ErfF64);
    let mut new = old.clone();
    new.features.network.gelu = Gelu::ErfF32;
    let bytes = new.to_bytes();
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), gnsm_core::MODEL_FORMAT_VERSION);
    let read = Model::from_bytes(&bytes).unwrap();
    assert_eq!(read.features.network.gelu, Gelu::ErfF32);
    let codes = old.features.encoder.encode_row(&[Some("a1"), Some("b2"), Some("c1")]).unwrap();
    let (a, b) = (old.score_codes(&codes).unwrap(), read.score_codes(&codes).unwrap());
    assert_eq!(b, new.score_codes(&codes).unwrap());
    assert!(a != b && (a - b).abs() <= 1e-3 * a.abs().max(1.0), "f64 erf {a} vs f32 erf {b}");
}

#[test]
fn test_format_8_model_scores_as_it_did() {
    // written by the core of commit f64a8f1 (format 8, f32 GELU): W16 B1, 60 steps, seed 8, on 300
    // rows of a/b/c (c NULL in every 50th row); scores printed by that core
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/model-format8.bin");
    let bytes = std::fs::read(path).expect("fixture");
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), 8, "the fixture is a format 8 model");
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.features.network.gelu, gnsm_core::net::tabular::Gelu::ErfF32);
    let cases = [
        ([Some("a0"), Some("b1"), Some("c1")], 0.17457388223217685),
        ([Some("a2"), Some("b0"), Some("c0")], 48468.11815608632),
        ([Some("a1"), Some("b3"), None], 237417.26575506764),
        ([Some("a2"), Some("zz"), Some("c0")], 149991.5378035772),
    ];
    assert_scores_as_recorded(&model, &cases);
    // written again, it is a format 9 model (front section + network section) with the same scores
    let again_bytes = model.to_bytes();
    assert_eq!(u16::from_le_bytes([again_bytes[4], again_bytes[5]]), 9);
    let again = Model::from_bytes(&again_bytes).unwrap();
    for (row, _) in cases {
        let codes = model.features.encoder.encode_row(&row).unwrap();
        assert_eq!(again.score_codes(&codes).unwrap().to_bits(), model.score_codes(&codes).unwrap().to_bits());
    }
}
