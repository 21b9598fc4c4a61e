//! DPM-Solver++(3M) SDE (k-diffusion `sample_dpmpp_3m_sde`): with h = ln(s / s') and
//! h_eta = (1 + eta) h, x' = e^(-h_eta) x + (1 - e^(-h_eta)) D, plus the second- and third-order
//! corrections from the last two D (phi_2, phi_3 of h_eta), plus s' sqrt(1 - e^(-2 eta h))
//! s_noise z. eta = 0 is its ODE form. 1 NFE per step.

use super::builder::{Lin, PlanBuilder};

pub struct DpmPp3mSde {
    eta: f64,
    s_noise: f64,
    /// The previous D and h, newest first (at most two).
    last: Vec<(Lin, f64)>,
}

impl DpmPp3mSde {
    pub fn new(eta: f64, s_noise: f64) -> Self {
        DpmPp3mSde { eta, s_noise, last: Vec::new() }
    }

    pub fn step(&mut self, b: &mut PlanBuilder, sigmas: &[f64], x: Lin, i: usize) -> Lin {
        let (s, s_next) = (sigmas[i], sigmas[i + 1]);
        let den = b.denoise(&x, s);
        let h = (s / s_next).ln();
        let h_eta = h * (1.0 + self.eta);
        let mut out = x * (-h_eta).exp() - den.clone() * (-h_eta).exp_m1();
        let phi_2 = (-h_eta).exp_m1() / h_eta + 1.0;
        match self.last.as_slice() {
            [(d_1, h_1), (d_2, h_2)] => {
                let (r0, r1) = (h_1 / h, h_2 / h);
                let d1_0 = (den.clone() - d_1.clone()) * (1.0 / r0);
                let d1_1 = (d_1.clone() - d_2.clone()) * (1.0 / r1);
                let d1 = d1_0.clone() + (d1_0.clone() - d1_1.clone()) * (r0 / (r0 + r1));
                let d2 = (d1_0 - d1_1) * (1.0 / (r0 + r1));
                let phi_3 = phi_2 / h_eta - 0.5;
                out = out + d1 * phi_2 - d2 * phi_3;
            }
            [(d_1, h_1)] => out = out + (den.clone() - d_1.clone()) * (phi_2 * h / h_1),
            _ => {}
        }
        self.last.insert(0, (den, h));
        self.last.truncate(2);
        if self.eta > 0.0 && self.s_noise > 0.0 {
            out = out + b.noise(s, s_next) * (s_next * (-(-2.0 * h * self.eta).exp_m1()).sqrt() * self.s_noise);
        }
        out
    }
}
