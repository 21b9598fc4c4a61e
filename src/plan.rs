//! Plans: a solver compiled to a tiny register program, its validation, and the one executor.
//!
//! Register 0 holds the starting noise z ~ N(0, I). Every other register is written exactly once
//! (by an `Eval` or a `Combine`), so a plan is easy to check and the executor can free a register
//! after its last read. The sample is the register of the last `Emit`.

use crate::noise::{NoiseSource, StepNoise};
use crate::schedule::validate_sigmas;
use crate::{Error, Result, bail};
use serde::{Deserialize, Serialize};

pub const PLAN_VERSION: u32 = 1;

pub type Reg = u32;

/// Register holding the standard-normal starting noise.
pub const NOISE: Reg = 0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// out = D(input; sigma)
    Eval {
        input: Reg,
        sigma: f64,
        out: Reg,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        thresholding: bool,
    },
    /// out = sum of coefficient * register
    Combine { out: Reg, terms: Vec<(f64, Reg)> },
    /// The register holds x at schedule point `step` (a trajectory point).
    Emit { reg: Reg, step: u32 },
    /// out = standard-normal step noise shaped like the starting noise, for the step sigma ->
    /// sigma_next (stochastic samplers), from each sample's own source (the plan's `noise`).
    Noise { out: Reg, sigma: f64, sigma_next: f64 },
}

/// Dynamic thresholding of denoiser outputs (Imagen; DPM-Solver++): per sample,
/// s = max(quantile(|x0|, ratio), max), then x0 = clamp(x0, -s, s) / s.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholding {
    pub ratio: f64,
    pub max: f64,
}

impl Thresholding {
    pub fn check(&self) -> Result<()> {
        if !(self.ratio > 0.0 && self.ratio <= 1.0) || !(self.max.is_finite() && self.max > 0.0) {
            bail!("thresholding needs 0 < ratio <= 1 and a finite max > 0, got ratio {} max {}", self.ratio, self.max);
        }
        Ok(())
    }

    /// Thresholds one sample in place.
    pub fn apply(&self, x0: &mut [f64]) {
        let mut abs: Vec<f64> = x0.iter().map(|v| v.abs()).collect();
        abs.sort_by(f64::total_cmp);
        // Linear interpolation between order statistics, as torch.quantile.
        let pos = self.ratio * (abs.len() - 1) as f64;
        let (lo, frac) = (pos.floor() as usize, pos - pos.floor());
        let q = abs[lo] + frac * (abs[(lo + 1).min(abs.len() - 1)] - abs[lo]);
        let s = q.max(self.max);
        x0.iter_mut().for_each(|v| *v = v.clamp(-s, s) / s);
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub version: u32,
    pub solver: String,
    #[serde(default)]
    pub options: serde_json::Value,
    pub sigmas: Vec<f64>,
    pub nfe: u32,
    pub ops: Vec<Op>,
    /// Parameters of the evaluations marked `thresholding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholding: Option<Thresholding>,
    /// Where the `Noise` ops' draws come from (stochastic plans only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<NoiseSource>,
}

/// One operation of a plan in words, for the page's plan table ("solvers as data").
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanRow {
    /// eval, combine, noise or emit.
    pub kind: &'static str,
    /// e.g. `r3 = D(r1)` or `x at step 2 = r5`.
    pub operation: String,
    /// The sigma an evaluation runs at, or of the step a point is emitted at.
    pub sigma: Option<f64>,
    /// (register, coefficient) of a combination.
    pub coefficients: Vec<(Reg, f64)>,
}

impl Plan {
    /// The plan's operations in words (register r0 is the starting noise z).
    pub fn rows(&self) -> Vec<PlanRow> {
        let row = |kind, operation: String, sigma, coefficients| PlanRow { kind, operation, sigma, coefficients };
        self.ops
            .iter()
            .map(|op| match op {
                Op::Eval { input, sigma, out, thresholding } => {
                    row("eval", format!("r{out} = D(r{input}){}", if *thresholding { ", thresholded" } else { "" }), Some(*sigma), Vec::new())
                }
                Op::Combine { out, terms } => {
                    let sum: Vec<String> = terms.iter().map(|(_, r)| format!("c·r{r}")).collect();
                    row("combine", format!("r{out} = {}", sum.join(" + ")), None, terms.iter().map(|&(c, r)| (r, c)).collect())
                }
                Op::Noise { out, sigma, sigma_next } => {
                    let source = self.noise.map_or("", |n| if n == NoiseSource::Brownian { "Brownian " } else { "fresh " });
                    row("noise", format!("r{out} = {source}N(0, I) noise, sigma {sigma:.4} -> {sigma_next:.4}"), Some(*sigma), Vec::new())
                }
                Op::Emit { reg, step } => row("emit", format!("x at step {step} = r{reg}"), self.sigmas.get(*step as usize).copied(), Vec::new()),
            })
            .collect()
    }

