//! Bounds on every size a user or a file can ask for, checked before work starts: hostile or
//! mistaken input gets an error that names the limit instead of an overflow, an abort after
//! allocating gigabytes, or NaN samples. Each bound is far above what the product uses (the
//! teacher spends 60 NFE, convergence tests 8,000; images are 784 values).

use crate::{Result, bail};

/// Denoiser evaluations of one plan.
pub const MAX_NFE: usize = 100_000;
/// Steps of one schedule (sigmas - 1), points of a GITS grid.
pub const MAX_STEPS: usize = 100_000;
/// Points of a GITS grid (the cost matrix holds points^2 numbers; the paper uses 61).
pub const MAX_GRID: usize = 2_001;
/// Operations of one plan (a few per evaluation).
pub const MAX_OPS: usize = 1_000_000;
/// Samples of one batch (sampling, warmup, evaluation).
pub const MAX_BATCH: usize = 1 << 20;
/// Numbers in one batch (samples x dimension): 512 MB of f64.
pub const MAX_ELEMENTS: usize = 1 << 26;
/// The largest sigma anywhere (EDM's models use 80): x = sigma z must square without overflow
/// through every solver's coefficients.
pub const MAX_SIGMA: f64 = 1e5;
/// Parameters of one network (256 MB of f32).
pub const MAX_PARAMETERS: usize = 1 << 26;
/// Tensors listed in one weights manifest.
pub const MAX_TENSORS: usize = 4096;
/// Points of a KDE denoiser or components of a Gaussian mixture (each costs one distance per
/// sample and evaluation).
pub const MAX_POINTS: usize = 10_000;
/// The largest magnitude of a data value (GMM means, KDE points): its square must not overflow.
pub const MAX_VALUE: f64 = 1e6;
/// Dimension of one sample.
pub const MAX_DIM: usize = 1 << 16;
/// Bytes of a sigma list's text (`sigma_text::import`), as the page bounds its JSON files.
pub const MAX_TEXT: usize = 8 << 20;

/// `value` if it is at most `max`, else an error naming `what` and the limit.
pub fn at_most(what: &str, value: usize, max: usize) -> Result<usize> {
    if value > max {
        bail!("{what} = {value} is above the limit of {max}");
    }
    Ok(value)
}

/// `batch * dim`, checked against [`MAX_BATCH`] and [`MAX_ELEMENTS`].
pub fn elements(batch: usize, dim: usize) -> Result<usize> {
    at_most("batch", batch, MAX_BATCH)?;
    match batch.checked_mul(dim) {
        Some(n) if n <= MAX_ELEMENTS => Ok(n),
        _ => bail!("a batch of {batch} samples of dimension {dim} is above the limit of {MAX_ELEMENTS} numbers"),
    }
}

/// The product of `dims` (a tensor shape), or an error when it overflows or exceeds `max`.
pub fn product(what: &str, dims: &[usize], max: usize) -> Result<usize> {
    match dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)) {
        Some(n) if n <= max => Ok(n),
        _ => bail!("{what} has shape {dims:?}: more than {max} values"),
    }
}
