//! What the subcommands share: reading inputs, writing outputs, the sigma range flags, loading
//! a model, the class of each row, step budgets and the search clock.

use clap::Args;
use gits_sampler::denoiser::DenoiserSpec;
use gits_sampler::denoiser::weights::{self, Weights};
use gits_sampler::hash::sha256_hex;
use gits_sampler::model::Model;
use gits_sampler::output::write_atomic;
use gits_sampler::schedule::{SIGMA_MAX, SIGMA_MIN};
use gits_sampler::{Error, Result, bail};
use std::path::Path;
use std::time::Instant;

/// A text file, refused unread when it is larger than any input the product takes (a noise batch
/// at the limit of 2^26 numbers is about 1.6 GB of JSON).
pub fn read(path: &Path) -> Result<String> {
    const MAX_BYTES: u64 = 2 << 30;
    let size = std::fs::metadata(path).map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?.len();
    if size > MAX_BYTES {
        bail!("{}: {size} bytes is above the limit of {MAX_BYTES} for an input file", path.display());
    }
    std::fs::read_to_string(path).map_err(|e| Error(format!("cannot read {}: {e}", path.display())))
}

/// Writes to `out`, or to stdout without one.
pub fn write(out: Option<&Path>, text: &str) -> Result<()> {
    match out {
        Some(path) => write_atomic(path, text.as_bytes()),
        None => {
            use std::io::Write;
            // A reader that stops early (`| head`) is not an error.
            match writeln!(std::io::stdout().lock(), "{text}") {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error(format!("cannot write to stdout: {e}"))),
                _ => Ok(()),
            }
        }
    }
}

/// The sigma range flags; without them, the model's range (0.002 .. 80 without a model).
#[derive(Args, Clone, Copy)]
pub struct Range {
    #[arg(long)]
    pub sigma_min: Option<f64>,
    #[arg(long)]
    pub sigma_max: Option<f64>,
}

impl Range {
    /// The flags' values, else `default`'s.
    pub fn or(&self, default: Option<(f64, f64)>) -> (f64, f64) {
        let (lo, hi) = default.unwrap_or((SIGMA_MIN, SIGMA_MAX));
        (self.sigma_min.unwrap_or(lo), self.sigma_max.unwrap_or(hi))
    }
}

/// A weights file (*.gsw), checked.
pub fn read_weights(path: &Path) -> Result<Weights> {
    let bytes = std::fs::read(path).map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
    weights::decode(&bytes).map_err(|e| Error(format!("{}: {e}", path.display())))
}

/// A model from the command line, on the CPU (burn flex): an ONNX file (*.onnx, with its card:
/// `card`, else as `OnnxModel::open` finds it), a weights file (it starts with the weights magic,
/// e.g. *.gsw), or an analytic denoiser `gmm:FILE`, `kde:FILE` or `FILE` (whose "kind" field
/// decides). Its sha256 is that of the file's bytes.
pub fn load_model(arg: &str, card: Option<&Path>) -> Result<Model> {
    let device = burn::prelude::Device::flex();
    if arg.ends_with(".onnx") {
        let (model, sha256) = gits_sampler::onnx::OnnxModel::open(Path::new(arg), card)?;
        return Ok(Model::onnx(arg, sha256, model, &device));
    }
    if card.is_some() {
        bail!("--card describes an ONNX model; {arg} is not one (*.onnx)");
    }
    let (kind, path) = match arg.split_once(':') {
        Some((k @ ("gmm" | "kde"), p)) => (Some(k), p),
        _ => (None, arg),
    };
    let bytes = std::fs::read(path).map_err(|e| Error(format!("cannot read {path}: {e}")))?;
    let Some(kind) = kind else { return Model::from_bytes(arg, &bytes, &device) };
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| Error(format!("{path}: invalid JSON: {e}")))?;
    if let Some(obj) = value.as_object_mut() {
        match obj.get("kind").and_then(|k| k.as_str()) {
            Some(k) if k != kind => bail!("{path}: file says kind \"{k}\" but the argument says {kind}"),
            _ => _ = obj.insert("kind".into(), kind.into()),
        }
    }
    let spec = DenoiserSpec::from_json(&value.to_string()).map_err(|e| Error(format!("{path}: {e}")))?;
    Ok(Model::analytic(arg, spec, sha256_hex(&bytes), &device))
}

/// Class label of each row from `--class`: a label, `cycle` (row i gets i mod classes) or
/// `none` (the null class, unconditional).
pub fn labels(class: &str, rows: usize, classes: usize) -> Result<Vec<usize>> {
    Ok(match class {
        "none" => vec![classes; rows],
        "cycle" if classes > 0 => (0..rows).map(|i| i % classes).collect(),
        "cycle" => vec![0; rows],
        label => match label.parse::<usize>() {
            Ok(c) if c < classes => vec![c; rows],
            _ => bail!("--class {label:?}: expected a label below {classes}, cycle or none"),
        },
    })
}

/// Parses `A..B` or `N` into an inclusive range of step budgets.
pub fn budgets(text: &str) -> Result<std::ops::RangeInclusive<usize>> {
    let num = |t: &str| t.trim().parse::<usize>().map_err(|_| Error(format!("bad step budget '{text}' (expected A..B or N)")));
    let (lo, hi) = match text.split_once("..") {
        Some((a, b)) => (num(a)?, num(b.trim_start_matches('='))?),
        None => (num(text)?, num(text)?),
    };
    if lo == 0 || lo > hi {
        bail!("step budgets must satisfy 1 <= A <= B, got '{text}'");
    }
    Ok(lo..=hi)
}

/// Seconds since the first call (a search's clock).
pub fn seconds() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}
