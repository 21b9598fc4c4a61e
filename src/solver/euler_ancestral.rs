//! Euler ancestral (k-diffusion `sample_euler_ancestral`): an Euler step to s_down, then noise
//! of level s_up (see [`super::ancestral`]). eta = 0 is Euler. 1 NFE per step.

use super::ancestral::split;
use super::builder::{Lin, PlanBuilder};

pub fn step(b: &mut PlanBuilder, sigmas: &[f64], eta: f64, s_noise: f64, x: Lin, i: usize) -> Lin {
    let (s, s_next) = (sigmas[i], sigmas[i + 1]);
    let (down, up) = split(s, s_next, eta);
    let d = b.derivative(&x, s);
    let out = x + d * (down - s);
    if up > 0.0 && s_noise > 0.0 { out + b.noise(s, s_next) * (s_noise * up) } else { out }
}