    pub fn from_json(text: &str) -> Result<Plan> {
        let plan: Plan = serde_json::from_str(text).map_err(|e| Error(format!("invalid plan JSON: {e}")))?;
        plan.validate()?;
        Ok(plan)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plans always serialize")
    }

    /// Number of steps of the schedule (sigmas.len() - 1).
    pub fn steps(&self) -> usize {
        self.sigmas.len().saturating_sub(1)
    }

    /// Checks everything the executor relies on, with a message naming the offending op.
    pub fn validate(&self) -> Result<()> {
        if self.version != PLAN_VERSION {
            bail!("unsupported plan version {} (this build reads version {PLAN_VERSION})", self.version);
        }
        validate_sigmas(&self.sigmas).map_err(|e| Error(format!("plan sigmas: {e}")))?;
        crate::limits::at_most("plan ops", self.ops.len(), crate::limits::MAX_OPS)?;
        crate::limits::at_most("plan nfe", self.nfe as usize, crate::limits::MAX_NFE)?;
        let mut defined = vec![true]; // register 0: the noise
        let registers = self.ops.len() + 1;
        let define = |out: Reg, at: usize, defined: &mut Vec<bool>| -> Result<()> {
            let i = out as usize;
            // Each op writes at most one register, so a plan never needs more than ops + 1.
            if i >= registers {
                bail!("op {at}: register {out} is beyond the plan's {registers} registers (one per op and the noise)");
            }
            if i >= defined.len() {
                defined.resize(i + 1, false);
            }
            if defined[i] {
                bail!("op {at}: register {out} is written twice (plans write each register once)");
            }
            defined[i] = true;
            Ok(())
        };
        let read = |r: Reg, at: usize, defined: &Vec<bool>| -> Result<()> {
            if !defined.get(r as usize).copied().unwrap_or(false) {
                bail!("op {at}: register {r} is read before it is defined");
            }
            Ok(())
        };
        let (mut evals, mut last_step) = (0u32, None::<u32>);
        for (at, op) in self.ops.iter().enumerate() {
            match op {
                Op::Eval { input, sigma, out, thresholding } => {
                    read(*input, at, &defined)?;
                    if *thresholding {
                        self.thresholding.ok_or_else(|| Error(format!("op {at}: thresholding asked for but the plan has no thresholding parameters")))?.check()?;
                    }
                    if !(sigma.is_finite() && *sigma > 0.0) {
                        bail!("op {at}: denoiser evaluated at sigma = {sigma} (must be finite and > 0)");
                    }
                    define(*out, at, &mut defined)?;
                    evals += 1;
                }
                Op::Combine { out, terms } => {
                    if terms.is_empty() {
                        bail!("op {at}: combine with no terms");
                    }
                    for &(c, r) in terms {
                        if !c.is_finite() {
                            bail!("op {at}: non-finite coefficient {c} on register {r}");
                        }
                        read(r, at, &defined)?;
                    }
                    define(*out, at, &mut defined)?;
                }
                Op::Noise { out, sigma, sigma_next } => {
                    if self.noise.is_none() {
                        bail!("op {at}: the plan draws step noise but names no noise source (fresh or brownian)");
                    }
                    if !(sigma.is_finite() && sigma_next.is_finite() && *sigma > *sigma_next && *sigma_next >= 0.0) {
                        bail!("op {at}: step noise over sigma {sigma} -> {sigma_next} (needs finite sigma > sigma_next >= 0)");
                    }
                    define(*out, at, &mut defined)?
                }
                Op::Emit { reg, step } => {
                    read(*reg, at, &defined)?;
                    if *step as usize > self.steps() {
                        bail!("op {at}: emit of step {step} but the schedule has {} steps", self.steps());
                    }
                    if last_step.is_some_and(|s| *step <= s) {
                        bail!("op {at}: emitted steps must increase (step {step} after {})", last_step.unwrap());
                    }
                    last_step = Some(*step);
                }
            }
        }
        if last_step != Some(self.steps() as u32) {
            bail!("the plan must end by emitting the final step {}", self.steps());
        }
        if evals != self.nfe {
            bail!("plan declares nfe = {} but has {evals} denoiser evaluations", self.nfe);
        }
        Ok(())
    }
}

/// A vector type the executor can run on: anything that forms linear combinations.
pub trait Space: Clone {
    fn lincomb(terms: &[(f64, &Self)]) -> Self;
    /// Number of values (batch x dim).
    fn numel(&self) -> usize;
    /// Host values (row-major) shaped like `self`: step noise is drawn on the host, so every
    /// vector type gets the same numbers for the same seeds.
    fn host_like(&self, values: Vec<f64>) -> Self;
    /// Whether every value is finite, when that is cheap to know here (host vectors); device
    /// tensors answer None and are checked when read back ([`check_finite`]).
    fn all_finite(&self) -> Option<bool>;
}

/// Fails naming the first step whose x holds NaN or infinity (solvers can blow up on a legal
/// plan: a stiff schedule, an extreme sigma); `steps` are (step, sigma, all finite).
pub fn check_finite(steps: impl IntoIterator<Item = (u32, f64, bool)>) -> Result<()> {
    match steps.into_iter().find(|s| !s.2) {
        Some((step, sigma, _)) => bail!("sampling went non-finite at step {step} (sigma {sigma}): the schedule or the model is unstable there"),
        None => Ok(()),
    }
}

/// The denoiser D(x; sigma) -> estimate of the clean data, on a batch.
pub trait Denoiser<V> {
    fn denoise(&self, x: &V, sigma: f64) -> Result<V>;

