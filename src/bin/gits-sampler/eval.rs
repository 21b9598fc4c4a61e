//! `eval`: judges an MNIST model per solver x schedule x NFE, on noise no search has seen, and
//! gives each cell its difference to a baseline schedule on the same noise with a paired
//! bootstrap standard error.

use crate::common::{budgets, load_model, write};
use crate::plan::PlanArgs;
use clap::Args;
use gits_sampler::classifier::{LeNet, classify};
use gits_sampler::distance::{l2_per_sample, mean};
use gits_sampler::metrics::{Frechet, paired_bootstrap};
use gits_sampler::model::{BatchModel, block_on};
use gits_sampler::plan::Plan;
use gits_sampler::solver::{SamplingSpec, Solver};
use gits_sampler::{Error, Result, bail, noise};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct EvalArgs {
    /// The card of an ONNX model (default: NAME.card.json beside it, its metadata_props, or a
    /// diffusers scheduler_config.json beside it).
    #[arg(long)]
    card: Option<PathBuf>,
    /// The MNIST model to judge: a weights file (*.gsw) or an ONNX export (*.onnx).
    #[arg(long, default_value = "models/mnist-unet.int8.gsw")]
    model: String,
    #[arg(long, default_value = "models/mnist-lenet.bpk")]
    classifier: PathBuf,
    #[arg(long, value_delimiter = ',', default_value = "ipndm")]
    solvers: Vec<Solver>,
    /// Schedules (polynomial:7, logsnr, uniform, ... or gits:FILE[@GAMMA] for one gamma of a file;
    /// a `+afs` or `+no-afs` suffix overrides the file's choice of the analytic first step).
    #[arg(long, value_delimiter = ',', default_value = "polynomial:7")]
    schedules: Vec<String>,
    /// Every other schedule is compared with this one on the same noise (same solver and NFE).
    #[arg(long, default_value = "polynomial:7")]
    baseline: String,
    /// Compare every other solver with this one instead, on the same schedule, NFE and noise
    /// (e.g. stochastic solvers beside iPNDM). A solver that cannot spend an NFE is left out there.
    #[arg(long)]
    baseline_solver: Option<Solver>,
    /// NFE budgets: A..B, N, or a comma list of them (5,6,8..10).
    #[arg(long, default_value = "10")]
    nfe: String,
    /// Generated digits per configuration (classes 0-9 in turn).
    #[arg(long, default_value_t = 1000)]
    samples: usize,
    /// Seed of the evaluation's noise stream (see `noise::eval_seed`: disjoint from the noise of
    /// any search or sampling run, whatever their seeds).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 1.0)]
    guidance: f64,
    /// NFE of the teacher (iPNDM on polynomial rho 7, the same noise).
    #[arg(long, default_value_t = gits_sampler::solver::TEACHER_NFE)]
    teacher_nfe: u32,
    /// Paired bootstrap resamples per difference.
    #[arg(long, default_value_t = 200)]
    bootstrap: usize,
    /// Digits per network batch (memory; results do not depend on it beyond f32 batching).
    #[arg(long, default_value_t = 250)]
    chunk: usize,
    #[arg(long, default_value = gits_sampler::data::mnist::DEFAULT_DIR)]
    mnist_dir: PathBuf,
    /// JSON out (also printed as a table).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// FD, class accuracy and L2 to the teacher of one set of samples.
#[derive(Clone, Copy, Serialize)]
struct Scores {
    fd: f64,
    accuracy: f64,
    l2_to_teacher: f64,
}

/// A cell minus the baseline on the same noise, each with its paired bootstrap standard error.
#[derive(Serialize)]
struct Diff {
    fd: f64,
    fd_se: f64,
    accuracy: f64,
    accuracy_se: f64,
    l2_to_teacher: f64,
    l2_to_teacher_se: f64,
}

#[derive(Serialize)]
struct Cell {
    solver: String,
    schedule: String,
    nfe: u32,
    #[serde(flatten)]
    scores: Scores,
    /// None for the baseline's own cells.
    vs_baseline: Option<Diff>,
}

#[derive(Serialize)]
struct Table {
    model: String,
    sha256: String,
    samples: usize,
    seed: u64,
    noise_seed: u64,
    guidance: f64,
    baseline: String,
    bootstrap: usize,
    teacher: Scores,
    /// The teacher's class accuracy for each class 0-9: where the model's conditioning fails.
    teacher_per_class: Vec<f64>,
    teacher_nfe: u32,
    /// FD of as many real training digits as samples against the held-out digits: the floor
    /// of FD at this sample size.
    real_fd: f64,
    /// The judge's own accuracy on the held-out real digits: the ceiling of any sample's accuracy.
    real_accuracy: f64,
    seconds: f64,
    cells: Vec<Cell>,
}

/// What a configuration's samples are judged by, kept for the bootstrap against the baseline.
struct Judged {
    features: Vec<Vec<f64>>,
    correct: Vec<f64>,
    l2: Vec<f64>,
}

impl Judged {
    fn scores(&self, fd: &Frechet, pick: Option<&[usize]>) -> Scores {
        let picked = |v: &[f64]| pick.map_or_else(|| mean(v), |p| p.iter().map(|&i| v[i]).sum::<f64>() / p.len() as f64);
        Scores { fd: fd.distance(&self.features, pick), accuracy: picked(&self.correct), l2_to_teacher: picked(&self.l2) }
    }
}

pub fn run(a: EvalArgs) -> Result<()> {
    let started = Instant::now();
    let model = load_model(&a.model, a.card.as_deref())?;
    let model_ref = model.model_ref();
    if model.spec().is_some() {
        bail!("--model must be a network: a weights file (*.gsw) or an ONNX model");
    }
    if model.dim() != 784 {
        bail!("eval judges 28x28 digits; {} has {} values per sample", a.model, model.dim());
    }
    if a.samples < 10 || a.bootstrap < 2 || a.chunk == 0 {
        bail!("--samples must be at least 10, --bootstrap at least 2 and --chunk at least 1");
    }
    gits_sampler::limits::elements(a.samples, model.dim()).map_err(|e| gits_sampler::Error(format!("--samples: {e}")))?;
    gits_sampler::limits::at_most("--bootstrap", a.bootstrap, gits_sampler::limits::MAX_BATCH)?;
    if a.baseline_solver.is_none() && !a.schedules.contains(&a.baseline) {
        bail!("--baseline {} must be one of --schedules", a.baseline);
    }
    let device = burn::prelude::Device::flex();
    let judge = LeNet::load(&a.classifier, &device)?;
    let mnist = gits_sampler::data::mnist::load(&a.mnist_dir)?;
    let (held_out_classes, held_out_features) = classify(&judge, &mnist.held_out.x, &device)?;
    let fd = Frechet::new(&held_out_features);
    let real_accuracy = mean(&hits(&held_out_classes, &mnist.held_out.labels));
    let real_fd = {
        let n = a.samples.min(mnist.train.len());
        let stride = mnist.train.len() / n;
        let x: Vec<f32> = (0..n).flat_map(|i| mnist.train.sample(i * stride).to_vec()).collect();
        fd.distance(&classify(&judge, &x, &device)?.1, None)
    };
    let noise_seed = noise::eval_seed(a.seed);
    let z = noise::standard_normal(noise_seed, a.samples, 784);
    let labels: Vec<usize> = (0..a.samples).map(|i| i % 10).collect();
    let net = model.guided(a.guidance);

    let nfes: Vec<u32> = a.nfe.split(',').map(budgets).collect::<Result<Vec<_>>>()?.into_iter().flatten().map(|n| n as u32).collect();
    let mut plans = Vec::new();
    let plan_of = |solver: &Solver, schedule: &str, nfe: u32| PlanArgs::for_eval(*solver, schedule, nfe).and_then(|p| p.on_model(&model).plan(Some(&model_ref)));
    match &a.baseline_solver {
        None => {
            for solver in &a.solvers {
                for &nfe in &nfes {
                    // The baseline first: every other schedule of this solver and NFE is compared with it.
                    for schedule in std::iter::once(&a.baseline).chain(a.schedules.iter().filter(|s| **s != a.baseline)) {
                        let plan = plan_of(solver, schedule, nfe).map_err(|e| Error(format!("{solver} on {schedule} at NFE {nfe}: {e}")))?;
                        plans.push((solver.to_string(), schedule.clone(), nfe, plan));
                    }
                }
            }
        }
        Some(base) => {
            for schedule in &a.schedules {
                for &nfe in &nfes {
                    // The baseline solver first: every other solver on this schedule and NFE is compared with it.
                    for solver in std::iter::once(base).chain(a.solvers.iter().filter(|s| *s != base)) {
                        match plan_of(solver, schedule, nfe) {
                            Ok(plan) => plans.push((solver.to_string(), schedule.clone(), nfe, plan)),
                            Err(e) if solver != base && e.0.contains("is not reachable") => eprintln!("eval: {solver} cannot spend NFE {nfe}; left out"),
                            Err(e) => bail!("{solver} on {schedule} at NFE {nfe}: {e}"),
                        }
                    }
                }
            }
        }
    }
    let teacher_plan = SamplingSpec::teacher(a.teacher_nfe, model.sigma_range().0, model.sigma_range().1).plan()?;
    let work: u64 = (a.teacher_nfe as u64 + plans.iter().map(|p| p.3.nfe as u64).sum::<u64>()) * a.samples as u64;
    let bar = ProgressBar::new(work).with_style(ProgressStyle::with_template("eval {bar:30} {percent}% of {len} digit evaluations  eta {eta}  {msg}").expect("valid template"));
    // Final samples of a plan, chunk by chunk; row i keeps class i mod 10 whatever the chunking.
    let run = |plan: &Plan| -> Result<Vec<f64>> {
        let mut x = Vec::with_capacity(z.len());
        for first in (0..a.samples).step_by(a.chunk) {
            let rows = first..(first + a.chunk).min(a.samples);
            x.extend(block_on(net.run(plan, z[rows.start * 784..rows.end * 784].to_vec(), first, noise_seed, false))?.sample);
            bar.inc(plan.nfe as u64 * rows.len() as u64);
        }
        Ok(x)
    };
    let judged = |x: &[f64], teacher: &[f64]| -> Result<Judged> {
        let images: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let (classes, features) = classify(&judge, &images, &device)?;
        Ok(Judged { features, correct: hits(&classes, &labels), l2: l2_per_sample(x, teacher, 784) })
    };

    bar.set_message(format!("teacher (iPNDM, {} NFE)", a.teacher_nfe));
    let teacher_x = run(&teacher_plan)?;
    let teacher_judged = judged(&teacher_x, &teacher_x)?;
    let teacher = teacher_judged.scores(&fd, None);
    let teacher_per_class: Vec<f64> = (0..10).map(|c| mean(&teacher_judged.correct[c..].iter().step_by(10).copied().collect::<Vec<_>>())).collect();
    // Cells are compared within a solver (across schedules) or, with --baseline-solver, within a schedule.
    let mut baselines: HashMap<(String, u32), Judged> = HashMap::new();
    let mut cells = Vec::new();
    for (solver, schedule, nfe, plan) in &plans {
        bar.set_message(format!("{solver} {schedule} NFE {nfe}"));
        let j = judged(&run(plan)?, &teacher_x)?;
        let scores = j.scores(&fd, None);
        let key = (if a.baseline_solver.is_some() { schedule.clone() } else { solver.clone() }, *nfe);
        let vs_baseline = match baselines.get(&key) {
            None => {
                baselines.insert(key, j);
                None
            }
            Some(base) => {
                let diff = |p: Option<&[usize]>| {
                    let (s, b) = (j.scores(&fd, p), base.scores(&fd, p));
                    [s.fd - b.fd, s.accuracy - b.accuracy, s.l2_to_teacher - b.l2_to_teacher]
                };
                let point = diff(None);
                let se = paired_bootstrap(a.samples, a.bootstrap, a.seed, |p| diff(Some(p)));
                Some(Diff { fd: point[0], fd_se: se[0], accuracy: point[1], accuracy_se: se[1], l2_to_teacher: point[2], l2_to_teacher_se: se[2] })
            }
        };
        let cell = Cell { solver: solver.clone(), schedule: schedule.clone(), nfe: *nfe, scores, vs_baseline };
        if bar.is_hidden() {
            eprintln!("eval: {}", cell_line(&cell));
        }
        cells.push(cell);
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!("{} digits per cell, noise seed stream {} ({noise_seed}), guidance {}", a.samples, a.seed, a.guidance);
    println!("teacher (iPNDM, {} NFE): FD {:.3}, accuracy {:.3}; {} real digits: FD {real_fd:.3}; judge on the held-out digits: accuracy {real_accuracy:.3}", a.teacher_nfe, teacher.fd, teacher.accuracy, a.samples);
    let per_class: Vec<String> = teacher_per_class.iter().enumerate().map(|(c, v)| format!("{c}: {v:.2}")).collect();
    println!("teacher accuracy by class: {}", per_class.join("  "));
    let versus = a.baseline_solver.map_or(a.baseline.clone(), |s| s.to_string());
    println!("{:<14} {:<28} {:>4} {:>8} {:>6} {:>7}   vs {versus} (± paired bootstrap SE)", "solver", "schedule", "NFE", "FD", "acc", "L2");
    for cell in &cells {
        println!("{}", cell_line(cell));
    }
    eprintln!("eval: {} configurations x {} digits in {seconds:.0} s", cells.len(), a.samples);
    let table = Table {
        model: model_ref.id,
        sha256: model_ref.sha256,
        samples: a.samples,
        seed: a.seed,
        noise_seed,
        guidance: a.guidance,
        baseline: a.baseline_solver.map_or(a.baseline, |s| format!("solver {s}")),
        bootstrap: a.bootstrap,
        teacher,
        teacher_per_class,
        teacher_nfe: a.teacher_nfe,
        real_fd,
        real_accuracy,
        seconds,
        cells,
    };
    match &a.out {
        Some(path) => write(Some(path), &serde_json::to_string_pretty(&table)?),
        None => Ok(()),
    }
}

/// 1 where the judge's class is the intended label, else 0.
fn hits(classes: &[usize], labels: &[usize]) -> Vec<f64> {
    classes.iter().zip(labels).map(|(c, l)| f64::from(u8::from(c == l))).collect()
}

fn cell_line(c: &Cell) -> String {
    let s = &c.scores;
    let diff = c.vs_baseline.as_ref().map_or(String::new(), |d| {
        format!("   FD {:+.2} ± {:.2}  acc {:+.3} ± {:.3}  L2 {:+.3} ± {:.3}", d.fd, d.fd_se, d.accuracy, d.accuracy_se, d.l2_to_teacher, d.l2_to_teacher_se)
    });
    format!("{:<14} {:<28} {:>4} {:>8.3} {:>6.3} {:>7.3}{diff}", c.solver, c.schedule, c.nfe, s.fd, s.accuracy, s.l2_to_teacher)
}
