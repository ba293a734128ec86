//! Baselines a learned map score has to beat, fitted on training maps of one size: the
//! per-position class prior (how unusual each pixel's class is where it stands) and shape
//! statistics (how unusual the class areas and the number of connected pieces are).

use gnsm_core::map::LabelMap;

/// Checks that every training map has the size of the first and returns it.
fn common_size(train: &[&LabelMap]) -> (usize, usize) {
    let first = train.first().expect("a baseline needs at least one training map");
    for m in train {
        assert!(
            m.height == first.height && m.width == first.width,
            "training maps differ in size: {}x{} and {}x{}",
            first.height,
            first.width,
            m.height,
            m.width
        );
    }
    (first.height, first.width)
}

/// Per-position class frequencies, p(class | pixel) with add-one smoothing: the product's own
/// prior (`gnsm_core::map::prior`), fitted on raw training maps so it can stand alone.
#[derive(Debug, Clone)]
pub struct PixelPrior {
    pub height: usize,
    pub width: usize,
    prior: gnsm_core::map::prior::PixelPrior,
}

impl PixelPrior {
    /// Counts each class at each position over `train` (panics when `train` is empty, the maps
    /// differ in size, or a label is >= `classes`).
    pub fn fit(train: &[&LabelMap], classes: usize) -> PixelPrior {
        let (height, width) = common_size(train);
        for m in train {
            assert!(m.labels.iter().all(|&l| (l as usize) < classes), "a label is not below the {classes} classes");
        }
        let codes: Vec<&[u16]> = train.iter().map(|m| m.labels.as_slice()).collect();
        PixelPrior { height, width, prior: gnsm_core::map::prior::PixelPrior::fit(&codes, height * width, classes) }
    }

    /// Sum over pixels of -ln p(class at pixel | position): higher = more anomalous (panics when
    /// the map's size is not the training size or a label is not below the class count).
    pub fn score(&self, map: &LabelMap) -> f64 {
        assert!(
            map.height == self.height && map.width == self.width,
            "map is {}x{}, the prior was fitted at {}x{}",
            map.height,
            map.width,
            self.height,
            self.width
        );
        assert!(map.labels.iter().all(|&l| (l as usize) < self.prior.classes), "a label is not below the class count");
        self.prior.nll(&map.labels)
    }
}

/// Number of 4-connected regions of each class (index = class, length = largest label + 1): the
/// product's own piece count (`gnsm_core::map::topology::pieces`).
pub fn component_counts(map: &LabelMap) -> Vec<usize> {
    let classes = map.max_label() as usize + 1;
    gnsm_core::map::topology::pieces(&map.labels, map.height, map.width, classes).into_iter().map(|c| c as usize).collect()
}

/// Mean and standard deviation, the deviation floored at 1 (areas and counts are integers, so
/// one unit off a constant training value reads as one deviation, not as infinity).
fn mean_std(v: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = v.clone().count() as f64;
    let mean = v.clone().sum::<f64>() / n;
    let var = v.map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt().max(1.0))
}

/// Shape statistics of training maps. Binary (`fit`): the foreground's pixel count and its
/// number of 4-connected components. Multi-class (`fit_multiclass`): every class's pixel count
/// and the total number of 4-connected regions of all classes.
#[derive(Debug, Clone)]
pub struct ShapeStats {
    /// The classes whose areas are z-scored.
    classes: Vec<u16>,
    /// (mean, std) of each tracked class's pixel count.
    area: Vec<(f64, f64)>,
    /// (mean, std) of the component count.
    components: (f64, f64),
    /// The foreground class for binary stats; None counts the regions of every class.
    foreground: Option<u16>,
}

impl ShapeStats {
    /// Area and component statistics of class `foreground` (panics when `train` is empty).
    pub fn fit(train: &[&LabelMap], foreground: u16) -> ShapeStats {
        ShapeStats::fit_classes(train, vec![foreground], Some(foreground))
    }

    /// Area statistics of every class 0..=largest training label and the statistics of the total
    /// region count over all classes (panics when `train` is empty).
    pub fn fit_multiclass(train: &[&LabelMap]) -> ShapeStats {
        common_size(train);
        let top = train.iter().map(|m| m.max_label()).max().unwrap_or(0);
        ShapeStats::fit_classes(train, (0..=top).collect(), None)
    }

    /// Fits the area of each of `classes` and the component count selected by `foreground`.
    fn fit_classes(train: &[&LabelMap], classes: Vec<u16>, foreground: Option<u16>) -> ShapeStats {
        common_size(train);
        let areas: Vec<Vec<f64>> = train.iter().map(|m| areas(m, &classes)).collect();
        let area = (0..classes.len()).map(|j| mean_std(areas.iter().map(move |a| a[j]))).collect();
        let comps: Vec<f64> = train.iter().map(|m| component_total(m, foreground)).collect();
        ShapeStats { classes, area, components: mean_std(comps.iter().copied()), foreground }
    }

