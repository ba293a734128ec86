//! Speed benchmark of the core: the machine's own SGEMM peak (measured in the same run), training
//! throughput and achieved GFLOP/s at 1 and 2 threads, and batch scoring throughput.
//!
//! cargo run --release -p gnsm-eval --example bench [--features bench-gemm] -- [--json FILE] [--train-only | --score-only]
//!
//! `--train-only` measures just the training step of the default shape (W=256, B=4, batch 512)
//! at 1 and 2 threads (plus the SGEMM peak it is compared with): no per-shape GEMM lines, no
//! 128x2 shape, no scoring. bench/python/torch_step.py uses it to time gnsm next to PyTorch.
//! `--score-only` skips the training steps (the scoring model is still trained, for 30 steps).
//! `--gelu-ab` also scores the same rows with the network's GELU switched to the f64 erf of
//! formats 1-7, interleaved with the f32 one, three rounds at 1 thread (ADR 014).
//!
//! With `--features bench-gemm` it also times the `gemm` crate on the network's shapes next to
//! matrixmultiply (ndarray's backend), which is how the GEMM backend was chosen.

use gnsm_core::encoding::{CodedTable, TableBuilder};
use gnsm_core::kernels::{gemm, simd_features};
use gnsm_core::model::Model;
use gnsm_core::net::tabular::NetConfig;
use gnsm_core::relax::LEVELS;
use gnsm_core::train::{build_pool, train_network, Hooks, TrainConfig};
use ndarray::Array2;
use std::time::Instant;

/// GFLOP/s of `c = a @ b` for an m x k x n product, best of `reps` timed runs.
fn sgemm_gflops(m: usize, k: usize, n: usize, reps: usize) -> f64 {
    let a = Array2::<f32>::from_shape_fn((m, k), |(i, j)| ((i * 7 + j * 3) % 13) as f32 * 0.01);
    let b = Array2::<f32>::from_shape_fn((k, n), |(i, j)| ((i * 5 + j) % 11) as f32 * 0.01);
    let mut c = Array2::<f32>::zeros((m, n));
    gemm(1.0, &a.view(), &b.view(), 0.0, &mut c.view_mut());
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let t = Instant::now();
        gemm(1.0, &a.view(), &b.view(), 0.0, &mut c.view_mut());
        best = best.min(t.elapsed().as_secs_f64());
    }
    2.0 * (m * k * n) as f64 / best / 1e9
}

/// Peak of `threads` cores running the large SGEMM at once (matrixmultiply is single-threaded here).
fn peak_gflops(threads: usize) -> f64 {
    let handles: Vec<_> = (0..threads).map(|_| std::thread::spawn(|| sgemm_gflops(1024, 1024, 1024, 5))).collect();
    handles.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
}

/// The `gemm` crate on the same product, for the backend comparison.
#[cfg(feature = "bench-gemm")]
fn gemm_crate_gflops(m: usize, k: usize, n: usize, reps: usize) -> f64 {
    let a = vec![0.5f32; m * k];
    let b = vec![0.25f32; k * n];
    let mut c = vec![0.0f32; m * n];
    let run = |c: &mut [f32]| unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    };
    run(&mut c);
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let t = Instant::now();
        run(&mut c);
        best = best.min(t.elapsed().as_secs_f64());
    }
    2.0 * (m * k * n) as f64 / best / 1e9
}

/// A synthetic coded table: `cols` columns of `k` categories with a dependency, `n` rows.
fn synthetic(n: usize, cols: usize, k: usize) -> (gnsm_core::encoding::Encoder, CodedTable) {
    let names: Vec<String> = (0..cols).map(|j| format!("c{j}")).collect();
    let mut b = TableBuilder::new(names, 1000);
    let mut state = 12345u64;
    for _ in 0..n {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let base = (state >> 33) as usize;
        let row: Vec<String> = (0..cols).map(|j| format!("v{}", (base / (j + 1) + j * (base % 3)) % k)).collect();
        let refs: Vec<Option<&str>> = row.iter().map(|s| Some(s.as_str())).collect();
        b.push_row(&refs).expect("synthetic row");
    }
    b.finish().expect("synthetic table")
}

