//! Sigma grids (EDM / VE convention, sigma(t) = t), strictly decreasing from sigma_max to sigma_min.

use crate::model_sigmas::ModelSigmas;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Default sigma range of EDM-style models.
pub const SIGMA_MIN: f64 = 0.002;
pub const SIGMA_MAX: f64 = 80.0;

/// VP time floor used by the time-uniform schedule (as in DDPM/EDM code).
const EPS_S: f64 = 1e-3;

/// A family of time discretisations.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// EDM's polynomial schedule in sigma with exponent `rho` (7 by default).
    Polynomial { rho: f64 },
    /// Geometric in sigma: uniform in log-SNR (DPM-Solver's choice).
    Logsnr,
    /// Uniform in VP time tau^(1/rho_t) (rho_t = 1: DDPM's uniform time; 2: DDIM's quadratic).
    TimeUniform { rho_t: f64 },
    /// Uniform in sigma itself. Not a good grid; fixed-step multistep methods reach their order on it.
    UniformSigma,
    /// ComfyUI's `kl_optimal` (Align Your Steps' KL-optimal schedule, Sabour et al. 2024):
    /// uniform in arctan sigma, sigma_k = tan((1 - t) atan(sigma_max) + t atan(sigma_min)).
    KlOptimal,
    /// Flow matching's shift (SD3; Flux's dynamic shift with mu is shift = e^mu): uniform in
    /// unshifted flow time u, then t = s u / (1 + (s - 1) u), sigma = t / (1 - t); the range's
    /// ends are kept (they are unshifted and shifted by the same s).
    FlowShift { shift: f64 },
    /// ComfyUI's `simple` over the model's training sigmas (ends at 0).
    Simple,
    /// ComfyUI's `sgm_uniform` (ends at 0).
    SgmUniform,
    /// ComfyUI's `normal` (ends at 0).
    Normal,
    /// ComfyUI's `ddim_uniform` (ends at 0).
    DdimUniform,
    /// ComfyUI's `beta` with Beta(alpha, beta) quantiles (ends at 0).
    Beta { alpha: f64, beta: f64 },
    /// ComfyUI's `linear_quadratic` (Mochi's; ends at 0).
    LinearQuadratic { threshold: f64, linear_steps: Option<usize> },
    /// Align Your Steps (Sabour et al. 2024): NVIDIA's 10-step table for a model family,
    /// stretched log-linearly to the step count, its last sigma replaced by 0 (ComfyUI's
    /// `AlignYourStepsScheduler`).
    Ays { table: AysTable },
}

/// The Align Your Steps tables ComfyUI ships (`nodes_align_your_steps.py`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AysTable {
    Sd1,
    Sdxl,
    Svd,
}

impl AysTable {
    fn sigmas(self) -> &'static [f64] {
        match self {
            AysTable::Sd1 => &[14.6146412293, 6.4745760956, 3.8636745985, 2.6946151520, 1.8841921177, 1.3943805092, 0.9642583904, 0.6523686016, 0.3977456272, 0.1515232662, 0.0291671582],
            AysTable::Sdxl => &[14.6146412293, 6.3184485287, 3.7681790315, 2.1811480769, 1.3405244945, 0.8620721141, 0.5550693289, 0.3798540708, 0.2332364134, 0.1114188177, 0.0291671582],
            AysTable::Svd => &[700.00, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.002],
        }
    }

    fn name(self) -> &'static str {
        match self {
            AysTable::Sd1 => "sd1",
            AysTable::Sdxl => "sdxl",
            AysTable::Svd => "svd",
        }
    }
}

impl Schedule {
    /// Whether the schedule is one of ComfyUI's lists over a model's training sigmas, which end
    /// at 0 (its last step goes to sigma = 0) rather than at sigma_min.
    pub fn ends_at_zero(&self) -> bool {
        matches!(self, Schedule::Simple | Schedule::SgmUniform | Schedule::Normal | Schedule::DdimUniform | Schedule::Beta { .. } | Schedule::LinearQuadratic { .. } | Schedule::Ays { .. })
    }

