//! Research helper: compares count-based row scores (independent columns, pairwise conditionals in
//! several forms, the min-pair-count SQL query) on every data set and protocol, so that the
//! frequency half of the score blend is chosen by measurement. No network is trained.
//!
//! cargo run --release -p gnsm-eval --example explore_counts -- --seeds 42,43

use gnsm_core::encoding::CodedTable;
use gnsm_core::frequency::IndepNll;
use gnsm_eval::dataset::{coded_split, find_dataset, read_labeled_csv, CodedSplit};
use gnsm_eval::metrics::{auroc, average_precision, mean_std, precision_at_k};
use std::collections::HashMap;
use std::path::Path;

/// Pair counts of one column pair.
struct Pairs {
    counts: HashMap<u64, f64>,
    kb: u64,
}

/// Counts of all columns and pairs.
struct Counts {
    n: f64,
    cards: Vec<usize>,
    single: Vec<Vec<f64>>,
    pairs: Vec<Vec<Pairs>>,
}

impl Counts {
    fn fit(t: &CodedTable, cards: &[usize]) -> Counts {
        let m = cards.len();
        let mut single: Vec<Vec<f64>> = cards.iter().map(|&k| vec![0.0; k]).collect();
        let mut pairs: Vec<Vec<Pairs>> =
            (0..m).map(|_| (0..m).map(|k| Pairs { counts: HashMap::new(), kb: cards[k] as u64 + 1 }).collect()).collect();
        for r in 0..t.n_rows {
            let row = t.row(r);
            for j in 0..m {
                if (row[j] as usize) < cards[j] {
                    single[j][row[j] as usize] += 1.0;
                }
                for k in j + 1..m {
                    let key = row[j] as u64 * pairs[j][k].kb + row[k].min(cards[k] as u32) as u64;
                    *pairs[j][k].counts.entry(key).or_default() += 1.0;
                }
            }
        }
        Counts { n: t.n_rows as f64, cards: cards.to_vec(), single, pairs }
    }
    fn c1(&self, j: usize, a: u32) -> f64 {
        self.single[j].get(a as usize).copied().unwrap_or(0.0)
    }
    fn c2(&self, j: usize, a: u32, k: usize, b: u32) -> f64 {
        let (j, a, k, b) = if j < k { (j, a, k, b) } else { (k, b, j, a) };
        if a as usize >= self.cards[j] || b as usize >= self.cards[k] {
            return 0.0;
        }
        let p = &self.pairs[j][k];
        p.counts.get(&(a as u64 * p.kb + b as u64)).copied().unwrap_or(0.0)
    }
    /// Marginal with Laplace smoothing (IndepNLL's).
    fn p1(&self, j: usize, a: u32) -> f64 {
        let k = self.cards[j] as f64;
        (if (a as usize) < self.cards[j] { self.c1(j, a) + 1.0 } else { 1.0 }) / (self.n + k + 1.0)
    }
    /// p(x_j = a | x_k = b), shrunk towards the marginal with strength beta.
    fn cond(&self, j: usize, a: u32, k: usize, b: u32, beta: f64) -> f64 {
        (self.c2(j, a, k, b) + beta * self.p1(j, a)) / (self.c1(k, b) + beta)
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut seeds = vec![42u64, 43];
    let mut datasets: Vec<String> = "bank,car,census,chess,cmc,mushroom,nursery,probe,solar,u2r".split(',').map(String::from).collect();
    let mut beta = 1.0;
    let mut data_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").to_string();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--seeds" => seeds = v.split(',').map(|s| s.parse().unwrap()).collect(),
            "--datasets" => datasets = v.split(',').map(String::from).collect(),
            "--beta" => beta = v.parse().unwrap(),
            "--data-dir" => data_dir = v,
            k => panic!("unknown option {k}"),
        }
        i += 2;
    }
    let names = ["allworst", "indep", "minpair", "pair", "parent", "top3", "top5", "zindep", "zpair", "zpairmax", "zparent"];
    for proto in ["unsup", "semi"] {
        println!("== {proto}  (AUROC / {})", if proto == "unsup" { "P@k" } else { "AP" });
        println!("{:<9}{}", "dataset", names.iter().map(|n| format!("{n:>14}")).collect::<String>());
        for name in &datasets {
            let table = read_labeled_csv(&find_dataset(Path::new(&data_dir), name).unwrap()).unwrap();
            let ss: Vec<u64> = if proto == "semi" { seeds.clone() } else { vec![seeds[0]] };
            let mut res: Vec<Vec<(f64, f64)>> = vec![Vec::new(); names.len()];
            for &seed in &ss {
                let CodedSplit { encoder: enc, fit, test, labels, .. } = coded_split(&table, proto, seed).unwrap();
                let cards = enc.block_sizes();
                let m = cards.len();
                let c = Counts::fit(&fit, &cards);
                let indep = IndepNll::fit(&fit, &cards);
                let pw = gnsm_core::frequency::PairwiseNll::fit(&fit, &cards);
                // per-column standardisation of the terms on the fit rows
                let ind_terms = |x: &[u32]| -> Vec<f64> { (0..m).map(|j| indep.column_nll(j, x[j])).collect() };
                let moments = |f: &dyn Fn(&[u32]) -> Vec<f64>| -> Vec<(f64, f64)> {
                    let rows: Vec<Vec<f64>> = (0..fit.n_rows).step_by((fit.n_rows / 5000).max(1)).map(|r| f(fit.row(r))).collect();
                    (0..m).map(|j| { let v: Vec<f64> = rows.iter().map(|r| r[j]).collect(); let (a, b) = mean_std(&v); (a, b.max(1e-3)) }).collect()
                };
                let mi = moments(&ind_terms);
                let mp = moments(&|x: &[u32]| pw.column_terms(x));
                // best parent per column: largest BIC-penalised mutual information
                let n = fit.n_rows as f64;
                let mut mutual = vec![vec![f64::MIN; m]; m];
                for j in 0..m {
                    for k in j + 1..m {
                        let mut v = 0.0;
                        for (key, &cnt) in &c.pairs[j][k].counts {
                            let (a, b) = ((key / c.pairs[j][k].kb) as u32, (key % c.pairs[j][k].kb) as u32);
                            v += cnt / n * (cnt * n / (c.c1(j, a) * c.c1(k, b))).ln();
                        }
                        let pen = ((cards[j] - 1) * (cards[k] - 1)) as f64 * n.ln() / (2.0 * n);
                        mutual[j][k] = v - pen;
                        mutual[k][j] = v - pen;
                    }
                }
                let parent: Vec<Option<usize>> = (0..m)
                    .map(|j| (0..m).filter(|&k| k != j && mutual[j][k] > 0.0).max_by(|&a, &b| mutual[j][a].total_cmp(&mutual[j][b])))
                    .collect();
                let par_terms = |x: &[u32]| -> Vec<f64> {
                    (0..m).map(|j| match parent[j] { Some(k) => -c.cond(j, x[j], k, x[k], beta).ln(), None => -c.p1(j, x[j]).ln() }).collect()
                };
                let mpar = moments(&par_terms);
                let tops = |t: usize| -> Vec<Vec<usize>> {
                    (0..m)
                        .map(|j| {
                            let mut ks: Vec<usize> = (0..m).filter(|&k| k != j && mutual[j][k] > 0.0).collect();
                            ks.sort_by(|&a, &b| mutual[j][b].total_cmp(&mutual[j][a]));
                            ks.truncate(t);
                            ks
                        })
                        .collect()
                };
                let (top3, top5) = (tops(3), tops(5));
                let worst_in = |x: &[u32], par: &Vec<Vec<usize>>| -> f64 {
                    (0..m)
                        .map(|j| {
                            par[j].iter().map(|&k| -c.cond(j, x[j], k, x[k], beta).ln()).fold(-c.p1(j, x[j]).ln(), |a: f64, b| if par[j].is_empty() { a } else { a.max(b) })
                        })
                        .sum()
                };
                let mut scores: Vec<Vec<f64>> = vec![Vec::with_capacity(test.n_rows); names.len()];
                for r in 0..test.n_rows {
                    let x = test.row(r);
                    let it = ind_terms(x);
                    let pt = pw.column_terms(x);
                    let mut minpair = f64::INFINITY;
                    for j in 0..m {
                        for k in j + 1..m {
                            minpair = minpair.min(c.c2(j, x[j], k, x[k]));
                        }
                    }
                    // per-column standardised sums (won chess, lost census and nursery; ADR 010)
                    let zi: f64 = it.iter().zip(&mi).map(|(t, (a, b))| (t - a) / b).sum();
                    let zp: f64 = pt.iter().zip(&mp).map(|(t, (a, b))| (t - a) / b).sum();
                    let zpmax = pt.iter().zip(&mp).map(|(t, (a, b))| (t - a) / b).fold(f64::MIN, f64::max);
                    let pa = par_terms(x);
                    let zpa: f64 = pa.iter().zip(&mpar).map(|(t, (a, b))| (t - a) / b).sum();
                    // the largest conditional over every other column (no parents, no floor)
                    let allworst: f64 = (0..m)
                        .map(|j| (0..m).filter(|&k| k != j).map(|k| -c.cond(j, x[j], k, x[k], beta).ln()).fold(f64::MIN, f64::max))
                        .map(|v| if v == f64::MIN { 0.0 } else { v })
                        .sum();
                    let vals = [allworst, it.iter().sum::<f64>(), -minpair, pt.iter().sum::<f64>(), pa.iter().sum::<f64>(), worst_in(x, &top3), worst_in(x, &top5), zi, zp, zpmax, zpa];
                    for (h, v) in vals.iter().enumerate() {
                        scores[h].push(*v);
                    }
                }
                for (h, s) in scores.iter().enumerate() {
                    let _ = precision_at_k(s, &labels);
                    res[h].push((auroc(s, &labels), if proto == "unsup" { precision_at_k(s, &labels) } else { average_precision(s, &labels) }));
                }
            }
            let cells: String = res
                .iter()
                .map(|v| {
                    let a = mean_std(&v.iter().map(|x| x.0).collect::<Vec<_>>()).0;
                    let p = mean_std(&v.iter().map(|x| x.1).collect::<Vec<_>>()).0;
                    format!("{:>8.1}/{:<5.1}", 100.0 * a, 100.0 * p)
                })
                .collect();
            println!("{name:<9}{cells}");
        }
    }
}
