//! The map benchmark (issue 12): does gnsm's map score rank bad segmentations first?
//!
//! 1. Horse, real failures: train on the ground-truth masks of a seeded half of the 328 Weizmann
//!    horses, score both ISNet models' predictions of the other half; Spearman rho(score, Dice)
//!    and AUROC for "Dice < 0.8" / "Dice < 0.9" (bad = positive), over `--splits` splits.
//! 2. CamVid, graded corruptions: train on the train-split maps, score the test-split maps and one
//!    corrupted copy of each per family (severity cycling 1-3); rho(score, Dice) per family and
//!    pooled, AUROC clean-vs-corrupted.
//! 3. Baselines on the same splits: the per-position class prior, foreground-area and
//!    component-count z-scores.
//! 4. Speed: training seconds, scoring maps/s, GFLOP/s of scoring and the GEMM peak of this run.
//!
//! cargo run --release -p gnsm-eval --example maps -- --data ../shared/data-seg --threads 2 \
//!     --json results/maps_bench.json
//!
//! Options: `--sets horse,camvid`, `--variants mask,image`, `--splits 5`, `--side 64`,
//! `--max-seconds S` (training budget per model), `--steps N`, `--camvid-per-family N` (test maps
//! corrupted per family; default all 233), `--figure PATH` (PNG of split 0's 8 worst- and 8
//! best-scored horse predictions with image, ground truth and heatmap).

use gnsm_core::kernels::gemm;
use gnsm_core::map::codec::heatmap_png;
use gnsm_core::map::{LabelMap, MapConfig, MapItem, MapModel, RgbImage};
use gnsm_core::train::{build_pool, Hooks};
use gnsm_eval::metrics::{auroc, mean_std, spearman};
use gnsm_eval::seg::{self, ShapeStats};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::time::Instant;

/// Command-line options.
struct Args {
    data: PathBuf,
    sets: Vec<String>,
    variants: Vec<String>,
    splits: usize,
    config: MapConfig,
    camvid_per_family: usize,
    json: Option<PathBuf>,
    /// The PNG of the 8 worst- and 8 best-scored horse predictions of split 0.
    figure: Option<PathBuf>,
}

/// Parses `--key value` pairs.
fn parse_args() -> Args {
    let mut a = Args {
        data: PathBuf::from("../shared/data-seg"),
        sets: vec!["horse".into(), "camvid".into()],
        variants: vec!["mask".into(), "image".into()],
        splits: 5,
        config: MapConfig { threads: 2, ..MapConfig::default() },
        camvid_per_family: usize::MAX,
        json: None,
        figure: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let list = |v: &str| v.split(',').map(str::to_string).collect::<Vec<_>>();
    for kv in argv.chunks(2) {
        let v = kv.get(1).cloned().unwrap_or_default();
        match kv[0].as_str() {
            "--data" => a.data = v.into(),
            "--sets" => a.sets = list(&v),
            "--variants" => a.variants = list(&v),
            "--splits" => a.splits = v.parse().expect("--splits"),
            "--side" => {
                a.config.height = v.parse().expect("--side");
                a.config.width = a.config.height;
            }
            "--threads" => a.config.threads = v.parse().expect("--threads"),
            "--max-seconds" => a.config.max_seconds = v.parse().expect("--max-seconds"),
            "--steps" => a.config.steps = v.parse().expect("--steps"),
            "--channels" => a.config.base_channels = v.parse().expect("--channels"),
            "--camvid-per-family" => a.config_camvid(&v),
            "--json" => a.json = Some(v.into()),
            "--figure" => a.figure = Some(v.into()),
            other => panic!("unknown option {other}"),
        }
    }
    a
}

impl Args {
    /// `--camvid-per-family`.
    fn config_camvid(&mut self, v: &str) {
        self.camvid_per_family = v.parse().expect("--camvid-per-family");
    }
}

/// One JSON record of `results/maps_bench.json`.
#[derive(Default, Clone)]
struct Record {
    dataset: String,
    subset: String,
    method: String,
    spearman: Vec<f64>,
    auroc_08: Vec<f64>,
    auroc_09: Vec<f64>,
    auroc: Vec<f64>,
    train_seconds: Vec<f64>,
    maps_per_s: Vec<f64>,
}

/// `null` for a missing figure, else the number.
fn num(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.4}"),
        _ => "null".into(),
    }
}

