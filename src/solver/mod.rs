//! Solvers as plan compilers: pure f64 code that turns a sigma schedule into a [`Plan`].
//! One file per solver; each is one short step function in the style of k-diffusion.

pub mod ancestral;
pub mod builder;
pub mod churn;
pub mod ddim_eta;
pub mod deis;
pub mod dpm2;
pub mod dpm2_ancestral;
pub mod dpmpp;
pub mod dpmpp_2m_sde;
pub mod dpmpp_2s_ancestral;
pub mod dpmpp_3m_sde;
pub mod dpmpp_sde;
pub mod euler;
pub mod euler_ancestral;
pub mod heun;
pub mod ipndm;
pub mod ipndm_v;
pub mod lagrange;
pub mod rk4;
pub mod unipc;

use crate::model_sigmas::ModelSigmas;
use crate::noise::NoiseSource;
use crate::plan::{Op, Plan, Thresholding};
use crate::schedule::{Schedule, VpTime, colon_numbers, validate_sigmas};
use crate::{Error, Result, bail};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Solver {
    /// Euler in sigma = DDIM. Order 1.
    Euler,
    /// Stochastic DDIM with noise level eta in [0, 1] (1 = DDPM ancestral sampling).
    DdimEta { eta: f64 },
    /// EDM's Heun. Order 2.
    Heun,
    /// Fixed-weight Adams–Bashforth on d, orders 1..4.
    Ipndm { max_order: usize },
    /// iPNDM with the reference toolbox's variable-step weights, orders 1..4.
    IpndmV { max_order: usize },
    /// Exact variable-step Adams–Bashforth in sigma (Lagrange weights), orders 1..4.
    AbExact { max_order: usize },
    /// DEIS-tAB: Adams–Bashforth with the interpolant in VP time, orders 1..3.
    DeisTab { order: usize },
    /// DPM-Solver-2 with intermediate point ratio r (0.5: geometric midpoint). Order 2.
    Dpm2 { r: f64 },
    /// DPM-Solver++ multistep, order 1..3 (1 = DDIM, 2 = 2M, 3 = 3M).
    DpmPp { order: usize, lower_order_final: bool },
    /// UniPC (predictor UniP, corrector UniC), order 1..3, B(h) variant bh1 or bh2.
    UniPc { order: usize, variant: unipc::Variant, corrector: bool, lower_order_final: bool },
    /// Classical Runge–Kutta 4, used as the high-accuracy reference.
    Rk4,
    /// Euler ancestral (k-diffusion): Euler to s_down, then noise of level s_up. Stochastic.
    EulerAncestral { eta: f64, s_noise: f64 },
    /// DPM-Solver-2 ancestral (k-diffusion `dpm_2_ancestral`). Stochastic, 2 NFE per step.
    #[serde(rename = "dpm_2_ancestral")]
    Dpm2Ancestral { eta: f64, s_noise: f64 },
    /// DPM-Solver++(2S) ancestral (k-diffusion). Stochastic, 2 NFE per step.
    #[serde(rename = "dpmpp_2s_ancestral")]
    DpmPp2sAncestral { eta: f64, s_noise: f64 },
    /// DPM-Solver++ SDE (k-diffusion `dpmpp_sde`, r = 1/2). Stochastic, 2 NFE per step.
    #[serde(rename = "dpmpp_sde")]
    DpmPpSde { eta: f64, s_noise: f64 },
    /// DPM-Solver++(2M) SDE (k-diffusion), midpoint or heun correction. Stochastic.
    #[serde(rename = "dpmpp_2m_sde")]
    DpmPp2mSde { eta: f64, s_noise: f64, heun: bool },
    /// DPM-Solver++(3M) SDE (k-diffusion). Stochastic.
    #[serde(rename = "dpmpp_3m_sde")]
    DpmPp3mSde { eta: f64, s_noise: f64 },
    /// EDM's stochastic Euler: churn noise in [S_tmin, S_tmax], then Euler. Stochastic.
    EulerChurn { churn: f64, tmin: f64, tmax: f64, s_noise: f64 },
    /// EDM's stochastic Heun (Algorithm 2 of Karras et al. 2022). Stochastic, 2 NFE per step.
    HeunChurn { churn: f64, tmin: f64, tmax: f64, s_noise: f64 },
}

