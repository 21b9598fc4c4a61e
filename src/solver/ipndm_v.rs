//! iPNDM_v: the variable-step Adams–Bashforth weights of the reference toolbox (diff-sampler).
//! Order 2 is the exact variable-step AB2; its order-3/4 weights are exact only on uniform steps
//! (there they equal AB3/AB4), so on other grids prefer `ab_exact`. 1 NFE per step.

use super::builder::{Lin, PlanBuilder};

/// Weights for d_i, d_{i-1}, ... given the steps h_n = s_{i+1} - s_i, h_n_1 = s_i - s_{i-1}, ...
pub fn weights(order: usize, h: &[f64]) -> Vec<f64> {
    match order {
        1 => vec![1.0],
        2 => {
            let r = h[0] / h[1];
            vec![(2.0 + r) / 2.0, -r / 2.0]
        }
        3 => {
            let (h0, h1, h2) = (h[0], h[1], h[2]);
            let t = (1.0 - h0 / (3.0 * (h0 + h1)) * (h0 * (h0 + h1)) / (h1 * (h1 + h2))) / 2.0;
            vec![(2.0 + h0 / h1) / 2.0 + t, -(h0 / h1) / 2.0 - (1.0 + h1 / h2) * t, t * h1 / h2]
        }
        _ => {
            let (h0, h1, h2, h3) = (h[0], h[1], h[2], h[3]);
            let t1 = (1.0 - h0 / (3.0 * (h0 + h1)) * (h0 * (h0 + h1)) / (h1 * (h1 + h2))) / 2.0;
            let t2 = ((1.0 - h0 / (3.0 * (h0 + h1))) / 2.0 + (1.0 - h0 / (2.0 * (h0 + h1))) * h0 / (6.0 * (h0 + h1 + h2)))
                * (h0 * (h0 + h1) * (h0 + h1 + h2))
                / (h1 * (h1 + h2) * (h1 + h2 + h3));
            let q = h1 * (h1 + h2) / (h2 * (h2 + h3));
            vec![
                (2.0 + h0 / h1) / 2.0 + t1 + t2,
                -(h0 / h1) / 2.0 - (1.0 + h1 / h2) * t1 - (1.0 + h1 / h2 + q) * t2,
                t1 * h1 / h2 + (h1 / h2 + q * (1.0 + h2 / h3)) * t2,
                -t2 * q * h1 / h2,
            ]
        }
    }
}

pub struct IpndmV {
    max_order: usize,
    history: Vec<Lin>, // newest first
}

impl IpndmV {
    pub fn new(max_order: usize) -> Self {
        IpndmV { max_order, history: Vec::new() }
    }

    pub fn step(&mut self, b: &mut PlanBuilder, sigmas: &[f64], x: Lin, i: usize) -> Lin {
        let d = b.derivative(&x, sigmas[i]);
        self.history.insert(0, d);
        self.history.truncate(self.max_order);
        let order = self.history.len();
        let h: Vec<f64> = (0..order).map(|k| sigmas[i + 1 - k] - sigmas[i - k]).collect();
        let w = weights(order, &h);
        x + w.iter().zip(&self.history).fold(Lin::default(), |acc, (w, d)| acc + d.clone() * *w) * h[0]
    }
}
