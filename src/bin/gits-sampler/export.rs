//! `export`: the sigmas a solver would run on (e.g. a GITS schedule) in another tool's form.

use crate::common::write;
use crate::plan::PlanArgs;
use clap::Args;
use gits_sampler::Result;
use gits_sampler::sigma_text::{Format, export};
use std::path::PathBuf;

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    spec: PlanArgs,
    /// json (ours: the sigmas as they are), kdiffusion (a list ending in 0), diffusers (without
    /// the final 0: the scheduler appends its own) or comfyui (comma-separated, ending in 0).
    #[arg(long)]
    format: Format,
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(a: ExportArgs) -> Result<()> {
    write(a.out.as_deref(), &export(&a.spec.schedule_sigmas()?, a.format)?)
}