    /// `n + 1` sigmas from `smax` down to `smin` (n steps); for the schedules that
    /// [end at zero](Self::ends_at_zero), ComfyUI's list for n steps on a continuous model's
    /// table (use [`Self::sigmas_on`] for a model with training sigmas).
    pub fn sigmas(&self, n: usize, smin: f64, smax: f64) -> Result<Vec<f64>, String> {
        self.sigmas_on(n, smin, smax, None)
    }

    /// As [`Self::sigmas`], with the model's training sigmas where it has them.
    pub fn sigmas_on(&self, n: usize, smin: f64, smax: f64, model: Option<&ModelSigmas>) -> Result<Vec<f64>, String> {
        check_range(n, smin, smax)?;
        if let Schedule::Ays { table } = *self {
            let mut sigmas = resample_loglinear(table.sigmas(), n)?;
            sigmas[n] = 0.0;
            return Ok(sigmas);
        }
        if self.ends_at_zero() {
            let table = match model {
                Some(m) => m.clone(),
                None => ModelSigmas::continuous(smin, smax),
            };
            if table.table.len() < 2 {
                return Err("the model has fewer than 2 training sigmas".into());
            }
            let sigmas = match *self {
                Schedule::Simple => table.simple(n),
                Schedule::SgmUniform => table.normal(n, true),
                Schedule::Normal => table.normal(n, false),
                Schedule::DdimUniform => table.ddim_uniform(n),
                Schedule::Beta { alpha, beta } => table.beta(n, alpha, beta),
                Schedule::LinearQuadratic { threshold, linear_steps } => table.linear_quadratic(n, threshold, linear_steps),
                _ => unreachable!("only the table schedules end at zero"),
            };
            validate_sigmas(&sigmas).map_err(|e| format!("{self} with {n} steps on [{smin}, {smax}]: {e}"))?;
            return Ok(sigmas);
        }
        let frac = |i: usize| i as f64 / n as f64;
        let sigmas: Vec<f64> = match *self {
            Schedule::Polynomial { rho } => {
                if !(rho.is_finite() && rho > 0.0) {
                    return Err(format!("polynomial rho must be positive, got {rho}"));
                }
                let (a, b) = (smax.powf(1.0 / rho), smin.powf(1.0 / rho));
                (0..=n).map(|i| (a + frac(i) * (b - a)).powf(rho)).collect()
            }
            Schedule::Logsnr => {
                let (a, b) = (smax.ln(), smin.ln());
                (0..=n).map(|i| (a + frac(i) * (b - a)).exp()).collect()
            }
            Schedule::TimeUniform { rho_t } => {
                if !(rho_t.is_finite() && rho_t > 0.0) {
                    return Err(format!("time_uniform rho_t must be positive, got {rho_t}"));
                }
                let vp = VpTime::new(smin, smax);
                let e = EPS_S.powf(1.0 / rho_t);
                (0..=n).map(|i| vp.sigma((1.0 + frac(i) * (e - 1.0)).powf(rho_t))).collect()
            }
            Schedule::UniformSigma => (0..=n).map(|i| smax + frac(i) * (smin - smax)).collect(),
            Schedule::KlOptimal => {
                let (a, b) = (smax.atan(), smin.atan());
                (0..=n).map(|i| (a + frac(i) * (b - a)).tan()).collect()
            }
            Schedule::FlowShift { shift } => {
                let t = |sigma: f64| sigma / (1.0 + sigma);
                let shifted = |u: f64| shift * u / (1.0 + (shift - 1.0) * u);
                let unshifted = |t: f64| t / (shift - (shift - 1.0) * t);
                let (a, b) = (unshifted(t(smax)), unshifted(t(smin)));
                (0..=n).map(|i| shifted(a + frac(i) * (b - a))).map(|t| t / (1.0 - t)).collect()
            }
            _ => unreachable!("the table schedules returned above"),
        };
        // Pin the endpoints exactly; pow/exp round-trips are off by an ulp or two.
        let mut sigmas = sigmas;
        sigmas[0] = smax;
        sigmas[n] = smin;
        // An extreme rho or range can round points to NaN or make neighbours equal.
        validate_sigmas(&sigmas).map_err(|e| format!("{self:?} with {n} steps on [{smin}, {smax}]: {e}"))?;
        Ok(sigmas)
    }
}