/// One line per solver for `gits-sampler solvers` and error messages.
pub const SOLVERS: &[(&str, &str)] = &[
    ("euler (alias ddim)", "first order; NFE = steps"),
    ("ddim_eta[:eta]", "stochastic DDIM, eta in [0, 1] (default 1 = ancestral DDPM), seeded step noise; NFE = steps"),
    ("heun", "EDM's second-order Heun; NFE = 2 x steps"),
    ("ipndm[:max_order]", "Adams-Bashforth with fixed weights, max_order 1..4 (default 4); NFE = steps"),
    ("ipndm_v[:max_order]", "iPNDM with the reference toolbox's variable-step weights (exact for order <= 2), max_order 1..4; NFE = steps"),
    ("ab_exact[:max_order]", "exact variable-step Adams-Bashforth in sigma, max_order 1..4 (default 4); NFE = steps"),
    ("deis[:order]", "DEIS-tAB, Lagrange interpolation in VP time, order 1..3 (default 3); NFE = steps"),
    ("dpm2[:r]", "DPM-Solver-2, intermediate point s_next^r s^(1-r), r in (0, 1) (default 0.5); NFE = 2 x steps"),
    ("dpmpp[:1|2|3] (dpmpp_2m, dpmpp_3m)", "DPM-Solver++ multistep in data prediction, order 1..3 (default 3), lower order on the last steps when there are fewer than 15; NFE = steps"),
    ("unipc[_bh1|_bh2][:order] (unip...: no corrector)", "UniPC predictor-corrector in data prediction, order 1..3 (default 3), B(h) = h (bh1) or expm1(h) (bh2, default); the corrector reuses the next evaluation; NFE = steps"),
    ("rk4", "classical Runge-Kutta 4, the reference solver; NFE = 4 x steps"),
    ("euler_ancestral[:eta[:s_noise]]", "Euler ancestral (k-diffusion), eta and s_noise in [0, 2] (default 1, 1), seeded step noise; eta 0 is Euler; NFE = steps"),
    ("dpm_2_ancestral[:eta[:s_noise]]", "DPM-Solver-2 ancestral (k-diffusion); eta 0 is dpm2; NFE = 2 x steps"),
    ("dpmpp_2s_ancestral[:eta[:s_noise]]", "DPM-Solver++(2S) ancestral (k-diffusion); NFE = 2 x steps"),
    ("dpmpp_sde[:eta[:s_noise]]", "DPM-Solver++ SDE (k-diffusion), single-step, midpoint r = 1/2, Brownian noise by default; eta 0 is dpmpp_2s_ancestral:0; NFE = 2 x steps"),
    ("dpmpp_2m_sde[_heun][:eta[:s_noise]]", "DPM-Solver++(2M) SDE (k-diffusion), midpoint (default) or heun correction; eta 0 with midpoint is dpmpp_2m; NFE = steps"),
    ("dpmpp_3m_sde[:eta[:s_noise]]", "DPM-Solver++(3M) SDE (k-diffusion); NFE = steps"),
    ("euler_churn|heun_churn[:churn[:tmin[:tmax[:s_noise]]]]", "EDM's stochastic Euler or Heun (S_churn, S_tmin, S_tmax, S_noise; default EDM's ImageNet 40:0.05:50:1.003); churn 0 is Euler or Heun; NFE = steps or 2 x steps"),
    ("lms[:order]", "k-diffusion's linear multistep: the same method as ab_exact (exact variable-step Adams-Bashforth in sigma), order 1..4 (default 4); NFE = steps"),
];

impl Solver {
    /// Denoiser evaluations per step (a step that ends at sigma = 0 always takes one).
    pub fn nfe_per_step(&self) -> u32 {
        match self {
            Solver::Euler | Solver::DdimEta { .. } | Solver::Ipndm { .. } | Solver::IpndmV { .. } | Solver::AbExact { .. } | Solver::DeisTab { .. } | Solver::DpmPp { .. } | Solver::UniPc { .. } => 1,
            Solver::EulerAncestral { .. } | Solver::DpmPp2mSde { .. } | Solver::DpmPp3mSde { .. } | Solver::EulerChurn { .. } => 1,
            Solver::HeunChurn { .. } => 2,
            Solver::Heun | Solver::Dpm2 { .. } | Solver::Dpm2Ancestral { .. } | Solver::DpmPp2sAncestral { .. } | Solver::DpmPpSde { .. } => 2,
            Solver::Rk4 => 4,
        }
    }

