//! Stochastic samplers beside iPNDM on the exact 2-D toy denoisers, where the exact distribution
//! is known: each solver on the polynomial and a GITS schedule at NFE 5..20, its samples
//! measured against the exact distribution at sigma_min (the data convolved with N(0, sigma_min^2)):
//! the Fréchet distance to its exact moments, as a difference to iPNDM's on the same schedule and
//! noise with a paired bootstrap SE, and the kernel MMD (`distance::mmd_to_mixture`). L2 to a
//! teacher does not apply: a stochastic sample is no solve of the teacher's ODE.
//! Prints a Markdown section; bench/stochastic-toys.sh writes it into bench/RESULTS.md.

use gits_sampler::denoiser::DenoiserSpec;
use gits_sampler::distance::mmd_to_mixture;
use gits_sampler::gits::{GitsFile, Metric, ModelRef, Search, SearchConfig};
use gits_sampler::metrics::{Frechet, paired_bootstrap};
use gits_sampler::model::block_on;
use gits_sampler::noise::{eval_seed, sample_seeds, standard_normal};
use gits_sampler::plan::execute_seeded;
use gits_sampler::schedule::{SIGMA_MAX, SIGMA_MIN, Schedule};
use gits_sampler::solver::{CompileOptions, Solver};

const MODELS: &[(&str, &str)] = &[
    ("eight Gaussians (GMM)", "models/eight-gaussians.gmm.json"),
    ("moons (KDE)", "models/toy-moons.kde.json"),
    ("swiss roll (KDE)", "models/toy-swiss-roll.kde.json"),
    ("checkerboard (KDE)", "models/toy-checkerboard.kde.json"),
];
const SAMPLES: usize = 4096;
/// MMD is quadratic in the samples: it is measured on the first 1024.
const MMD_SAMPLES: usize = 1024;
const BOOTSTRAP: usize = 200;
const NFES: [u32; 7] = [5, 6, 8, 10, 12, 16, 20];
const SOLVERS: [&str; 6] = ["ipndm", "euler_ancestral", "dpmpp_2s_ancestral", "dpmpp_sde", "dpmpp_2m_sde", "dpmpp_3m_sde"];

fn gits(spec: &DenoiserSpec) -> GitsFile {
    let config = SearchConfig {
        teacher: Solver::Ipndm { max_order: 4 },
        grid_schedule: Schedule::Polynomial { rho: 7.0 },
        grid_points: 61,
        warmup: 256,
        seed: 0,
        metric: Metric::L2,
        gammas: vec![1.15],
        min_steps: 2,
        max_steps: 20,
        sigma_min: SIGMA_MIN,
        sigma_max: SIGMA_MAX,
        afs_student: None,
        propagation: None,
        refine: None,
        optimal_steps: None,
    };
    block_on(Search::new(config, spec.clone(), ModelRef { id: "toy".into(), sha256: "00".into() }, || 0.0).unwrap().finish()).unwrap()
}

fn main() {
    println!("## Stochastic samplers on the exact 2-D toys\n");
    println!("Regenerate: `bash bench/stochastic-toys.sh` (deterministic; a few minutes). {SAMPLES} samples per cell from");
    println!("the evaluation noise (`noise::eval_seed(0)`, starting noise and per-sample step seeds), each solver with");
    println!("k-diffusion's defaults (eta 1, s_noise 1; Brownian noise for the SDE solvers) on the polynomial (rho 7)");
    println!("and a GITS schedule (the paper's cost, gamma 1.15, 256 warmup trajectories from seed 0: disjoint noise).");
    println!("The target is the exact distribution at sigma_min = {SIGMA_MIN}. Cells: FD to its exact moments; for the");
    println!("stochastic solvers, the difference to iPNDM's FD on the same schedule and noise ± paired bootstrap SE");
    println!("({BOOTSTRAP} resamples; negative: closer than iPNDM); then the kernel MMD of the first {MMD_SAMPLES} samples.");
    println!("dpmpp_2s_ancestral and dpmpp_sde spend 2 NFE per step: odd NFE is out of their reach (—).\n");
    for (name, path) in MODELS {
        let spec = DenoiserSpec::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
        let dim = spec.dim();
        let exact = spec.marginal(SIGMA_MIN);
        let (mean, cov) = exact.moments();
        let fd = Frechet::from_moments(&mean, &cov);
        let z = standard_normal(eval_seed(0), SAMPLES, dim);
        let seeds = sample_seeds(eval_seed(0), 0..SAMPLES as u64);
        let file = gits(&spec);
        let rows = |x: &[f64]| x.chunks(dim).map(|c| c.to_vec()).collect::<Vec<Vec<f64>>>();
        println!("### {name}\n");
        println!("| solver | schedule | {} |", NFES.map(|n| format!("NFE {n}")).join(" | "));
        println!("|---|---|{}", "---:|".repeat(NFES.len()));
        for schedule in ["polynomial", "GITS"] {
            let runs: Vec<Vec<Option<Vec<Vec<f64>>>>> = SOLVERS
                .iter()
                .map(|name| {
                    let solver: Solver = name.parse().unwrap();
                    NFES.iter()
                        .map(|&nfe| {
                            let steps = solver.steps_for_nfe(nfe, false, false).ok()?;
                            let sigmas = match schedule {
                                "polynomial" => Schedule::Polynomial { rho: 7.0 }.sigmas(steps, SIGMA_MIN, SIGMA_MAX).unwrap(),
                                _ => file.sigmas_for(&solver, nfe, false, Some(false), None).unwrap().0,
                            };
                            let plan = solver.compile(&sigmas, &CompileOptions::PLAIN).unwrap();
                            Some(rows(&execute_seeded(&plan, z.clone(), &spec, false, &seeds).unwrap().sample))
                        })
                        .collect()
                })
                .collect();
            for (s, name) in SOLVERS.iter().enumerate() {
                let cells: Vec<String> = (0..NFES.len())
                    .map(|k| {
                        let Some(x) = &runs[s][k] else { return "—".into() };
                        let mmd = mmd_to_mixture(&x[..MMD_SAMPLES].concat(), dim, &exact);
                        let value = fd.distance(x, None);
                        if s == 0 {
                            return format!("{value:.4}; {mmd:.3}");
                        }
                        let base = runs[0][k].as_ref().unwrap();
                        let [se] = paired_bootstrap(SAMPLES, BOOTSTRAP, 0, |p| [fd.distance(x, Some(p)) - fd.distance(base, Some(p))]);
                        format!("{value:.4} ({:+.4} ± {se:.4}); {mmd:.3}", value - fd.distance(base, None))
                    })
                    .collect();
                println!("| {name} | {schedule} | {} |", cells.join(" | "));
            }
        }
        println!();
    }
}
