//! DPM-Solver++ (stochastic) (k-diffusion `sample_dpmpp_sde`, r = 1/2): a single-step
//! second-order exponential integrator in data prediction whose two sub-steps are each an
//! ancestral step: to the intermediate point sigma_s = s^(1-r) s'^r with noise over (s, sigma_s),
//! then to s' from the weighted denoised (1 - 1/2r) D + (1/2r) D_s with noise over (s, s').
//! Both draws come from one Brownian path in k-diffusion (its default), so they are correlated.
//! eta = 0 is DPM-Solver++(2S) (dpmpp_2s_ancestral:0). 2 NFE per step.

use super::ancestral::split;
use super::builder::{Lin, PlanBuilder};

const R: f64 = 0.5;

pub fn step(b: &mut PlanBuilder, sigmas: &[f64], eta: f64, s_noise: f64, x: Lin, i: usize) -> Lin {
    let (s, s_next) = (sigmas[i], sigmas[i + 1]);
    let den = b.denoise(&x, s);
    let (t, t_next) = (-s.ln(), -s_next.ln());
    let s_mid = (-(t + R * (t_next - t))).exp(); // s^(1-r) s'^r, computed as k-diffusion does
    let fac = 1.0 / (2.0 * R);
    // x at sigma_down from x at s with denoised d: (sd/s) x - (sd/s - 1) d.
    let to = |x: Lin, d: Lin, down: f64| x * (down / s) - d * (down / s - 1.0);
    let noisy = |b: &mut PlanBuilder, x: Lin, up: f64, lo: f64| if up > 0.0 && s_noise > 0.0 { x + b.noise(s, lo) * (s_noise * up) } else { x };
    let (down, up) = split(s, s_mid, eta);
    let x_mid = to(x.clone(), den.clone(), down);
    let x_mid = noisy(b, x_mid, up, s_mid);
    let den_mid = b.denoise(&x_mid, s_mid);
    let (down, up) = split(s, s_next, eta);
    let out = to(x, den * (1.0 - fac) + den_mid * fac, down);
    noisy(b, out, up, s_next)
}
