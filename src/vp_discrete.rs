//! Discrete VP (DDPM) noise schedules: betas over T integer timesteps as diffusers defines them
//! (linear, scaled_linear, squaredcos_cap_v2, or given), and the map between those timesteps and
//! EDM sigmas, sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t), as k-diffusion's
//! `DiscreteSchedule` computes it (docs/own-model.md).

use crate::{Result, bail, limits};

/// A discrete VP schedule: the sigma of every training timestep.
#[derive(Clone, Debug, PartialEq)]
pub struct DiscreteVp {
    sigmas: Vec<f64>, // increasing in t
}

/// The most training timesteps a schedule may have (diffusers' models use 1000).
pub const MAX_TIMESTEPS: usize = 100_000;

impl DiscreteVp {
    /// From betas (each in (0, 1)), alpha_bar = cumprod(1 - beta) in f64.
    pub fn from_betas(betas: &[f64]) -> Result<Self> {
        if betas.len() < 2 {
            bail!("a discrete schedule needs at least 2 timesteps, got {}", betas.len());
        }
        limits::at_most("num_train_timesteps", betas.len(), MAX_TIMESTEPS)?;
        if let Some(b) = betas.iter().find(|b| !(**b > 0.0 && **b < 1.0)) {
            bail!("betas must lie in (0, 1), found {b}");
        }
        let sigmas = sigmas_of_betas(betas.iter().copied());
        if let Some(s) = sigmas.iter().find(|s| !(s.is_finite() && **s <= limits::MAX_SIGMA)) {
            bail!("the schedule reaches sigma {s}, above the limit of {} (alpha_bar underflows)", limits::MAX_SIGMA);
        }
        // The timestep map interpolates ln sigma between neighbours: they must differ.
        if sigmas[0] <= 0.0 || sigmas.windows(2).any(|w| w[1] <= w[0]) {
            bail!("the betas give sigmas that are not positive and strictly increasing (a beta too small for f64: 1 - beta rounds to 1)");
        }
        Ok(DiscreteVp { sigmas })
    }

    /// diffusers' `beta_schedule` over `steps` timesteps: "linear", "scaled_linear" (linear in
    /// sqrt(beta)) or "squaredcos_cap_v2" (the cosine schedule; beta_start/end unused).
    pub fn named(kind: &str, steps: usize, beta_start: f64, beta_end: f64) -> Result<Self> {
        limits::at_most("num_train_timesteps", steps, MAX_TIMESTEPS)?;
        if steps < 2 {
            bail!("num_train_timesteps must be at least 2, got {steps}");
        }
        let lerp = |a: f64, b: f64, t: usize| a + (b - a) * t as f64 / (steps - 1) as f64;
        let betas: Vec<f64> = match kind {
            "linear" => (0..steps).map(|t| lerp(beta_start, beta_end, t)).collect(),
            "scaled_linear" => (0..steps).map(|t| lerp(beta_start.sqrt(), beta_end.sqrt(), t).powi(2)).collect(),
            "squaredcos_cap_v2" => {
                let alpha_bar = |t: f64| ((t + 0.008) / 1.008 * std::f64::consts::FRAC_PI_2).cos().powi(2);
                (0..steps).map(|i| (1.0 - alpha_bar((i + 1) as f64 / steps as f64) / alpha_bar(i as f64 / steps as f64)).min(0.999)).collect()
            }
            other => bail!("beta_schedule \"{other}\" is not supported (linear, scaled_linear, squaredcos_cap_v2, or trained_betas)"),
        };
        Self::from_betas(&betas)
    }

    /// DDPM's linear beta schedule, beta_t from `beta_start` to `beta_end` over `steps` (trusted
    /// constants: unchecked, so the browser build carries no schedule parsing).
    pub fn linear(steps: usize, beta_start: f64, beta_end: f64) -> Self {
        DiscreteVp { sigmas: sigmas_of_betas((0..steps).map(|t| beta_start + (beta_end - beta_start) * t as f64 / (steps - 1) as f64)) }
    }

    /// The DDPM default: 1000 timesteps, beta 1e-4 .. 0.02.
    pub fn ddpm() -> Self {
        Self::linear(1000, 1e-4, 0.02)
    }

    /// The sigma of every timestep, ascending.
    pub fn sigmas(&self) -> &[f64] {
        &self.sigmas
    }

    pub fn len(&self) -> usize {
        self.sigmas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sigmas.is_empty()
    }

    /// sigma at integer timestep t (0-based).
    pub fn sigma(&self, t: usize) -> Option<f64> {
        self.sigmas.get(t).copied()
    }

    /// The sigma range the schedule covers: sigma(0), sigma(T-1).
    pub fn range(&self) -> (f64, f64) {
        (self.sigmas[0], self.sigmas[self.sigmas.len() - 1])
    }

    /// The (fractional) timestep of `sigma`, interpolating ln sigma between neighbours;
    /// None outside [sigma(0), sigma(T-1)].
    pub fn timestep(&self, sigma: f64) -> Option<f64> {
        let (lo, hi) = self.range();
        (sigma >= lo && sigma <= hi).then(|| self.timestep_clamped(sigma))
    }

    /// k-diffusion's `sigma_to_t`: ln sigma interpolated between the neighbouring timesteps,
    /// clamped to [0, T-1] outside the schedule's range.
    pub fn timestep_clamped(&self, sigma: f64) -> f64 {
        let s = &self.sigmas;
        let log = sigma.ln();
        // The last timestep whose sigma is at most sigma, kept below T-1 so t+1 exists.
        let low = s.partition_point(|&v| v.ln() <= log).saturating_sub(1).min(s.len() - 2);
        let (a, b) = (s[low].ln(), s[low + 1].ln());
        let w = ((a - log) / (a - b)).clamp(0.0, 1.0);
        (1.0 - w) * low as f64 + w * (low + 1) as f64
    }

    /// k-diffusion's quantized `sigma_to_t`: the timestep whose ln sigma is nearest (the first
    /// one on a tie).
    pub fn timestep_quantized(&self, sigma: f64) -> usize {
        let log = sigma.ln();
        let hi = self.sigmas.partition_point(|&v| v < sigma);
        let candidates = [hi.saturating_sub(1), hi.min(self.sigmas.len() - 1)];
        let dist = |t: usize| (self.sigmas[t].ln() - log).abs();
        if dist(candidates[1]) < dist(candidates[0]) { candidates[1] } else { candidates[0] }
    }

    /// Sigmas of a list of integer timesteps (e.g. a sampler's [999, 899, ..., 0]).
    pub fn sigmas_of(&self, timesteps: &[usize]) -> std::result::Result<Vec<f64>, String> {
        timesteps.iter().map(|&t| self.sigma(t).ok_or_else(|| format!("timestep {t} is outside 0..{}", self.len()))).collect()
    }
}

/// sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t), alpha_bar = cumprod(1 - beta) in f64.
fn sigmas_of_betas(betas: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut alpha_bar = 1.0;
    betas
        .map(|b| {
            alpha_bar *= 1.0 - b;
            ((1.0 - alpha_bar) / alpha_bar).sqrt()
        })
        .collect()
}
