//! The two segmentation data sets under the shared `data-seg` folder (`root`): Weizmann Horse
//! masks with real ISNet predictions and their Dice, and the CamVid street-scene label maps, each
//! with its RGB image, resampled to the working size. Files are decoded in parallel (rayon).

use gnsm_core::error::{Error, Result};
use gnsm_core::map::codec::{image_from_bytes, map_from_png};
use gnsm_core::map::{LabelMap, RgbImage};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// CamVid classes: 0-10 as in SegNet, and void (11) kept as a class of its own.
pub const CAMVID_CLASSES: usize = 12;

/// CamVid's splits, in the order `load_camvid` returns them.
const CAMVID_SPLITS: [&str; 3] = ["train", "val", "test"];

/// One Weizmann horse: ground truth, the two ISNet predictions and the image, all side x side,
/// with the predictions' Dice against ground truth at the original resolution (`scores.csv`).
#[derive(Debug, Clone)]
pub struct HorseItem {
    pub name: String,
    pub gt: LabelMap,
    pub pred_small: LabelMap,
    pub pred_medium: LabelMap,
    pub image: RgbImage,
    pub dice_small: f64,
    pub dice_medium: f64,
}

/// One CamVid frame: its split ("train", "val" or "test"), file stem, label map and image.
#[derive(Debug, Clone)]
pub struct CamvidItem {
    pub split: String,
    pub name: String,
    pub map: LabelMap,
    pub image: RgbImage,
}

/// Builds an `Error::Io` naming the file.
fn io_err(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Io { reason: format!("{}: {what}", path.display()) }
}

/// Reads and decodes a label map PNG, naming the file in any error.
fn read_map(path: &Path) -> Result<LabelMap> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    map_from_png(&bytes).map_err(|e| io_err(path, e))
}

/// Reads and decodes a JPEG or PNG image, naming the file in any error.
fn read_image(path: &Path) -> Result<RgbImage> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    image_from_bytes(&bytes).map_err(|e| io_err(path, e))
}

/// `weizmann-horse-isnet/scores.csv` as name -> (dice_small, dice_medium).
fn read_horse_scores(path: &Path) -> Result<HashMap<String, (f64, f64)>> {
    let mut csv = csv::Reader::from_path(path).map_err(|e| io_err(path, e))?;
    let header = csv.headers().map_err(|e| io_err(path, e))?.clone();
    let col = |name: &str| header.iter().position(|h| h.trim() == name).ok_or_else(|| io_err(path, format!("no \"{name}\" column")));
    let (name_c, small_c, medium_c) = (col("name")?, col("dice_small")?, col("dice_medium")?);
    let mut out = HashMap::new();
    for (i, rec) in csv.records().enumerate() {
        let rec = rec.map_err(|e| io_err(path, e))?;
        let num = |c: usize| {
            let v = rec.get(c).unwrap_or("").trim();
            v.parse::<f64>().map_err(|_| io_err(path, format!("data row {}: \"{v}\" is not a number", i + 1)))
        };
        out.insert(rec.get(name_c).unwrap_or("").trim().to_string(), (num(small_c)?, num(medium_c)?));
    }
    Ok(out)
}

/// Loads the 328 Weizmann horses (sorted by name), masks resized nearest and images bilinear
/// to `side x side`.
pub fn load_horse(root: &Path, side: usize) -> Result<Vec<HorseItem>> {
    let dir = root.join("weizmann-horse-isnet");
    let scores = read_horse_scores(&dir.join("scores.csv"))?;
    let mut names: Vec<&String> = scores.keys().collect();
    names.sort();
    names
        .par_iter()
        .map(|&name| {
            let mask = |sub: &str| read_map(&dir.join(sub).join(format!("{name}.png"))).map(|m| m.resize_nearest(side, side));
            let image = read_image(&dir.join("images_max160").join(format!("{name}.jpg")))?;
            let (dice_small, dice_medium) = scores[name];
            Ok(HorseItem {
                name: name.clone(),
                gt: mask("gt")?,
                pred_small: mask("pred_isnet_small")?,
                pred_medium: mask("pred_isnet_medium")?,
                image: image.resize_bilinear(side, side),
                dice_small,
                dice_medium,
            })
        })
        .collect()
}

