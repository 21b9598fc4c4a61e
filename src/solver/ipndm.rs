//! iPNDM: Adams–Bashforth on the history of d with the fixed (uniform-step) weights, warming up
//! with lower orders. 1 NFE per step. The weights are exact only for equal steps, so on a
//! non-uniform schedule the order drops (see tests/convergence.rs for the measured value).

use super::builder::{Lin, PlanBuilder};

/// Adams–Bashforth weights for orders 1..4, newest derivative first.
pub const AB_WEIGHTS: [&[f64]; 4] = [
    &[1.0],
    &[3.0 / 2.0, -1.0 / 2.0],
    &[23.0 / 12.0, -16.0 / 12.0, 5.0 / 12.0],
    &[55.0 / 24.0, -59.0 / 24.0, 37.0 / 24.0, -9.0 / 24.0],
];

/// Keeps the derivative history between steps.
pub struct Ipndm {
    max_order: usize,
    history: Vec<Lin>, // newest first
}

impl Ipndm {
    pub fn new(max_order: usize) -> Self {
        assert!((1..=4).contains(&max_order), "iPNDM order must be 1..4");
        Ipndm { max_order, history: Vec::new() }
    }

    pub fn step(&mut self, b: &mut PlanBuilder, sigmas: &[f64], x: Lin, i: usize) -> Lin {
        let h = sigmas[i + 1] - sigmas[i];
        let d = b.derivative(&x, sigmas[i]);
        self.history.insert(0, d);
        self.history.truncate(self.max_order);
        let weights = AB_WEIGHTS[self.history.len() - 1];
        let slope = weights.iter().zip(&self.history).fold(Lin::default(), |acc, (w, d)| acc + d.clone() * *w);
        x + slope * h
    }
}
