//! Heun's method as in EDM: an Euler predictor, then the trapezoidal corrector. Second order,
//! 2 NFE per step.

use super::builder::{Lin, PlanBuilder};

pub fn step(b: &mut PlanBuilder, sigmas: &[f64], x: Lin, i: usize) -> Lin {
    let (s, s_next) = (sigmas[i], sigmas[i + 1]);
    let h = s_next - s;
    let d = b.derivative(&x, s);
    let x_euler = x.clone() + d.clone() * h;
    let d_next = b.derivative(&x_euler, s_next);
    x + (d + d_next) * (0.5 * h)
}
