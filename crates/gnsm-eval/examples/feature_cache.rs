//! Research helper: trains the default model once per (data set, protocol, seed) and stores it
//! with the density-head features of its head rows and of its test rows, so that changes to the
//! head and the score (which need no new network) are measured on identical networks in seconds.
//! Rerunning skips what the cache already holds. `explore_head` reads the cache.
//!
//! cargo run --release -p gnsm-eval --example feature_cache -- --cache /tmp/gnsm-cache \
//!     --datasets solar,cmc --seeds 42,43 --protocols semi,unsup --threads 2

use gnsm_core::model::Model;
use gnsm_core::train::{build_pool, Hooks, TrainConfig};
use gnsm_eval::cache::write_f64;
use gnsm_eval::dataset::{coded_split, find_dataset, read_labeled_csv, CodedSplit};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

/// Entry point: see the module doc.
fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut cache = PathBuf::from("/tmp/gnsm-cache");
    let mut datasets: Vec<String> = "bank,car,census,chess,cmc,mushroom,nursery,probe,solar,u2r".split(',').map(String::from).collect();
    let mut seeds = vec![42u64, 43];
    let mut protocols = vec!["unsup".to_string(), "semi".to_string()];
    let mut config = TrainConfig::default();
    let mut i = 0;
    while i < argv.len() {
        let (k, v) = (argv[i].as_str(), argv.get(i + 1).cloned().unwrap_or_default());
        match k {
            "--cache" => cache = PathBuf::from(v),
            "--datasets" => datasets = v.split(',').map(String::from).collect(),
            "--seeds" => seeds = v.split(',').map(|s| s.parse().unwrap()).collect(),
            "--protocols" => protocols = v.split(',').map(String::from).collect(),
            "--threads" => config.threads = v.parse().unwrap(),
            "--steps" => config.steps = v.parse().unwrap(),
            _ => panic!("unknown option {k}"),
        }
        i += 2;
    }
    std::fs::create_dir_all(&cache).unwrap();
    let pool = build_pool(config.threads).unwrap();
    for name in &datasets {
        let table = read_labeled_csv(&find_dataset(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")), name).unwrap()).unwrap();
        for proto in &protocols {
            let proto_seeds: Vec<u64> = if proto == "semi" { seeds.clone() } else { vec![seeds[0]] };
            for &seed in &proto_seeds {
                let stem = cache.join(format!("{name}.{proto}.{seed}"));
                if stem.with_extension("fte").exists() {
                    continue;
                }
                let CodedSplit { split, fit_rows, encoder: enc, fit: fit_codes, test, .. } = coded_split(&table, proto, seed).unwrap();
                let mut c = config.clone();
                c.seed = seed;
                c.val_fraction = if proto == "semi" { split.val.len() as f64 / fit_rows.len() as f64 } else { 0.1 };
                let t0 = std::time::Instant::now();
                let model = Hooks::silent(|h| Model::fit_coded(enc, &fit_codes, &c, &pool, h)).unwrap();
                // the head rows exactly as Model::fit_coded samples them
                let mut rows: Vec<usize> = (0..fit_codes.n_rows).collect();
                if rows.len() > c.max_head_rows {
                    let mut rng = ChaCha8Rng::seed_from_u64(c.seed ^ 0x4EAD);
                    rows.shuffle(&mut rng);
                    rows.truncate(c.max_head_rows);
                    rows.sort_unstable();
                }
                let head_rows: Vec<&[u32]> = rows.iter().map(|&r| fit_codes.row(r)).collect();
                let test_rows: Vec<&[u32]> = (0..test.n_rows).map(|r| test.row(r)).collect();
                let ftr = model.features(&head_rows, Some(&pool));
                let fte = model.features(&test_rows, Some(&pool));
                std::fs::write(stem.with_extension("model"), model.to_bytes()).unwrap();
                let head_idx: Vec<f64> = rows.iter().map(|&r| r as f64).collect();
                write_f64(&stem.with_extension("hrows"), &head_idx).unwrap();
                write_f64(&stem.with_extension("ftr"), &ftr).unwrap();
                write_f64(&stem.with_extension("fte"), &fte).unwrap();
                eprintln!("{name} {proto} {seed}: {:.1} s", t0.elapsed().as_secs_f64());
            }
        }
    }
}
