//! Coefficient identities of the solvers, checked on their compiled plans and weights.

use gits_sampler::schedule::{SIGMA_MAX, SIGMA_MIN, Schedule};
use gits_sampler::solver::deis::{Deis, Time};
use gits_sampler::solver::vp_time_of;

/// DEIS and exact AB integrate a partition of unity: sum_j C_ij = h_i at every step and order.
#[test]
fn lagrange_weights_sum_to_the_step() {
    let sigmas = Schedule::Polynomial { rho: 7.0 }.sigmas(12, SIGMA_MIN, SIGMA_MAX).unwrap();
    for order in 1..=4 {
        for time in [Time::Sigma, Time::Vp(vp_time_of(&sigmas))] {
            let deis = Deis::new(order, time);
            for i in 0..12 {
                let k = order.min(i + 1);
                let c = deis.coefficients(&sigmas, i, k);
                let h = sigmas[i + 1] - sigmas[i];
                let sum: f64 = c.iter().sum();
                assert!((sum - h).abs() <= 1e-9 * h.abs().max(1.0), "order {order} step {i}: sum {sum} != h {h}");
            }
        }
    }
}

/// On equal steps the exact weights are the classical Adams–Bashforth ones.
#[test]
fn exact_ab_on_uniform_steps_is_classical_ab() {
    let sigmas = Schedule::UniformSigma.sigmas(10, 1.0, 11.0).unwrap();
    let deis = Deis::new(4, Time::Sigma);
    let c = deis.coefficients(&sigmas, 5, 4);
    let h = sigmas[6] - sigmas[5];
    let expected = [55.0, -59.0, 37.0, -9.0].map(|w| w / 24.0 * h);
    for (got, want) in c.iter().zip(expected) {
        assert!((got - want).abs() < 1e-12, "{c:?} vs {expected:?}");
    }
}

#[test]
fn vp_time_map_round_trips() {
    let vp = vp_time_of(&[80.0, 0.002]);
    for s in [0.002, 0.01, 0.5, 3.0, 80.0] {
        let t = vp.tau(s);
        assert!((vp.sigma(t) - s).abs() < 1e-9 * s.max(1.0), "sigma {s} -> tau {t} -> {}", vp.sigma(t));
    }
    assert!((vp.tau(80.0) - 1.0).abs() < 1e-12 && (vp.tau(0.002) - 1e-3).abs() < 1e-9);
}
