//! `export`: the sigmas a solver would run on (e.g. a GITS schedule) in another tool's form.

use crate::common::{load_model, write};
use crate::plan::PlanArgs;
use clap::Args;
use gits_sampler::Result;
use gits_sampler::onnx::{Family, Graph};
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
    /// The model the schedule is for: its sigma range is the default, a GITS file must name it,
    /// and for a flow-matching ONNX model the kdiffusion, diffusers and comfyui forms are written
    /// in its own time t = sigma / (1 + sigma), which those tools call its sigma.
    #[arg(long)]
    model: Option<String>,
    /// The card of an ONNX --model (default: as `sample` finds it).
    #[arg(long, requires = "model")]
    card: Option<PathBuf>,
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(a: ExportArgs) -> Result<()> {
    let Some(arg) = &a.model else { return write(a.out.as_deref(), &export(&a.spec.schedule_sigmas(None)?, a.format)?) };
    let model = load_model(arg, a.card.as_deref())?;
    let mut sigmas = a.spec.on_model(&model).schedule_sigmas(Some(&model.model_ref()))?;
    let flow = model.as_onnx().is_some_and(|m| matches!(m.binding().schedule.family, Family::Flow { .. }));
    if flow && a.format != Format::Json {
        sigmas.iter_mut().for_each(|s| *s /= 1.0 + *s);
        eprintln!("export: {arg} is a flow-matching model: written as its time t = sigma / (1 + sigma)");
    }
    write(a.out.as_deref(), &export(&sigmas, a.format)?)
}
