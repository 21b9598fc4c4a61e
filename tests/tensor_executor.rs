//! The one executor gives the same samples on burn tensors (flex, f32) as in f64.
//!
//! Tolerance: f32 has a floor here. Near sigma_min the solvers form (x - D) / sigma from two
//! nearly equal O(1) vectors; f32 rounding of D (~2e-7) is then scaled by h / sigma, up to ~20 on
//! the last Heun step. Measured max |difference| over 32 x 8 coordinates: Euler 6.9e-7,
//! iPNDM 1.6e-6, Heun 1.01e-5 (GMM); iPNDM 1.05e-5 (KDE). We assert 2e-5.

mod common;

use burn::prelude::Device;
use common::*;
use gits_sampler::denoiser::{DenoiserSpec, Kde};
use gits_sampler::plan::execute;
use gits_sampler::schedule::Schedule;
use gits_sampler::solver::{SamplingSpec, Solver};
use gits_sampler::tensor::{read, to_tensor};

const F32_TOL: f64 = 2e-5;

fn max_abs_diff(a: &[f64], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, &y)| (x - y as f64).abs()).fold(0.0, f64::max)
}

fn agree(spec: &DenoiserSpec, solver: &str, nfe: u32, tol: f64) {
    let device = Device::flex();
    let plan = SamplingSpec {
        solver: solver.parse::<Solver>().unwrap(),
        schedule: Schedule::Polynomial { rho: 7.0 },
        nfe,
        sigma_min: 0.002,
        sigma_max: 80.0,
        to_zero: false,
        afs: false,
    }
    .plan()
    .unwrap();
    let dim = spec.dim();
    let z = noise(spec, 32, 3);
    let exact = execute(&plan, z.clone(), spec, true).unwrap();
    let on_device = execute(&plan, to_tensor(&z, dim, &device), &spec.to_device(&device), true).unwrap();
    assert_eq!(exact.nfe, on_device.nfe);
    let diff = max_abs_diff(&exact.sample, &read(on_device.sample).unwrap());
    println!("{solver} nfe {nfe}: max |f64 - f32 tensor| = {diff:.2e}");
    assert!(diff <= tol, "{solver}: f64 and tensor executors differ by {diff:e} > {tol:e}");
    // The denoising trajectory agrees too (its scale is that of the data).
    for (a, b) in exact.evals.iter().zip(on_device.evals) {
        let d = max_abs_diff(&a.denoised, &read(b.denoised).unwrap());
        assert!(d <= 10.0 * tol, "denoised at sigma {}: differ by {d:e}", a.sigma);
    }
}

#[test]
fn gmm_f64_and_tensor_executors_agree() {
    for (solver, nfe) in [("euler", 10), ("heun", 10), ("ipndm", 10)] {
        agree(&gmm8(), solver, nfe, F32_TOL);
    }
}

#[test]
fn kde_f64_and_tensor_executors_agree() {
    let points: Vec<Vec<f64>> = (0..20).map(|i| vec![(i as f64 * 0.7).sin(), (i as f64 * 1.3).cos(), 0.1 * i as f64 - 1.0]).collect();
    agree(&DenoiserSpec::Kde(Kde { points }), "ipndm", 10, F32_TOL);
}