fn main() {
    let json_path = std::env::args().skip_while(|a| a != "--json").nth(1);
    let train_only = std::env::args().any(|a| a == "--train-only");
    // --score-only skips the training steps (for profiling the scoring path alone)
    let score_only = std::env::args().any(|a| a == "--score-only");
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("machine: {} cores, simd: {}", cores, simd_features().join(", "));
    let peak1 = peak_gflops(1);
    let peak2 = peak_gflops(2.min(cores));
    println!("SGEMM peak (matrixmultiply, 1024^3): 1 thread {peak1:.1} GFLOP/s, 2 threads {peak2:.1} GFLOP/s");
    // the shapes of one training step at width 256, batch 256 per thread
    let shapes = [(256usize, 256usize, 256usize), (256, 60, 256), (256, 256, 60)];
    for &(m, k, n) in shapes.iter().filter(|_| !train_only) {
        print!("  shape {m}x{k}x{n}: matrixmultiply {:.1} GFLOP/s", sgemm_gflops(m, k, n, 50));
        #[cfg(feature = "bench-gemm")]
        print!(", gemm crate {:.1} GFLOP/s", gemm_crate_gflops(m, k, n, 50));
        println!();
    }

    let (encoder, table) = synthetic(20_000, 6, 10);
    let d = encoder.input_dim();
    let mut rows_json = Vec::new();
    let shapes_trained: &[(usize, usize)] = if train_only { &[(256, 4)] } else { &[(256, 4), (128, 2)] };
    for &(width, depth) in shapes_trained.iter().filter(|_| !score_only) {
        let net = NetConfig { input_dim: d, width, depth, levels: LEVELS };
        let fwd = net.forward_flops_per_row();
        for threads in [1usize, 2] {
            let steps = 60;
            let config = TrainConfig {
                width,
                depth,
                steps,
                max_seconds: 1e9,
                batch_size: 512,
                threads,
                evals: 1,
                max_val_rows: 32,
                ..TrainConfig::default()
            };
            let pool = build_pool(threads).expect("pool");
            let t = Instant::now();
            let (_net, report) = Hooks::silent(|h| train_network(&encoder, &table, &config, 0.0, &pool, h)).expect("train");
            let secs = t.elapsed().as_secs_f64();
            // forward + backward ~ 3x the forward FLOPs (two GEMMs per forward GEMM in backward)
            let gflops = 3.0 * fwd * (steps * config.batch_size) as f64 / secs / 1e9;
            let peak = if threads == 1 { peak1 } else { peak2 };
            println!(
                "train W={width} B={depth} D={d} batch 512, {threads} thread(s): {:.1} ms/step, {:.0} rows*steps/s, {gflops:.1} GFLOP/s = {:.0}% of peak",
                1e3 * secs / report.steps as f64,
                (report.steps * 512) as f64 / secs,
                100.0 * gflops / peak
            );
            rows_json.push(format!(
                "{{\"kind\":\"train\",\"width\":{width},\"depth\":{depth},\"input_dim\":{d},\"threads\":{threads},\"ms_per_step\":{:.3},\"rows_steps_per_s\":{:.1},\"gflops\":{gflops:.2},\"peak_gflops\":{peak:.2}}}",
                1e3 * secs / report.steps as f64,
                (report.steps * 512) as f64 / secs
            ));
        }
    }
    if train_only {
        write_json(json_path.as_deref(), cores, peak1, peak2, &rows_json);
        return;
    }
    // scoring: a small trained model, 5,000 distinct rows (the memo would hide repeated ones)
    let config = TrainConfig { steps: 30, threads: 2, max_head_rows: 2000, ..TrainConfig::default() };
    let pool = build_pool(2).expect("pool");
    let model = Hooks::silent(|h| Model::fit_coded(encoder.clone(), &table, &config, &pool, h)).expect("fit");
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<usize> = (0..table.n_rows).filter(|&i| seen.insert(table.row(i).to_vec())).take(5000).collect();
    let sample = table.select(&distinct);
    let per_row = model.features.forwards_per_row() as f64 * model.features.network.config.forward_flops_per_row();
    // rows scored, rows/s and GFLOP/s of one timed pass of `m` over the sample on `threads`
    let time_scoring = |m: &Model, threads: usize| {
        let p = build_pool(threads).expect("pool");
        let t = Instant::now();
        let n = m.score_table(&sample, Some(&p)).expect("score").len();
        let secs = t.elapsed().as_secs_f64();
        (n, n as f64 / secs, per_row * n as f64 / secs / 1e9)
    };
    for threads in [1usize, 2] {
        let (n, rate, gflops) = time_scoring(&model, threads);
        let peak = if threads == 1 { peak1 } else { peak2 };
        println!(
            "score W=256 B=4, {n} distinct rows, {} forward passes/row, {threads} thread(s): {rate:.0} rows/s, {:.1} MFLOP/row, {gflops:.1} GFLOP/s = {:.0}% of peak",
            model.features.forwards_per_row(),
            per_row / 1e6,
            100.0 * gflops / peak
        );
        rows_json.push(format!(
            "{{\"kind\":\"score\",\"threads\":{threads},\"rows\":{n},\"rows_per_s\":{rate:.1},\"mflop_per_row\":{:.2},\"gflops\":{gflops:.2},\"peak_gflops\":{peak:.2}}}",
            per_row / 1e6
        ));
    }
    // --gelu-ab: the same network scored with either GELU, interleaved (ADR 014), 1 thread
    if std::env::args().any(|a| a == "--gelu-ab") {
        let mut old = model.clone();
        old.features.network.gelu = gnsm_core::net::tabular::Gelu::ErfF64;
        for round in 1..=3 {
            for (label, m) in [("f32 erf (format 8)", &model), ("f64 erf (formats 1-7)", &old)] {
                let (_, rate, gflops) = time_scoring(m, 1);
                println!("gelu A/B round {round}, {label}, 1 thread: {rate:.0} rows/s, {gflops:.1} GFLOP/s = {:.0}% of peak", 100.0 * gflops / peak1);
                rows_json.push(format!(
                    "{{\"kind\":\"gelu_ab\",\"gelu\":\"{label}\",\"round\":{round},\"threads\":1,\"rows_per_s\":{rate:.1},\"gflops\":{gflops:.2},\"peak_gflops\":{peak1:.2}}}"
                ));
            }
        }
    }
    write_json(json_path.as_deref(), cores, peak1, peak2, &rows_json);
}

/// Writes the machine facts and the measured rows to `path` (when given).
fn write_json(path: Option<&str>, cores: usize, peak1: f64, peak2: f64, rows_json: &[String]) {
    if let Some(path) = path {
        let body = format!(
            "{{\"cores\":{cores},\"peak_gflops_1\":{peak1:.2},\"peak_gflops_2\":{peak2:.2},\"runs\":[\n{}\n]}}\n",
            rows_json.join(",\n")
        );
        std::fs::write(path, body).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}