fn check_range(n: usize, smin: f64, smax: f64) -> Result<(), String> {
    if n == 0 {
        return Err("a schedule needs at least 1 step".into());
    }
    crate::limits::at_most("steps", n, crate::limits::MAX_STEPS).map_err(|e| e.0)?;
    check_sigma_range(smin, smax)
}

/// 0 < sigma_min < sigma_max <= [`MAX_SIGMA`](crate::limits::MAX_SIGMA), all finite.
pub fn check_sigma_range(smin: f64, smax: f64) -> Result<(), String> {
    let max = crate::limits::MAX_SIGMA;
    if !(smin.is_finite() && smax.is_finite() && smin > 0.0 && smax > smin && smax <= max) {
        return Err(format!("sigma range must satisfy 0 < sigma_min < sigma_max <= {max}, got [{smin}, {smax}]"));
    }
    Ok(())
}

/// The VP-SDE time map of Song et al. fitted so that sigma(1) = smax and sigma(eps_s) = smin.
#[derive(Clone, Copy, Debug)]
pub struct VpTime {
    beta_d: f64,
    beta_min: f64,
}

impl VpTime {
    pub fn new(smin: f64, smax: f64) -> Self {
        let (lmin, lmax) = ((smin * smin).ln_1p(), (smax * smax).ln_1p());
        let beta_d = 2.0 / (EPS_S - 1.0) * (lmin / EPS_S - lmax);
        VpTime { beta_d, beta_min: lmax - 0.5 * beta_d }
    }

    /// sigma(tau) = sqrt(exp(beta_d tau^2 / 2 + beta_min tau) - 1).
    pub fn sigma(&self, tau: f64) -> f64 {
        (0.5 * self.beta_d * tau * tau + self.beta_min * tau).exp_m1().sqrt()
    }

    /// The inverse map: the root tau > 0 of beta_d tau^2 / 2 + beta_min tau = ln(1 + sigma^2).
    pub fn tau(&self, sigma: f64) -> f64 {
        let g = (sigma * sigma).ln_1p();
        // Written as 2g / (b + sqrt(b^2 + 2 beta_d g)) to avoid cancellation at small sigma.
        2.0 * g / (self.beta_min + (self.beta_min * self.beta_min + 2.0 * self.beta_d * g).sqrt())
    }

    /// d sigma / d tau = (1 + sigma^2) (beta_d tau + beta_min) / (2 sigma).
    pub fn dsigma_dtau(&self, tau: f64) -> f64 {
        let s = self.sigma(tau);
        (1.0 + s * s) * (self.beta_d * tau + self.beta_min) / (2.0 * s)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Polynomial { rho } => write!(f, "polynomial:{rho}"),
            Schedule::Logsnr => write!(f, "logsnr"),
            Schedule::TimeUniform { rho_t } => write!(f, "time_uniform:{rho_t}"),
            Schedule::UniformSigma => write!(f, "uniform_sigma"),
            Schedule::KlOptimal => write!(f, "kl_optimal"),
            Schedule::FlowShift { shift } => write!(f, "flow_shift:{shift}"),
            Schedule::Simple => write!(f, "simple"),
            Schedule::SgmUniform => write!(f, "sgm_uniform"),
            Schedule::Normal => write!(f, "normal"),
            Schedule::DdimUniform => write!(f, "ddim_uniform"),
            Schedule::Beta { alpha, beta } => write!(f, "beta:{alpha}:{beta}"),
            Schedule::LinearQuadratic { threshold, linear_steps: None } => write!(f, "linear_quadratic:{threshold}"),
            Schedule::LinearQuadratic { threshold, linear_steps: Some(l) } => write!(f, "linear_quadratic:{threshold}:{l}"),
            Schedule::Ays { table } => write!(f, "ays:{}", table.name()),
        }
    }
}

