//! Graded synthetic corruptions of label maps (severity 1-3), standing in for the mistakes of a
//! segmentation model: ragged boundaries, confused classes, blobs of a wrong class, coarse
//! output, misregistration and over-grown classes. Deterministic given the rng's seed.
//!
//! "Another class" is drawn from 0..=max(largest label in the map, 1): the functions do not know
//! the data set's class count, and CamVid maps almost always hold the void class 11.

use gnsm_core::map::LabelMap;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The corruption families, in the order reports list them.
pub const FAMILIES: &[&str] = &["boundary_jitter", "class_swap", "holes", "blocky", "shift", "erode_dilate"];

/// Applies family `family` at severity `s` (1-3); panics on an unknown family or severity.
pub fn corrupt(family: &str, map: &LabelMap, s: usize, rng: &mut ChaCha8Rng) -> LabelMap {
    assert!((1..=3).contains(&s), "severity {s} is not 1, 2 or 3");
    match family {
        "boundary_jitter" => boundary_jitter(map, s, rng),
        "class_swap" => class_swap(map, s, rng),
        "holes" => holes(map, s, rng),
        "blocky" => blocky(map, s, rng),
        "shift" => shift(map, s, rng),
        "erode_dilate" => erode_dilate(map, s, rng),
        _ => panic!("unknown corruption family \"{family}\"; known: {FAMILIES:?}"),
    }
}

/// Number of classes a corruption may draw from.
fn class_pool(map: &LabelMap) -> u16 {
    map.max_label().max(1) + 1
}

/// A random class of the pool other than `not`.
fn other_class(pool: u16, not: u16, rng: &mut ChaCha8Rng) -> u16 {
    // draw from pool-1 values and skip `not`, so every other class is equally likely
    let c = rng.random_range(0..pool - 1);
    if c >= not {
        c + 1
    } else {
        c
    }
}

/// The classes present in the map, ascending.
fn present(map: &LabelMap) -> Vec<u16> {
    let mut seen = vec![false; map.max_label() as usize + 1];
    for &l in &map.labels {
        seen[l as usize] = true;
    }
    (0..seen.len() as u16).filter(|&c| seen[c as usize]).collect()
}

/// The in-bounds 4-neighbours of pixel p.
fn neighbours4(h: usize, w: usize, p: usize) -> impl Iterator<Item = usize> {
    let (r, c) = (p / w, p % w);
    [(r > 0).then(|| p - w), (r + 1 < h).then(|| p + w), (c > 0).then(|| p - 1), (c + 1 < w).then(|| p + 1)].into_iter().flatten()
}

/// s rounds: each boundary pixel takes a random differing 4-neighbour's class with
/// probability 0.2 + 0.15 s.
pub fn boundary_jitter(map: &LabelMap, s: usize, rng: &mut ChaCha8Rng) -> LabelMap {
    let (h, w) = (map.height, map.width);
    let p = 0.2 + 0.15 * s as f64;
    let mut cur = map.labels.clone();
    for _ in 0..s {
        // read from the previous round so a class cannot creep across the map in one round
        let prev = cur.clone();
        for (i, out) in cur.iter_mut().enumerate() {
            let differing: Vec<u16> = neighbours4(h, w, i).map(|q| prev[q]).filter(|&l| l != prev[i]).collect();
            if !differing.is_empty() && rng.random_bool(p) {
                *out = differing[rng.random_range(0..differing.len())];
            }
        }
    }
    LabelMap { height: h, width: w, labels: cur }
}

/// s present classes (fewer if the map has fewer) are each relabelled as another random class.
pub fn class_swap(map: &LabelMap, s: usize, rng: &mut ChaCha8Rng) -> LabelMap {
    let pool = class_pool(map);
    let mut candidates = present(map);
    let mut to: Vec<u16> = (0..pool).collect();
    for _ in 0..s.min(candidates.len()) {
        let from = candidates.swap_remove(rng.random_range(0..candidates.len()));
        to[from as usize] = other_class(pool, from, rng);
    }
    // one lookup of the original labels: a swap never feeds into another
    let labels = map.labels.iter().map(|&l| to.get(l as usize).copied().unwrap_or(l)).collect();
    LabelMap { height: map.height, width: map.width, labels }
}

/// 2s rectangles, each side 8-15% of the map's side, filled with a class other than the one at
/// the rectangle's centre.
pub fn holes(map: &LabelMap, s: usize, rng: &mut ChaCha8Rng) -> LabelMap {
    let (h, w) = (map.height, map.width);
    let pool = class_pool(map);
    let side = |n: usize, rng: &mut ChaCha8Rng| ((n as f64 * rng.random_range(0.08..=0.15)).round() as usize).clamp(1, n);
    let mut labels = map.labels.clone();
    for _ in 0..2 * s {
        let (rh, rw) = (side(h, rng), side(w, rng));
        let (r0, c0) = (rng.random_range(0..=h - rh), rng.random_range(0..=w - rw));
        let fill = other_class(pool, map.get(r0 + rh / 2, c0 + rw / 2), rng);
        for r in r0..r0 + rh {
            labels[r * w + c0..r * w + c0 + rw].fill(fill);
        }
    }
    LabelMap { height: h, width: w, labels }
}

/// Nearest down-sampling by 2^(s+1), then nearest up-sampling back to the map's size.
pub fn blocky(map: &LabelMap, s: usize, _rng: &mut ChaCha8Rng) -> LabelMap {
    let f = 1usize << (s + 1);
    map.resize_nearest(map.height.div_ceil(f), map.width.div_ceil(f)).resize_nearest(map.height, map.width)
}

