//! JSON formats for batches and sampling results (documented in docs/formats.md).

use crate::plan::{Plan, Run};
use crate::{Result, bail};
use serde::{Deserialize, Serialize};

/// A batch as JSON: an array of samples, each an array of `dim` numbers.
pub type Rows = Vec<Vec<f64>>;

/// Flattens rows to row-major data, checking they are non-empty, rectangular and finite.
pub fn flatten(rows: &Rows) -> Result<(Vec<f64>, usize)> {
    let dim = rows.first().map_or(0, |r| r.len());
    if rows.is_empty() || dim == 0 {
        bail!("a batch needs at least one sample of dimension >= 1");
    }
    if let Some(i) = rows.iter().position(|r| r.len() != dim) {
        bail!("sample {i} has {} numbers, sample 0 has {dim}", rows[i].len());
    }
    if rows.iter().flatten().any(|v| !v.is_finite()) {
        bail!("a batch must contain only finite numbers");
    }
    Ok((rows.concat(), dim))
}

pub fn rows(flat: &[f64], dim: usize) -> Rows {
    flat.chunks(dim).map(|c| c.to_vec()).collect()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: u32,
    pub sigma: f64,
    pub x: Rows,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalRecord {
    pub sigma: f64,
    pub denoised: Rows,
}

/// What `gits-sampler sample` writes: the final samples and the whole trajectory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SampleOutput {
    pub solver: String,
    pub nfe: u32,
    pub sigmas: Vec<f64>,
    pub samples: Rows,
    pub steps: Vec<StepRecord>,
    pub evals: Vec<EvalRecord>,
}

impl SampleOutput {
    pub fn new(plan: &Plan, run: &Run<Vec<f64>>, dim: usize) -> Self {
        SampleOutput {
            solver: plan.solver.clone(),
            nfe: run.nfe,
            sigmas: plan.sigmas.clone(),
            samples: rows(&run.sample, dim),
            steps: run.steps.iter().map(|s| StepRecord { step: s.step, sigma: s.sigma, x: rows(&s.x, dim) }).collect(),
            evals: run.evals.iter().map(|e| EvalRecord { sigma: e.sigma, denoised: rows(&e.denoised, dim) }).collect(),
        }
    }
}
