//! Research helper (issue 14): how the evidence terms are standardised before they are summed.
//! Reads `feature_cache`'s models and features and compares, on identical networks, the stored
//! score (mean and standard deviation over the head rows) with robust scales that the training
//! anomalies themselves cannot inflate (median and IQR, median and MAD, a trimmed deviation),
//! with and without the head term and a trimmed refit of the one-Gaussian head.
//!
//! cargo run --release -p gnsm-eval --example explore_scale -- --cache /tmp/gnsm-cache

use gnsm_core::head::DensityHead;
use gnsm_eval::dataset::CodedSplit;
use gnsm_core::train::build_pool;
use gnsm_eval::cache::{load_run, CachedRun};
use gnsm_eval::metrics::{auroc, average_precision, mean_std, spearman, precision_at_k};
use ndarray::ArrayView2;
use std::path::{Path, PathBuf};

/// Linear-interpolated quantile of unsorted values.
fn quantile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    gnsm_core::stats::quantile_linear(&s, p)
}

/// (centre, scale) of a term's training values by the named rule; scales floored at 1 nat.
fn centre_scale(rule: &str, train: &[f64]) -> (f64, f64) {
    let (rule, floor) = match rule.split_once('@') {
        Some((r, f)) => (r, f.parse::<f64>().unwrap()),
        None => (rule, 1.0),
    };
    let (c, s) = match rule {
        "std" => mean_std(train),
        "iqr" => (quantile(train, 0.5), (quantile(train, 0.75) - quantile(train, 0.25)) / 1.349),
        "mad" => {
            let med = quantile(train, 0.5);
            let dev: Vec<f64> = train.iter().map(|x| (x - med).abs()).collect();
            (med, 1.4826 * quantile(&dev, 0.5))
        }
        "trim" => {
            let cut = quantile(train, 0.9);
            let kept: Vec<f64> = train.iter().copied().filter(|&x| x <= cut).collect();
            mean_std(&kept)
        }
        "q90" => (quantile(train, 0.5), (quantile(train, 0.9) - quantile(train, 0.5)) / 1.2816),
        _ => panic!("unknown rule {rule}"),
    };
    (c, s.max(floor))
}

/// Sum of the terms standardised by `rule` on their training values.
fn summed(rule: &str, train: &[&Vec<f64>], test: &[&Vec<f64>]) -> Vec<f64> {
    let cs: Vec<(f64, f64)> = train.iter().map(|t| centre_scale(rule, t)).collect();
    (0..test[0].len()).map(|r| test.iter().zip(&cs).map(|(t, (c, s))| (t[r] - c) / s).sum()).collect()
}

