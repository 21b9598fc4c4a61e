//! Stochastic DDIM (eta) in EDM form: x' = D + sqrt(s'^2 - c^2) (x - D) / s + c z with
//! c = eta (s'/s) sqrt(s^2 - s'^2). eta = 0 is DDIM; eta = 1 is DDPM's ancestral step.
//! 1 NFE per step, one noise draw per step.

use super::builder::{Lin, PlanBuilder};

pub fn step(b: &mut PlanBuilder, sigmas: &[f64], eta: f64, x: Lin, i: usize) -> Lin {
    let (s, s_next) = (sigmas[i], sigmas[i + 1]);
    let c = eta * (s_next / s) * (s * s - s_next * s_next).sqrt();
    let den = b.denoise(&x, s);
    let keep = (s_next * s_next - c * c).max(0.0).sqrt() / s;
    let out = den.clone() + (x - den) * keep;
    if c > 0.0 { out + b.noise(s, s_next) * c } else { out }
}