    /// NFE of a plan over `steps` steps: k per step, but 1 for a last step that ends at sigma = 0
    /// (`to_zero`), and 1 fewer with the analytic first step (`afs`).
    pub fn nfe(&self, steps: usize, to_zero: bool, afs: bool) -> u32 {
        let z = to_zero as u32;
        self.nfe_per_step() * (steps as u32 - z) + z - afs as u32
    }

    /// The number of steps that spends exactly `nfe` evaluations, or why none does.
    pub fn steps_for_nfe(&self, nfe: u32, to_zero: bool, afs: bool) -> Result<usize> {
        let (k, z) = (self.nfe_per_step(), to_zero as u32);
        crate::limits::at_most("NFE", nfe as usize, crate::limits::MAX_NFE)?;
        let nfe = nfe + afs as u32;
        if nfe <= z || (nfe - z) % k != 0 {
            bail!(
                "{self} spends {k} NFE per step{}: NFE {nfe} is not reachable (try {})",
                if to_zero { " plus 1 for the final step to sigma = 0" } else { "" },
                k * ((nfe.saturating_sub(z)) / k).max(1) + z
            );
        }
        Ok(((nfe - z) / k + z) as usize)
    }

    /// Checks the solver's parameters (orders, eta, r) are in range.
    pub fn check(&self) -> Result<()> {
        let in_range = |what: &str, k: usize, max: usize| -> Result<()> {
            if !(1..=max).contains(&k) {
                bail!("{} {what} must be 1..{max}, got {k}", self.name());
            }
            Ok(())
        };
        match *self {
            Solver::Ipndm { max_order } | Solver::IpndmV { max_order } | Solver::AbExact { max_order } => in_range("max_order", max_order, 4),
            Solver::DeisTab { order } | Solver::DpmPp { order, .. } | Solver::UniPc { order, .. } => in_range("order", order, 3),
            Solver::DdimEta { eta } if !(0.0..=1.0).contains(&eta) => bail!("ddim_eta eta must be in [0, 1], got {eta}"),
            Solver::Dpm2 { r } if !(r > 0.0 && r < 1.0) => bail!("dpm2 r must be in (0, 1), got {r}"),
            Solver::EulerChurn { churn, tmin, tmax, s_noise } | Solver::HeunChurn { churn, tmin, tmax, s_noise }
                if !((0.0..=1000.0).contains(&churn) && tmin >= 0.0 && tmin <= tmax && tmax <= crate::limits::MAX_SIGMA && (0.0..=2.0).contains(&s_noise)) =>
            {
                bail!("{} needs churn in [0, 1000], 0 <= tmin <= tmax <= {} and s_noise in [0, 2], got {churn}:{tmin}:{tmax}:{s_noise}", self.name(), crate::limits::MAX_SIGMA)
            }
            Solver::EulerAncestral { eta, s_noise } | Solver::Dpm2Ancestral { eta, s_noise } | Solver::DpmPp2sAncestral { eta, s_noise } | Solver::DpmPpSde { eta, s_noise } | Solver::DpmPp2mSde { eta, s_noise, .. } | Solver::DpmPp3mSde { eta, s_noise }
                if !((0.0..=2.0).contains(&eta) && (0.0..=2.0).contains(&s_noise)) =>
            {
                bail!("{} eta and s_noise must be in [0, 2], got {eta} and {s_noise}", self.name())
            }
            _ => Ok(()),
        }
    }

    /// Whether the solver draws step noise (with its noise parameters, it may still draw none).
    pub fn is_stochastic(&self) -> bool {
        matches!(
            self,
            Solver::DdimEta { .. } | Solver::EulerAncestral { .. } | Solver::Dpm2Ancestral { .. } | Solver::DpmPp2sAncestral { .. } | Solver::DpmPpSde { .. } | Solver::DpmPp2mSde { .. } | Solver::DpmPp3mSde { .. } | Solver::EulerChurn { .. } | Solver::HeunChurn { .. }
        )
    }

    /// k-diffusion's choice: Brownian-tree noise for its SDE samplers, fresh draws otherwise.
    pub fn default_noise(&self) -> NoiseSource {
        match self {
            Solver::DpmPpSde { .. } | Solver::DpmPp2mSde { .. } | Solver::DpmPp3mSde { .. } => NoiseSource::Brownian,
            _ => NoiseSource::Fresh,
        }
    }

