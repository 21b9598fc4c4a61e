//! DPM-Solver-2 ancestral (k-diffusion `sample_dpm_2_ancestral`): DPM-Solver-2 to s_down
//! through the geometric midpoint of s and s_down, then noise of level s_up. eta = 0 is
//! DPM-Solver-2 (r = 1/2). 2 NFE per step.

use super::ancestral::split;
use super::builder::{Lin, PlanBuilder};

pub fn step(b: &mut PlanBuilder, sigmas: &[f64], eta: f64, s_noise: f64, x: Lin, i: usize) -> Lin {
    let (s, s_next) = (sigmas[i], sigmas[i + 1]);
    let (down, up) = split(s, s_next, eta);
    let d = b.derivative(&x, s);
    let s_mid = (s * down).sqrt();
    let x_mid = x.clone() + d * (s_mid - s);
    let d_mid = b.derivative(&x_mid, s_mid);
    let out = x + d_mid * (down - s);
    if up > 0.0 && s_noise > 0.0 { out + b.noise(s, s_next) * (s_noise * up) } else { out }
}