/// Mean of a non-empty list.
fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| mean_std(v).0)
}

/// Standard deviation of a list of at least 2 figures.
fn std(v: &[f64]) -> Option<f64> {
    (v.len() > 1).then(|| mean_std(v).1)
}

impl Record {
    /// The JSON object of the schema.
    fn json(&self) -> String {
        let auroc_main = if self.auroc.is_empty() { &self.auroc_08 } else { &self.auroc };
        format!(
            "{{\"dataset\": \"{}\", \"subset\": \"{}\", \"method\": \"{}\", \"spearman_dice\": {}, \"spearman_std\": {}, \"auroc_dice_lt_0_8\": {}, \"auroc_dice_lt_0_9\": {}, \"auroc_clean_vs_corrupted\": {}, \"auroc_std\": {}, \"train_seconds\": {}, \"maps_per_s\": {}}}",
            self.dataset,
            self.subset,
            self.method,
            num(mean(&self.spearman)),
            num(std(&self.spearman)),
            num(mean(&self.auroc_08)),
            num(mean(&self.auroc_09)),
            num(mean(&self.auroc)),
            num(std(auroc_main)),
            num(mean(&self.train_seconds)),
            num(mean(&self.maps_per_s)),
        )
    }

    /// One line of the printed table.
    fn line(&self) -> String {
        let pm = |v: &[f64]| match (mean(v), std(v)) {
            (Some(m), Some(s)) => format!("{m:+.3} ± {s:.3}"),
            (Some(m), None) => format!("{m:+.3}"),
            _ => "-".into(),
        };
        format!(
            "{:<7} {:<14} {:<16} rho {:<16} AUROC<0.8 {:<14} AUROC<0.9 {:<14} AUROC corrupt {:<14} train {:>6} s  {:>7} maps/s",
            self.dataset,
            self.subset,
            self.method,
            pm(&self.spearman),
            pm(&self.auroc_08),
            pm(&self.auroc_09),
            pm(&self.auroc),
            mean(&self.train_seconds).map_or("-".into(), |v| format!("{v:.1}")),
            mean(&self.maps_per_s).map_or("-".into(), |v| format!("{v:.1}")),
        )
    }
}

/// The records, keyed by (dataset, subset, method), in insertion order.
#[derive(Default)]
struct Table(Vec<Record>);

impl Table {
    /// The record of a key, created on first use.
    fn get(&mut self, dataset: &str, subset: &str, method: &str) -> &mut Record {
        if let Some(i) = self.0.iter().position(|r| r.dataset == dataset && r.subset == subset && r.method == method) {
            return &mut self.0[i];
        }
        self.0.push(Record { dataset: dataset.into(), subset: subset.into(), method: method.into(), ..Default::default() });
        self.0.last_mut().expect("just pushed")
    }
}

/// Adds the rank figures of one scored subset (scores: higher = more anomalous).
fn add_dice_figures(r: &mut Record, scores: &[f64], dice: &[f64]) {
    r.spearman.push(spearman(scores, dice));
    let bad = |t: f64| dice.iter().map(|&d| d < t).collect::<Vec<bool>>();
    let (b8, b9) = (bad(0.8), bad(0.9));
    if b8.iter().any(|&b| b) && b8.iter().any(|&b| !b) {
        r.auroc_08.push(auroc(scores, &b8));
    }
    if b9.iter().any(|&b| b) && b9.iter().any(|&b| !b) {
        r.auroc_09.push(auroc(scores, &b9));
    }
}

/// GFLOP/s of a 512x512x512 f32 GEMM on this machine now (the peak the scoring is compared to).
fn gemm_peak(threads: usize) -> f64 {
    let n = 512;
    let a = ndarray::Array2::<f32>::from_elem((n, n), 0.5);
    let b = a.clone();
    let mut c = ndarray::Array2::<f32>::zeros((n, n));
    let pool = build_pool(threads).expect("pool");
    let mut best = 0.0f64;
    for _ in 0..5 {
        let t = Instant::now();
        pool.install(|| gemm(1.0, &a.view(), &b.view(), 0.0, &mut c.view_mut()));
        best = best.max(2.0 * (n * n * n) as f64 / t.elapsed().as_secs_f64() / 1e9);
    }
    best
}

