//! `inspect`: an ONNX model's declared inputs and outputs, its metadata, and what its card
//! makes of them (which input gets what, the parameterization, the sigma range, the scalings),
//! then whether tract can run it.

use clap::Args;
use gits_sampler::onnx::binding::{Binding, NoiseLayout, TensorDecl};
use gits_sampler::onnx::OnnxModel;
use gits_sampler::onnx::runtime::{read_file, read_interface};
use gits_sampler::onnx::{Family, card::ClassEncoding};
use gits_sampler::{Error, Result};
use std::path::PathBuf;

#[derive(Args)]
pub struct InspectArgs {
    /// An ONNX model (*.onnx).
    model: PathBuf,
    /// Its card (default: NAME.card.json beside it, its metadata_props, or a diffusers
    /// scheduler_config.json beside it).
    #[arg(long)]
    card: Option<PathBuf>,
}

pub fn run(a: InspectArgs) -> Result<()> {
    let bytes = read_file(&a.model)?;
    let (sig, metadata) = read_interface(&bytes).map_err(|e| Error(format!("{}: {e}", a.model.display())))?;
    let decl = |t: &TensorDecl| format!("  {:<24} {:<8} {}", t.name, t.dtype.name(), t.shape_text());
    println!("{} ({} bytes, sha256 {})", a.model.display(), bytes.len(), gits_sampler::hash::sha256_hex(&bytes));
    println!("inputs:");
    sig.inputs.iter().for_each(|t| println!("{}", decl(t)));
    println!("outputs:");
    sig.outputs.iter().for_each(|t| println!("{}", decl(t)));
    if !metadata.is_empty() {
        let keys: Vec<&str> = metadata.iter().map(|(k, _)| k.as_str()).collect();
        println!("metadata_props: {}", keys.join(", "));
    }
    let (onnx, _) = OnnxModel::open_bytes(&a.model, &bytes, a.card.as_deref())?;
    println!("card: {}", onnx.card_source);
    describe(&onnx.binding);
    println!("tract: ready");
    Ok(())
}

fn describe(b: &Binding) {
    let batch = b.batch.map_or("any batch".to_string(), |n| format!("batch fixed at {n} (larger batches run in chunks)"));
    println!("  sample   \"{}\": one sample {:?} ({} values), {batch}", b.sample, b.sample_shape, b.dim());
    let layout = match b.noise_layout {
        NoiseLayout::Scalar => "one scalar per call",
        NoiseLayout::One => "[1] per call",
        NoiseLayout::Row => "one per row",
        NoiseLayout::RowColumn => "one per row, [batch, 1]",
    };
    let quantized = match (&b.schedule.family, b.adapter.quantize) {
        (Family::Vp(_), true) => ", rounded to the nearest training timestep",
        (_, true) => ", rounded to an integer",
        _ => "",
    };
    println!("  noise    \"{}\": {} ({layout}, {}{quantized})", b.noise, b.adapter.noise, b.noise_dtype.name());
    if let Some(c) = &b.class {
        let enc = match c.encoding {
            ClassEncoding::Index => "indices".to_string(),
            ClassEncoding::OneHot => format!("one-hot, {} columns", c.columns),
        };
        let null = c.null.map_or("no null label (no guidance)".to_string(), |n| format!("null label {n}"));
        println!("  class    \"{}\": {} classes, {enc}, {null}", c.input, c.classes);
    }
    println!("  output   \"{}\": {}", b.output, b.adapter.parameterization);
    let family = match &b.schedule.family {
        Family::Edm => "edm (variance exploding)".to_string(),
        Family::Vp(vp) => format!("discrete vp, {} timesteps", vp.len()),
        Family::Flow { shift, timesteps } => format!("flow matching, shift {shift}, {timesteps} timesteps"),
    };
    println!("  schedule {family}; sampling runs over sigma {} .. {}", b.schedule.sigma_min, b.schedule.sigma_max);
    println!("  D(x; sigma) = c_skip x + c_out y(c_in x, noise input):");
    let (lo, hi) = (b.schedule.sigma_min, b.schedule.sigma_max);
    for sigma in [hi, (lo * hi).sqrt(), lo] {
        let s = b.adapter.scalings(sigma);
        println!("    sigma {sigma:<10.4}  c_in {:<10.6}  c_skip {:<10.6}  c_out {:<11.6}  noise input {:.6}", s.c_in, s.c_skip, s.c_out, s.c_noise);
    }
}

