//! Quality evaluation on labelled CSV data sets (`../shared/data/<name>/`): the paper's
//! semi-supervised protocol (inliers 80/10/10, test = held-out inliers + all anomalies, seeds
//! 42-46) and the unsupervised one (train on all rows, score all rows), for gnsm next to IndepNLL
//! and AVF on the same splits. Prints a table and optionally writes JSON.
//!
//! cargo run --release -p gnsm-eval --example eval -- --datasets solar,cmc --threads 2
//!
//! `--splits-dir DIR` writes every split it evaluates to `DIR/<dataset>.<protocol>.<seed>.json`
//! as `{"fit":[...],"test":[...]}` (0-based data-row indices: fit = the rows handed to the trainer,
//! test = the scored rows), so other implementations (bench/python/peers.py) can use the same
//! splits. `--label NAME` names the setting in the JSON output, which also carries every seed's
//! metrics under `runs`. `--numeric a,b` models the named columns as numbers (z-scored, Gaussian
//! noise) in gnsm (`--numeric '*'`: every column); IndepNLL and AVF always see every column as
//! categories.

use gnsm_core::frequency::IndepNll;
use gnsm_eval::avf::Avf;
use gnsm_eval::dataset::{find_dataset, read_labeled_csv, semi_supervised_split, unsupervised_split, LabeledTable, Split};
use gnsm_core::encoding::{CodedTable, TableBuilder, DEFAULT_MAX_CATEGORIES};
use gnsm_eval::metrics::{auroc, average_precision, mean_std, spearman};
use gnsm_core::model::Model;
use gnsm_core::train::{build_pool, Hooks, TrainConfig};
use std::path::PathBuf;
use std::time::Instant;

/// Command-line options.
struct Args {
    data_dir: PathBuf,
    datasets: Vec<String>,
    protocols: Vec<String>,
    seeds: Vec<u64>,
    config: TrainConfig,
    json: Option<PathBuf>,
    splits_dir: Option<PathBuf>,
    label: String,
    /// Columns gnsm models as numeric.
    numeric: Vec<String>,
}

/// Parses `--key value` pairs; unknown keys are an error.
fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        data_dir: PathBuf::from("../shared/data"),
        datasets: "bank,car,census,chess,cmc,mushroom,nursery,probe,solar,u2r".split(',').map(String::from).collect(),
        protocols: vec!["semi".into(), "unsup".into()],
        seeds: vec![42, 43, 44, 45, 46],
        config: TrainConfig::default(),
        json: None,
        splits_dir: None,
        label: "gnsm".into(),
        numeric: Vec::new(),
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let key = argv[i].as_str();
        if key == "--no-denoise" || key == "--no-freq" || key == "--no-norms" || key == "--norms" {
            match key {
                "--no-denoise" => a.config.denoise = false,
                "--no-freq" => a.config.frequency_feature = false,
                "--no-norms" => a.config.norm_features = false,
                _ => a.config.norm_features = true,
            }
            i += 1;
            continue;
        }
        let val = argv.get(i + 1).ok_or(format!("{key} needs a value"))?.clone();
        let num = |v: &str| v.parse::<f64>().map_err(|e| format!("{key}: {e}"));
        match key {
            "--data-dir" => a.data_dir = PathBuf::from(val),
            "--datasets" => a.datasets = val.split(',').map(String::from).collect(),
            "--protocol" => a.protocols = if val == "both" { vec!["semi".into(), "unsup".into()] } else { vec![val] },
            "--seeds" => a.seeds = val.split(',').map(|s| s.parse().map_err(|e| format!("--seeds: {e}"))).collect::<Result<_, _>>()?,
            "--width" => a.config.width = num(&val)? as usize,
            "--depth" => a.config.depth = num(&val)? as usize,
            "--steps" => a.config.steps = num(&val)? as usize,
            "--max-seconds" => a.config.max_seconds = num(&val)?,
            "--batch" => a.config.batch_size = num(&val)? as usize,
            "--lr" => a.config.lr = num(&val)? as f32,
            "--max-head-rows" => a.config.max_head_rows = num(&val)? as usize,
            "--threads" => a.config.threads = num(&val)? as usize,
            "--scorer" => {
                (a.config.fast_scorer, a.config.auto_scorer) = match val.as_str() {
                    "auto" => (false, true),
                    "fast" => (true, false),
                    "exact" => (false, false),
                    other => return Err(format!("--scorer: \"auto\", \"fast\" or \"exact\", got {other:?}")),
                }
            }
            "--ema" => a.config.ema_decay = num(&val)? as f32,
            "--signal-min" => a.config.signal_min = num(&val)? as f32,
            "--signal-max" => a.config.signal_max = num(&val)? as f32,
            "--draws" => a.config.dsm_draws = num(&val)? as usize,
            "--json" => a.json = Some(PathBuf::from(val)),
            "--splits-dir" => a.splits_dir = Some(PathBuf::from(val)),
            "--label" => a.label = val,
            // "*" = every column of each data set (resolved per file)
            "--numeric" => a.numeric = val.split(',').filter(|s| !s.is_empty()).map(String::from).collect(),
            _ => return Err(format!("unknown option {key}")),
        }
        i += 2;
    }
    Ok(a)
}

