//! Evaluation data: labelled categorical CSV files (optionally gzipped) and the train/val/test
//! splits of the evaluation protocols.

use gnsm_core::encoding::{CodedTable, Encoder, TableBuilder, DEFAULT_MAX_CATEGORIES};
use gnsm_core::error::{invalid, Error, Result};
use flate2::read::MultiGzDecoder;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Name of the label column, which must be the last column of a data file.
pub const LABEL_COLUMN: &str = "is_anomaly";

/// A categorical table with one anomaly label per row.
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledTable {
    /// Feature column names (the label column excluded).
    pub columns: Vec<String>,
    /// Feature values as strings; the files have no NULLs, so every value is `Some`.
    pub rows: Vec<Vec<Option<String>>>,
    /// True for an anomaly.
    pub labels: Vec<bool>,
}

/// Builds an `Error::Io` naming the file.
fn io_err(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Io { reason: format!("{}: {what}", path.display()) }
}

/// Reads a CSV with a header whose last column is `is_anomaly` (0/1); `.gz` files are gunzipped.
pub fn read_labeled_csv(path: &Path) -> Result<LabeledTable> {
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let is_gz = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    // multi-member decoder: concatenated gzip streams (as some tools write) are read in full
    let reader: Box<dyn Read> = if is_gz { Box::new(MultiGzDecoder::new(BufReader::new(file))) } else { Box::new(BufReader::new(file)) };
    let mut csv = csv::ReaderBuilder::new().has_headers(true).from_reader(reader);

    let header = csv.headers().map_err(|e| io_err(path, e))?.clone();
    let width = header.len();
    if width < 2 {
        return Err(io_err(path, "need at least one feature column and the is_anomaly column"));
    }
    let last = header.get(width - 1).unwrap_or("").trim();
    if !last.eq_ignore_ascii_case(LABEL_COLUMN) {
        return Err(io_err(path, format!("the last column is \"{last}\", expected \"{LABEL_COLUMN}\"")));
    }
    let columns: Vec<String> = header.iter().take(width - 1).map(str::to_string).collect();

    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for (i, rec) in csv.records().enumerate() {
        // the csv reader already rejects rows whose width differs from the header
        let rec = rec.map_err(|e| io_err(path, e))?;
        let label = match rec.get(width - 1).map(str::trim) {
            Some("1") | Some("1.0") => true,
            Some("0") | Some("0.0") => false,
            other => return Err(io_err(path, format!("data row {}: is_anomaly is {:?}, expected 0 or 1", i + 1, other.unwrap_or("")))),
        };
        rows.push(rec.iter().take(width - 1).map(|v| Some(v.to_string())).collect());
        labels.push(label);
    }
    Ok(LabeledTable { columns, rows, labels })
}

/// Finds `<data_dir>/<name>/<name>.csv`, else `<data_dir>/<name>/<name>.csv.gz`.
pub fn find_dataset(data_dir: &Path, name: &str) -> Result<PathBuf> {
    if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(invalid("dataset", format!("\"{name}\" is not a plain data set name")));
    }
    let dir = data_dir.join(name);
    let plain = dir.join(format!("{name}.csv"));
    let gz = dir.join(format!("{name}.csv.gz"));
    for p in [&plain, &gz] {
        if p.is_file() {
            return Ok(p.clone());
        }
    }
    Err(Error::Io { reason: format!("data set \"{name}\" not found: neither {} nor {} exists", plain.display(), gz.display()) })
}

/// Row indices of a train/validation/test split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub val: Vec<usize>,
    pub test: Vec<usize>,
}

/// The semi-supervised protocol: shuffled inliers split 80/10/10 into train/val/test; the test
/// set also receives every anomaly. Train and val keep the shuffled order; test is ascending.
pub fn semi_supervised_split(labels: &[bool], seed: u64) -> Split {
    let mut inliers: Vec<usize> = (0..labels.len()).filter(|&i| !labels[i]).collect();
    inliers.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    // integer arithmetic: floor(0.8 n) and floor(0.1 n) without float rounding surprises
    let n_in = inliers.len();
    let n_train = n_in * 8 / 10;
    let n_val = n_in / 10;
    let train = inliers[..n_train].to_vec();
    let val = inliers[n_train..n_train + n_val].to_vec();
    let mut test: Vec<usize> = inliers[n_train + n_val..].to_vec();
    test.extend((0..labels.len()).filter(|&i| labels[i]));
    test.sort_unstable();
    Split { train, val, test }
}

/// The unsupervised protocol: train and test on every row, no validation rows.
pub fn unsupervised_split(n: usize) -> Split {
    Split { train: (0..n).collect(), val: Vec::new(), test: (0..n).collect() }
}

/// A protocol's split of a labelled table, coded (every column categorical) with the vocabulary
/// of its fit rows: train + val, which the trainer gets together (it holds its validation share
/// out itself).
pub struct CodedSplit {
    pub split: Split,
    pub fit_rows: Vec<usize>,
    pub encoder: Encoder,
    pub fit: CodedTable,
    pub test: CodedTable,
    pub labels: Vec<bool>,
}

