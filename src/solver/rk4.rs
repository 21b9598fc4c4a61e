//! Classical fourth-order Runge–Kutta, 4 NFE per step: the high-accuracy reference solver.

use super::builder::{Lin, PlanBuilder};

pub fn step(b: &mut PlanBuilder, sigmas: &[f64], x: Lin, i: usize) -> Lin {
    let (s, s_next) = (sigmas[i], sigmas[i + 1]);
    let (h, s_mid) = (s_next - s, 0.5 * (s + s_next));
    let k1 = b.derivative(&x, s);
    let k2 = b.derivative(&(x.clone() + k1.clone() * (0.5 * h)), s_mid);
    let k3 = b.derivative(&(x.clone() + k2.clone() * (0.5 * h)), s_mid);
    let k4 = b.derivative(&(x.clone() + k3.clone() * h), s_next);
    x + (k1 + k2 * 2.0 + k3 * 2.0 + k4) * (h / 6.0)
}
