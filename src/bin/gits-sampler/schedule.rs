//! `schedule`: print or save a sigma schedule as a JSON list.

use crate::common::{Range, read, write};
use clap::Args;
use gits_sampler::schedule::{Schedule, resample_loglinear, validate_sigmas};
use gits_sampler::vp_discrete::DiscreteVp;
use gits_sampler::{Error, Result};
use std::path::PathBuf;

#[derive(Args)]
pub struct ScheduleArgs {
    /// polynomial[:rho], logsnr, uniform, quadratic, time_uniform[:rho_t], uniform_sigma,
    /// kl_optimal, flow_shift[:s], flow_shift_mu:mu; ComfyUI's simple, sgm_uniform, normal,
    /// ddim_uniform, beta[:alpha[:beta]], linear_quadratic (on a continuous model's 1000-sigma
    /// table over the range), ays[:sd1|sdxl|svd] (these end at 0: docs/schedules.md)
    #[arg(long, default_value = "polynomial:7")]
    kind: Schedule,
    /// Number of steps (the list has steps + 1 sigmas; ComfyUI's ddim_uniform and beta may give
    /// another count, as there).
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
}

pub fn run(a: ScheduleArgs) -> Result<()> {
    let sigmas = match (a.timesteps, a.from, a.steps) {
        (Some(ts), _, _) => DiscreteVp::ddpm().sigmas_of(&ts).and_then(|s| validate_sigmas(&s).map(|_| s)),
        (None, Some(path), Some(n)) => {
            let list: Vec<f64> = serde_json::from_str(&read(&path)?).map_err(|e| Error(format!("{}: {e}", path.display())))?;
            resample_loglinear(&list, n).map_err(|e| format!("{}: {e}", path.display()))
        }
        (None, None, Some(n)) => { let (lo, hi) = a.range.or(None); a.kind.sigmas(n, lo, hi) },
        (None, _, None) => unreachable!("clap requires --steps without --timesteps"),
    }
    .map_err(Error)?;
    write(a.out.as_deref(), &serde_json::to_string(&sigmas)?)
}
