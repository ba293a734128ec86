//! Files of the research feature cache (`examples/feature_cache` writes them, the `explore_*`
//! examples read them): flat arrays of f64, little-endian.

use crate::dataset::{coded_split, find_dataset, read_labeled_csv, CodedSplit};
use gnsm_core::model::Model;
use std::path::Path;

/// One cached (data set, protocol, seed 42) run: its split, its trained model, the indices of its
/// density-head rows and the features of those rows and of the test rows.
pub struct CachedRun {
    pub split: CodedSplit,
    pub model: Model,
    pub head_rows: Vec<usize>,
    pub head_features: Vec<f64>,
    pub test_features: Vec<f64>,
}

/// Loads the seed-42 run of `name` under `proto` from `cache` (None when it is not cached yet).
pub fn load_run(cache: &Path, data_dir: &Path, name: &str, proto: &str) -> Option<CachedRun> {
    let stem = cache.join(format!("{name}.{proto}.42"));
    if !stem.with_extension("fte").exists() {
        return None;
    }
    let table = read_labeled_csv(&find_dataset(data_dir, name).expect("data set")).expect("readable data set");
    let split = coded_split(&table, proto, 42).expect("split");
    let model = Model::from_bytes(&std::fs::read(stem.with_extension("model")).expect("cached model")).expect("valid cached model");
    let read = |ext: &str| read_f64(&stem.with_extension(ext)).unwrap_or_else(|e| panic!("{}.{ext}: {e}", stem.display()));
    let head_rows = read("hrows").iter().map(|&x| x as usize).collect();
    Some(CachedRun { split, model, head_rows, head_features: read("ftr"), test_features: read("fte") })
}

/// Writes `v` as little-endian f64 values.
pub fn write_f64(path: &Path, v: &[f64]) -> std::io::Result<()> {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes)
}

/// Reads a file of little-endian f64 values (a trailing partial value is ignored).
pub fn read_f64(path: &Path) -> std::io::Result<Vec<f64>> {
    Ok(std::fs::read(path)?.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_values_round_trip() {
        let path = std::env::temp_dir().join(format!("gnsm-cache-test-{}.f64", std::process::id()));
        let v = [0.0, -1.5, f64::MAX, 1e-300];
        write_f64(&path, &v).unwrap();
        assert_eq!(read_f64(&path).unwrap(), v);
        std::fs::remove_file(&path).unwrap();
    }
}
