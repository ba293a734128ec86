//! Research helper: trains one model per split and compares several anomaly heads built from the
//! same network (score norms, per-row denoising losses, IndepNLL, GMM vs sums), so that head
//! choices are measured on identical networks. Options as in `eval`.
//!
//! cargo run --release -p gnsm-eval --example explore -- --datasets solar --draws 2 --threads 2

use gnsm_core::frequency::IndepNll;
use gnsm_eval::dataset::{coded_split, find_dataset, read_labeled_csv, CodedSplit};
use gnsm_core::head::DensityHead;
use gnsm_eval::metrics::{auroc, mean_std};
use gnsm_core::model::Model;
use gnsm_core::relax::LEVELS;
use gnsm_core::train::{build_pool, Hooks, TrainConfig};
use ndarray::Array2;
use std::time::Instant;

/// Mean and std of a score vector (std floored to avoid division by zero).
fn z_params(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let s = (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt().max(1e-12);
    (m, s)
}

/// Entry point: see the module doc.
fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut config = TrainConfig { norm_features: true, frequency_feature: true, dsm_draws: 2, ..TrainConfig::default() };
    let mut datasets = vec!["solar".to_string()];
    let mut seeds = vec![42u64, 43];
    let mut proto = "semi".to_string();
    let mut i = 0;
    while i < argv.len() {
        let (k, v) = (argv[i].as_str(), argv.get(i + 1).cloned().unwrap_or_default());
        match k {
            "--datasets" => datasets = v.split(',').map(String::from).collect(),
            "--seeds" => seeds = v.split(',').map(|s| s.parse().unwrap()).collect(),
            "--protocol" => proto = v,
            "--width" => config.width = v.parse().unwrap(),
            "--depth" => config.depth = v.parse().unwrap(),
            "--steps" => config.steps = v.parse().unwrap(),
            "--max-seconds" => config.max_seconds = v.parse().unwrap(),
            "--batch" => config.batch_size = v.parse().unwrap(),
            "--lr" => config.lr = v.parse().unwrap(),
            "--threads" => config.threads = v.parse().unwrap(),
            "--signal-min" => config.signal_min = v.parse().unwrap(),
            "--signal-max" => config.signal_max = v.parse().unwrap(),
            "--draws" => config.dsm_draws = v.parse().unwrap(),
            _ => panic!("unknown option {k}"),
        }
        i += 2;
    }
    let pool = build_pool(config.threads).unwrap();
    let heads = [
        "gmm(norm+f)",
        "gmm(norm)",
        "gmm(dsm)",
        "gmm(dsm+f)",
        "gmm(all)",
        "sum(dsm)",
        "z(sumdsm)+z(f)",
        "z(gmmdsm)+z(f)",
        "indep",
        "sumdsm_hi",
        "z(gmmall)+z(f)",
        "rz(gmmall)+rz(f)",
    ];
    println!("{:<8} {}", "dataset", heads.iter().map(|h| format!("{h:>15}")).collect::<String>());
    for name in &datasets {
        let table = read_labeled_csv(&find_dataset(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")), name).unwrap()).unwrap();
        let mut per_head: Vec<Vec<f64>> = vec![Vec::new(); heads.len()];
        let mut secs = Vec::new();
        for &seed in &seeds {
            let CodedSplit { split, fit_rows, encoder: enc, fit: fit_codes, test, labels } = coded_split(&table, &proto, seed).unwrap();
            let mut c = config.clone();
            c.seed = seed;
            c.val_fraction = if proto == "semi" { split.val.len() as f64 / fit_rows.len() as f64 } else { 0.1 };
            let t0 = Instant::now();
            let model = Hooks::silent(|h| Model::fit_coded(enc.clone(), &fit_codes, &c, &pool, h)).unwrap();
            secs.push(t0.elapsed().as_secs_f64());
            let nf = model.features.n_features();
            assert_eq!(nf, 2 * LEVELS + 1);
            let n_head = fit_codes.n_rows.min(c.max_head_rows);
            let head_rows: Vec<&[u32]> = (0..n_head).map(|i| fit_codes.row(i * fit_codes.n_rows / n_head)).collect();
            let test_rows: Vec<&[u32]> = (0..test.n_rows).map(|i| test.row(i)).collect();
            let ftr = model.features(&head_rows, Some(&pool));
            let fte = model.features(&test_rows, Some(&pool));
            let pick = |f: &[f64], cols: &[usize]| -> Array2<f64> {
                let n = f.len() / nf;
                Array2::from_shape_fn((n, cols.len()), |(r, j)| f[r * nf + cols[j]])
            };
            let gmm_scores = |cols: &[usize]| -> (Vec<f64>, Vec<f64>) {
                let head = DensityHead::fit(pick(&ftr, cols).view(), &c.gmm_components, 5, seed).unwrap();
                (head.score_batch(pick(&ftr, cols).view()), head.score_batch(pick(&fte, cols).view()))
            };
            let norm: Vec<usize> = (0..LEVELS).collect();
            let dsm: Vec<usize> = (LEVELS..2 * LEVELS).collect();
            let f = 2 * LEVELS;
            let with = |a: &[usize], extra: usize| -> Vec<usize> { a.iter().copied().chain([extra]).collect() };
            let sum_cols =
                |fv: &[f64], cols: &[usize]| -> Vec<f64> { fv.chunks_exact(nf).map(|r| cols.iter().map(|&j| r[j]).sum()).collect() };
            let freq_tr: Vec<f64> = ftr.chunks_exact(nf).map(|r| r[f]).collect();
            let freq_te: Vec<f64> = fte.chunks_exact(nf).map(|r| r[f]).collect();
            let zsum = |atr: &[f64], ate: &[f64]| -> Vec<f64> {
                let (ma, sa) = z_params(atr);
                let (mf, sf) = z_params(&freq_tr);
                ate.iter().zip(&freq_te).map(|(a, b)| (a - ma) / sa + (b - mf) / sf).collect()
            };
            let (_, s0) = gmm_scores(&with(&norm, f));
            let (_, s1) = gmm_scores(&norm);
            let (g2tr, s2) = gmm_scores(&dsm);
            let (_, s3) = gmm_scores(&with(&dsm, f));
            let all_cols: Vec<usize> = (0..nf).collect();
            let (g4tr, s4) = gmm_scores(&all_cols);
            let s5 = sum_cols(&fte, &dsm);
            let s6 = zsum(&sum_cols(&ftr, &dsm), &s5);
            let s7 = zsum(&g2tr, &s2);
            let hi: Vec<usize> = (0..LEVELS / 2).map(|t| LEVELS + t).collect();
            let s9 = sum_cols(&fte, &hi);
            let s10 = zsum(&g4tr, &s4);
            let robust = |v: &[f64]| -> (f64, f64) {
                let mut w = v.to_vec();
                w.sort_by(f64::total_cmp);
                let q = |p: f64| w[((w.len() - 1) as f64 * p) as usize];
                (q(0.5), (q(0.75) - q(0.25)).max(1e-12))
            };
            let (mg, sg) = robust(&g4tr);
            let (mf, sf) = robust(&freq_tr);
            let s11: Vec<f64> = s4.iter().zip(&freq_te).map(|(a, b)| (a - mg) / sg + (b - mf) / sf).collect();
            for (h, s) in [s0, s1, s2, s3, s4, s5, s6, s7, freq_te.clone(), s9, s10, s11].iter().enumerate() {
                per_head[h].push(auroc(s, &labels));
            }
            let _ = IndepNll::fit(&fit_codes, &enc.block_sizes());
        }
        let cells: String = per_head
            .iter()
            .map(|v| {
                let (m, s) = mean_std(v);
                format!("{:>9.1}±{:>4.1}", 100.0 * m, 100.0 * s)
            })
            .collect();
        println!("{:<8} {} train {:.1}s", name, cells, mean_std(&secs).0);
    }
}
