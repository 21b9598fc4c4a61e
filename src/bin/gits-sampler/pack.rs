//! `pack`: write a training checkpoint's EMA weights, or re-pack an existing weights file, as
//! a weights file (f32 or int8).

use crate::common::read_weights;
use clap::{ArgGroup, Args, ValueEnum};
use gits_sampler::denoiser::weights::{self, ModelInfo, Precision};
use gits_sampler::output::write_atomic;
use gits_sampler::schedule::{SIGMA_MAX, SIGMA_MIN};
use gits_sampler::Result;
use std::path::PathBuf;

#[derive(Args)]
#[command(group = ArgGroup::new("source").required(true).args(["checkpoint", "weights"]))]
pub struct PackArgs {
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
}

#[derive(Clone, Copy, ValueEnum)]
enum PackPrecision {
    F32,
    Int8,
}

pub fn run(a: PackArgs) -> Result<()> {
    let (info, net) = match (&a.checkpoint, &a.weights) {
        (Some(dir), None) => {
            let (config, step, net) = gits_sampler::train::load_ema(dir)?;
            let classes = (0..config.architecture.classes()).map(|c| c.to_string()).collect();
            let info = ModelInfo {
                name: a.name.clone(),
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
        (None, Some(file)) => {
            let w = read_weights(file)?;
            let net = w.to_network(&burn::prelude::Device::flex())?;
            (ModelInfo { name: a.name.clone(), ..w.manifest.model }, net)
        }
        _ => unreachable!("clap requires exactly one of --checkpoint and --weights"),
    };
    let precision = match a.precision {
        PackPrecision::F32 => Precision::F32,
        PackPrecision::Int8 => Precision::Int8,
    };
    let bytes = weights::encode(info, &net, precision)?;
    write_atomic(&a.out, &bytes)?;
    eprintln!("pack: {} ({} bytes, {precision:?})", a.out.display(), bytes.len());
    Ok(())
}
