//! Warm scores (format 7): the training rows' scores stored with a model equal the
//! scores the model computes for those rows, bit for bit, and survive the byte format.

use gnsm_core::model::Model;
use gnsm_core::train::{build_pool, Hooks, TrainConfig};

mod common;
use common::rows;


#[test]
fn stored_scores_equal_computed_scores_and_round_trip() {
    let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let config = TrainConfig { width: 16, depth: 1, steps: 40, batch_size: 64, threads: 2, seed: 3, ..TrainConfig::default() };
    let pool = build_pool(2).unwrap();
    let model = Hooks::silent(|h| Model::fit(&names, &rows(), &config, 1000, &pool, h)).unwrap();
    // every distinct coded training row, most frequent first (rows seen once last)
    let coded: Vec<Vec<u32>> = rows()
        .iter()
        .map(|r| model.features.encoder.encode_row(&r.iter().map(|v| v.as_deref()).collect::<Vec<_>>()).unwrap())
        .collect();
    let distinct: std::collections::HashSet<&Vec<u32>> = coded.iter().collect();
    assert_eq!(model.warm.len(), distinct.len(), "every distinct training row is stored");
    let counts: Vec<usize> = model.warm.iter().map(|(c, _)| coded.iter().filter(|r| r.as_slice() == c).count()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "most frequent first: {counts:?}");
    assert!(counts.contains(&1), "rows seen once are stored: {counts:?}");
    for (codes, stored) in model.warm.iter() {
        let computed = model.score_codes(codes).unwrap();
        assert_eq!(stored.to_bits(), computed.to_bits(), "stored {stored} vs computed {computed}");
    }
    // with no time left in the fit's budget, only the repeated rows are stored
    let table = gnsm_core::encoding::CodedTable { n_rows: coded.len(), n_cols: 3, codes: coded.concat() };
    let repeated = model.warm_up(&table, &pool, std::time::Duration::from_secs(60), std::time::Duration::ZERO, &mut || false).unwrap();
    let n_repeated = counts.iter().filter(|&&n| n >= 2).count();
    assert_eq!(repeated.len(), n_repeated);
    assert!(n_repeated < model.warm.len());
    assert_eq!(repeated.scores[..], model.warm.scores[..n_repeated]);
    let bytes = model.to_bytes();
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), gnsm_core::MODEL_FORMAT_VERSION);
    let again = Model::from_bytes(&bytes).unwrap();
    assert_eq!(again.warm, model.warm);
}

#[test]
fn the_fast_scorer_stores_none() {
    let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let config = TrainConfig { width: 16, depth: 1, steps: 40, batch_size: 64, threads: 1, fast_scorer: true, ..TrainConfig::default() };
    let pool = build_pool(1).unwrap();
    let model = Hooks::silent(|h| Model::fit(&names, &rows(), &config, 1000, &pool, h)).unwrap();
    assert!(model.warm.is_empty());
}
