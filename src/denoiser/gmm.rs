//! The exact denoiser of an isotropic Gaussian mixture sum_k w_k N(mu_k, s_k^2 I):
//! D(x; sigma) = sum_k r_k(x) [mu_k + s_k^2 / (s_k^2 + sigma^2) (x - mu_k)],
//! r_k ∝ w_k N(x; mu_k, (s_k^2 + sigma^2) I).

use super::{check_batch, check_points, softmax_in_place};
use crate::{Result, bail, limits};
use burn::prelude::{Device, Tensor, TensorData};
use burn::tensor::activation::softmax;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gmm {
    pub weights: Vec<f64>,
    pub means: Vec<Vec<f64>>,
    /// Per-component isotropic variance s_k^2.
    pub variances: Vec<f64>,
}

impl Gmm {
    /// The 8-dimensional, 3-component mixture that tests and benchmarks measure solvers on. Its
    /// variances (0.2-0.5) keep the PF-ODE smooth down to sigma_min, so solvers reach their
    /// asymptotic order by NFE ~ 512.
    pub fn benchmark_8d() -> Gmm {
        let dim = 8;
        let mean = |k: usize| (0..dim).map(|j| ((k * 7 + j * 3) % 5) as f64 * 0.5 - 1.0).collect::<Vec<f64>>();
        Gmm { weights: vec![0.5, 0.3, 0.2], means: (0..3).map(mean).collect(), variances: vec![0.2, 0.35, 0.5] }
    }

    /// The mixture's mean and covariance (row-major): sum_k w_k (s_k^2 I + mu_k mu_k^T) - mu mu^T.
    pub fn moments(&self) -> (Vec<f64>, Vec<f64>) {
        let (d, total) = (self.dim(), self.weights.iter().sum::<f64>());
        let mean: Vec<f64> = (0..d).map(|j| self.weights.iter().zip(&self.means).map(|(w, m)| w * m[j]).sum::<f64>() / total).collect();
        let mut cov = vec![0.0; d * d];
        for ((w, m), v) in self.weights.iter().zip(&self.means).zip(&self.variances) {
            for i in 0..d {
                for j in 0..d {
                    cov[i * d + j] += w / total * ((m[i] - mean[i]) * (m[j] - mean[j]) + if i == j { *v } else { 0.0 });
                }
            }
        }
        (mean, cov)
    }

    pub fn dim(&self) -> usize {
        self.means.first().map_or(0, |m| m.len())
    }

    pub fn validate(&self) -> Result<()> {
        let k = self.weights.len();
        if k == 0 {
            bail!("gmm: needs at least one component");
        }
        if self.means.len() != k || self.variances.len() != k {
            bail!("gmm: {k} weights but {} means and {} variances", self.means.len(), self.variances.len());
        }
        check_points("gmm: means", &self.means)?;
        let max = limits::MAX_VALUE;
        if let Some(w) = self.weights.iter().find(|w| !(w.is_finite() && **w > 0.0 && **w <= max)) {
            bail!("gmm: weights must be finite, > 0 and at most {max}, found {w}");
        }
        if let Some(v) = self.variances.iter().find(|v| !(v.is_finite() && **v > 0.0 && **v <= max * max)) {
            bail!("gmm: variances must be finite, > 0 and at most {}, found {v}", max * max);
        }
        Ok(())
    }

    /// Per component: log w_k - dim/2 log v_k, 1/(2 v_k) and s_k^2/v_k with v_k = s_k^2 + sigma^2.
    fn coefficients(&self, sigma: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let total: f64 = self.weights.iter().sum();
        let half_dim = 0.5 * self.dim() as f64;
        let v: Vec<f64> = self.variances.iter().map(|s2| s2 + sigma * sigma).collect();
        let bias = self.weights.iter().zip(&v).map(|(w, v)| (w / total).ln() - half_dim * v.ln()).collect();
        let inv2v = v.iter().map(|v| 0.5 / v).collect();
        let shrink = self.variances.iter().zip(&v).map(|(s2, v)| s2 / v).collect();
        (bias, inv2v, shrink)
    }

    pub fn denoise(&self, x: &[f64], sigma: f64) -> Result<Vec<f64>> {
        let dim = self.dim();
        check_batch(x, dim)?;
        let (bias, inv2v, shrink) = self.coefficients(sigma);
        let mut out = vec![0.0; x.len()];
        let mut r = vec![0.0; self.weights.len()];
        for (xi, oi) in x.chunks(dim).zip(out.chunks_mut(dim)) {
            for (k, mu) in self.means.iter().enumerate() {
                let d2: f64 = xi.iter().zip(mu).map(|(a, b)| (a - b) * (a - b)).sum();
                r[k] = bias[k] - d2 * inv2v[k];
            }
            softmax_in_place(&mut r);
            for (k, mu) in self.means.iter().enumerate() {
                for j in 0..dim {
                    oi[j] += r[k] * (mu[j] + shrink[k] * (xi[j] - mu[j]));
                }
            }
        }
        Ok(out)
    }

    pub fn to_device(&self, device: &Device) -> GmmTensors {
        let (k, dim) = (self.weights.len(), self.dim());
        let flat: Vec<f32> = self.means.iter().flatten().map(|&v| v as f32).collect();
        GmmTensors { gmm: self.clone(), means: Tensor::from_data(TensorData::new(flat, [k, dim]), device), device: device.clone() }
    }
}

/// The mixture with its means on a device.
#[derive(Clone)]
pub struct GmmTensors {
    gmm: Gmm,
    means: Tensor<2>, // [K, dim]
    device: Device,
}

impl GmmTensors {
    pub fn denoise(&self, x: Tensor<2>, sigma: f64) -> Tensor<2> {
        let k = self.means.dims()[0];
        let row = |v: Vec<f64>| Tensor::<2>::from_data(TensorData::new(v.into_iter().map(|c| c as f32).collect(), [1, k]), &self.device);
        let (bias, inv2v, shrink) = self.gmm.coefficients(sigma);
        let one_minus: Vec<f64> = shrink.iter().map(|c| 1.0 - c).collect();
        let batch = x.dims()[0];
        // Squared distances by broadcasting [B,1,dim] - [1,K,dim]: exact, no |x|^2 cancellation.
        let diff = x.clone().unsqueeze_dim::<3>(1) - self.means.clone().unsqueeze_dim::<3>(0);
        let d2 = diff.powi_scalar(2).sum_dim(2).reshape([batch, k]);
        let r = softmax(row(bias) - d2 * row(inv2v), 1);
        // sum_k r_k (1 - c_k) mu_k + (sum_k r_k c_k) x
        (r.clone() * row(one_minus)).matmul(self.means.clone()) + (r * row(shrink)).sum_dim(1) * x
    }
}
