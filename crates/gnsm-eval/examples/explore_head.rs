//! Research helper: reads `feature_cache`'s models and features and compares scores built from
//! them (the stored blend, the GMM alone, count terms, trimmed refits of the head), so that
//! choices about the head and the blend are measured on identical networks.
//!
//! cargo run --release -p gnsm-eval --example explore_head -- --cache /tmp/gnsm-cache

use gnsm_core::frequency::{IndepNll, PairwiseNll};
use gnsm_core::head::DensityHead;
use gnsm_eval::dataset::CodedSplit;
use gnsm_eval::cache::{load_run, CachedRun};
use gnsm_eval::metrics::{auroc, average_precision, mean_std, precision_at_k};
use ndarray::ArrayView2;
use std::path::{Path, PathBuf};

fn z_with(train: &[f64], v: &[f64]) -> Vec<f64> {
    let (m, s) = mean_std(train);
    v.iter().map(|x| (x - m) / s.max(1.0)).collect()
}

/// -ln of the training tail probability of each value: empirical inside the training range's top
/// 1%, an exponential tail fitted to the excesses over the 99th percentile beyond it.
fn tail(train: &[f64], v: &[f64]) -> Vec<f64> {
    let mut t = train.to_vec();
    t.sort_by(f64::total_cmp);
    let n = t.len() as f64;
    let q99 = t[((n - 1.0) * 0.99) as usize];
    let ex: Vec<f64> = t.iter().filter(|&&x| x > q99).map(|x| x - q99).collect();
    let scale = if ex.is_empty() { 1.0 } else { (ex.iter().sum::<f64>() / ex.len() as f64).max(1e-9) };
    v.iter()
        .map(|&x| {
            if x > q99 {
                -(0.01f64.ln()) + (x - q99) / scale
            } else {
                let above = t.len() - t.partition_point(|&y| y < x);
                -((above as f64 + 1.0) / (n + 1.0)).ln()
            }
        })
        .collect()
}

fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut cache = PathBuf::from("/tmp/gnsm-cache");
    let mut data_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").to_string();
    let mut datasets: Vec<String> = "bank,car,census,chess,cmc,mushroom,nursery,probe,solar,u2r".split(',').map(String::from).collect();
    let mut trim = 0.05;
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--cache" => cache = PathBuf::from(v),
            "--data-dir" => data_dir = v,
            "--datasets" => datasets = v.split(',').map(String::from).collect(),
            "--trim" => trim = v.parse().unwrap(),
            k => panic!("unknown option {k}"),
        }
        i += 2;
    }
    let names = ["stored", "gmm", "indep", "pair", "g+pair", "g+i+pair", "tg+i", "tg+pair", "g1", "g1+i", "g1+pair", "g1+i+pair", "tg1+pair", "F(g,p)", "F(g,i,p)", "F(g1,p)", "F(g,i)", "max(g,p)"];
    for proto in ["unsup", "semi"] {
        println!("== {proto} (AUROC / {})", if proto == "unsup" { "AP / P@k" } else { "AP" });
        println!("{:<9}{}", "dataset", names.iter().map(|n| format!("{n:>18}")).collect::<String>());
        for name in &datasets {
            let Some(CachedRun { split, model, head_rows: hrows, head_features: ftr, test_features: fte }) = load_run(&cache, Path::new(&data_dir), name, proto) else {
                continue;
            };
            let CodedSplit { encoder: enc, fit, test, labels, .. } = split;
            let nf = model.features.n_features();
            let cards = enc.block_sizes();
            let indep = IndepNll::fit(&fit, &cards);
            let pair = PairwiseNll::fit(&fit, &cards);
            let g_tr = model.head.score_batch(ArrayView2::from_shape((ftr.len() / nf, nf), &ftr).unwrap());
            let g_te = model.head.score_batch(ArrayView2::from_shape((fte.len() / nf, nf), &fte).unwrap());
            let i_tr: Vec<f64> = hrows.iter().map(|&r| indep.score(fit.row(r))).collect();
            let i_te: Vec<f64> = (0..test.n_rows).map(|r| indep.score(test.row(r))).collect();
            let p_tr: Vec<f64> = hrows.iter().map(|&r| pair.score(fit.row(r))).collect();
            let p_te: Vec<f64> = (0..test.n_rows).map(|r| pair.score(test.row(r))).collect();
            let stored: Vec<f64> = fte.chunks_exact(nf).map(|f| model.score_features(f)).collect();
            let zg = z_with(&g_tr, &g_te);
            let zi = z_with(&i_tr, &i_te);
            let zp = z_with(&p_tr, &p_te);
            // trimmed refit: drop the head rows with the highest stored blend, refit the GMM
            let s_tr: Vec<f64> = add(&z_with(&g_tr, &g_tr), &z_with(&i_tr, &i_tr));
            let mut order: Vec<usize> = (0..s_tr.len()).collect();
            order.sort_by(|a, b| s_tr[*a].total_cmp(&s_tr[*b]));
            let keep: Vec<usize> = order[..((1.0 - trim) * s_tr.len() as f64) as usize].to_vec();
            let kept: Vec<f64> = keep.iter().flat_map(|&r| ftr[r * nf..(r + 1) * nf].to_vec()).collect();
            let th = DensityHead::fit(ArrayView2::from_shape((keep.len(), nf), &kept).unwrap(), &model.config.gmm_components, 5, 42).unwrap();
            let tg_tr: Vec<f64> = keep.iter().map(|&r| th.score(&ftr[r * nf..(r + 1) * nf])).collect();
            let tg_te = th.score_batch(ArrayView2::from_shape((fte.len() / nf, nf), &fte).unwrap());
            let ztg = z_with(&tg_tr, &tg_te);
            let sub = |v: &[f64]| -> Vec<f64> { keep.iter().map(|&r| v[r]).collect() };
            let zi_t = z_with(&sub(&i_tr), &i_te);
            let zp_t = z_with(&sub(&p_tr), &p_te);
            let all_tr = ArrayView2::from_shape((ftr.len() / nf, nf), &ftr).unwrap();
            let all_te = ArrayView2::from_shape((fte.len() / nf, nf), &fte).unwrap();
            let h1 = DensityHead::fit(all_tr, &[1], 5, 42).unwrap();
            let g1_tr = h1.score_batch(all_tr);
            let g1_te = h1.score_batch(all_te);
            let zg1 = z_with(&g1_tr, &g1_te);
            let th1 = DensityHead::fit(ArrayView2::from_shape((keep.len(), nf), &kept).unwrap(), &[1], 5, 42).unwrap();
            let tg1_tr: Vec<f64> = keep.iter().map(|&r| th1.score(&ftr[r * nf..(r + 1) * nf])).collect();
            let ztg1 = z_with(&tg1_tr, &th1.score_batch(all_te));
            let variants = [
                stored,
                g_te.clone(),
                i_te.clone(),
                p_te.clone(),
                add(&zg, &zp),
                add(&add(&zg, &zi), &zp),
                add(&ztg, &zi_t),
                add(&ztg, &zp_t),
                g1_te.clone(),
                add(&zg1, &zi),
                add(&zg1, &zp),
                add(&add(&zg1, &zi), &zp),
                add(&ztg1, &zp_t),
                add(&tail(&g_tr, &g_te), &tail(&p_tr, &p_te)),
                add(&add(&tail(&g_tr, &g_te), &tail(&i_tr, &i_te)), &tail(&p_tr, &p_te)),
                add(&tail(&g1_tr, &g1_te), &tail(&p_tr, &p_te)),
                add(&tail(&g_tr, &g_te), &tail(&i_tr, &i_te)),
                tail(&g_tr, &g_te).iter().zip(&tail(&p_tr, &p_te)).map(|(a, b)| a.max(*b)).collect(),
            ];
            let cells: String = variants
                .iter()
                .map(|s| {
                    if proto == "unsup" {
                        format!(" {:.1}/{:.1}/{:.1}", 100.0 * auroc(s, &labels), 100.0 * average_precision(s, &labels), 100.0 * precision_at_k(s, &labels))
                    } else {
                        format!(" {:.1}/{:.1}", 100.0 * auroc(s, &labels), 100.0 * average_precision(s, &labels))
                    }
                })
                .collect();
            println!("{name:<9}{cells}");
            for (n, s) in names.iter().zip(&variants) {
                eprintln!("{{\"proto\":\"{proto}\",\"dataset\":\"{name}\",\"variant\":\"{n}\",\"auroc\":{},\"ap\":{}}}", auroc(s, &labels), average_precision(s, &labels));
            }
        }
    }
}
