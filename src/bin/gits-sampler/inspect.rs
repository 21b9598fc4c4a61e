//! `inspect`: an ONNX model's declared inputs and outputs, its metadata, and what its card
//! makes of them (which input gets what, the parameterization, the sigma range, the scalings),
//! then whether tract can run it.

use clap::Args;
use gits_sampler::onnx::binding::TensorDecl;
use gits_sampler::onnx::OnnxModel;
use gits_sampler::onnx::runtime::{read_file, read_interface};
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
    onnx.binding.describe().iter().for_each(|line| println!("  {line}"));
    println!("tract: ready");
    Ok(())
}
