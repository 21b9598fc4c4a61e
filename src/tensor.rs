//! burn tensors as an executor vector space, and moving batches between f64 and a device.

use crate::plan::{Space, check_finite};
use crate::{Error, Result};
use burn::prelude::{Device, Tensor, TensorData};

impl Space for Tensor<2> {
    fn lincomb(terms: &[(f64, &Self)]) -> Self {
        let scaled = |&(c, t): &(f64, &Tensor<2>)| if c == 1.0 { t.clone() } else { t.clone().mul_scalar(c) };
        terms[1..].iter().fold(scaled(&terms[0]), |acc, term| acc + scaled(term))
    }

    fn numel(&self) -> usize {
        self.dims().iter().product()
    }

    fn host_like(&self, values: Vec<f64>) -> Self {
        to_tensor(&values, self.dims()[1], &self.device())
    }

    fn all_finite(&self) -> Option<bool> {
        None // a device readback per step would stall the GPU; read_run checks instead
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

/// Reads tensors of one width back in one transfer, concatenated along the batch.
pub async fn read_all(ts: Vec<Tensor<2>>) -> Result<Vec<f32>> {
    if ts.is_empty() {
        return Ok(Vec::new());
    }
    read_async(Tensor::cat(ts, 0)).await
}

/// Reads a whole run back to f64: with a recorded trajectory in two transfers (all steps, whose
/// last is the sample; all evaluations), else the sample alone.
pub async fn read_run(run: crate::plan::Run<Tensor<2>>) -> Result<crate::plan::Run<Vec<f64>>> {
    use crate::plan::{EvalPoint, Run, StepPoint};
    let size = run.sample.dims().iter().product::<usize>();
    let f64s = |v: Vec<f32>| -> Vec<Vec<f64>> { v.chunks(size.max(1)).map(|c| c.iter().map(|&x| f64::from(x)).collect()).collect() };
    let (step_meta, xs): (Vec<_>, Vec<_>) = run.steps.into_iter().map(|s| ((s.step, s.sigma), s.x)).unzip();
    let (eval_sigmas, ds): (Vec<_>, Vec<_>) = run.evals.into_iter().map(|e| (e.sigma, e.denoised)).unzip();
    let xs = f64s(read_all(xs).await?);
    let ds = f64s(read_all(ds).await?);
    let sample = match xs.last() {
        Some(last) => last.clone(),
        None => f64s(read_async(run.sample).await?).pop().unwrap_or_default(),
    };
    let finite = |x: &[f64]| x.iter().all(|v| v.is_finite());
    check_finite(step_meta.iter().zip(&xs).map(|(&(step, sigma), x)| (step, sigma, finite(x))))?;
    if !finite(&sample) {
        crate::bail!("sampling went non-finite: the sample holds NaN or infinity");
    }
    Ok(Run {
        sample,
        steps: step_meta.into_iter().zip(xs).map(|((step, sigma), x)| StepPoint { step, sigma, x }).collect(),
        evals: eval_sigmas.into_iter().zip(ds).map(|(sigma, denoised)| EvalPoint { sigma, denoised }).collect(),
        nfe: run.nfe,
    })
}