/// Codes every row of the table with a vocabulary learned from the `train` rows only (values seen
/// only in other rows become UNSEEN, as at scoring time in SQL); the `numeric` columns are moved
/// first and modelled as numbers.
fn code_with_train_vocab(
    table: &LabeledTable,
    train: &[usize],
    numeric: &[String],
) -> Result<(gnsm_core::encoding::Encoder, CodedTable, CodedTable), String> {
    let all: Vec<String>;
    let numeric = if numeric == ["*"] {
        all = table.columns.clone();
        &all[..]
    } else {
        numeric
    };
    if let Some(missing) = numeric.iter().find(|n| !table.columns.contains(n)) {
        return Err(format!("--numeric: no column \"{missing}\""));
    }
    // model order: numeric columns, then the rest, each in file order
    let order: Vec<usize> = (0..table.columns.len())
        .filter(|&j| numeric.contains(&table.columns[j]))
        .chain((0..table.columns.len()).filter(|&j| !numeric.contains(&table.columns[j])))
        .collect();
    let names: Vec<String> = order.iter().map(|&j| table.columns[j].clone()).collect();
    let reorder = |r: usize| -> Vec<Option<&str>> { order.iter().map(|&j| table.rows[r][j].as_deref()).collect() };
    let mut b = TableBuilder::with_numeric(names, numeric.len(), DEFAULT_MAX_CATEGORIES);
    for &r in train {
        b.push_row(&reorder(r)).map_err(|e| e.to_string())?;
    }
    let (enc, train_codes) = b.finish().map_err(|e| e.to_string())?;
    let rows: Vec<Vec<Option<&str>>> = (0..table.rows.len()).map(reorder).collect();
    let all = enc.encode_rows(&rows).map_err(|e| e.to_string())?;
    Ok((enc, train_codes, all))
}

/// A JSON string literal (quotes, backslashes and control characters escaped).
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A finite number as JSON, NaN/inf as null.
fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.6}")
    } else {
        "null".into()
    }
}

/// Writes `{"fit":[...],"test":[...]}` for one split.
fn write_split(path: &std::path::Path, fit: &[usize], test: &[usize]) -> Result<(), String> {
    let list = |v: &[usize]| v.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    std::fs::write(path, format!("{{\"fit\":[{}],\"test\":[{}]}}\n", list(fit), list(test))).map_err(|e| format!("{}: {e}", path.display()))
}

/// One method's metrics on one split.
#[derive(Default, Clone)]
struct Run {
    auroc: f64,
    ap: f64,
    train_s: f64,
    score_s: f64,
    /// gnsm only: the scorer the fit chose ("fast" or "exact"), and for a fast one the exact
    /// scorer's AUROC and AP on the same model and the Spearman correlation of the two scores.
    scorer: &'static str,
    exact: Option<(f64, f64, f64)>,
}