/// Parses `polynomial[:rho]`, `logsnr`, `uniform` (= `time_uniform:1`), `time_uniform[:rho_t]`,
/// `quadratic` (= `time_uniform:2`), `uniform_sigma`, `kl_optimal`, `flow_shift[:s]`,
/// `flow_shift_mu:mu` and ComfyUI's table schedules.
impl FromStr for Schedule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        let num = |default: f64| -> Result<f64, String> {
            arg.map_or(Ok(default), |a| a.parse().map_err(|_| format!("bad number '{a}' in schedule '{s}'")))
        };
        let no_arg = |sched: Schedule| match arg {
            None => Ok(sched),
            Some(_) => Err(format!("schedule '{name}' takes no parameter")),
        };
        let numbers = |defaults: &[f64]| colon_numbers(arg, defaults, &format!("schedule '{s}'"), || format!("schedule '{s}' takes at most {} parameters", defaults.len()));
        match name {
            "polynomial" | "edm" => Ok(Schedule::Polynomial { rho: num(7.0)? }),
            "logsnr" => no_arg(Schedule::Logsnr),
            "uniform" => no_arg(Schedule::TimeUniform { rho_t: 1.0 }),
            "quadratic" => no_arg(Schedule::TimeUniform { rho_t: 2.0 }),
            "time_uniform" => Ok(Schedule::TimeUniform { rho_t: num(1.0)? }),
            "uniform_sigma" => no_arg(Schedule::UniformSigma),
            "kl_optimal" => no_arg(Schedule::KlOptimal),
            "flow_shift" => {
                let shift = num(3.0)?;
                if !(shift.is_finite() && shift > 0.0 && shift <= 1e3) {
                    return Err(format!("flow_shift needs a shift in (0, 1000], got {shift}"));
                }
                Ok(Schedule::FlowShift { shift })
            }
            "flow_shift_mu" => {
                let mu = arg.ok_or("flow_shift_mu needs mu, e.g. flow_shift_mu:1.15")?.parse::<f64>().map_err(|_| format!("bad number in schedule '{s}'"))?;
                if !(mu.is_finite() && mu.abs() <= 6.9) {
                    return Err(format!("flow_shift_mu needs |mu| <= 6.9 (a shift e^mu in (0.001, 1000)), got {mu}"));
                }
                Ok(Schedule::FlowShift { shift: mu.exp() })
            }
            "ays" => match arg.unwrap_or("sd1") {
                "sd1" => Ok(Schedule::Ays { table: AysTable::Sd1 }),
                "sdxl" => Ok(Schedule::Ays { table: AysTable::Sdxl }),
                "svd" => Ok(Schedule::Ays { table: AysTable::Svd }),
                other => Err(format!("ays takes sd1, sdxl or svd (Align Your Steps' tables), got '{other}'")),
            },
            "simple" => no_arg(Schedule::Simple),
            "sgm_uniform" => no_arg(Schedule::SgmUniform),
            "normal" => no_arg(Schedule::Normal),
            "ddim_uniform" => no_arg(Schedule::DdimUniform),
            "beta" => {
                let v = numbers(&[0.6, 0.6])?;
                if !v.iter().all(|x| x.is_finite() && *x > 0.0 && *x <= 100.0) {
                    return Err(format!("beta needs alpha and beta in (0, 100], got '{s}'"));
                }
                Ok(Schedule::Beta { alpha: v[0], beta: v[1] })
            }
            "linear_quadratic" => {
                let v = numbers(&[0.025, f64::NAN])?;
                if !(v[0].is_finite() && v[0] > 0.0 && v[0] < 1.0) {
                    return Err(format!("linear_quadratic needs a threshold in (0, 1), got {}", v[0]));
                }
                let linear_steps = match v[1] {
                    l if l.is_nan() => None,
                    l if l.fract() == 0.0 && l >= 1.0 && l <= crate::limits::MAX_STEPS as f64 => Some(l as usize),
                    l => return Err(format!("linear_quadratic's linear steps must be a whole number >= 1, got {l}")),
                };
                Ok(Schedule::LinearQuadratic { threshold: v[0], linear_steps })
            }
            _ => Err(format!(
                "unknown schedule '{s}' (expected polynomial[:rho], logsnr, uniform, quadratic, time_uniform[:rho_t], uniform_sigma, kl_optimal, flow_shift[:s], flow_shift_mu:mu, simple, sgm_uniform, normal, ddim_uniform, beta[:alpha[:beta]], linear_quadratic[:threshold[:linear_steps]], ays[:sd1|sdxl|svd])"
            )),
        }
    }
}

