//! Shared fixtures: the Gaussian-mixture oracle used by the numerical tests.

#![allow(dead_code)]

use gits_sampler::denoiser::{DenoiserSpec, Gmm};
use gits_sampler::noise::standard_normal;
use gits_sampler::plan::{Plan, execute};

/// The benchmark mixture (8-D, 3 components) as a denoiser.
pub fn gmm8() -> DenoiserSpec {
    DenoiserSpec::Gmm(Gmm::benchmark_8d())
}

pub fn noise(spec: &DenoiserSpec, batch: usize, seed: u64) -> Vec<f64> {
    standard_normal(seed, batch, spec.dim())
}

/// Final samples of `plan` in f64.
pub fn run(plan: &Plan, spec: &DenoiserSpec, z: &[f64]) -> Vec<f64> {
    execute(plan, z.to_vec(), spec, false).unwrap().sample
}

/// RMS difference per coordinate.
pub fn rms(a: &[f64], b: &[f64]) -> f64 {
    (a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
}

/// Least-squares slope of log(err) against log(nfe), reported positive for a falling error.
pub fn order(nfes: &[u32], errs: &[f64]) -> f64 {
    let xs: Vec<f64> = nfes.iter().map(|&n| (n as f64).ln()).collect();
    let ys: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
    let (mx, my) = (xs.iter().sum::<f64>() / xs.len() as f64, ys.iter().sum::<f64>() / ys.len() as f64);
    let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let var: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    -cov / var
}

/// The searches these tests run: iPNDM teacher on a polynomial grid over [0.002, 80], l2 cost,
/// `steps` = (fewest, most) steps, nothing refined.
pub fn search_config(grid_points: usize, warmup: usize, seed: u64, gammas: Vec<f64>, steps: (usize, usize)) -> gits_sampler::gits::SearchConfig {
    gits_sampler::gits::SearchConfig {
        teacher: gits_sampler::solver::Solver::Ipndm { max_order: 4 },
        grid_schedule: gits_sampler::schedule::Schedule::Polynomial { rho: 7.0 },
        grid_points,
        warmup,
        seed,
        metric: gits_sampler::gits::Metric::L2,
        gammas,
        min_steps: steps.0,
        max_steps: steps.1,
        sigma_min: 0.002,
        sigma_max: 80.0,
        afs_student: None,
        propagation: None,
        refine: None,
        optimal_steps: None,
    }
}