    /// Whether the analytic first step applies: solvers that start from a derivative d.
    pub fn supports_afs(&self) -> bool {
        matches!(self, Solver::Euler | Solver::Ipndm { .. } | Solver::IpndmV { .. } | Solver::AbExact { .. } | Solver::DeisTab { .. })
    }

    /// Compiles the solver over an explicit sigma list (a final 0 means a last step to sigma = 0)
    /// with `options` (the analytic first step, DPM-Solver++'s dynamic thresholding).
    pub fn compile(&self, sigmas: &[f64], options: &CompileOptions) -> Result<Plan> {
        let CompileOptions { afs, thresholding, noise } = *options;
        validate_sigmas(sigmas).map_err(Error)?;
        if afs && !self.supports_afs() {
            bail!("{self} does not take the analytic first step (AFS is for euler, ipndm, ipndm_v, ab_exact and deis)");
        }
        if let Some(t) = thresholding {
            t.check()?;
            if !matches!(self, Solver::DpmPp { .. }) {
                bail!("dynamic thresholding is a DPM-Solver++ option, not one of {self}");
            }
        }
        self.check()?;
        let lower_final = |on: bool| on && sigmas.len() - 1 < 15; // as the reference implementations
        let b = match *self {
            Solver::Euler => builder::build(sigmas, afs, |b, x, i| euler::step(b, sigmas, x, i)),
            Solver::DdimEta { eta } => builder::build(sigmas, afs, |b, x, i| ddim_eta::step(b, sigmas, eta, x, i)),
            Solver::Heun => builder::build(sigmas, afs, |b, x, i| heun::step(b, sigmas, x, i)),
            Solver::Dpm2 { r } => builder::build(sigmas, afs, |b, x, i| dpm2::step(b, sigmas, r, x, i)),
            Solver::Rk4 => builder::build(sigmas, afs, |b, x, i| rk4::step(b, sigmas, x, i)),
            Solver::EulerAncestral { eta, s_noise } => builder::build(sigmas, afs, |b, x, i| euler_ancestral::step(b, sigmas, eta, s_noise, x, i)),
            Solver::Dpm2Ancestral { eta, s_noise } => builder::build(sigmas, afs, |b, x, i| dpm2_ancestral::step(b, sigmas, eta, s_noise, x, i)),
            Solver::DpmPp2sAncestral { eta, s_noise } => builder::build(sigmas, afs, |b, x, i| dpmpp_2s_ancestral::step(b, sigmas, eta, s_noise, x, i)),
            Solver::DpmPpSde { eta, s_noise } => builder::build(sigmas, afs, |b, x, i| dpmpp_sde::step(b, sigmas, eta, s_noise, x, i)),
            Solver::DpmPp2mSde { eta, s_noise, heun } => {
                let mut s = dpmpp_2m_sde::DpmPp2mSde::new(eta, s_noise, heun);
                builder::build(sigmas, afs, |b, x, i| s.step(b, sigmas, x, i))
            }
            Solver::DpmPp3mSde { eta, s_noise } => {
                let mut s = dpmpp_3m_sde::DpmPp3mSde::new(eta, s_noise);
                builder::build(sigmas, afs, |b, x, i| s.step(b, sigmas, x, i))
            }
            Solver::EulerChurn { churn, tmin, tmax, s_noise } | Solver::HeunChurn { churn, tmin, tmax, s_noise } => {
                let (c, heun) = (churn::Churn { churn, tmin, tmax, s_noise }, matches!(self, Solver::HeunChurn { .. }));
                builder::build(sigmas, afs, |b, x, i| churn::step(b, sigmas, &c, heun, x, i))
            }
            Solver::Ipndm { max_order } => {
                let mut s = ipndm::Ipndm::new(max_order);
                builder::build(sigmas, afs, |b, x, i| s.step(b, sigmas, x, i))
            }
            Solver::IpndmV { max_order } => {
                let mut s = ipndm_v::IpndmV::new(max_order);
                builder::build(sigmas, afs, |b, x, i| s.step(b, sigmas, x, i))
            }
            Solver::AbExact { max_order } => {
                let mut s = deis::Deis::new(max_order, deis::Time::Sigma);
                builder::build(sigmas, afs, |b, x, i| s.step(b, sigmas, x, i))
            }
            Solver::DeisTab { order } => {
                let mut s = deis::Deis::new(order, deis::Time::Vp(vp_time_of(sigmas)));
                builder::build(sigmas, afs, |b, x, i| s.step(b, sigmas, x, i))
            }
            Solver::DpmPp { order, lower_order_final } => {
                let mut s = dpmpp::DpmPp::new(order, lower_final(lower_order_final));
                let b = builder::PlanBuilder::new(sigmas).with_thresholding(thresholding);
                builder::build_with(b, sigmas, |b, x, i| s.step(b, sigmas, x, i))
            }
            Solver::UniPc { order, variant, corrector, lower_order_final } => {
                let mut b = builder::PlanBuilder::new(sigmas);
                unipc::UniPc::new(order, variant, corrector, lower_final(lower_order_final)).run(&mut b, sigmas);
                b
            }
        };
        let mut options = serde_json::to_value(self).expect("solvers serialize");
        // Say how the NFE budget was spent (the executor checks the count of evaluations).
        let steps = sigmas.len() - 1;
        let to_zero = sigmas[steps] == 0.0;
        options["afs"] = afs.into();
        options["steps"] = steps.into();
        options["nfe_rule"] = format!(
            "{} per step{}{}",
            self.nfe_per_step(),
            if to_zero { ", 1 for the final step to sigma = 0" } else { "" },
            if afs { ", minus 1 for the analytic first step" } else { "" }
        )
        .into();
        let mut plan = b.finish(&self.name(), options);
        if plan.ops.iter().any(|op| matches!(op, Op::Noise { .. })) {
            plan.noise = Some(noise.unwrap_or(self.default_noise()));
        }
        plan.validate()?;
        Ok(plan)
    }