    /// Dynamic thresholding of a batch of outputs; it needs each sample's shape and a quantile.
    fn threshold(&self, _x0: V, _t: &Thresholding) -> Result<V> {
        bail!("dynamic thresholding is not available on this backend (it needs a per-sample quantile; use the f64 path: --backend f64)")
    }
}

impl Space for Vec<f64> {
    fn lincomb(terms: &[(f64, &Self)]) -> Self {
        let mut out = vec![0.0; terms[0].1.len()];
        for (c, v) in terms {
            assert_eq!(v.len(), out.len(), "combined vectors must have one length");
            out.iter_mut().zip(v.iter()).for_each(|(o, x)| *o += c * x);
        }
        out
    }

    fn numel(&self) -> usize {
        self.len()
    }

    fn host_like(&self, values: Vec<f64>) -> Self {
        values
    }

    fn all_finite(&self) -> Option<bool> {
        Some(self.iter().all(|v| v.is_finite()))
    }
}

/// A trajectory point: x at a step of the schedule.
#[derive(Clone, Debug)]
pub struct StepPoint<V> {
    pub step: u32,
    pub sigma: f64,
    pub x: V,
}

/// One denoiser evaluation: the denoising trajectory of the paper.
#[derive(Clone, Debug)]
pub struct EvalPoint<V> {
    pub sigma: f64,
    pub denoised: V,
}

#[derive(Clone, Debug)]
pub struct Run<V> {
    pub sample: V,
    pub steps: Vec<StepPoint<V>>,
    pub evals: Vec<EvalPoint<V>>,
    pub nfe: u32,
}

/// A denoiser whose evaluations complete later: a model run by another runtime (onnxruntime-web
/// in the page answers with a promise). Every [`Denoiser`] is one through [`Ready`].
#[allow(async_fn_in_trait)] // single-threaded callers only: the browser and a native loop
pub trait AsyncDenoiser<V> {
    async fn denoise(&self, x: &V, sigma: f64) -> Result<V>;
    async fn threshold(&self, x0: V, t: &Thresholding) -> Result<V>;
}

/// A synchronous denoiser as an [`AsyncDenoiser`] whose futures are ready at once.
pub struct Ready<'a, D: ?Sized>(pub &'a D);

impl<V, D: Denoiser<V> + ?Sized> AsyncDenoiser<V> for Ready<'_, D> {
    async fn denoise(&self, x: &V, sigma: f64) -> Result<V> {
        self.0.denoise(x, sigma)
    }
    async fn threshold(&self, x0: V, t: &Thresholding) -> Result<V> {
        self.0.threshold(x0, t)
    }
}

/// The output of a future that completes without waiting (one whose awaits are all [`Ready`]).
pub fn now<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => unreachable!("a synchronous denoiser's future is ready at once"),
    }
}

/// Runs a plan from standard-normal `noise`. With `record`, keeps every emitted x and every
/// denoiser output; without, only the sample (for long reference solves). For plans without step
/// noise; stochastic ones take a seed per sample ([`execute_seeded`]).
pub fn execute<V: Space, D: Denoiser<V> + ?Sized>(plan: &Plan, noise: V, denoiser: &D, record: bool) -> Result<Run<V>> {
    execute_seeded(plan, noise, denoiser, record, &[])
}

/// As [`execute`], with each row's sample seed (`noise::sample_seeds`) for the step noise of
/// stochastic plans.
pub fn execute_seeded<V: Space, D: Denoiser<V> + ?Sized>(plan: &Plan, noise: V, denoiser: &D, record: bool, seeds: &[u64]) -> Result<Run<V>> {
    now(execute_async(plan, noise, &Ready(denoiser), record, seeds))
}

