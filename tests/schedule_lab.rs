//! What the page's schedule lab measures against: for the exact models, the 200-NFE reference
//! solve (`REFERENCE_NFE`) is far closer to the true ODE solution than any schedule it judges.

mod common;

use common::*;
use gits_sampler::denoiser::DenoiserSpec;
use gits_sampler::schedule::{SIGMA_MAX, SIGMA_MIN, Schedule};
use gits_sampler::solver::{CompileOptions, REFERENCE_NFE, SamplingSpec, Solver};

fn model(path: &str) -> DenoiserSpec {
    DenoiserSpec::from_json(&std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()).unwrap()
}

#[test]
fn the_reference_solve_is_far_more_accurate_than_the_schedules_it_judges() {
    for path in ["models/eight-gaussians.gmm.json", "models/toy-moons.kde.json"] {
        let spec = model(path);
        let z = noise(&spec, 128, 3);
        let solve = |nfe| run(&SamplingSpec::teacher(nfe, SIGMA_MIN, SIGMA_MAX).plan().unwrap(), &spec, &z);
        // RK4 on 2000 polynomial steps: the truth, to far below anything measured here.
        let sigmas = Schedule::Polynomial { rho: 7.0 }.sigmas(2000, SIGMA_MIN, SIGMA_MAX).unwrap();
        let truth = run(&Solver::Rk4.compile(&sigmas, &CompileOptions::PLAIN).unwrap(), &spec, &z);
        let reference = rms(&solve(REFERENCE_NFE), &truth);
        // The most accurate schedule the lab is for: 20 NFE of the default solver.
        let best = rms(&solve(20), &truth);
        println!("{path}: reference error {reference:.2e}, 20-NFE error {best:.2e}");
        assert!(reference < 1e-2 * best, "{path}: the reference ({reference:.2e}) is not 100x better than 20 NFE ({best:.2e})");
    }
}
