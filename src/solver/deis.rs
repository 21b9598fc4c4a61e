//! Multistep methods whose weights integrate a Lagrange interpolant of past derivatives d:
//! - `ab_exact`: exact variable-step Adams–Bashforth in sigma (= DEIS rhoAB in EDM form);
//! - DEIS-tAB: the interpolant lives in VP time tau and the integrand carries d sigma / d tau.
//!
//! x_{i+1} = x_i + sum_j C_ij d_{i-j}, with sum_j C_ij = h_i. 1 NFE per step; warm start with
//! lower orders.

use super::builder::{Lin, PlanBuilder};
use super::lagrange::integrate_basis;
use crate::schedule::VpTime;

/// The variable the interpolant is built in.
pub enum Time {
    Sigma,
    Vp(VpTime),
}

pub struct Deis {
    order: usize,
    time: Time,
    history: Vec<Lin>, // newest first
}

impl Deis {
    pub fn new(order: usize, time: Time) -> Self {
        Deis { order, time, history: Vec::new() }
    }

    /// C_ij for step i over the nodes sigma_i, sigma_{i-1}, ... (newest first).
    pub fn coefficients(&self, sigmas: &[f64], i: usize, k: usize) -> Vec<f64> {
        let nodes_sigma: Vec<f64> = (0..k).map(|j| sigmas[i - j]).collect();
        match &self.time {
            Time::Sigma => integrate_basis(&nodes_sigma, sigmas[i], sigmas[i + 1], |_| 1.0),
            Time::Vp(vp) => {
                let nodes: Vec<f64> = nodes_sigma.iter().map(|&s| vp.tau(s)).collect();
                integrate_basis(&nodes, vp.tau(sigmas[i]), vp.tau(sigmas[i + 1]), |t| vp.dsigma_dtau(t))
            }
        }
    }

    pub fn step(&mut self, b: &mut PlanBuilder, sigmas: &[f64], x: Lin, i: usize) -> Lin {
        let d = b.derivative(&x, sigmas[i]);
        self.history.insert(0, d);
        self.history.truncate(self.order);
        let c = self.coefficients(sigmas, i, self.history.len());
        x + c.iter().zip(&self.history).fold(Lin::default(), |acc, (c, d)| acc + d.clone() * *c)
    }
}