impl Run {
    /// A peer's run (no scorer choice).
    fn peer(auroc: f64, ap: f64, train_s: f64, score_s: f64) -> Run {
        Run { auroc, ap, train_s, score_s, scorer: "", exact: None }
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("eval: {e}");
            std::process::exit(2);
        }
    };
    let pool = build_pool(args.config.threads).expect("thread pool");
    if let Some(dir) = &args.splits_dir {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    let mut json_rows = Vec::new();
    println!(
        "{:<9} {:<6} {:>16} {:>16} {:>16} {:>16} {:>9} {:>9}",
        "dataset", "proto", "gnsm AUROC", "indep AUROC", "avf AUROC", "gnsm AP", "train s", "score s"
    );
    for name in &args.datasets {
        let path = match find_dataset(&args.data_dir, name) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("skip {name}: {e}");
                continue;
            }
        };
        let table = read_labeled_csv(&path).unwrap_or_else(|e| panic!("{e}"));
        for proto in &args.protocols {
            let seeds: Vec<u64> = if proto == "semi" { args.seeds.clone() } else { vec![args.seeds[0]] };
            let mut runs: Vec<[Run; 3]> = Vec::new();
            for &seed in &seeds {
                let split: Split =
                    if proto == "semi" { semi_supervised_split(&table.labels, seed) } else { unsupervised_split(table.rows.len()) };
                // the paper fits on train inliers and uses val inliers for checkpointing; we hand
                // train+val to the trainer, which holds out the same share (1/9) itself
                let mut fit_rows = split.train.clone();
                fit_rows.extend(&split.val);
                if let Some(dir) = &args.splits_dir {
                    write_split(&dir.join(format!("{name}.{proto}.{seed}.json")), &fit_rows, &split.test).unwrap_or_else(|e| panic!("{e}"));
                }
                let (enc, fit_codes, all_codes) = code_with_train_vocab(&table, &fit_rows, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
                let labels: Vec<bool> = split.test.iter().map(|&i| table.labels[i]).collect();
                let test_codes = all_codes.select(&split.test);
                // gnsm's own coding when some columns are numeric (the baselines keep categories)
                let (gnsm_enc, gnsm_fit, gnsm_test) = if args.numeric.is_empty() {
                    (enc.clone(), fit_codes.clone(), test_codes.clone())
                } else {
                    let (e, f, a) = code_with_train_vocab(&table, &fit_rows, &args.numeric).unwrap_or_else(|e| panic!("{name}: {e}"));
                    (e, f, a.select(&split.test))
                };
                let mut config = args.config.clone();
                config.seed = seed;
                config.val_fraction = if proto == "semi" { split.val.len() as f64 / fit_rows.len() as f64 } else { 0.1 };
                let t0 = Instant::now();
                let model = Hooks::silent(|h| Model::fit_coded(gnsm_enc, &gnsm_fit, &config, &pool, h))
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                let train_s = t0.elapsed().as_secs_f64();
                let t1 = Instant::now();
                let scores = model.score_table(&gnsm_test, Some(&pool)).unwrap_or_else(|e| panic!("{name}: {e}"));
                let score_s = t1.elapsed().as_secs_f64();
                eprintln!(
                    "scorer {name} {proto} seed {seed}: {} ({} distinct training rows)",
                    if model.fast.is_some() { "fast" } else { "exact" },
                    gnsm_core::model::distinct_rows(&gnsm_fit)
                );
                let mut exact_run = None;
                if model.fast.is_some() {
                    // the fast scorer against the exact one it was fitted to, on the same model
                    let t = Instant::now();
                    let exact = model.score_table_exact(&gnsm_test, Some(&pool)).unwrap_or_else(|e| panic!("{name}: {e}"));
                    exact_run = Some((auroc(&exact, &labels), average_precision(&exact, &labels), spearman(&scores, &exact)));
                    eprintln!(
                        "fidelity {name} {proto} seed {seed}: fast AUROC {:.2} AP {:.2} ({score_s:.2} s) | exact AUROC {:.2} AP {:.2} ({:.2} s) | Spearman {:.4}",
                        100.0 * auroc(&scores, &labels),
                        100.0 * average_precision(&scores, &labels),
                        100.0 * auroc(&exact, &labels),
                        100.0 * average_precision(&exact, &labels),
                        t.elapsed().as_secs_f64(),
                        spearman(&scores, &exact)
                    );
                }
                let rows: Vec<&[u32]> = (0..test_codes.n_rows).map(|i| test_codes.row(i)).collect();
                let t2 = Instant::now();
                let indep = IndepNll::fit(&fit_codes, &enc.block_sizes());
                let indep_fit_s = t2.elapsed().as_secs_f64();
                let t3 = Instant::now();
                let s_indep: Vec<f64> = rows.iter().map(|r| indep.score(r)).collect();
                let indep_score_s = t3.elapsed().as_secs_f64();
                let t4 = Instant::now();
                let avf = Avf::fit(&fit_codes, &enc.block_sizes());
                let avf_fit_s = t4.elapsed().as_secs_f64();
                let t5 = Instant::now();
                let s_avf: Vec<f64> = rows.iter().map(|r| avf.score(r)).collect();
                let avf_score_s = t5.elapsed().as_secs_f64();
                runs.push([
                    Run {
                        auroc: auroc(&scores, &labels),
                        ap: average_precision(&scores, &labels),
                        train_s,
                        score_s,
                        scorer: if model.fast.is_some() { "fast" } else { "exact" },
                        exact: exact_run,
                    },
                    Run::peer(auroc(&s_indep, &labels), average_precision(&s_indep, &labels), indep_fit_s, indep_score_s),
                    Run::peer(auroc(&s_avf, &labels), average_precision(&s_avf, &labels), avf_fit_s, avf_score_s),
                ]);
            }
            let stat = |m: usize, f: fn(&Run) -> f64| mean_std(&runs.iter().map(|r| f(&r[m])).collect::<Vec<_>>());
            let (ga, gs) = stat(0, |r| r.auroc);
            let (ia, is) = stat(1, |r| r.auroc);
            let (aa, as_) = stat(2, |r| r.auroc);
            let (gp, gps) = stat(0, |r| r.ap);
            let (ip, _) = stat(1, |r| r.ap);
            let (ap_, _) = stat(2, |r| r.ap);
            let (tr, _) = stat(0, |r| r.train_s);
            let (sc, _) = stat(0, |r| r.score_s);
            println!(
                "{:<9} {:<6} {:>9.2} ±{:>5.2} {:>9.2} ±{:>5.2} {:>9.2} ±{:>5.2} {:>9.2} ±{:>5.2} {:>9.1} {:>9.1}",
                name,
                proto,
                100.0 * ga,
                100.0 * gs,
                100.0 * ia,
                100.0 * is,
                100.0 * aa,
                100.0 * as_,
                100.0 * gp,
                100.0 * gps,
                tr,
                sc
            );
            // per seed: {"seed":42,"methods":{"gnsm":{auroc,ap,train_s,score_s},"indep":{..},"avf":{..}}}
            let per_seed: Vec<String> = seeds
                .iter()
                .zip(&runs)
                .map(|(seed, r)| {
                    let m = |x: &Run| {
                        format!(
                            "{{\"auroc\":{},\"ap\":{},\"train_s\":{},\"score_s\":{}}}",
                            json_num(x.auroc),
                            json_num(x.ap),
                            json_num(x.train_s),
                            json_num(x.score_s)
                        )
                    };
                    // the default scorer's choice, and the exact scorer on the same model when it chose the fast one
                    let exact = match r[0].exact {
                        Some((a, p, rho)) => format!(",\"exact_auroc\":{},\"exact_ap\":{},\"spearman_exact\":{}", json_num(a), json_num(p), json_num(rho)),
                        None => String::new(),
                    };
                    let gnsm = format!("{}, \"scorer\":\"{}\"{exact}}}", m(&r[0]).trim_end_matches('}'), r[0].scorer);
                    format!("{{\"seed\":{seed},\"methods\":{{\"gnsm\":{gnsm},\"indep\":{},\"avf\":{}}}}}", m(&r[1]), m(&r[2]))
                })
                .collect();
            json_rows.push(format!(
                "{{\"dataset\":\"{name}\",\"protocol\":\"{proto}\",\"seeds\":{},\"gnsm_auroc\":{ga:.5},\"gnsm_auroc_std\":{gs:.5},\"gnsm_ap\":{gp:.5},\"indep_auroc\":{ia:.5},\"indep_ap\":{ip:.5},\"avf_auroc\":{aa:.5},\"avf_ap\":{ap_:.5},\"train_seconds\":{tr:.3},\"score_seconds\":{sc:.3},\"runs\":[{}]}}",
                seeds.len(),
                per_seed.join(",")
            ));
        }
    }
    if let Some(path) = args.json {
        let c = &args.config;
        let body = format!(
            "{{\"label\":{},\"config\":{{\"width\":{},\"depth\":{},\"steps\":{},\"max_seconds\":{},\"batch_size\":{},\"lr\":{},\"threads\":{},\"denoise\":{},\"frequency_feature\":{},\"norm_features\":{},\"dsm_draws\":{},\"signal_min\":{},\"signal_max\":{},\"max_head_rows\":{}}},\n\"results\":[\n{}\n]}}\n",
            json_str(&args.label), c.width, c.depth, c.steps, c.max_seconds, c.batch_size, c.lr, c.threads, c.denoise, c.frequency_feature, c.norm_features, c.dsm_draws, c.signal_min, c.signal_max, c.max_head_rows, json_rows.join(",\n")
        );
        std::fs::write(&path, body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}
