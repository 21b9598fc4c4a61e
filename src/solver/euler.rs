//! Euler / DDIM: x_{i+1} = x_i + h_i d_i. First order, 1 NFE per step.

use super::builder::{Lin, PlanBuilder};

pub fn step(b: &mut PlanBuilder, sigmas: &[f64], x: Lin, i: usize) -> Lin {
    let (s, s_next) = (sigmas[i], sigmas[i + 1]);
    let d = b.derivative(&x, s);
    x + d * (s_next - s)
}
