//! `gits-sampler bench`: native sampling throughput per solver and the GITS stage timings (the
//! paper's Table 4: warmup trajectories, cost matrix, dynamic programming), as a table and JSON.

use crate::common::{load_model, seconds, write};
use clap::Args;
use gits_sampler::gits::{Search, SearchConfig};
use gits_sampler::model::block_on;
use gits_sampler::onnx::graph;
use gits_sampler::plan::{Plan, execute, execute_async};
use gits_sampler::schedule::Schedule;
use gits_sampler::solver::{SamplingSpec, Solver};
use gits_sampler::{Result, bail, noise, tensor};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct BenchArgs {
    /// The card of an ONNX model (default: NAME.card.json beside it, its metadata_props, or a
    /// diffusers scheduler_config.json beside it).
    #[arg(long)]
    card: Option<PathBuf>,
    /// The denoiser: a network weights file (*.gsw; runs on burn's flex CPU backend, as the
    /// browser's fallback does), an ONNX model (*.onnx; tract, the plan in f64) or gmm:FILE /
    /// kde:FILE (f64).
    #[arg(long, default_value = "models/mnist-unet.int8.gsw")]
    model: String,
    #[arg(long, value_delimiter = ',', default_value = "euler,heun,dpm2,ipndm,dpmpp:3,unipc:3,deis:3")]
    solvers: Vec<Solver>,
    /// Denoiser evaluations per sample (Heun and DPM-Solver-2 spend 2 per step: give an even NFE).
    #[arg(long, default_value_t = 10)]
    nfe: u32,
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Timed runs per solver, after one warm-up run; the median is reported.
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Warmup trajectories of the timed GITS search (0 skips it); grid polynomial:61, gamma 1.15.
    #[arg(long, default_value_t = 256)]
    gits_warmup: usize,
    /// JSON results out (the table goes to stderr).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(serde::Serialize)]
struct Throughput {
    solver: String,
    nfe: u32,
    batch: usize,
    median_s: f64,
    ms_per_nfe: f64,
    samples_per_s: f64,
    runs_s: Vec<f64>,
}

pub fn run(a: BenchArgs) -> Result<()> {
    if a.batch == 0 || a.reps == 0 {
        bail!("--batch and --reps must be at least 1");
    }
    let model = load_model(&a.model, a.card.as_deref())?;
    let dim = model.dim();
    gits_sampler::limits::elements(a.batch, dim).map_err(|e| gits_sampler::Error(format!("--batch: {e}")))?;
    let z = noise::standard_normal(0, a.batch, dim);
    let labels: Vec<usize> = (0..a.batch).map(|i| i % model.classes().max(1)).collect();
    let run_once: Box<dyn Fn(&Plan) -> Result<()>> = match (model.spec(), model.as_onnx()) {
        (Some(spec), _) => Box::new(|plan: &Plan| execute(plan, z.clone(), spec, false).map(|_| ())),
        (None, Some(onnx)) => {
            let den = graph::denoiser(onnx, &labels, 1.0)?;
            Box::new(move |plan: &Plan| block_on(execute_async(plan, z.clone(), &den, false, &[])).map(|_| ()))
        }
        (None, None) => {
            let den = model.denoiser(&labels, 1.0)?;
            let device = model.device().clone();
            Box::new(move |plan: &Plan| {
                let run = execute(plan, tensor::to_tensor(&z, dim, &device), &den, false)?;
                tensor::read(run.sample).map(|_| ()) // the readback waits for the work
            })
        }
    };
    let (sigma_min, sigma_max) = model.sigma_range();
    let mut rows = Vec::new();
    eprintln!("{:<12} {:>4} {:>6} {:>10} {:>10} {:>12}", "solver", "NFE", "batch", "median s", "ms/NFE", "samples/s");
    for solver in &a.solvers {
        let plan = SamplingSpec { solver: *solver, schedule: Schedule::Polynomial { rho: 7.0 }, nfe: a.nfe, sigma_min, sigma_max, to_zero: false, afs: false }.plan()?;
        run_once(&plan)?;
        let mut runs = Vec::with_capacity(a.reps);
        for _ in 0..a.reps {
            let t0 = Instant::now();
            run_once(&plan)?;
            runs.push(t0.elapsed().as_secs_f64());
        }
        let mut sorted = runs.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        let row = Throughput { solver: solver.to_string(), nfe: plan.nfe, batch: a.batch, median_s: median, ms_per_nfe: 1e3 * median / plan.nfe as f64, samples_per_s: a.batch as f64 / median, runs_s: runs };
        eprintln!("{:<12} {:>4} {:>6} {:>10.4} {:>10.2} {:>12.1}", row.solver, row.nfe, row.batch, row.median_s, row.ms_per_nfe, row.samples_per_s);
        rows.push(row);
    }
    drop(run_once); // it borrows the model the search takes
    let gits = if a.gits_warmup > 0 {
        let config = SearchConfig {
            teacher: "ipndm".parse()?,
            grid_schedule: Schedule::Polynomial { rho: 7.0 },
            grid_points: 61,
            warmup: a.gits_warmup,
            seed: 0,
            metric: "l2".parse()?,
            gammas: vec![1.15],
            min_steps: 3,
            max_steps: 10,
            sigma_min,
            sigma_max,
            afs_student: None,
            propagation: None,
            refine: None,
            optimal_steps: None,
        };
        eprintln!("GITS: {} warmup trajectories on a 61-point grid...", a.gits_warmup);
        let id = model.model_ref();
        let mut search = Search::new(config, model, id, seconds)?;
        while !block_on(search.step())? {}
        let t = block_on(search.finish())?.timing;
        eprintln!("GITS: warmup {:.3} s, cost matrix {:.3} s, dynamic programming {:.5} s", t.warmup_s, t.cost_matrix_s, t.dp_s);
        Some(t)
    } else {
        None
    };
    let json = serde_json::json!({ "model": a.model, "threads": cpu_threads(), "sampling": rows, "gits": gits });
    match &a.out {
        Some(_) => write(a.out.as_deref(), &serde_json::to_string_pretty(&json)?),
        None => Ok(()),
    }
}

/// The CPU threads this machine offers (rayon, under burn flex, sizes its pool by them).
fn cpu_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