    pub fn name(&self) -> String {
        match self {
            Solver::Euler => "euler",
            Solver::DdimEta { .. } => "ddim_eta",
            Solver::Heun => "heun",
            Solver::Ipndm { .. } => "ipndm",
            Solver::IpndmV { .. } => "ipndm_v",
            Solver::AbExact { .. } => "ab_exact",
            Solver::DeisTab { .. } => "deis",
            Solver::Dpm2 { .. } => "dpm2",
            Solver::DpmPp { .. } => "dpmpp",
            Solver::UniPc { corrector: true, .. } => "unipc",
            Solver::UniPc { corrector: false, .. } => "unip",
            Solver::Rk4 => "rk4",
            Solver::EulerAncestral { .. } => "euler_ancestral",
            Solver::Dpm2Ancestral { .. } => "dpm_2_ancestral",
            Solver::DpmPp2sAncestral { .. } => "dpmpp_2s_ancestral",
            Solver::DpmPp2mSde { heun: false, .. } => "dpmpp_2m_sde",
            Solver::DpmPp2mSde { heun: true, .. } => "dpmpp_2m_sde_heun",
            Solver::DpmPp3mSde { .. } => "dpmpp_3m_sde",
            Solver::DpmPpSde { .. } => "dpmpp_sde",
            Solver::EulerChurn { .. } => "euler_churn",
            Solver::HeunChurn { .. } => "heun_churn",
        }
        .into()
    }
}

impl fmt::Display for Solver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Solver::Ipndm { max_order } => write!(f, "ipndm:{max_order}"),
            Solver::IpndmV { max_order } => write!(f, "ipndm_v:{max_order}"),
            Solver::AbExact { max_order } => write!(f, "ab_exact:{max_order}"),
            Solver::DeisTab { order } => write!(f, "deis:{order}"),
            Solver::Dpm2 { r } => write!(f, "dpm2:{r}"),
            Solver::DdimEta { eta } => write!(f, "ddim_eta:{eta}"),
            Solver::DpmPp { order, .. } => write!(f, "dpmpp:{order}"),
            Solver::UniPc { order, variant, corrector, .. } => {
                let v = if *variant == unipc::Variant::Bh1 { "bh1" } else { "bh2" };
                write!(f, "{}_{v}:{order}", if *corrector { "unipc" } else { "unip" })
            }
            Solver::EulerAncestral { eta, s_noise } | Solver::Dpm2Ancestral { eta, s_noise } | Solver::DpmPp2sAncestral { eta, s_noise } | Solver::DpmPpSde { eta, s_noise } | Solver::DpmPp2mSde { eta, s_noise, .. } | Solver::DpmPp3mSde { eta, s_noise } => {
                write!(f, "{}:{eta}", self.name())?;
                if *s_noise != 1.0 {
                    write!(f, ":{s_noise}")?;
                }
                Ok(())
            }
            Solver::EulerChurn { churn, tmin, tmax, s_noise } | Solver::HeunChurn { churn, tmin, tmax, s_noise } => write!(f, "{}:{churn}:{tmin}:{tmax}:{s_noise}", self.name()),
            other => f.write_str(&other.name()),
        }
    }
}

