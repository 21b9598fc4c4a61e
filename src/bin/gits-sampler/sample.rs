//! `sample`: run a plan on a model; write the samples and the trajectory as JSON (and a PNG
//! grid for image models).

use crate::common::{labels, load_model, read, write};
use crate::plan::PlanArgs;
use clap::{Args, ValueEnum};
use gits_sampler::io::{Rows, SampleOutput, flatten};
use gits_sampler::model::block_on;
use gits_sampler::output::write_atomic;
use gits_sampler::plan::{Plan, execute_seeded};
use gits_sampler::{Error, Result, bail, noise, tensor};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct SampleArgs {
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
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Backend {
    F64,
    Flex,
}

pub fn run(a: SampleArgs) -> Result<()> {
    let model = load_model(&a.denoiser)?;
    let dim = model.dim();
    let plan = match &a.plan {
        Some(path) => Plan::from_json(&read(path)?).map_err(|e| Error(format!("{}: {e}", path.display())))?,
        None => a.spec.plan(Some(&model.model_ref()))?,
    };
    let z = match &a.noise {
        Some(path) => {
            let rows: Rows = serde_json::from_str(&read(path)?).map_err(|e| Error(format!("{}: {e}", path.display())))?;
            let (z, noise_dim) = flatten(&rows).map_err(|e| Error(format!("{}: {e}", path.display())))?;
            if noise_dim != dim {
                bail!("{}: noise has dimension {noise_dim}, the denoiser {dim}", path.display());
            }
            z
        }
        None => {
            if a.batch == 0 {
                bail!("--batch must be at least 1");
            }
            gits_sampler::limits::elements(a.batch, dim).map_err(|e| Error(format!("--batch: {e}")))?;
            noise::standard_normal(a.seed, a.batch, dim)
        }
    };
    let run = match (model.spec(), a.backend) {
        (Some(spec), Backend::F64) => execute_seeded(&plan, z, spec, true, a.seed)?,
        (None, Backend::F64) => bail!("trained networks run on burn tensors: pass --backend flex"),
        (_, Backend::Flex) => {
            let labels = if model.spec().is_some() { Vec::new() } else { labels(&a.class, z.len() / dim, model.classes())? };
            let den = model.denoiser(&labels, a.guidance)?;
            block_on(tensor::read_run(execute_seeded(&plan, tensor::to_tensor(&z, dim, model.device()), &den, true, a.seed)?))?
        }
    };
    let result = SampleOutput::new(&plan, &run, dim);
    eprintln!("{}: {} samples, NFE {}", plan.solver, result.samples.len(), result.nfe);
    if let Some(path) = &a.png {
        let side = (dim as f64).sqrt() as usize;
        if side * side != dim || side < 4 {
            bail!("--png needs square image samples; these have {dim} values");
        }
        write_png(path, &result.samples, side)?;
    }
    write(a.out.as_deref(), &serde_json::to_string(&result)?)
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
