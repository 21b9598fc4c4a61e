//! JSON formats for batches and sampling results (documented in docs/formats.md).

use crate::plan::{Plan, Run};
use crate::{Error, Result, bail, limits};
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A batch as JSON: an array of samples, each an array of `dim` numbers.
pub type Rows = Vec<Vec<f64>>;

/// Parses a JSON batch (an array of samples, each an array of numbers) straight into row-major
/// data, checking the limits on rows and numbers while it reads: a huge file is refused before it
/// is held in memory as rows.
pub fn parse_batch(text: &str) -> Result<(Vec<f64>, usize)> {
    let mut de = serde_json::Deserializer::from_str(text);
    let (flat, dim) = de.deserialize_seq(BatchVisitor).map_err(|e| Error(format!("invalid batch: {e}")))?;
    de.end().map_err(|e| Error(format!("invalid batch: {e}")))?;
    if flat.is_empty() {
        bail!("a batch needs at least one sample of dimension >= 1");
    }
    Ok((flat, dim))
}

struct BatchVisitor;

impl<'de> Visitor<'de> for BatchVisitor {
    type Value = (Vec<f64>, usize);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of samples, each an array of numbers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Self::Value, A::Error> {
        use serde::de::Error as _;
        let mut flat = Vec::new();
        let mut dim = None;
        let mut row = 0usize;
        while seq.next_element_seed(Row { flat: &mut flat, dim })?.is_some() {
            let len = flat.len() / (row + 1);
            if dim.is_none() {
                if len == 0 {
                    return Err(A::Error::custom("a batch needs at least one sample of dimension >= 1"));
                }
                dim = Some(len);
            }
            row += 1;
            if row > limits::MAX_BATCH {
                return Err(A::Error::custom(format!("more than {} samples: above the batch limit", limits::MAX_BATCH)));
            }
        }
        Ok((flat, dim.unwrap_or(0)))
    }
}

/// One sample, appended to `flat`; every sample must have the first one's length.
struct Row<'a> {
    flat: &'a mut Vec<f64>,
    dim: Option<usize>,
}

impl<'de> DeserializeSeed<'de> for Row<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Row<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sample: an array of numbers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        use serde::de::Error as _;
        let start = self.flat.len();
        let sample = match self.dim {
            Some(dim) => start / dim,
            None => 0,
        };
        while let Some(v) = seq.next_element::<f64>()? {
            if !v.is_finite() {
                return Err(A::Error::custom("a batch must contain only finite numbers"));
            }
            if self.flat.len() >= limits::MAX_ELEMENTS || self.dim.is_some_and(|d| self.flat.len() - start >= d) {
                let what = if self.flat.len() >= limits::MAX_ELEMENTS { format!("more than {} numbers: above the batch limit", limits::MAX_ELEMENTS) } else { format!("sample {sample} has more numbers than sample 0 ({})", self.dim.unwrap_or(0)) };
                return Err(A::Error::custom(what));
            }
            self.flat.push(v);
        }
        let len = self.flat.len() - start;
        match self.dim {
            Some(d) if len != d => Err(A::Error::custom(format!("sample {sample} has {len} numbers, sample 0 has {d}"))),
            _ => Ok(()),
        }
    }
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

/// One step-noise draw of a stochastic run: the standard-normal values its `noise` op added.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NoiseRecord {
    pub sigma: f64,
    pub sigma_next: f64,
    pub noise: Rows,
}

/// What `gits-sampler sample` writes: the final samples and the whole trajectory (and a
/// stochastic run's step noise, so another implementation can be fed the same draws).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SampleOutput {
    pub solver: String,
    pub nfe: u32,
    pub sigmas: Vec<f64>,
    pub samples: Rows,
    pub steps: Vec<StepRecord>,
    pub evals: Vec<EvalRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub step_noise: Vec<NoiseRecord>,
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
            step_noise: Vec::new(),
        }
    }

    /// With the step noise the run drew for rows with `seeds` (see [`crate::plan::step_noise`]).
    pub fn with_step_noise(mut self, plan: &Plan, seeds: &[u64], dim: usize) -> Self {
        self.step_noise = crate::plan::step_noise(plan, seeds, dim).into_iter().map(|(sigma, sigma_next, x)| NoiseRecord { sigma, sigma_next, noise: rows(&x, dim) }).collect();
        self
    }
}