impl FromStr for Solver {
    type Err = Error;
    /// `name[:parameter]`, e.g. `ipndm:3`, `dpm2:0.5`, `unipc_bh1:2`; see [`SOLVERS`].
    fn from_str(s: &str) -> Result<Self> {
        let (name, arg) = s.split_once(':').map_or((s, None), |(n, a)| (n, Some(a)));
        let int = |default: usize| -> Result<usize> {
            arg.map_or(Ok(default), |a| a.trim_end_matches('m').parse().map_err(|_| Error(format!("bad order '{a}' in solver '{s}'"))))
        };
        let real = |default: f64| -> Result<f64> { arg.map_or(Ok(default), |a| a.parse().map_err(|_| Error(format!("bad number '{a}' in solver '{s}'")))) };
        let no_arg = |solver: Solver| match arg {
            None => Ok(solver),
            Some(_) => Err(Error(format!("solver '{name}' takes no parameter"))),
        };
        // A solver's numbers after its name, `usage` naming them for a list too long.
        fn params<const N: usize>(arg: Option<&str>, defaults: [f64; N], name: &str, s: &str, usage: &str) -> Result<[f64; N]> {
            let v = colon_numbers(arg, &defaults, &format!("solver '{s}'"), || format!("solver '{name}' takes {usage}, got '{s}'")).map_err(Error)?;
            Ok(v.try_into().expect("colon_numbers gives one number per default"))
        }
        let solver = match name {
            "euler" | "ddim" => no_arg(Solver::Euler)?,
            "heun" => no_arg(Solver::Heun)?,
            "rk4" => no_arg(Solver::Rk4)?,
            "lms" => Solver::AbExact { max_order: int(4)? },
            "euler_churn" | "heun_churn" => {
                // churn[:tmin[:tmax[:s_noise]]], defaulting to EDM's ImageNet-64 settings.
                let [churn, tmin, tmax, s_noise] = params(arg, [40.0, 0.05, 50.0, 1.003], name, s, "churn[:tmin[:tmax[:s_noise]]]")?;
                if name == "euler_churn" { Solver::EulerChurn { churn, tmin, tmax, s_noise } } else { Solver::HeunChurn { churn, tmin, tmax, s_noise } }
            }
            "euler_ancestral" | "dpm_2_ancestral" | "dpm2_ancestral" | "dpmpp_2s_ancestral" | "dpmpp_sde" | "dpmpp_2m_sde" | "dpmpp_2m_sde_heun" | "dpmpp_3m_sde" => {
                // eta[:s_noise], both defaulting to 1 (k-diffusion's and ComfyUI's defaults).
                let [eta, s_noise] = params(arg, [1.0, 1.0], name, s, "eta[:s_noise]")?;
                match name {
                    "euler_ancestral" => Solver::EulerAncestral { eta, s_noise },
                    "dpm_2_ancestral" | "dpm2_ancestral" => Solver::Dpm2Ancestral { eta, s_noise },
                    "dpmpp_2s_ancestral" => Solver::DpmPp2sAncestral { eta, s_noise },
                    "dpmpp_3m_sde" => Solver::DpmPp3mSde { eta, s_noise },
                    "dpmpp_sde" => Solver::DpmPpSde { eta, s_noise },
                    _ => Solver::DpmPp2mSde { eta, s_noise, heun: name.ends_with("heun") },
                }
            }
            "ddim_eta" => Solver::DdimEta { eta: real(1.0)? },
            "dpm2" => Solver::Dpm2 { r: real(0.5)? },
            "ipndm" => Solver::Ipndm { max_order: int(4)? },
            "ipndm_v" => Solver::IpndmV { max_order: int(4)? },
            "ab_exact" => Solver::AbExact { max_order: int(4)? },
            "deis" => Solver::DeisTab { order: int(3)? },
            "dpmpp" => Solver::DpmPp { order: int(3)?, lower_order_final: true },
            "dpmpp_2m" => no_arg(Solver::DpmPp { order: 2, lower_order_final: true })?,
            "dpmpp_3m" => no_arg(Solver::DpmPp { order: 3, lower_order_final: true })?,
            "unipc" | "unipc_bh1" | "unipc_bh2" | "unip" | "unip_bh1" | "unip_bh2" => {
                let variant = if name.ends_with("bh1") { unipc::Variant::Bh1 } else { unipc::Variant::Bh2 };
                Solver::UniPc { order: int(3)?, variant, corrector: name.starts_with("unipc"), lower_order_final: true }
            }
            _ => {
                let known: Vec<&str> = SOLVERS.iter().map(|s| s.0).collect();
                bail!("unknown solver '{s}' (known: {})", known.join(", "))
            }
        };
        solver.check()?;
        Ok(solver)
    }
}

