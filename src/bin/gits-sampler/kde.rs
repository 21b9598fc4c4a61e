//! `kde`: N points of a 2-D toy set as a KDE denoiser (the exact denoiser of those points).

use crate::common::write;
use clap::Args;
use gits_sampler::denoiser::{DenoiserSpec, Kde};
use gits_sampler::{Result, bail};
use std::path::PathBuf;

#[derive(Args)]
pub struct KdeArgs {
    /// moons, swiss_roll, eight_gaussians or checkerboard.
    #[arg(long)]
    set: String,
    #[arg(long, default_value_t = 512)]
    n: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(a: KdeArgs) -> Result<()> {
    if a.n == 0 {
        bail!("--n must be at least 1");
    }
    // A KDE denoiser holds at most MAX_POINTS points: refuse more before generating them.
    gits_sampler::limits::at_most("--n", a.n, gits_sampler::limits::MAX_POINTS)?;
    let data = gits_sampler::data::toy::generate(&a.set, a.n, a.seed)?;
    // Four decimals: the sets' noise is 0.02-0.03, and the file stays small.
    let points = data.x.chunks(2).map(|p| p.iter().map(|&v| (f64::from(v) * 1e4).round() / 1e4).collect()).collect();
    write(a.out.as_deref(), &serde_json::to_string(&DenoiserSpec::Kde(Kde { points }))?)
}