/// What one trained gnsm map model gave: its scores, its network-term-only scores, training
/// seconds, scoring maps/s, and the model itself (for the figure).
struct GnsmRun {
    scores: Vec<f64>,
    network: Vec<f64>,
    train_seconds: f64,
    maps_per_s: f64,
    model: MapModel,
}

/// Trains one gnsm map model and scores `items`.
fn gnsm_scores(config: &MapConfig, train: &[MapItem], score: &[MapItem], pool: &rayon::ThreadPool) -> GnsmRun {
    let t = Instant::now();
    let model = Hooks::silent(|h| MapModel::fit(train, config, pool, h)).expect("map model fit");
    let train_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let terms = Hooks::silent(|h| model.terms_batch(score, pool, h)).expect("scoring");
    let scores: Vec<f64> = terms.iter().map(|t| model.score_terms(t)).collect();
    let network: Vec<f64> = terms.iter().map(|t| t.network).collect();
    let rate = score.len() as f64 / t.elapsed().as_secs_f64();
    eprintln!(
        "  trained {} maps in {train_seconds:.1} s ({} steps, stopped by {}, best val {:.4}), scored {} at {rate:.1} maps/s",
        train.len(),
        model.report.steps,
        model.report.stopped_by,
        model.report.best_val_loss,
        score.len()
    );
    GnsmRun { scores, network, train_seconds, maps_per_s: rate, model }
}

/// Baseline scores of `maps` fitted on `train`: (method, scores).
fn baselines(train: &[&LabelMap], maps: &[&LabelMap], classes: usize, foreground: Option<u16>) -> Vec<(&'static str, Vec<f64>)> {
    let prior = seg::PixelPrior::fit(train, classes);
    let mut out = vec![("pixel_prior", maps.iter().map(|m| prior.score(m)).collect())];
    let shapes = match foreground {
        Some(fg) => ShapeStats::fit(train, fg),
        None => ShapeStats::fit_multiclass(train),
    };
    out.push(("area_z", maps.iter().map(|m| shapes.area_z(m)).collect()));
    out.push(("components_z", maps.iter().map(|m| shapes.components_z(m)).collect()));
    out
}

/// Floating-point operations of one map's score (20 forward passes) for a data set's working
/// grid and classes, with the image channels for the image-conditioned method.
fn score_flops(args: &Args, dataset: &str, method: &str) -> f64 {
    let (classes, height) = if dataset == "camvid" { (12, (args.config.height * 3 / 4) / 4 * 4) } else { (2, args.config.height) };
    let conv = gnsm_core::net::conv::ConvConfig {
        classes,
        cond_channels: if method.starts_with("gnsm_image") { 3 } else { 0 },
        base_channels: args.config.base_channels,
        height,
        width: args.config.width,
    };
    conv.forward_flops_per_map() * gnsm_core::relax::LEVELS as f64
}

