//! The map family end to end on generated maps with layout rules: a model trained on clean maps
//! ranks corrupted maps above held-out clean ones, explains where, and survives the format.

use gnsm_core::map::{LabelMap, MapConfig, MapItem, MapModel};
use gnsm_core::train::{build_pool, Hooks};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Side of the generated maps.
const SIDE: usize = 24;

/// A clean map: background 0, a rectangle of class 1 in the upper half, a disc of class 2 in the
/// lower half, at random positions and sizes (the layout rule: 1 above 2, both compact).
fn clean_map(rng: &mut ChaCha8Rng) -> LabelMap {
    let mut labels = vec![0u16; SIDE * SIDE];
    let (h, w) = (rng.random_range(3..7), rng.random_range(4..10));
    let (r0, c0) = (rng.random_range(1..SIDE / 2 - h), rng.random_range(1..SIDE - w - 1));
    for r in r0..r0 + h {
        for c in c0..c0 + w {
            labels[r * SIDE + c] = 1;
        }
    }
    let rad = rng.random_range(3..5) as f64;
    let (cr, cc) = (rng.random_range(SIDE / 2 + 4..SIDE - 4) as f64, rng.random_range(4..SIDE - 4) as f64);
    for r in 0..SIDE {
        for c in 0..SIDE {
            if ((r as f64 - cr).powi(2) + (c as f64 - cc).powi(2)).sqrt() <= rad {
                labels[r * SIDE + c] = 2;
            }
        }
    }
    LabelMap::new(SIDE, SIDE, labels).unwrap()
}

/// A corrupted copy: the layout flipped upside down (2 above 1), or salt-and-pepper noise.
fn corrupted(map: &LabelMap, kind: usize, rng: &mut ChaCha8Rng) -> LabelMap {
    let mut out = map.clone();
    match kind {
        0 => {
            for r in 0..SIDE {
                for c in 0..SIDE {
                    out.labels[r * SIDE + c] = map.labels[(SIDE - 1 - r) * SIDE + c];
                }
            }
        }
        _ => {
            for l in out.labels.iter_mut() {
                if rng.random::<f64>() < 0.08 {
                    *l = rng.random_range(0..3);
                }
            }
        }
    }
    out
}

#[test]
fn corrupted_maps_rank_above_clean_ones_and_the_model_round_trips() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let train: Vec<LabelMap> = (0..60).map(|_| clean_map(&mut rng)).collect();
    let clean: Vec<LabelMap> = (0..12).map(|_| clean_map(&mut rng)).collect();
    let bad: Vec<LabelMap> = clean.iter().enumerate().map(|(i, m)| corrupted(m, i % 2, &mut rng)).collect();
    let config = MapConfig { height: SIDE, width: SIDE, base_channels: 8, steps: 250, batch_size: 8, threads: 2, ..MapConfig::default() };
    let pool = build_pool(2).unwrap();
    let items: Vec<MapItem> = train.iter().map(|m| MapItem { map: m, image: None }).collect();
    let model = Hooks::silent(|h| MapModel::fit(&items, &config, &pool, h)).unwrap();
    assert_eq!(model.classes.classes, 3);

    let all: Vec<MapItem> = clean.iter().chain(&bad).map(|m| MapItem { map: m, image: None }).collect();
    let scores = Hooks::silent(|h| model.score_batch(&all, &pool, h)).unwrap();
    let (c, b) = scores.split_at(clean.len());
    // every corrupted map above the median clean one, and most above every clean one
    let mut sorted = c.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    assert!(b.iter().all(|&s| s > median), "clean {c:?} corrupted {b:?}");
    let above_all = b.iter().filter(|&&s| s > sorted[sorted.len() - 1]).count();
    assert!(above_all * 4 >= b.len() * 3, "only {above_all} of {} corrupted maps above every clean one: clean {c:?} corrupted {b:?}", b.len());

    // the explanation is a per-pixel share map at the input size
    let shares = model.explain(MapItem { map: &bad[1], image: None }).unwrap();
    assert_eq!(shares.len(), SIDE * SIDE);
    assert!((shares.iter().map(|&v| v as f64).sum::<f64>() - 1.0).abs() < 1e-3);

    // one map scored and explained with its network passes spread over the pool: the same
    // figures as on one thread, and as the batch (levels are summed in order)
    let one = MapItem { map: &bad[1], image: None };
    let serial = model.score(one).unwrap();
    assert_eq!(model.score_on(one, &pool).unwrap(), serial);
    assert_eq!(serial, scores[clean.len() + 1]);
    assert_eq!(model.explain_on(one, &pool).unwrap(), shares);

    // format round trip: same scores from the decoded model; a table reader refuses it
    let bytes = model.to_bytes();
    let again = MapModel::from_bytes(&bytes).unwrap();
    let s2 = Hooks::silent(|h| again.score_batch(&all, &pool, h)).unwrap();
    assert_eq!(scores, s2);
    assert!(gnsm_core::model::Model::from_bytes(&bytes).unwrap_err().to_string().contains("map model"));
    let mut damaged = bytes.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    assert!(MapModel::from_bytes(&damaged).is_err());
    assert!(MapModel::from_bytes(&bytes[..bytes.len() / 2]).is_err());
}

#[test]
fn out_of_range_labels_and_missing_images_are_clear_errors() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let train: Vec<LabelMap> = (0..8).map(|_| clean_map(&mut rng)).collect();
    let config = MapConfig { height: 16, width: 16, base_channels: 4, steps: 5, batch_size: 4, ..MapConfig::default() };
    let pool = build_pool(1).unwrap();
    let items: Vec<MapItem> = train.iter().map(|m| MapItem { map: m, image: None }).collect();
    let model = Hooks::silent(|h| MapModel::fit(&items, &config, &pool, h)).unwrap();
    let mut bad = train[0].clone();
    bad.labels[SIDE + 2] = 9;
    let err = model.score(MapItem { map: &bad, image: None }).unwrap_err().to_string();
    assert!(err.contains("label 9 at pixel (1, 2)") && err.contains("0..2"), "{err}");
    // a map of another size is resampled, not refused
    let small = train[0].resize_nearest(10, 13);
    assert!(model.score(MapItem { map: &small, image: None }).unwrap().is_finite());
}
