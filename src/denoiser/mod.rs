//! Denoisers D(x; sigma): the analytic Gaussian mixture (the test oracle) and the empirical
//! optimal denoiser of a point set (KDE), each in f64 on `Vec<f64>` batches and on burn tensors
//! from one JSON spec; and trained networks (U-Net, 2-D MLP) under EDM preconditioning.

pub mod activation;
pub mod gmm;
pub mod kde;
pub mod mlp2d;
pub mod network;
pub mod precond;
pub mod unet;
pub mod weights;

pub use gmm::Gmm;
pub use kde::Kde;

use crate::plan::{Denoiser, Thresholding};
use crate::{Error, Result};
use burn::prelude::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// A denoiser file: `{"kind": "gmm", ...}` or `{"kind": "kde", ...}` (see docs/formats.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DenoiserSpec {
    Gmm(Gmm),
    Kde(Kde),
}

impl DenoiserSpec {
    pub fn from_json(text: &str) -> Result<Self> {
        let spec: DenoiserSpec = serde_json::from_str(text).map_err(|e| Error(format!("invalid denoiser JSON: {e}")))?;
        spec.validate()?;
        Ok(spec)
    }

    pub fn validate(&self) -> Result<()> {
        match self {
            DenoiserSpec::Gmm(g) => g.validate(),
            DenoiserSpec::Kde(k) => k.validate(),
        }
    }

    /// Dimension of one sample.
    pub fn dim(&self) -> usize {
        match self {
            DenoiserSpec::Gmm(g) => g.dim(),
            DenoiserSpec::Kde(k) => k.dim(),
        }
    }

    /// The exact distribution of x at noise level `sigma` (data plus N(0, sigma^2 I)) as a
    /// mixture: what a sampler stopping at `sigma` should reproduce.
    pub fn marginal(&self, sigma: f64) -> Gmm {
        let s2 = sigma * sigma;
        match self {
            DenoiserSpec::Gmm(g) => Gmm { weights: g.weights.clone(), means: g.means.clone(), variances: g.variances.iter().map(|v| v + s2).collect() },
            DenoiserSpec::Kde(k) => Gmm { weights: vec![1.0; k.points.len()], means: k.points.clone(), variances: vec![s2; k.points.len()] },
        }
    }

    /// Uploads the denoiser's constants to a device.
    pub fn to_device(&self, device: &Device) -> TensorDenoiser {
        match self {
            DenoiserSpec::Gmm(g) => TensorDenoiser::Gmm(g.to_device(device)),
            DenoiserSpec::Kde(k) => TensorDenoiser::Kde(k.to_device(device)),
        }
    }
}

impl Denoiser<Vec<f64>> for DenoiserSpec {
    fn denoise(&self, x: &Vec<f64>, sigma: f64) -> Result<Vec<f64>> {
        match self {
            DenoiserSpec::Gmm(g) => g.denoise(x, sigma),
            DenoiserSpec::Kde(k) => k.denoise(x, sigma),
        }
    }

    fn threshold(&self, mut x0: Vec<f64>, t: &Thresholding) -> Result<Vec<f64>> {
        check_batch(&x0, self.dim())?;
        x0.chunks_mut(self.dim()).for_each(|sample| t.apply(sample));
        Ok(x0)
    }
}

/// A denoiser whose constants live on a burn device: an analytic one or a network set up for
/// a batch's labels (built by [`crate::model::Model::denoiser`]).
#[derive(Clone)]
pub enum TensorDenoiser {
    Gmm(gmm::GmmTensors),
    Kde(kde::KdeTensors),
    Network(network::NetDenoiser),
}

impl Denoiser<Tensor<2>> for TensorDenoiser {
    fn denoise(&self, x: &Tensor<2>, sigma: f64) -> Result<Tensor<2>> {
        Ok(match self {
            TensorDenoiser::Gmm(g) => g.denoise(x.clone(), sigma),
            TensorDenoiser::Kde(k) => k.denoise(x.clone(), sigma),
            TensorDenoiser::Network(n) => n.denoise(x, sigma)?,
        })
    }
}

/// Checks the data points of an analytic denoiser (GMM means, KDE points; `what` names them in
/// messages): at least one, all of one non-zero dimension, within the limits on count, dimension
/// and size, every value finite and at most `MAX_VALUE` in magnitude.
pub(crate) fn check_points(what: &str, points: &[Vec<f64>]) -> Result<()> {
    use crate::limits;
    let dim = points.first().map_or(0, |p| p.len());
    if dim == 0 || points.iter().any(|p| p.len() != dim) {
        crate::bail!("{what}: needs at least one, all of the same, non-zero dimension");
    }
    limits::at_most(&format!("{what}: count"), points.len(), limits::MAX_POINTS)?;
    limits::at_most(&format!("{what}: dimension"), dim, limits::MAX_DIM)?;
    limits::elements(points.len(), dim).map_err(|e| crate::Error(format!("{what}: {e}")))?;
    let max = limits::MAX_VALUE;
    if let Some(v) = points.iter().flatten().find(|v| !(v.is_finite() && v.abs() <= max)) {
        crate::bail!("{what} must be finite and at most {max} in magnitude, found {v}");
    }
    Ok(())
}

/// Checks that a flat batch holds whole rows of `dim`.
pub(crate) fn check_batch(x: &[f64], dim: usize) -> Result<usize> {
    if dim == 0 || !x.len().is_multiple_of(dim) {
        crate::bail!("batch of {} numbers is not a whole number of {dim}-dimensional samples", x.len());
    }
    Ok(x.len() / dim)
}

/// log-sum-exp normalised weights, in place.
pub(crate) fn softmax_in_place(logits: &mut [f64]) {
    let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for l in logits.iter_mut() {
        *l = (*l - m).exp();
        total += *l;
    }
    logits.iter_mut().for_each(|l| *l /= total);
}
