//! burn tensors as an executor vector space, and moving batches between f64 and a device.

use crate::plan::Space;
use crate::{Error, Result};
use burn::prelude::{Device, Tensor, TensorData};
use rand::rngs::StdRng;

impl Space for Tensor<2> {
    fn lincomb(terms: &[(f64, &Self)]) -> Self {
        let scaled = |&(c, t): &(f64, &Tensor<2>)| if c == 1.0 { t.clone() } else { t.clone().mul_scalar(c) };
        terms[1..].iter().fold(scaled(&terms[0]), |acc, term| acc + scaled(term))
    }

    fn standard_normal_like(&self, rng: &mut StdRng) -> Self {
        let [batch, dim] = self.dims();
        to_tensor(&crate::noise::draw(rng, batch * dim), dim, &self.device())
    }
}

/// A row-major [batch, dim] f64 batch as an f32 tensor on `device`.
pub fn to_tensor(x: &[f64], dim: usize, device: &Device) -> Tensor<2> {
    let data: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    Tensor::from_data(TensorData::new(data, [x.len() / dim, dim]), device)
}

/// Reads a tensor back as f32 values (blocking; native only).
#[cfg(not(target_arch = "wasm32"))]
pub fn read(t: Tensor<2>) -> Result<Vec<f32>> {
    t.into_data().try_into_vec::<f32>().map_err(|e| Error(format!("cannot read tensor: {e:?}")))
}

/// Reads a tensor back as f32 values without blocking (required on WebGPU in the browser).
pub async fn read_async(t: Tensor<2>) -> Result<Vec<f32>> {
    let data = t.into_data_async().await.map_err(|e| Error(format!("cannot read tensor from the device: {e:?}")))?;
    data.try_into_vec::<f32>().map_err(|e| Error(format!("cannot read tensor: {e:?}")))
}

/// Reads every tensor of a run back to f64 (blocking; native only).
#[cfg(not(target_arch = "wasm32"))]
pub fn run_to_f64(run: crate::plan::Run<Tensor<2>>) -> Result<crate::plan::Run<Vec<f64>>> {
    use crate::plan::{EvalPoint, Run, StepPoint};
    let f64s = |t: Tensor<2>| -> Result<Vec<f64>> { Ok(read(t)?.into_iter().map(f64::from).collect()) };
    Ok(Run {
        sample: f64s(run.sample)?,
        steps: run.steps.into_iter().map(|s| Ok(StepPoint { step: s.step, sigma: s.sigma, x: f64s(s.x)? })).collect::<Result<_>>()?,
        evals: run.evals.into_iter().map(|e| Ok(EvalPoint { sigma: e.sigma, denoised: f64s(e.denoised)? })).collect::<Result<_>>()?,
        nfe: run.nfe,
    })
}
