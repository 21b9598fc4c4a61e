//! Final-sample error of every solver against a high-accuracy reference, on the analytic
//! 8-D Gaussian mixture, for NFE 3..10 on the uniform, logSNR and polynomial schedules.
//! Prints a Markdown section; bench/solver-errors.sh writes it into bench/RESULTS.md.

use gits_sampler::denoiser::{DenoiserSpec, Gmm};
use gits_sampler::noise::standard_normal;
use gits_sampler::plan::execute;
use gits_sampler::schedule::{SIGMA_MAX, SIGMA_MIN, Schedule};
use gits_sampler::solver::{CompileOptions, Solver};

const BATCH: usize = 256;
const SEED: u64 = 0;
const REFERENCE_STEPS: usize = 4000;
const SOLVERS: &[&str] = &[
    "euler", "heun", "dpm2", "ipndm", "ipndm_v", "ab_exact", "deis:3", "dpmpp:2", "dpmpp:3", "unipc_bh1:3", "unipc_bh2:3",
];

fn main() {
    let spec = DenoiserSpec::Gmm(Gmm::benchmark_8d());
    let z = standard_normal(SEED, BATCH, spec.dim());
    let fine = Schedule::Polynomial { rho: 7.0 }.sigmas(REFERENCE_STEPS, SIGMA_MIN, SIGMA_MAX).unwrap();
    let sample = |solver: Solver, sigmas: &[f64]| execute(&solver.compile(sigmas, &CompileOptions::PLAIN).unwrap(), z.clone(), &spec, false).unwrap().sample;
    let reference = sample(Solver::Rk4, &fine);
    let rms = |x: &[f64]| (x.iter().zip(&reference).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / x.len() as f64).sqrt();

    println!("## Solver error vs NFE on the Gaussian-mixture oracle\n");
    println!("Regenerate: `bash bench/solver-errors.sh`. Method: the 8-D, 3-component mixture");
    println!("`Gmm::benchmark_8d` (analytic denoiser), {BATCH} samples from seed {SEED}, sigma in");
    println!("[{SIGMA_MIN}, {SIGMA_MAX}]. Error = RMS over all coordinates of x_N minus the RK4 solution");
    println!("with {REFERENCE_STEPS} polynomial steps ({} NFE). `-`: that NFE is not reachable", 4 * REFERENCE_STEPS);
    println!("(2 NFE per step). Deterministic: one run gives the table.\n");
    for (name, schedule) in [
        ("uniform (time-uniform)", Schedule::TimeUniform { rho_t: 1.0 }),
        ("logSNR", Schedule::Logsnr),
        ("polynomial (rho = 7)", Schedule::Polynomial { rho: 7.0 }),
    ] {
        println!("### {name}\n");
        println!("| solver | {} |", (3..=10).map(|n| format!("NFE {n}")).collect::<Vec<_>>().join(" | "));
        println!("|---|{}", "---:|".repeat(8));
        for s in SOLVERS {
            let solver: Solver = s.parse().unwrap();
            let cells: Vec<String> = (3..=10u32)
                .map(|nfe| match solver.steps_for_nfe(nfe, false, false) {
                    Ok(steps) => format!("{:.3e}", rms(&sample(solver, &schedule.sigmas(steps, SIGMA_MIN, SIGMA_MAX).unwrap()))),
                    Err(_) => "-".into(),
                })
                .collect();
            println!("| {solver} | {} |", cells.join(" | "));
        }
        println!();
    }
}
