//! Format 9's two sections (ADR 015): a reader that fetches only the front section gets a model
//! that scores its warm rows and percentiles without the network weights, refuses to run the
//! network, and once completed with the network section scores every row bit for bit as the
//! model read whole. Damaged or misplaced sections are errors, never garbage.

use gnsm_core::model::{front_length, Model, ModelRead};
use gnsm_core::train::{build_pool, Hooks, TrainConfig};

mod common;
use common::rows;


/// A small model trained on `rows()`, with or without the fast scorer.
fn model(fast_scorer: bool) -> Model {
    let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let config = TrainConfig { width: 16, depth: 1, steps: 40, batch_size: 64, threads: 1, seed: 5, fast_scorer, ..TrainConfig::default() };
    let pool = build_pool(1).unwrap();
    Hooks::silent(|h| Model::fit(&names, &rows(), &config, 1000, &pool, h)).unwrap()
}

/// The front-section read of `bytes`: the model without weights and where they lie.
fn front_of(bytes: &[u8]) -> (Model, gnsm_core::model::NetworkSection) {
    let end = front_length(&bytes[..64]).expect("format 9 has a front section");
    assert!(end < bytes.len() / 2, "the weights are most of the bytes ({end} of {})", bytes.len());
    match Model::from_front(&bytes[..end]).unwrap() {
        ModelRead::Front(m, at) => {
            assert_eq!((at.offset, at.offset + at.len), (end, bytes.len()));
            (m, at)
        }
        ModelRead::Complete(_) => panic!("the front section alone cannot be complete"),
    }
}

#[test]
fn test_front_section_scores_what_needs_no_network_and_completes_bit_for_bit() {
    let whole = model(false);
    let bytes = whole.to_bytes();
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), gnsm_core::MODEL_FORMAT_VERSION);
    let (front, at) = front_of(&bytes);
    assert!(!front.features.network.is_loaded());
    // what the SQL layer needs before a row misses the memo: warm scores, percentiles, columns
    assert_eq!(front.warm, whole.warm);
    assert!(!front.warm.is_empty());
    assert_eq!(front.score_quantiles, whole.score_quantiles);
    assert_eq!(front.percentile(2.0), whole.percentile(2.0));
    assert_eq!(front.column_names(), whole.column_names());
    // the network is refused with an error, not a panic or a wrong number
    let codes = whole.features.encoder.encode_row(&[Some("a1"), Some("b0"), Some("c9")]).unwrap();
    assert!(front.score_codes(&codes).is_err());
    assert!(front.explain(&codes).is_err());
    // completed with the network section, it scores as the model read whole
    let done = front.with_network(&at, &bytes[at.offset..]).unwrap();
    let read_whole = Model::from_bytes(&bytes).unwrap();
    for row in [[Some("a1"), Some("b0"), Some("c9")], [Some("a0"), Some("b0"), Some("c0")], [Some("a2"), Some("b3"), Some("c1")]] {
        let codes = whole.features.encoder.encode_row(&row).unwrap();
        let expected = whole.score_codes(&codes).unwrap();
        assert_eq!(done.score_codes(&codes).unwrap().to_bits(), expected.to_bits(), "{row:?}");
        assert_eq!(read_whole.score_codes(&codes).unwrap().to_bits(), expected.to_bits(), "{row:?}");
    }
    assert_eq!(done.to_bytes(), bytes, "a completed model writes the same bytes");
}

#[test]
fn test_fast_scorer_scores_from_the_front_section_alone() {
    let whole = model(true);
    let bytes = whole.to_bytes();
    let (front, _) = front_of(&bytes);
    for row in [[Some("a1"), Some("b0"), Some("c9")], [Some("a0"), Some("b0"), Some("c0")]] {
        let codes = whole.features.encoder.encode_row(&row).unwrap();
        assert_eq!(front.score_codes(&codes).unwrap().to_bits(), whole.score_codes(&codes).unwrap().to_bits(), "{row:?}");
    }
}

#[test]
fn test_damaged_or_misplaced_sections_are_errors() {
    let bytes = model(false).to_bytes();
    let (front, at) = front_of(&bytes);
    // one flipped bit in the weights
    let mut damaged = bytes.clone();
    damaged[at.offset + at.len / 2] ^= 0x10;
    assert!(Model::from_bytes(&damaged).is_err());
    assert!(front.with_network(&at, &damaged[at.offset..]).is_err());
    // a section of the wrong length, a model cut inside its weights or with bytes after them
    assert!(front.with_network(&at, &bytes[at.offset + 4..]).is_err());
    assert!(Model::from_bytes(&bytes[..bytes.len() - 4]).is_err());
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; 4]);
    assert!(Model::from_bytes(&longer).is_err());
    // a front cut short, or with a flipped bit, fails its checksum
    assert!(Model::from_front(&bytes[..at.offset - 1]).is_err());
    let mut bad_front = bytes.clone();
    bad_front[at.offset - 3] ^= 0x01;
    assert!(Model::from_front(&bad_front[..at.offset]).is_err());
    // earlier formats have no front section to read alone
    let old = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/model-format8.bin")).unwrap();
    assert_eq!(front_length(&old), None);
    assert!(matches!(Model::from_front(&old).unwrap(), ModelRead::Complete(_)));
}
