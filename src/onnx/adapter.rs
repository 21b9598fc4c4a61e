//! The one adapter from any parameterization to D(x; sigma) in the EDM/VE convention, with the
//! formulas of k-diffusion's `external.py` and ComfyUI's `model_sampling.py`: the graph is fed
//! c_in x and the noise level c_noise, and D = c_skip x + c_out y from its output y.
//! Derivations: docs/own-model.md.
//!
//! Each family writes the graph's input as x_m = alpha x0 + alpha sigma eps with alpha = c_in:
//! EDM alpha = 1 (x itself), VP alpha = 1 / sqrt(1 + sigma^2), flow alpha = 1 / (1 + sigma)
//! (so t = sigma / (1 + sigma) and x_m = (1 - t) x0 + t eps). Then
//! epsilon: x0 = x - sigma y;  v = alpha eps - alpha sigma x0 (alpha^2 (1 + sigma^2) = 1):
//! x0 = alpha^2 x - alpha sigma y;  velocity = eps - x0: x0 = (x - sigma y) / (1 + sigma).

use super::card::{Family, NoiseAs, Parameterization};
use crate::denoiser::precond::Scalings;

#[derive(Clone, Debug, PartialEq)]
pub struct Adapter {
    pub family: Family,
    pub parameterization: Parameterization,
    pub noise: NoiseAs,
    /// Round timesteps to the nearest training timestep (integer timestep inputs).
    pub quantize: bool,
    /// k-diffusion's VDenoiser sigma_data, for v on an EDM schedule (1 elsewhere).
    pub sigma_data: f64,
}

impl Adapter {
    /// The four scalings at `sigma`: c_noise is the value the noise-level input gets.
    pub fn scalings(&self, sigma: f64) -> Scalings {
        let sd = self.sigma_data;
        let c_in = match (&self.family, self.parameterization) {
            (Family::Edm, Parameterization::V) => 1.0 / (sigma * sigma + sd * sd).sqrt(),
            (Family::Edm, _) => 1.0,
            (Family::Vp(_), _) => 1.0 / (sigma * sigma + 1.0).sqrt(),
            (Family::Flow { .. }, _) => 1.0 / (1.0 + sigma),
        };
        let (c_skip, c_out) = match self.parameterization {
            Parameterization::Denoised => (0.0, 1.0),
            Parameterization::Epsilon => (1.0, -sigma),
            Parameterization::V => (sd * sd * c_in * c_in, -sd * sigma * c_in),
            Parameterization::Velocity => (1.0 / (1.0 + sigma), -sigma / (1.0 + sigma)),
        };
        Scalings { c_skip, c_out, c_in, c_noise: self.noise_level(sigma) }
    }

    /// What the noise-level input holds at `sigma`.
    pub fn noise_level(&self, sigma: f64) -> f64 {
        match (&self.family, self.noise) {
            (_, NoiseAs::Sigma) => sigma,
            (Family::Vp(vp), NoiseAs::Timestep) if self.quantize => vp.timestep_quantized(sigma) as f64,
            (Family::Vp(vp), NoiseAs::Timestep) => vp.timestep_clamped(sigma),
            (Family::Flow { timesteps, .. }, NoiseAs::Timestep) => sigma / (1.0 + sigma) * *timesteps as f64,
            (Family::Flow { .. }, NoiseAs::T) => sigma / (1.0 + sigma),
            // Card::resolve refuses the other pairs; sigma keeps this total.
            _ => sigma,
        }
    }
}
