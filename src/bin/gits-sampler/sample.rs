//! `sample`: run a plan on a model; write the samples and the trajectory as JSON (and a PNG
//! grid for image models).

use crate::common::{labels, load_model, read, write};
use crate::plan::PlanArgs;
use clap::{Args, ValueEnum};
use gits_sampler::io::{SampleOutput, parse_batch};
use gits_sampler::model::block_on;
use gits_sampler::output::write_atomic;
use gits_sampler::onnx::graph;
use gits_sampler::plan::{Plan, execute_async, execute_seeded};
use gits_sampler::{Error, Result, bail, limits, noise, tensor};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct SampleArgs {
    /// The card of an ONNX model (default: NAME.card.json beside it, its metadata_props, or a
    /// diffusers scheduler_config.json beside it).
    #[arg(long)]
    card: Option<PathBuf>,
    /// A plan file; otherwise one is compiled from --solver/--schedule/--nfe.
    #[arg(long, conflicts_with_all = ["solver", "sigmas"])]
    plan: Option<PathBuf>,
    #[command(flatten)]
    spec: PlanArgs,
    /// gmm:FILE.json, kde:FILE.json (or a JSON file whose "kind" says which), a trained
    /// network's weights file (*.gsw), or an ONNX model (*.onnx, with its card).
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
    /// Seed of the starting noise (unless --noise) and of stochastic solvers' step noise: sample i
    /// draws its step noise from (seed, i) alone, the same at any --batch.
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
    let model = load_model(&a.denoiser, a.card.as_deref())?;
    let dim = model.dim();
    let plan = match &a.plan {
        Some(path) => Plan::from_json(&read(path)?).map_err(|e| Error(format!("{}: {e}", path.display())))?,
        None => a.spec.on_model(&model).plan(Some(&model.model_ref()))?,
    };
    let z = match &a.noise {
        Some(path) => {
            let (z, noise_dim) = parse_batch(&read(path)?).map_err(|e| Error(format!("{}: {e}", path.display())))?;
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
    let seeds = noise::sample_seeds(a.seed, 0..(z.len() / dim) as u64);
    let run = match (model.spec(), a.backend) {
        (Some(spec), Backend::F64) => execute_seeded(&plan, z, spec, true, &seeds)?,
        (None, Backend::F64) => match model.as_onnx() {
            Some(onnx) => {
                let labels = labels(&a.class, z.len() / dim, model.classes())?;
                block_on(execute_async(&plan, z, &graph::denoiser(onnx, &labels, a.guidance)?, true, &seeds))?
            }
            None => bail!("trained networks run on burn tensors: pass --backend flex"),
        },
        (_, Backend::Flex) => {
            let labels = if model.spec().is_some() { Vec::new() } else { labels(&a.class, z.len() / dim, model.classes())? };
            let den = model.denoiser(&labels, a.guidance)?;
            block_on(tensor::read_run(execute_seeded(&plan, tensor::to_tensor(&z, dim, model.device()), &den, true, &seeds)?))?
        }
    };
    let result = SampleOutput::new(&plan, &run, dim).with_step_noise(&plan, &seeds, dim);
    eprintln!("{}: {} samples, NFE {}", plan.solver, result.samples.len(), result.nfe);
    if let Some(path) = &a.png {
        write_png(path, &result.samples, &model.sample_shape(), model.data_range())?;
    }
    write(a.out.as_deref(), &serde_json::to_string(&result)?)
}

/// Image samples ([1, H, W] grey, [3, H, W] colour, or a square number of values) as a PNG
/// grid, about square, 2-pixel gaps; `range` maps to black..white.
fn write_png(path: &Path, samples: &[Vec<f64>], shape: &[usize], range: [f64; 2]) -> Result<()> {
    let dim: usize = shape.iter().product();
    let side = (dim as f64).sqrt() as usize;
    let (channels, h, w) = match *shape {
        [c @ (1 | 3), h, w] if h >= 4 && w >= 4 => (c, h, w),
        [_] if side * side == dim && side >= 4 => (1, side, side),
        _ => bail!("--png needs image samples ([1 or 3, H, W] or a square of values); these have shape {shape:?}"),
    };
    let cols = (samples.len() as f64).sqrt().ceil() as usize;
    let rows = samples.len().div_ceil(cols);
    let (gw, gh) = (cols * (w + 2) + 2, rows * (h + 2) + 2);
    limits::product("--png image", &[gw, gh, channels], 1 << 28)?;
    let mut pixels = vec![0u8; gw * gh * channels];
    let scale = 255.0 / (range[1] - range[0]);
    for (n, sample) in samples.iter().enumerate() {
        let (x0, y0) = (2 + (n % cols) * (w + 2), 2 + (n / cols) * (h + 2));
        for c in 0..channels {
            for i in 0..h * w {
                let v = ((sample[c * h * w + i] - range[0]) * scale).round().clamp(0.0, 255.0) as u8;
                pixels[((y0 + i / w) * gw + x0 + i % w) * channels + c] = v;
            }
        }
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, gw as u32, gh as u32);
    encoder.set_color(if channels == 3 { png::ColorType::Rgb } else { png::ColorType::Grayscale });
    let err = |e: png::EncodingError| Error(format!("cannot encode {}: {e}", path.display()));
    encoder.write_header().map_err(err)?.write_image_data(&pixels).map_err(err)?;
    write_atomic(path, &bytes)
}
