//! EDM's stochastic sampler (Karras et al. 2022, Algorithm 2; k-diffusion `sample_euler` and
//! `sample_heun` with s_churn): at each step with S_tmin <= s <= S_tmax, raise the noise to
//! s_hat = s (1 + gamma), gamma = min(S_churn / steps, sqrt 2 - 1), by adding fresh noise of level
//! sqrt(s_hat^2 - s^2) S_noise, then take an Euler (or Heun) step from s_hat to s'. S_churn = 0 is
//! Euler (Heun). 1 (2) NFE per step.

use super::builder::{Lin, PlanBuilder};

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Churn {
    pub churn: f64,
    pub tmin: f64,
    pub tmax: f64,
    pub s_noise: f64,
}

pub fn step(b: &mut PlanBuilder, sigmas: &[f64], c: &Churn, heun: bool, x: Lin, i: usize) -> Lin {
    let (s, s_next) = (sigmas[i], sigmas[i + 1]);
    let steps = (sigmas.len() - 1) as f64;
    let gamma = if c.tmin <= s && s <= c.tmax { (c.churn / steps).min(2f64.sqrt() - 1.0) } else { 0.0 };
    let s_hat = s * (1.0 + gamma);
    let x = if gamma > 0.0 && c.s_noise > 0.0 { x + b.noise(s_hat, s) * (c.s_noise * (s_hat * s_hat - s * s).sqrt()) } else { x };
    let d = b.derivative(&x, s_hat);
    let euler = x.clone() + d.clone() * (s_next - s_hat);
    if !heun {
        return euler;
    }
    let d_next = b.derivative(&euler, s_next);
    x + (d + d_next) * (0.5 * (s_next - s_hat))
}
