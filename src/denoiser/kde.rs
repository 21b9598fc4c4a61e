//! The empirical optimal denoiser of a point set (GITS paper Eq. 8): the softmax-weighted mean of
//! the data points with Gaussian kernel of bandwidth sigma. It replays the data exactly.

use super::{check_batch, check_points, softmax_in_place};
use crate::Result;
use burn::prelude::{Device, Tensor, TensorData};
use burn::tensor::activation::softmax;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Kde {
    pub points: Vec<Vec<f64>>,
}

impl Kde {
    pub fn dim(&self) -> usize {
        self.points.first().map_or(0, |p| p.len())
    }

    pub fn validate(&self) -> Result<()> {
        check_points("kde: points", &self.points)
    }

    pub fn denoise(&self, x: &[f64], sigma: f64) -> Result<Vec<f64>> {
        let dim = self.dim();
        check_batch(x, dim)?;
        let mut out = vec![0.0; x.len()];
        let mut w = vec![0.0; self.points.len()];
        let inv = 1.0 / (2.0 * sigma * sigma);
        for (xi, oi) in x.chunks(dim).zip(out.chunks_mut(dim)) {
            for (n, p) in self.points.iter().enumerate() {
                w[n] = -inv * xi.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
            }
            softmax_in_place(&mut w);
            for (n, p) in self.points.iter().enumerate() {
                oi.iter_mut().zip(p).for_each(|(o, v)| *o += w[n] * v);
            }
        }
        Ok(out)
    }

    pub fn to_device(&self, device: &Device) -> KdeTensors {
        let (n, dim) = (self.points.len(), self.dim());
        let flat: Vec<f32> = self.points.iter().flatten().map(|&v| v as f32).collect();
        let half_sq: Vec<f32> = self.points.iter().map(|p| 0.5 * p.iter().map(|v| v * v).sum::<f64>() as f32).collect();
        let points = Tensor::<2>::from_data(TensorData::new(flat, [n, dim]), device);
        KdeTensors {
            points_t: points.clone().transpose(),
            points,
            half_sq: Tensor::from_data(TensorData::new(half_sq, [1, n]), device),
        }
    }
}

/// The point set on a device.
#[derive(Clone)]
pub struct KdeTensors {
    points: Tensor<2>,   // [N, dim]
    points_t: Tensor<2>, // [dim, N]
    half_sq: Tensor<2>,  // [1, N]: |y_n|^2 / 2
}

impl KdeTensors {
    /// -|x - y|^2 / (2 sigma^2) up to a per-row constant: (x.y - |y|^2/2) / sigma^2.
    pub fn denoise(&self, x: Tensor<2>, sigma: f64) -> Tensor<2> {
        let logits = (x.matmul(self.points_t.clone()) - self.half_sq.clone()).div_scalar(sigma * sigma);
        softmax(logits, 1).matmul(self.points.clone())
    }
}