/// The VP time map fitted to a schedule's positive range (DEIS interpolates in it).
pub fn vp_time_of(sigmas: &[f64]) -> VpTime {
    let smin = sigmas.iter().cloned().filter(|&s| s > 0.0).fold(f64::INFINITY, f64::min);
    VpTime::new(smin, sigmas[0])
}

/// How a plan is compiled besides its solver and sigmas.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CompileOptions {
    /// Analytic first step: the derivative at x_T without a denoiser call (one NFE fewer).
    pub afs: bool,
    /// DPM-Solver++ dynamic thresholding of every denoiser output.
    pub thresholding: Option<Thresholding>,
    /// The step noise of stochastic solvers (default: [`Solver::default_noise`]).
    pub noise: Option<NoiseSource>,
}

impl CompileOptions {
    /// No AFS, no thresholding.
    pub const PLAIN: CompileOptions = CompileOptions { afs: false, thresholding: None, noise: None };

    pub fn afs(afs: bool) -> Self {
        CompileOptions { afs, thresholding: None, noise: None }
    }
}

/// What a user picks: solver, schedule family, NFE budget and range. Compiles to a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SamplingSpec {
    pub solver: Solver,
    pub schedule: Schedule,
    pub nfe: u32,
    pub sigma_min: f64,
    pub sigma_max: f64,
    #[serde(default)]
    pub to_zero: bool,
    #[serde(default)]
    pub afs: bool,
}

/// Evaluations of the teacher that `eval` and the page's compare mode measure L2 against.
pub const TEACHER_NFE: u32 = 60;

/// Evaluations of the reference solve the page's schedule lab measures exact (analytic) models
/// against: cheap for them, and far below the errors of 4-20 NFE schedules (tests/schedule_lab.rs).
pub const REFERENCE_NFE: u32 = 200;

impl SamplingSpec {
    /// The teacher: a high-accuracy solve of the same ODE from the same noise, iPNDM on the
    /// polynomial (rho 7) schedule with `nfe` evaluations.
    pub fn teacher(nfe: u32, sigma_min: f64, sigma_max: f64) -> SamplingSpec {
        SamplingSpec { solver: Solver::Ipndm { max_order: 4 }, schedule: Schedule::Polynomial { rho: 7.0 }, nfe, sigma_min, sigma_max, to_zero: false, afs: false }
    }

    pub fn sigmas(&self) -> Result<Vec<f64>> {
        self.sigmas_on(None)
    }

    /// The sigmas, with the model's training sigmas for ComfyUI's table schedules (which end at
    /// 0 whatever `to_zero` says; ddim_uniform and beta may give another step count, as there).
    pub fn sigmas_on(&self, model: Option<&ModelSigmas>) -> Result<Vec<f64>> {
        let to_zero = self.to_zero || self.schedule.ends_at_zero();
        let steps = self.solver.steps_for_nfe(self.nfe, to_zero, self.afs)?;
        if self.schedule.ends_at_zero() {
            return self.schedule.sigmas_on(steps, self.sigma_min, self.sigma_max, model).map_err(Error);
        }
        let n = steps - to_zero as usize;
        let mut sigmas = self.schedule.sigmas(n, self.sigma_min, self.sigma_max).map_err(Error)?;
        if to_zero {
            sigmas.push(0.0);
        }
        Ok(sigmas)
    }

    pub fn plan(&self) -> Result<Plan> {
        self.plan_on(None)
    }

    /// As [`Self::plan`], with the model's training sigmas (see [`Self::sigmas_on`]).
    pub fn plan_on(&self, model: Option<&ModelSigmas>) -> Result<Plan> {
        self.solver.compile(&self.sigmas_on(model)?, &CompileOptions::afs(self.afs))
    }
}