/// The `.png` files of a folder, sorted by name.
fn pngs_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
        let path = entry.map_err(|e| io_err(dir, e))?.path();
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Loads the 701 CamVid maps (train, then val, then test, each sorted by name) with their
/// images, resized to `height x width` (maps nearest, images bilinear); labels above void (11)
/// are an error.
pub fn load_camvid(root: &Path, height: usize, width: usize) -> Result<Vec<CamvidItem>> {
    let dir = root.join("camvid");
    let mut jobs = Vec::new();
    for split in CAMVID_SPLITS {
        for path in pngs_in(&dir.join("annot").join(split))? {
            jobs.push((split, path));
        }
    }
    jobs.par_iter()
        .map(|(split, path)| {
            let name = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            let map = read_map(path)?;
            if map.max_label() as usize >= CAMVID_CLASSES {
                return Err(io_err(path, format!("has the label {}; CamVid labels are 0-11", map.max_label())));
            }
            let image = read_image(&dir.join("images_240x180").join(split).join(format!("{name}.jpg")))?;
            Ok(CamvidItem {
                split: split.to_string(),
                name,
                map: map.resize_nearest(height, width),
                image: image.resize_bilinear(height, width),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// The shared data folder, or None (with a note) when this machine does not have it.
    fn data_root(sub: &str) -> Option<PathBuf> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data-seg");
        if root.join(sub).is_dir() {
            Some(root)
        } else {
            println!("skipped: {} not found", root.join(sub).display());
            None
        }
    }

    #[test]
    fn missing_files_name_the_path() {
        let e = load_horse(Path::new("/nonexistent-gnsm"), 8).unwrap_err();
        assert!(e.to_string().contains("/nonexistent-gnsm/weizmann-horse-isnet/scores.csv"), "{e}");
        let e = load_camvid(Path::new("/nonexistent-gnsm"), 8, 8).unwrap_err();
        assert!(e.to_string().contains("annot"), "{e}");
    }

    #[test]
    fn horse_loads_328_items() {
        let Some(root) = data_root("weizmann-horse-isnet") else { return };
        let t = Instant::now();
        let items = load_horse(&root, 32).unwrap();
        println!("load_horse(32): {:.2?}", t.elapsed());
        assert_eq!(items.len(), 328);
        assert_eq!(items[0].name, "horse001");
        assert!(items.windows(2).all(|w| w[0].name < w[1].name));
        for it in &items {
            assert_eq!((it.gt.height, it.gt.width, it.image.height, it.image.width), (32, 32, 32, 32));
            assert!(it.gt.max_label() <= 1 && it.pred_small.max_label() <= 1 && it.pred_medium.max_label() <= 1);
            assert!((0.0..=1.0).contains(&it.dice_small) && (0.0..=1.0).contains(&it.dice_medium));
        }
        assert!((items[0].dice_small - 0.9031).abs() < 1e-9);
    }

    // about 24 s in a debug build (png and zune-jpeg are unoptimised there; 0.4 s in release):
    // cargo test -p gnsm-eval --lib seg::data -- --ignored
    #[test]
    #[ignore]
    fn camvid_loads_701_items() {
        let Some(root) = data_root("camvid") else { return };
        let t = Instant::now();
        let items = load_camvid(&root, 24, 32).unwrap();
        println!("load_camvid(24x32): {:.2?}", t.elapsed());
        let count = |s: &str| items.iter().filter(|i| i.split == s).count();
        assert_eq!((count("train"), count("val"), count("test")), (367, 101, 233));
        assert_eq!((items[0].split.as_str(), items[0].name.as_str()), ("train", "0001TP_006690"));
        assert!(items.iter().all(|i| i.map.height == 24 && i.map.width == 32 && i.image.pixels.len() == 24 * 32 * 3));
        assert!(items.iter().any(|i| i.map.max_label() == 11));
    }
}
