//! DPM-Solver++(2S) ancestral (k-diffusion `sample_dpmpp_2s_ancestral`): a single-step
//! second-order exponential integrator in data prediction (lambda = -ln sigma, midpoint
//! r = 1/2) to s_down, then noise of level s_up. eta = 0 is DPM-Solver++(2S). 2 NFE per step.

use super::ancestral::split;
use super::builder::{Lin, PlanBuilder};

pub fn step(b: &mut PlanBuilder, sigmas: &[f64], eta: f64, s_noise: f64, x: Lin, i: usize) -> Lin {
    let (s, s_next) = (sigmas[i], sigmas[i + 1]);
    let (down, up) = split(s, s_next, eta);
    let den = b.denoise(&x, s);
    let h = (s / down).ln();
    let s_mid = (s * down).sqrt(); // lambda + h / 2
    let x_mid = x.clone() * (s_mid / s) - den * (-0.5 * h).exp_m1();
    let den_mid = b.denoise(&x_mid, s_mid);
    let out = x * (down / s) - den_mid * (-h).exp_m1();
    if up > 0.0 && s_noise > 0.0 { out + b.noise(s, s_next) * (s_noise * up) } else { out }
}
