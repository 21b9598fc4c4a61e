//! The discrete VP (DDPM) noise schedule: linear betas over 1000 integer timesteps, and the map
//! between those timesteps and EDM sigmas, sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t).

/// DDPM's linear beta schedule, beta_t from 1e-4 to 0.02 over `steps` timesteps.
#[derive(Clone, Debug)]
pub struct DiscreteVp {
    sigmas: Vec<f64>, // increasing in t
}

impl DiscreteVp {
    pub fn linear(steps: usize, beta_start: f64, beta_end: f64) -> Self {
        let mut alpha_bar = 1.0;
        let sigmas = (0..steps)
            .map(|t| {
                let beta = beta_start + (beta_end - beta_start) * t as f64 / (steps - 1) as f64;
                alpha_bar *= 1.0 - beta;
                ((1.0 - alpha_bar) / alpha_bar).sqrt()
            })
            .collect();
        DiscreteVp { sigmas }
    }

    /// The DDPM default: 1000 timesteps, beta 1e-4 .. 0.02.
    pub fn ddpm() -> Self {
        Self::linear(1000, 1e-4, 0.02)
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

    /// The (fractional) timestep of `sigma`, interpolating ln sigma between neighbours;
    /// None outside [sigma(0), sigma(T-1)].
    pub fn timestep(&self, sigma: f64) -> Option<f64> {
        let s = &self.sigmas;
        if !(sigma >= s[0] && sigma <= s[s.len() - 1]) {
            return None;
        }
        let hi = s.partition_point(|&v| v < sigma).max(1);
        let (a, b) = (s[hi - 1].ln(), s[hi].ln());
        Some(hi as f64 - 1.0 + (sigma.ln() - a) / (b - a))
    }

    /// Sigmas of a list of integer timesteps (e.g. a sampler's [999, 899, ..., 0]).
    pub fn sigmas_of(&self, timesteps: &[usize]) -> Result<Vec<f64>, String> {
        timesteps.iter().map(|&t| self.sigma(t).ok_or_else(|| format!("timestep {t} is outside 0..{}", self.len()))).collect()
    }
}