/// Entry point: see the module doc.
fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut cache = PathBuf::from("/tmp/gnsm-cache");
    let data_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").to_string();
    let mut datasets: Vec<String> = "bank,car,census,chess,cmc,mushroom,nursery,probe,solar,u2r".split(',').map(String::from).collect();
    let mut protocols = vec!["unsup".to_string(), "semi".to_string()];
    let mut two_draws = false;
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--cache" => cache = PathBuf::from(v),
            "--datasets" => datasets = v.split(',').map(String::from).collect(),
            "--protocols" => protocols = v.split(',').map(String::from).collect(),
            "--two-draws" => two_draws = v == "on",
            k => panic!("unknown option {k}"),
        }
        i += 2;
    }
    let names = ["stored", "std", "std@0.1", "std@0.01", "std@0.3", "tg-std@.01", "iqr@0.1", "mad@0.1", "trim@0.1", "std@.1-ip", "std@.1-gp", "tg-std@.1", "g2+i+p", "g2+i+p@.01", "g2", "t*g", "t*g@.01", "r*g", "r2*g", "r*g@.01", "r2*g@.01", "r4*g@.01", "gn+i+p", "gn+i+p@.01", "gd+i+p", "gn", "gd", "g", "i", "p"];
    let pool = build_pool(2).unwrap();
    for proto in &protocols {
        println!("== {proto} (AUROC / AP{})", if proto == "unsup" { " / P@k" } else { "" });
        println!("{:<9}{}", "dataset", names.iter().map(|n| format!("{n:>18}")).collect::<String>());
        for name in &datasets {
            let Some(CachedRun { split, model, head_rows: hrows, head_features: ftr, test_features: fte }) = load_run(&cache, Path::new(&data_dir), name, proto) else {
                continue;
            };
            let CodedSplit { labels, fit, test, .. } = split;
            let nf = model.features.n_features();
            let hd = model.features.n_head_features();
            let head_of = |f: &[f64]| -> Vec<f64> { f.chunks_exact(nf).flat_map(|r| r[..hd].to_vec()).collect() };
            let (htr, hte) = (head_of(&ftr), head_of(&fte));
            let view = |v: &[f64]| ArrayView2::from_shape((v.len() / hd, hd), v).unwrap().to_owned();
            let g_tr = model.head.score_batch(view(&htr).view());
            let g_te = model.head.score_batch(view(&hte).view());
            let col = |f: &[f64], j: usize| -> Vec<f64> { f.chunks_exact(nf).map(|r| r[j]).collect() };
            let (i_tr, i_te) = (col(&ftr, hd - 1), col(&fte, hd - 1));
            let (p_tr, p_te) = (col(&ftr, nf - 1), col(&fte, nf - 1));
            let stored: Vec<f64> = fte.chunks_exact(nf).map(|f| model.score_features(f)).collect();
            // a trimmed refit of the one-Gaussian head: drop the 10% of head rows with the highest
            // robust sum, refit, standardise on the kept rows
            let base_tr = summed("iqr", &[&g_tr, &i_tr, &p_tr], &[&g_tr, &i_tr, &p_tr]);
            let cut = quantile(&base_tr, 0.9);
            let keep: Vec<usize> = (0..base_tr.len()).filter(|&r| base_tr[r] <= cut).collect();
            let kept: Vec<f64> = keep.iter().flat_map(|&r| htr[r * hd..(r + 1) * hd].to_vec()).collect();
            let th = DensityHead::fit(ArrayView2::from_shape((keep.len(), hd), &kept).unwrap(), &[1], 5, 42).unwrap();
            let tg_tr = th.score_batch(view(&htr).view());
            let tg_te = th.score_batch(view(&hte).view());
            let all = |rule: &str| summed(rule, &[&g_tr, &i_tr, &p_tr], &[&g_te, &i_te, &p_te]);
            // heads refitted on a subset of the head features: the 20 score norms + IndepNLL, or
            // the 20 denoising losses + IndepNLL (layout: norms | losses | IndepNLL)
            let sub_head = |cols: &[usize]| -> (Vec<f64>, Vec<f64>) {
                let pick = |h: &[f64]| -> Vec<f64> { h.chunks_exact(hd).flat_map(|r| cols.iter().map(|&c| r[c]).collect::<Vec<f64>>()).collect() };
                let (a, b) = (pick(&htr), pick(&hte));
                let k = cols.len();
                let h = DensityHead::fit(ArrayView2::from_shape((a.len() / k, k), &a).unwrap(), &[1], 5, 42).unwrap();
                (h.score_batch(ArrayView2::from_shape((a.len() / k, k), &a).unwrap()), h.score_batch(ArrayView2::from_shape((b.len() / k, k), &b).unwrap()))
            };
            let norm_cols: Vec<usize> = (0..20).chain([hd - 1]).collect();
            let dsm_cols: Vec<usize> = (20..hd).collect();
            let (gn_tr, gn_te) = if hd == 41 { sub_head(&norm_cols) } else { (g_tr.clone(), g_te.clone()) };
            let (gd_tr, gd_te) = if hd == 41 { sub_head(&dsm_cols) } else { (g_tr.clone(), g_te.clone()) };
            // reliability of the head term: its rank agreement over the head rows when the
            // denoising-loss features are measured again under an independent noise draw
            let rows: Vec<&[u32]> = hrows.iter().map(|&r| fit.row(r)).collect();
            let second = model.features.clone().with_noise_seed(0x5EC0_4D00 ^ 42);
            let fb = second.features(&rows, Some(&pool));
            let gb_tr = model.head.score_batch(view(&head_of(&fb)).view());
            let rel = spearman(&g_tr, &gb_tr).max(0.0);
            // agreement of the upper tail: the share of the top 5% by one measurement that is in
            // the top 5% by the other, rescaled so that chance (5%) is 0 and identity is 1
            let top = |v: &[f64]| -> Vec<bool> {
                let cut = quantile(v, 0.95);
                v.iter().map(|&x| x > cut).collect()
            };
            let (ta, tb) = (top(&g_tr), top(&gb_tr));
            let n_top = ta.iter().filter(|&&t| t).count().max(1) as f64;
            let both = ta.iter().zip(&tb).filter(|(a, b)| **a && **b).count() as f64;
            let tail_rel = ((both / n_top - 0.05) / 0.95).clamp(0.0, 1.0);
            eprintln!("REL {proto} {name}: head-term reliability {rel:.3}, upper-tail agreement {tail_rel:.3}");
            // two draws averaged (what dsm_draws = 2 computes): the denoising losses (head
            // features 20..hd-1) of both measurements averaged, the one Gaussian refitted on them
            let (g2_tr, g2_te) = if two_draws && hd == 41 {
                let test_rows: Vec<&[u32]> = (0..test.n_rows).map(|r| test.row(r)).collect();
                let fb_te = second.features(&test_rows, Some(&pool));
                let avg = |a: &[f64], b: &[f64]| -> Vec<f64> {
                    let (ha, hb) = (head_of(a), head_of(b));
                    ha.chunks_exact(hd).zip(hb.chunks_exact(hd)).flat_map(|(x, y)| (0..hd).map(|j| if (20..hd - 1).contains(&j) { 0.5 * (x[j] + y[j]) } else { x[j] }).collect::<Vec<f64>>()).collect()
                };
                let (atr, ate) = (avg(&ftr, &fb), avg(&fte, &fb_te));
                let h2 = DensityHead::fit(ArrayView2::from_shape((atr.len() / hd, hd), &atr).unwrap(), &[1], 5, 42).unwrap();
                (h2.score_batch(view(&atr).view()), h2.score_batch(view(&ate).view()))
            } else {
                (g_tr.clone(), g_te.clone())
            };
            let weighted = |w: f64, rule: &str| -> Vec<f64> {
                let (cg, sg) = centre_scale(rule, &g_tr);
                let (ci, si) = centre_scale(rule, &i_tr);
                let (cp, sp) = centre_scale(rule, &p_tr);
                (0..g_te.len()).map(|r| w * (g_te[r] - cg) / sg + (i_te[r] - ci) / si + (p_te[r] - cp) / sp).collect()
            };
            let variants: Vec<Vec<f64>> = vec![
                stored,
                all("std"),
                all("std@0.1"),
                all("std@0.01"),
                all("std@0.3"),
                summed("std@0.01", &[&tg_tr, &i_tr, &p_tr], &[&tg_te, &i_te, &p_te]),
                all("iqr@0.1"),
                all("mad@0.1"),
                all("trim@0.1"),
                summed("std@0.1", &[&i_tr, &p_tr], &[&i_te, &p_te]),
                summed("std@0.1", &[&g_tr, &p_tr], &[&g_te, &p_te]),
                summed("std@0.1", &[&tg_tr, &i_tr, &p_tr], &[&tg_te, &i_te, &p_te]),
                summed("std", &[&g2_tr, &i_tr, &p_tr], &[&g2_te, &i_te, &p_te]),
                summed("std@0.01", &[&g2_tr, &i_tr, &p_tr], &[&g2_te, &i_te, &p_te]),
                g2_te.clone(),
                weighted(tail_rel, "std"),
                weighted(tail_rel, "std@0.01"),
                weighted(rel, "std"),
                weighted(rel * rel, "std"),
                weighted(rel, "std@0.01"),
                weighted(rel * rel, "std@0.01"),
                weighted(rel.powi(4), "std@0.01"),
                summed("std", &[&gn_tr, &i_tr, &p_tr], &[&gn_te, &i_te, &p_te]),
                summed("std@0.01", &[&gn_tr, &i_tr, &p_tr], &[&gn_te, &i_te, &p_te]),
                summed("std", &[&gd_tr, &i_tr, &p_tr], &[&gd_te, &i_te, &p_te]),
                gn_te.clone(),
                gd_te.clone(),
                g_te.clone(),
                i_te.clone(),
                p_te.clone(),
            ];
            let tail_index = |v: &[f64]| {
                let iqr = (quantile(v, 0.75) - quantile(v, 0.25)).max(1e-9);
                (quantile(v, 0.99) - quantile(v, 0.5)) / iqr
            };
            eprintln!("TAIL {proto} {name}: g {:.2} i {:.2} p {:.2} | iqr g {:.2} i {:.2} p {:.2} | std g {:.2} i {:.2} p {:.2}", tail_index(&g_tr), tail_index(&i_tr), tail_index(&p_tr),
                quantile(&g_tr, 0.75) - quantile(&g_tr, 0.25), quantile(&i_tr, 0.75) - quantile(&i_tr, 0.25), quantile(&p_tr, 0.75) - quantile(&p_tr, 0.25),
                mean_std(&g_tr).1, mean_std(&i_tr).1, mean_std(&p_tr).1);
            let cells: String = variants
                .iter()
                .map(|s| match proto.as_str() {
                    "unsup" => format!(" {:.1}/{:.1}/{:.1}", 100.0 * auroc(s, &labels), 100.0 * average_precision(s, &labels), 100.0 * precision_at_k(s, &labels)),
                    _ => format!(" {:.1}/{:.1}", 100.0 * auroc(s, &labels), 100.0 * average_precision(s, &labels)),
                })
                .collect();
            println!("{name:<9}{cells}");
            for (n, s) in names.iter().zip(&variants) {
                eprintln!("{{\"proto\":\"{proto}\",\"dataset\":\"{name}\",\"variant\":\"{n}\",\"auroc\":{},\"ap\":{}}}", auroc(s, &labels), average_precision(s, &labels));
            }
        }
    }
}