/// Horse: train on gt of one half, score both predictors on the other half, per split.
fn horse(args: &Args, table: &mut Table, pool: &rayon::ThreadPool) {
    let t = Instant::now();
    let items = seg::load_horse(&args.data, args.config.height).expect("horse data");
    eprintln!("horse: {} items loaded in {:.1} s", items.len(), t.elapsed().as_secs_f64());
    for split in 0..args.splits {
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(1000 + split as u64));
        let (train_idx, test_idx) = order.split_at(items.len() / 2);
        let train_maps: Vec<&LabelMap> = train_idx.iter().map(|&i| &items[i].gt).collect();
        // both predictors' maps of the test half, small first: (subset, map, image, dice)
        let mut tests: Vec<(&str, &LabelMap, &RgbImage, f64)> = Vec::new();
        for &i in test_idx {
            tests.push(("small", &items[i].pred_small, &items[i].image, items[i].dice_small));
        }
        for &i in test_idx {
            tests.push(("medium", &items[i].pred_medium, &items[i].image, items[i].dice_medium));
        }
        let dice: Vec<f64> = tests.iter().map(|t| t.3).collect();
        let mut methods: Vec<(String, Vec<f64>, Option<(f64, f64)>)> = Vec::new();
        for variant in &args.variants {
            let with_image = variant == "image";
            let config = MapConfig { seed: 42 + split as u64, use_image: with_image, ..args.config.clone() };
            let train: Vec<MapItem> = train_idx.iter().map(|&i| MapItem { map: &items[i].gt, image: Some(&items[i].image) }).collect();
            let score: Vec<MapItem> = tests.iter().map(|t| MapItem { map: t.1, image: Some(t.2) }).collect();
            eprintln!("horse split {split}, gnsm {variant}:");
            let run = gnsm_scores(&config, &train, &score, pool);
            // the figure shows the image-conditioned model when it runs, else the mask-only one
            let shown = with_image || !args.variants.iter().any(|v| v == "image");
            if let (Some(path), 0, true) = (&args.figure, split, shown) {
                write_figure(path, &run, &score, &tests, test_idx, &items);
            }
            methods.push((format!("gnsm_{variant}"), run.scores, Some((run.train_seconds, run.maps_per_s))));
            methods.push((format!("gnsm_{variant}_network_term"), run.network, None));
        }
        let test_maps: Vec<&LabelMap> = tests.iter().map(|t| t.1).collect();
        for (name, s) in baselines(&train_maps, &test_maps, 2, Some(1)) {
            methods.push((name.to_string(), s, None));
        }
        for (method, scores, speed) in &methods {
            for subset in ["small", "medium", "pooled"] {
                let keep: Vec<usize> = (0..tests.len()).filter(|&i| subset == "pooled" || tests[i].0 == subset).collect();
                let s: Vec<f64> = keep.iter().map(|&i| scores[i]).collect();
                let d: Vec<f64> = keep.iter().map(|&i| dice[i]).collect();
                let r = table.get("horse", subset, method);
                add_dice_figures(r, &s, &d);
                if let (Some((secs, rate)), "pooled") = (speed, subset) {
                    r.train_seconds.push(*secs);
                    r.maps_per_s.push(*rate);
                }
            }
        }
    }
}

/// Writes the figure: the 8 worst- and 8 best-scored test predictions (both predictors pooled)
/// with their image, ground truth and gnsm heatmap.
fn write_figure(path: &PathBuf, run: &GnsmRun, score: &[MapItem], tests: &[(&str, &LabelMap, &RgbImage, f64)], test_idx: &[usize], items: &[seg::HorseItem]) {
    let mut order: Vec<usize> = (0..run.scores.len()).collect();
    order.sort_by(|&a, &b| run.scores[b].total_cmp(&run.scores[a]));
    let picked: Vec<(usize, bool)> = order.iter().take(8).map(|&i| (i, true)).chain(order.iter().rev().take(8).rev().map(|&i| (i, false))).collect();
    let half = test_idx.len();
    let rows: Vec<seg::figure::FigureRow> = picked
        .iter()
        .map(|&(i, flagged)| {
            let anomaly = run.model.explain(score[i]).expect("explain");
            let png = heatmap_png(tests[i].1, &anomaly, Some(tests[i].2)).expect("heatmap");
            let rgb = image::load_from_memory(&png).expect("heatmap decodes").to_rgb8();
            let heatmap = RgbImage::new(rgb.height() as usize, rgb.width() as usize, rgb.into_raw()).expect("heatmap size");
            let item = &items[test_idx[i % half]];
            eprintln!("  figure row: {} {} score {:.2} Dice {:.3}", item.name, tests[i].0, run.scores[i], tests[i].3);
            seg::figure::FigureRow { image: &item.image, truth: &item.gt, prediction: tests[i].1, heatmap, flagged }
        })
        .collect();
    std::fs::write(path, seg::figure::figure_png(&rows)).expect("write the figure");
    eprintln!("  figure: {}", path.display());
}

