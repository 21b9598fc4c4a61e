//! DPM-Solver++(2M) SDE (k-diffusion `sample_dpmpp_2m_sde`): the multistep exponential
//! integrator of the SDE in data prediction, with h = ln(s / s'), eta_h = eta h:
//! x' = (s'/s) e^(-eta_h) x + (1 - e^(-h - eta_h)) D + a correction from the previous D
//! (midpoint or heun), + s' sqrt(1 - e^(-2 eta_h)) s_noise z. eta = 0 with the midpoint
//! correction is DPM-Solver++(2M). 1 NFE per step.

use super::builder::{Lin, PlanBuilder};

pub struct DpmPp2mSde {
    eta: f64,
    s_noise: f64,
    heun: bool,
    /// The previous step's D and h.
    last: Option<(Lin, f64)>,
}

impl DpmPp2mSde {
    pub fn new(eta: f64, s_noise: f64, heun: bool) -> Self {
        DpmPp2mSde { eta, s_noise, heun, last: None }
    }

    pub fn step(&mut self, b: &mut PlanBuilder, sigmas: &[f64], x: Lin, i: usize) -> Lin {
        let (s, s_next) = (sigmas[i], sigmas[i + 1]);
        let den = b.denoise(&x, s);
        let h = (s / s_next).ln();
        let eta_h = self.eta * h;
        let phi = -(-h - eta_h).exp_m1(); // 1 - e^(-h - eta_h)
        let mut out = x * ((s_next / s) * (-eta_h).exp()) + den.clone() * phi;
        if let Some((old, h_last)) = self.last.take() {
            let r = h_last / h;
            let w = if self.heun { phi / (-h - eta_h) + 1.0 } else { 0.5 * phi };
            out = out + (den.clone() - old) * (w / r);
        }
        self.last = Some((den, h));
        if self.eta > 0.0 && self.s_noise > 0.0 {
            out = out + b.noise(s, s_next) * (s_next * (-(-2.0 * eta_h).exp_m1()).sqrt() * self.s_noise);
        }
        out
    }
}