    /// |z| of the foreground area (binary), or the sum over classes of |z| of each class's area.
    pub fn area_z(&self, map: &LabelMap) -> f64 {
        areas(map, &self.classes).iter().zip(&self.area).map(|(a, (m, s))| ((a - m) / s).abs()).sum()
    }

    /// |z| of the number of foreground components (binary) or of all regions (multi-class).
    pub fn components_z(&self, map: &LabelMap) -> f64 {
        let (m, s) = self.components;
        ((component_total(map, self.foreground) - m) / s).abs()
    }
}

/// Pixel count of each of `classes` in the map.
fn areas(map: &LabelMap, classes: &[u16]) -> Vec<f64> {
    let mut counts = vec![0usize; map.max_label().max(classes.iter().copied().max().unwrap_or(0)) as usize + 1];
    for &l in &map.labels {
        counts[l as usize] += 1;
    }
    classes.iter().map(|&c| counts[c as usize] as f64).collect()
}

/// Components of `foreground`, or of every class when None.
fn component_total(map: &LabelMap, foreground: Option<u16>) -> f64 {
    let counts = component_counts(map);
    let n = match foreground {
        Some(fg) => counts.get(fg as usize).copied().unwrap_or(0),
        None => counts.iter().sum(),
    };
    n as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A map from rows of digits ('0'-'9').
    fn drawn(rows: &[&str]) -> LabelMap {
        let labels = rows.iter().flat_map(|r| r.bytes().map(|b| (b - b'0') as u16)).collect();
        LabelMap::new(rows.len(), rows[0].len(), labels).unwrap()
    }

    #[test]
    fn components_of_a_drawn_map() {
        // three 1-blobs (the diagonal touch does not join under 4-connectivity), one 2-blob
        let m = drawn(&["110000", "110022", "001002", "000000", "111000"]);
        let counts = component_counts(&m);
        assert_eq!(counts, vec![1, 3, 1]);
        let fg = ShapeStats::fit(&[&m], 1);
        assert_eq!(component_total(&m, Some(1)), 3.0);
        assert_eq!(component_total(&m, None), 5.0);
        assert_eq!(fg.components_z(&m), 0.0);
        assert_eq!(fg.area_z(&m), 0.0);
    }

    #[test]
    fn shape_z_scores() {
        let a = drawn(&["1100", "1100", "0000"]);
        let b = drawn(&["1110", "1110", "0000"]);
        let stats = ShapeStats::fit(&[&a, &b], 1);
        // areas 4 and 6: mean 5, std 1
        assert!((stats.area_z(&drawn(&["1111", "1111", "0000"])) - 3.0).abs() < 1e-12);
        // both have one component (std floored at 1): two blobs is one deviation off
        assert!((stats.components_z(&drawn(&["1001", "0000", "0000"])) - 1.0).abs() < 1e-12);
        let multi = ShapeStats::fit_multiclass(&[&a, &b]);
        assert_eq!(multi.classes, vec![0, 1]);
        assert!((multi.area_z(&b) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn pixel_prior_prefers_the_training_majority() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        // training maps: left half class 0, right half class 1, with a little noise
        let make = |rng: &mut ChaCha8Rng| {
            let labels = (0..64)
                .map(|p| {
                    if rng.random_bool(0.1) {
                        rng.random_range(0..3)
                    } else if p % 8 < 4 {
                        0
                    } else {
                        1
                    }
                })
                .collect();
            LabelMap::new(8, 8, labels).unwrap()
        };
        let train: Vec<LabelMap> = (0..20).map(|_| make(&mut rng)).collect();
        let refs: Vec<&LabelMap> = train.iter().collect();
        let prior = PixelPrior::fit(&refs, 3);
        let majority = LabelMap::new(8, 8, (0..64).map(|p| if p % 8 < 4 { 0 } else { 1 }).collect()).unwrap();
        let random = LabelMap::new(8, 8, (0..64).map(|_| rng.random_range(0..3)).collect()).unwrap();
        assert!(prior.score(&majority) < prior.score(&random));
        // a map of one class seen at no position costs about ln(n + K) per pixel; the count of a
        // class seen once at a position is 2 / (n + K)
        let never = LabelMap::new(8, 8, vec![2; 64]).unwrap();
        assert!(prior.score(&never) <= 64.0 * (23.0f64).ln() + 1e-3);
        assert!(prior.score(&never) > prior.score(&random));
    }
}
