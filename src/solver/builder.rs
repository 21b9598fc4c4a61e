//! Writing solvers as ordinary vector code that records a plan.
//!
//! A [`Lin`] is a symbolic linear combination of registers. Solvers do arithmetic on `Lin`s
//! (x + h * d, ...) exactly as they would on tensors; the builder only materialises a `Combine`
//! when a value must exist: before a denoiser call or a trajectory point.

use crate::plan::{NOISE, Op, PLAN_VERSION, Plan, Reg, Thresholding};
use std::ops::{Add, Mul, Neg, Sub};

/// sum of coefficient * register, kept sorted by register with no zero coefficients.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lin(Vec<(f64, Reg)>);

impl Lin {
    pub fn reg(r: Reg) -> Lin {
        Lin(vec![(1.0, r)])
    }

    fn from_terms(mut terms: Vec<(f64, Reg)>) -> Lin {
        terms.sort_by_key(|&(_, r)| r);
        let mut out: Vec<(f64, Reg)> = Vec::with_capacity(terms.len());
        for (c, r) in terms {
            match out.last_mut() {
                Some(last) if last.1 == r => last.0 += c,
                _ => out.push((c, r)),
            }
        }
        out.retain(|&(c, _)| c != 0.0);
        Lin(out)
    }

    /// The register this value already lives in, if it is exactly one register.
    fn as_reg(&self) -> Option<Reg> {
        match self.0.as_slice() {
            [(c, r)] if *c == 1.0 => Some(*r),
            _ => None,
        }
    }
}

impl Add for Lin {
    type Output = Lin;
    fn add(self, rhs: Lin) -> Lin {
        Lin::from_terms([self.0, rhs.0].concat())
    }
}

impl Sub for Lin {
    type Output = Lin;
    fn sub(self, rhs: Lin) -> Lin {
        self + (-rhs)
    }
}

impl Neg for Lin {
    type Output = Lin;
    fn neg(self) -> Lin {
        self * -1.0
    }
}

impl Mul<f64> for Lin {
    type Output = Lin;
    fn mul(self, c: f64) -> Lin {
        Lin::from_terms(self.0.into_iter().map(|(a, r)| (a * c, r)).collect())
    }
}

/// Records the ops of one plan.
pub struct PlanBuilder {
    sigmas: Vec<f64>,
    ops: Vec<Op>,
    next: Reg,
    nfe: u32,
    /// Analytic first step: the derivative at the start x_T is taken without a denoiser call.
    afs: bool,
    /// The register holding x_T (emitted as step 0).
    start: Option<Reg>,
    /// Dynamic thresholding of every denoiser output.
    thresholding: Option<Thresholding>,
}

impl PlanBuilder {
    pub fn new(sigmas: &[f64]) -> Self {
        PlanBuilder { sigmas: sigmas.to_vec(), ops: Vec::new(), next: NOISE + 1, nfe: 0, afs: false, start: None, thresholding: None }
    }

    /// Marks every denoiser call for dynamic thresholding with `t`.
    pub fn with_thresholding(mut self, t: Option<Thresholding>) -> Self {
        self.thresholding = t;
        self
    }

    /// With AFS the first derivative is d = x / sqrt(1 + sigma^2): the exact derivative when the
    /// data were a point mass at 0 with unit-variance noise, good at sigma_max; saves one NFE.
    pub fn with_afs(mut self, afs: bool) -> Self {
        self.afs = afs;
        self
    }

    /// x at sigma_max: sigma_0 * z.
    pub fn start(&mut self) -> Lin {
        Lin::reg(NOISE) * self.sigmas[0]
    }

    fn fresh(&mut self) -> Reg {
        self.next += 1;
        self.next - 1
    }

    /// The register holding `v`, writing a `Combine` if it is not one yet.
    pub fn materialize(&mut self, v: &Lin) -> Reg {
        if let Some(r) = v.as_reg() {
            return r;
        }
        let out = self.fresh();
        self.ops.push(Op::Combine { out, terms: v.0.clone() });
        out
    }

    /// D(x; sigma).
    pub fn denoise(&mut self, x: &Lin, sigma: f64) -> Lin {
        let input = self.materialize(x);
        let out = self.fresh();
        self.ops.push(Op::Eval { input, sigma, out, thresholding: self.thresholding.is_some() });
        self.nfe += 1;
        Lin::reg(out)
    }

    /// The PF-ODE derivative d = (x - D(x; sigma)) / sigma; with AFS, at the start point
    /// (x_T, sigma_max) the analytic one.
    pub fn derivative(&mut self, x: &Lin, sigma: f64) -> Lin {
        if self.afs && sigma == self.sigmas[0] && x.as_reg().is_some_and(|r| Some(r) == self.start) {
            return x.clone() * (1.0 / (1.0 + sigma * sigma).sqrt());
        }
        let den = self.denoise(x, sigma);
        (x.clone() - den) * (1.0 / sigma)
    }

    /// Standard-normal step noise for the step sigma -> sigma_next (stochastic samplers; with
    /// Brownian noise, the normalized increment of the path over that interval).
    pub fn noise(&mut self, sigma: f64, sigma_next: f64) -> Lin {
        let out = self.fresh();
        self.ops.push(Op::Noise { out, sigma, sigma_next });
        Lin::reg(out)
    }

    /// Marks `x` as the trajectory point of `step`; returns it as a single register.
    pub fn emit(&mut self, x: &Lin, step: usize) -> Lin {
        let reg = self.materialize(x);
        self.ops.push(Op::Emit { reg, step: step as u32 });
        if step == 0 {
            self.start = Some(reg);
        }
        Lin::reg(reg)
    }

    pub fn finish(self, solver: &str, options: serde_json::Value) -> Plan {
        Plan { version: PLAN_VERSION, solver: solver.into(), options, sigmas: self.sigmas, nfe: self.nfe, ops: self.ops, thresholding: self.thresholding, noise: None }
    }
}

/// The shared step loop: emits x_0, then calls `step(builder, x_i, i)` for each step and emits
/// x_{i+1}. A step that ends at sigma = 0 is taken as x = D(x; sigma_i) for every solver.
pub fn build(sigmas: &[f64], afs: bool, step: impl FnMut(&mut PlanBuilder, Lin, usize) -> Lin) -> PlanBuilder {
    build_with(PlanBuilder::new(sigmas).with_afs(afs), sigmas, step)
}

/// As [`build`], on a builder already configured.
pub fn build_with(mut b: PlanBuilder, sigmas: &[f64], mut step: impl FnMut(&mut PlanBuilder, Lin, usize) -> Lin) -> PlanBuilder {
    let x0 = b.start();
    let mut x = b.emit(&x0, 0);
    for i in 0..sigmas.len() - 1 {
        let next = if sigmas[i + 1] == 0.0 { b.denoise(&x, sigmas[i]) } else { step(&mut b, x, i) };
        x = b.emit(&next, i + 1);
    }
    b
}
