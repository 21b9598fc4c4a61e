//! `import`: a sigma list as ComfyUI, diffusers or k-diffusion write it, as our JSON list (what
//! `--sigmas` reads) or in another export format.

use crate::common::{read, write};
use clap::Args;
use gits_sampler::Result;
use gits_sampler::schedule::SIGMA_MIN;
use gits_sampler::sigma_text::{FinalSigma, Format, export, import};
use std::io::Read;
use std::path::PathBuf;

#[derive(Args)]
pub struct ImportArgs {
    /// The text to read: a file, or - for standard input. Recognised: a list [...], a PyTorch
    /// tensor printout, diffusers' sigmas=[...] or timesteps=[...] (DDPM's 1000 steps), and
    /// numbers separated by commas or spaces (ComfyUI's ManualSigmas).
    input: PathBuf,
    /// Replace a final sigma 0 by --sigma-min (by default it is kept: a last step to sigma 0).
    #[arg(long)]
    zero_to_sigma_min: bool,
    #[arg(long, default_value_t = SIGMA_MIN)]
    sigma_min: f64,
    /// json (ours), kdiffusion, diffusers or comfyui.
    #[arg(long, default_value = "json")]
    format: Format,
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(a: ImportArgs) -> Result<()> {
    let (text, name) = if a.input.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| gits_sampler::Error(format!("cannot read standard input: {e}")))?;
        (text, "standard input".to_string())
    } else {
        (read(&a.input)?, a.input.display().to_string())
    };
    let last = if a.zero_to_sigma_min { FinalSigma::SigmaMin(a.sigma_min) } else { FinalSigma::Keep };
    let imported = import(&text, last).map_err(|e| gits_sampler::Error(format!("{name}: {e}")))?;
    let s = &imported.sigmas;
    eprintln!("import: read {}; {} sigmas, {} .. {}; {}", imported.notation, s.len(), s[0], s[s.len() - 1], imported.last);
    write(a.out.as_deref(), &export(s, a.format)?)
}
