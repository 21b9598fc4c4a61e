//! Sigma grids (EDM / VE convention, sigma(t) = t), strictly decreasing from sigma_max to sigma_min.

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
}

impl Schedule {
    /// `n + 1` sigmas from `smax` down to `smin` (n steps).
    pub fn sigmas(&self, n: usize, smin: f64, smax: f64) -> Result<Vec<f64>, String> {
        check_range(n, smin, smax)?;
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
        }
    }
}

/// Parses `polynomial[:rho]`, `logsnr`, `uniform` (= `time_uniform:1`), `time_uniform[:rho_t]`,
/// `quadratic` (= `time_uniform:2`) and `uniform_sigma`.
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
        match name {
            "polynomial" | "edm" => Ok(Schedule::Polynomial { rho: num(7.0)? }),
            "logsnr" => no_arg(Schedule::Logsnr),
            "uniform" => no_arg(Schedule::TimeUniform { rho_t: 1.0 }),
            "quadratic" => no_arg(Schedule::TimeUniform { rho_t: 2.0 }),
            "time_uniform" => Ok(Schedule::TimeUniform { rho_t: num(1.0)? }),
            "uniform_sigma" => no_arg(Schedule::UniformSigma),
            "kl_optimal" => no_arg(Schedule::KlOptimal),
            _ => Err(format!(
                "unknown schedule '{s}' (expected polynomial[:rho], logsnr, uniform, quadratic, time_uniform[:rho_t], uniform_sigma, kl_optimal)"
            )),
        }
    }
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
