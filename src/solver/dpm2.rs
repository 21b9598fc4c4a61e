//! DPM-Solver-2 in sigma space (as in EDM's ablations): an Euler half step to the geometric
//! midpoint s_mid = s_{i+1}^r s_i^(1-r), then x_{i+1} = x + h ((1/2r) d_mid + (1 - 1/2r) d).
//! Second order, 2 NFE per step.

use super::builder::{Lin, PlanBuilder};

pub fn step(b: &mut PlanBuilder, sigmas: &[f64], r: f64, x: Lin, i: usize) -> Lin {
    let (s, s_next) = (sigmas[i], sigmas[i + 1]);
    let s_mid = s_next.powf(r) * s.powf(1.0 - r);
    let d = b.derivative(&x, s);
    let x_mid = x.clone() + d.clone() * (s_mid - s);
    let d_mid = b.derivative(&x_mid, s_mid);
    let w = 0.5 / r;
    x + (d_mid * w + d * (1.0 - w)) * (s_next - s)
}