/// The one executor: as [`execute_seeded`], awaiting each evaluation.
pub async fn execute_async<V: Space, D: AsyncDenoiser<V>>(plan: &Plan, noise: V, denoiser: &D, record: bool, seeds: &[u64]) -> Result<Run<V>> {
    plan.validate()?;
    let frees = frees_after(plan);
    let mut step_noise = match plan.noise {
        Some(source) if plan.ops.iter().any(|op| matches!(op, Op::Noise { .. })) => {
            if seeds.is_empty() || !noise.numel().is_multiple_of(seeds.len()) {
                bail!("this plan draws step noise: it needs one seed per sample ({} seeds for {} values)", seeds.len(), noise.numel());
            }
            Some(StepNoise::new(source, seeds, noise.numel() / seeds.len()))
        }
        _ => None,
    };
    let template = noise.clone();
    let mut regs: Vec<Option<V>> = vec![None];
    regs[0] = Some(noise);
    let get = |regs: &Vec<Option<V>>, r: Reg| regs[r as usize].clone().expect("validated plans read defined registers");
    let (mut steps, mut evals, mut sample, mut nfe) = (Vec::new(), Vec::new(), None, 0);
    for (at, op) in plan.ops.iter().enumerate() {
        match op {
            Op::Eval { input, sigma, out, thresholding } => {
                let mut d = denoiser.denoise(regs[*input as usize].as_ref().unwrap(), *sigma).await?;
                if *thresholding {
                    d = denoiser.threshold(d, plan.thresholding.as_ref().expect("validated")).await?;
                }
                nfe += 1;
                if record {
                    evals.push(EvalPoint { sigma: *sigma, denoised: d.clone() });
                }
                store(&mut regs, *out, d);
            }
            Op::Combine { out, terms } => {
                let vs: Vec<(f64, &V)> = terms.iter().map(|&(c, r)| (c, regs[r as usize].as_ref().unwrap())).collect();
                let v = V::lincomb(&vs);
                store(&mut regs, *out, v);
            }
            Op::Noise { out, sigma, sigma_next } => {
                let draw = step_noise.as_mut().expect("a plan with noise ops has a source").next(*sigma, *sigma_next);
                store(&mut regs, *out, template.host_like(draw));
            }
            Op::Emit { reg, step } => {
                let x = get(&regs, *reg);
                let sigma = plan.sigmas[*step as usize];
                check_finite(x.all_finite().map(|ok| (*step, sigma, ok)))?;
                if record {
                    steps.push(StepPoint { step: *step, sigma, x: x.clone() });
                }
                sample = Some(x);
            }
        }
        for &r in &frees[at] {
            regs[r as usize] = None;
        }
    }
    Ok(Run { sample: sample.expect("validated plans emit"), steps, evals, nfe })
}

/// The step noise a run of `plan` draws for rows with `seeds` (dim values each), op by op: the
/// draws the executor feeds its `Noise` ops, as (sigma, sigma_next, draw). For records and for
/// checking against other implementations fed the same draws.
pub fn step_noise(plan: &Plan, seeds: &[u64], dim: usize) -> Vec<(f64, f64, Vec<f64>)> {
    let Some(source) = plan.noise else { return Vec::new() };
    let mut noise = StepNoise::new(source, seeds, dim);
    plan.ops
        .iter()
        .filter_map(|op| match op {
            Op::Noise { sigma, sigma_next, .. } => Some((*sigma, *sigma_next, noise.next(*sigma, *sigma_next))),
            _ => None,
        })
        .collect()
}

fn store<V>(regs: &mut Vec<Option<V>>, r: Reg, v: V) {
    let i = r as usize;
    if i >= regs.len() {
        regs.resize_with(i + 1, || None);
    }
    regs[i] = Some(v);
}

/// For each op, the registers it reads for the last time (free them after it).
fn frees_after(plan: &Plan) -> Vec<Vec<Reg>> {
    let mut last: std::collections::HashMap<Reg, usize> = Default::default();
    for (at, op) in plan.ops.iter().enumerate() {
        match op {
            Op::Eval { input, .. } => _ = last.insert(*input, at),
            Op::Combine { terms, .. } => terms.iter().for_each(|&(_, r)| _ = last.insert(r, at)),
            Op::Emit { reg, .. } => _ = last.insert(*reg, at),
            Op::Noise { .. } => {}
        }
    }
    let mut frees = vec![Vec::new(); plan.ops.len()];
    for (r, at) in last {
        frees[at].push(r);
    }
    frees
}