/// CamVid: train on the train split, score test maps and corrupted copies.
fn camvid(args: &Args, table: &mut Table, pool: &rayon::ThreadPool) {
    let t = Instant::now();
    // CamVid frames are 4:3; the working grid keeps the aspect (48x64 at the default side 64)
    let (h, w) = ((args.config.height * 3 / 4) / 4 * 4, args.config.width);
    let items = seg::load_camvid(&args.data, h, w).expect("camvid data");
    eprintln!("camvid: {} maps loaded in {:.1} s", items.len(), t.elapsed().as_secs_f64());
    let train: Vec<&seg::CamvidItem> = items.iter().filter(|i| i.split == "train").collect();
    let test: Vec<&seg::CamvidItem> = items.iter().filter(|i| i.split == "test").collect();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // (family, map, image, dice against the clean map); clean maps have family "clean", Dice 1
    let mut scored: Vec<(String, LabelMap, &RgbImage, f64)> = test.iter().map(|i| ("clean".to_string(), i.map.clone(), &i.image, 1.0)).collect();
    for family in seg::FAMILIES {
        for (j, item) in test.iter().enumerate().take(args.camvid_per_family) {
            let severity = 1 + j % 3;
            let bad = seg::corrupt(family, &item.map, severity, &mut rng);
            let d = seg::dice(&item.map, &bad, None);
            scored.push((family.to_string(), bad, &item.image, d));
        }
    }
    let mut methods: Vec<(String, Vec<f64>, Option<(f64, f64)>)> = Vec::new();
    for variant in &args.variants {
        let config = MapConfig { height: h, width: w, use_image: variant == "image", ..args.config.clone() };
        let train_items: Vec<MapItem> = train.iter().map(|i| MapItem { map: &i.map, image: Some(&i.image) }).collect();
        let score_items: Vec<MapItem> = scored.iter().map(|s| MapItem { map: &s.1, image: Some(s.2) }).collect();
        eprintln!("camvid, gnsm {variant}:");
        let run = gnsm_scores(&config, &train_items, &score_items, pool);
        methods.push((format!("gnsm_{variant}"), run.scores, Some((run.train_seconds, run.maps_per_s))));
        methods.push((format!("gnsm_{variant}_network_term"), run.network, None));
    }
    let train_maps: Vec<&LabelMap> = train.iter().map(|i| &i.map).collect();
    let maps: Vec<&LabelMap> = scored.iter().map(|s| &s.1).collect();
    for (name, s) in baselines(&train_maps, &maps, 12, None) {
        methods.push((name.to_string(), s, None));
    }
    for (method, scores, speed) in &methods {
        let mut families: Vec<&str> = seg::FAMILIES.to_vec();
        families.push("pooled");
        for family in families {
            // each family is scored together with the clean maps: rho over Dice, AUROC clean vs corrupted
            let keep: Vec<usize> = (0..scored.len()).filter(|&i| scored[i].0 == "clean" || family == "pooled" || scored[i].0 == family).collect();
            let s: Vec<f64> = keep.iter().map(|&i| scores[i]).collect();
            let d: Vec<f64> = keep.iter().map(|&i| scored[i].3).collect();
            let corrupted: Vec<bool> = keep.iter().map(|&i| scored[i].0 != "clean").collect();
            let r = table.get("camvid", family, method);
            r.spearman.push(spearman(&s, &d));
            r.auroc.push(auroc(&s, &corrupted));
            if let (Some((secs, rate)), "pooled") = (speed, family) {
                r.train_seconds.push(*secs);
                r.maps_per_s.push(*rate);
            }
        }
    }
}

fn main() {
    let args = parse_args();
    let pool = build_pool(args.config.threads).expect("thread pool");
    let peak = gemm_peak(args.config.threads);
    let mut table = Table::default();
    if args.sets.iter().any(|s| s == "horse") {
        horse(&args, &mut table, &pool);
    }
    if args.sets.iter().any(|s| s == "camvid") {
        camvid(&args, &mut table, &pool);
    }
    let horse_flops = score_flops(&args, "horse", "gnsm_mask");
    println!("GEMM peak this run: {peak:.1} GFLOP/s ({} threads); one horse map's score costs {:.2} GFLOP (20 forward passes)", args.config.threads, horse_flops / 1e9);
    for r in &table.0 {
        let gflops = mean(&r.maps_per_s).map(|m| m * score_flops(&args, &r.dataset, &r.method) / 1e9);
        println!("{}{}", r.line(), gflops.map_or(String::new(), |g| format!("  ({g:.1} GFLOP/s = {:.0}% of peak)", 100.0 * g / peak)));
    }
    if let Some(path) = &args.json {
        let body: Vec<String> = table.0.iter().map(|r| format!("  {}", r.json())).collect();
        let text = format!("{{\"gemm_peak_gflops\": {peak:.1}, \"threads\": {}, \"records\": [\n{}\n]}}\n", args.config.threads, body.join(",\n"));
        std::fs::write(path, text).expect("write json");
    }
}