/// Horizontal translation by s * 6% of the width (at least one pixel, random direction), the
/// edge column repeated into the uncovered strip.
pub fn shift(map: &LabelMap, s: usize, rng: &mut ChaCha8Rng) -> LabelMap {
    let (h, w) = (map.height, map.width);
    let dx = ((w as f64 * 0.06 * s as f64).round() as isize).max(1);
    let dx = if rng.random_bool(0.5) { dx } else { -dx };
    let mut labels = Vec::with_capacity(h * w);
    for r in 0..h {
        labels.extend((0..w as isize).map(|c| map.labels[r * w + (c - dx).clamp(0, w as isize - 1) as usize]));
    }
    LabelMap { height: h, width: w, labels }
}

/// One random present class (one that touches another, when any does) grows by 2s pixels, each
/// step a 3x3 dilation into its 8-neighbours.
pub fn erode_dilate(map: &LabelMap, s: usize, rng: &mut ChaCha8Rng) -> LabelMap {
    let (h, w) = (map.height, map.width);
    // only a class with a boundary can grow; a single-class map has none and stays as it is
    let growable: Vec<u16> = present(map)
        .into_iter()
        .filter(|&c| (0..h * w).any(|p| map.labels[p] == c && neighbours4(h, w, p).any(|q| map.labels[q] != c)))
        .collect();
    if growable.is_empty() {
        return map.clone();
    }
    let class = growable[rng.random_range(0..growable.len())];
    let mut cur = map.labels.clone();
    for _ in 0..2 * s {
        let prev = cur.clone();
        for r in 0..h {
            for c in 0..w {
                let near = (r.saturating_sub(1)..=(r + 1).min(h - 1))
                    .any(|rr| (c.saturating_sub(1)..=(c + 1).min(w - 1)).any(|cc| prev[rr * w + cc] == class));
                if near {
                    cur[r * w + c] = class;
                }
            }
        }
    }
    LabelMap { height: h, width: w, labels: cur }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seg::dice;
    use rand::SeedableRng;

    /// A 64x64 map: background 0, road-like band 1, and blobs of classes 2-5.
    fn blobs() -> LabelMap {
        let mut labels = vec![0u16; 64 * 64];
        for r in 0..64 {
            for c in 0..64 {
                let disc = |cr: i32, cc: i32, rad: i32| (r as i32 - cr).pow(2) + (c as i32 - cc).pow(2) <= rad * rad;
                labels[r * 64 + c] = if r >= 48 {
                    1
                } else if disc(14, 14, 9) {
                    2
                } else if disc(30, 44, 12) {
                    3
                } else if (36..46).contains(&r) && (6..26).contains(&c) {
                    4
                } else if disc(8, 50, 5) {
                    5
                } else {
                    0
                };
            }
        }
        LabelMap::new(64, 64, labels).unwrap()
    }

    #[test]
    fn every_family_changes_the_map_and_grades_with_severity() {
        let m = blobs();
        for family in FAMILIES {
            let mut means = Vec::new();
            for s in 1..=3 {
                let mut total = 0.0;
                for seed in 0..12 {
                    let out = corrupt(family, &m, s, &mut ChaCha8Rng::seed_from_u64(seed));
                    assert_eq!((out.height, out.width, out.labels.len()), (64, 64, 64 * 64));
                    let d = dice(&m, &out, None);
                    assert!(d < 1.0, "{family} s={s} seed={seed} left the map unchanged");
                    total += d;
                }
                means.push(total / 12.0);
            }
            assert!(means[0] > means[1] && means[1] > means[2], "{family}: mean Dice by severity {means:?}");
        }
    }

    #[test]
    fn corruptions_are_deterministic_per_seed() {
        let m = blobs();
        for family in FAMILIES {
            let a = corrupt(family, &m, 2, &mut ChaCha8Rng::seed_from_u64(9));
            let b = corrupt(family, &m, 2, &mut ChaCha8Rng::seed_from_u64(9));
            assert_eq!(a, b, "{family}");
        }
    }

    #[test]
    fn small_and_single_class_maps_do_not_panic() {
        let tiny = LabelMap::new(1, 1, vec![0]).unwrap();
        let flat = LabelMap::new(5, 3, vec![2; 15]).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for family in FAMILIES {
            for s in 1..=3 {
                assert_eq!(corrupt(family, &tiny, s, &mut rng).labels.len(), 1);
                assert_eq!(corrupt(family, &flat, s, &mut rng).labels.len(), 15);
            }
        }
    }

    #[test]
    fn swap_and_shift_do_what_they_say() {
        let m = LabelMap::new(1, 4, vec![0, 0, 1, 2]).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let swapped = class_swap(&m, 1, &mut rng);
        // exactly one class moved as a whole
        let changed: Vec<usize> = (0..4).filter(|&i| swapped.labels[i] != m.labels[i]).collect();
        assert!(changed == vec![0, 1] || changed == vec![2] || changed == vec![3], "{swapped:?}");
        let wide = LabelMap::new(1, 50, (0..50).collect()).unwrap();
        let moved = shift(&wide, 1, &mut rng);
        // 6% of 50 is 3 pixels, with the edge repeated
        assert!(moved.labels[..4] == [0, 0, 0, 0] || moved.labels[46..] == [49, 49, 49, 49], "{moved:?}");
    }
}