/// The parameters after a name (`a[:b...]`) as numbers, each defaulting to `defaults`: the one
/// parser of schedule and solver parameters. `what` names the whole text in a bad-number
/// message ("schedule 'beta:x'"); `too_many` is the message for a list longer than `defaults`.
pub(crate) fn colon_numbers(arg: Option<&str>, defaults: &[f64], what: &str, too_many: impl FnOnce() -> String) -> Result<Vec<f64>, String> {
    let mut v = defaults.to_vec();
    let given: Vec<&str> = arg.map(|a| a.split(':').collect()).unwrap_or_default();
    if given.len() > defaults.len() {
        return Err(too_many());
    }
    for (slot, text) in v.iter_mut().zip(given) {
        *slot = text.parse().map_err(|_| format!("bad number '{text}' in {what}"))?;
    }
    Ok(v)
}

/// Resamples a schedule to `n` steps by interpolating ln sigma linearly in the step index; a
/// final 0 is kept as a final 0. Endpoints are preserved.
pub fn resample_loglinear(sigmas: &[f64], n: usize) -> Result<Vec<f64>, String> {
    validate_sigmas(sigmas)?;
    let to_zero = *sigmas.last().unwrap() == 0.0;
    let positive = &sigmas[..sigmas.len() - to_zero as usize];
    crate::limits::at_most("steps", n, crate::limits::MAX_STEPS).map_err(|e| e.0)?;
    let m = n.saturating_sub(to_zero as usize);
    if m == 0 || positive.len() < 2 {
        return Err(format!("cannot resample {} sigmas to {n} steps", sigmas.len()));
    }
    let logs: Vec<f64> = positive.iter().map(|s| s.ln()).collect();
    let last = (logs.len() - 1) as f64;
    let mut out: Vec<f64> = (0..=m)
        .map(|i| {
            let u = i as f64 / m as f64 * last;
            let k = (u.floor() as usize).min(logs.len() - 2);
            let f = u - k as f64;
            (logs[k] + f * (logs[k + 1] - logs[k])).exp()
        })
        .collect();
    out[0] = positive[0];
    out[m] = positive[positive.len() - 1];
    if to_zero {
        out.push(0.0);
    }
    Ok(out)
}

/// Checks a sigma list a plan will run on: finite, strictly decreasing, positive except an
/// optional final 0.
pub fn validate_sigmas(sigmas: &[f64]) -> Result<(), String> {
    if sigmas.len() < 2 {
        return Err(format!("a schedule needs at least 2 sigmas, got {}", sigmas.len()));
    }
    crate::limits::at_most("steps", sigmas.len() - 1, crate::limits::MAX_STEPS).map_err(|e| e.0)?;
    let max = crate::limits::MAX_SIGMA;
    for (i, &s) in sigmas.iter().enumerate() {
        let last = i + 1 == sigmas.len();
        if !s.is_finite() || s < 0.0 || (s == 0.0 && !last) || s > max {
            return Err(format!("sigma[{i}] = {s} must be finite and > 0 (only the last may be 0), at most {max}"));
        }
        if i > 0 && s >= sigmas[i - 1] {
            return Err(format!("sigmas must be strictly decreasing: sigma[{}] = {} <= sigma[{i}] = {s}", i - 1, sigmas[i - 1]));
        }
    }
    Ok(())
}
