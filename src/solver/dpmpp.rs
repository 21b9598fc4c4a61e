//! DPM-Solver++ (1, 2M, 3M): multistep exponential integrator in data prediction, written with
//! lambda = -ln sigma. Order 1 is DDIM. With `lower_order_final` the last step is first order and
//! the one before at most second order (stabilises few-step sampling).

use super::builder::{Lin, PlanBuilder};

pub struct DpmPp {
    order: usize,
    lower_order_final: bool,
    denoised: Vec<Lin>, // newest first
    hs: Vec<f64>,       // step sizes in lambda, newest first
}

impl DpmPp {
    pub fn new(order: usize, lower_order_final: bool) -> Self {
        DpmPp { order, lower_order_final, denoised: Vec::new(), hs: Vec::new() }
    }

    pub fn step(&mut self, b: &mut PlanBuilder, sigmas: &[f64], x: Lin, i: usize) -> Lin {
        let (s, s_next) = (sigmas[i], sigmas[i + 1]);
        let steps_left = sigmas.len() - 1 - i; // including this one
        let mut order = self.order.min(i + 1);
        if self.lower_order_final {
            order = order.min(steps_left);
        }
        let h = (s / s_next).ln();
        let d0 = b.denoise(&x, s);
        self.denoised.insert(0, d0.clone());
        self.denoised.truncate(3);
        let phi1 = (-h).exp_m1();
        let base = x * (s_next / s) - d0.clone() * phi1;
        let out = match order {
            1 => base,
            2 => {
                let r0 = self.hs[0] / h;
                let d1 = (d0 - self.denoised[1].clone()) * (1.0 / r0);
                base - d1 * (0.5 * phi1)
            }
            _ => {
                let (r0, r1) = (self.hs[0] / h, self.hs[1] / h);
                let d1_0 = (d0 - self.denoised[1].clone()) * (1.0 / r0);
                let d1_1 = (self.denoised[1].clone() - self.denoised[2].clone()) * (1.0 / r1);
                let d1 = d1_0.clone() + (d1_0.clone() - d1_1.clone()) * (r0 / (r0 + r1));
                let d2 = (d1_0 - d1_1) * (1.0 / (r0 + r1));
                let phi2 = phi1 / h + 1.0;
                let phi3 = phi2 / h - 0.5;
                base + d1 * phi2 - d2 * phi3
            }
        };
        self.hs.insert(0, h);
        self.hs.truncate(2);
        out
    }
}
