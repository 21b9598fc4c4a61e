//! `export`: the sigmas a solver would run on (e.g. a GITS schedule) in another tool's form.

use crate::common::write;
use crate::plan::PlanArgs;
use clap::{Args, ValueEnum};
use gits_sampler::Result;
use std::path::PathBuf;

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    spec: PlanArgs,
    #[arg(long, value_enum)]
    format: ExportFormat,
    #[arg(long)]
    out: Option<PathBuf>,
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

pub fn run(a: ExportArgs) -> Result<()> {
    let sigmas = a.spec.sigmas(None)?.1;
    let positive: Vec<f64> = sigmas.iter().cloned().filter(|&s| s > 0.0).collect();
    let with_zero: Vec<f64> = positive.iter().cloned().chain([0.0]).collect();
    let text = match a.format {
        ExportFormat::Kdiffusion => serde_json::to_string(&with_zero)?,
        ExportFormat::Diffusers => serde_json::to_string(&positive)?,
        ExportFormat::Comfyui => with_zero.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
    };
    write(a.out.as_deref(), &text)
}