/// The split of `protocol` ("semi" with `seed`, else unsupervised), coded as `CodedSplit` says.
pub fn coded_split(table: &LabeledTable, protocol: &str, seed: u64) -> Result<CodedSplit> {
    let split = if protocol == "semi" { semi_supervised_split(&table.labels, seed) } else { unsupervised_split(table.rows.len()) };
    let mut fit_rows = split.train.clone();
    fit_rows.extend(&split.val);
    let mut builder = TableBuilder::new(table.columns.clone(), DEFAULT_MAX_CATEGORIES);
    for &r in &fit_rows {
        let row: Vec<Option<&str>> = table.rows[r].iter().map(|v| v.as_deref()).collect();
        builder.push_row(&row)?;
    }
    let (encoder, fit) = builder.finish()?;
    let test = encoder.encode_rows(&table.rows)?.select(&split.test);
    let labels = split.test.iter().map(|&i| table.labels[i]).collect();
    Ok(CodedSplit { split, fit_rows, encoder, fit, test, labels })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A fresh scratch directory for one test.
    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("gnsm-dataset-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("create temp dir");
        d
    }

    #[test]
    fn test_reads_plain_and_gz_with_empty_category() {
        let dir = temp_dir("read");
        let text = "a,b,is_anomaly\nx,,0\ny,\"q,r\",1\n";
        std::fs::create_dir_all(dir.join("toy")).unwrap();
        std::fs::write(dir.join("toy/toy.csv"), text).unwrap();
        let t = read_labeled_csv(&find_dataset(&dir, "toy").unwrap()).unwrap();
        assert_eq!(t.columns, vec!["a", "b"]);
        assert_eq!(t.rows[0], vec![Some("x".to_string()), Some(String::new())]);
        assert_eq!(t.rows[1][1], Some("q,r".to_string()));
        assert_eq!(t.labels, vec![false, true]);

        std::fs::create_dir_all(dir.join("zz")).unwrap();
        let f = File::create(dir.join("zz/zz.csv.gz")).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
        let p = find_dataset(&dir, "zz").unwrap();
        assert!(p.to_string_lossy().ends_with(".csv.gz"));
        assert_eq!(read_labeled_csv(&p).unwrap(), t);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn test_bad_files_are_io_errors_naming_the_path() {
        let dir = temp_dir("bad");
        let missing = dir.join("nope.csv");
        match read_labeled_csv(&missing) {
            Err(Error::Io { reason }) => assert!(reason.contains("nope.csv")),
            other => panic!("{other:?}"),
        }
        let bad_label = dir.join("bad.csv");
        std::fs::write(&bad_label, "a,is_anomaly\nx,2\n").unwrap();
        assert!(matches!(read_labeled_csv(&bad_label), Err(Error::Io { .. })));
        let no_label = dir.join("nolabel.csv");
        std::fs::write(&no_label, "a,b\nx,0\n").unwrap();
        assert!(matches!(read_labeled_csv(&no_label), Err(Error::Io { .. })));
        let ragged = dir.join("ragged.csv");
        std::fs::write(&ragged, "a,is_anomaly\nx,0,9\n").unwrap();
        assert!(matches!(read_labeled_csv(&ragged), Err(Error::Io { .. })));
        assert!(matches!(find_dataset(&dir, "absent"), Err(Error::Io { .. })));
        assert!(find_dataset(&dir, "../x").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn test_semi_supervised_split_protocol() {
        let labels: Vec<bool> = (0..105).map(|i| i % 21 == 0).collect(); // 5 anomalies, 100 inliers
        let s = semi_supervised_split(&labels, 42);
        assert_eq!((s.train.len(), s.val.len(), s.test.len()), (80, 10, 15));
        assert!(s.train.iter().chain(&s.val).all(|&i| !labels[i]));
        assert_eq!(s.test.iter().filter(|&&i| labels[i]).count(), 5);
        assert!(s.test.windows(2).all(|w| w[0] < w[1]));
        let mut all: Vec<usize> = s.train.iter().chain(&s.val).chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..105).collect::<Vec<_>>());
        assert_eq!(s, semi_supervised_split(&labels, 42));
        assert_ne!(s.train, semi_supervised_split(&labels, 43).train);
        let u = unsupervised_split(3);
        assert_eq!((u.train, u.val.len(), u.test), (vec![0, 1, 2], 0, vec![0, 1, 2]));
    }

    #[test]
    fn test_solar_file_if_present() {
        let dir = Path::new("/work/shared/data");
        let Ok(path) = find_dataset(dir, "solar") else {
            eprintln!("solar data set not found; skipping");
            return;
        };
        let t = read_labeled_csv(&path).unwrap();
        assert_eq!(t.rows.len(), 1066);
        assert_eq!(t.columns.len(), 11);
        assert!(t.rows.iter().all(|r| r.len() == 11));
        assert_eq!(t.labels.iter().filter(|&&l| l).count(), 43);
        let s = semi_supervised_split(&t.labels, 0);
        assert_eq!(s.train.len() + s.val.len() + s.test.len(), 1066);
        assert_eq!(s.train.len(), (1066 - 43) * 8 / 10);
    }
}
