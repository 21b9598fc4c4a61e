//! GITS variants against the polynomial schedule on the exact 2-D toy denoisers (the Gaussian
//! mixture and the KDE of each toy set), on evaluation noise disjoint from the search's.
//! Prints a Markdown section; bench/gits-toys.sh writes it into bench/RESULTS.md.

use gits_sampler::denoiser::DenoiserSpec;
use gits_sampler::gits::{GitsFile, Metric, ModelRef, OptimalSteps, Propagation, Refine, Search, SearchConfig};
use gits_sampler::model::block_on;
use gits_sampler::distance::{l2_per_sample, mean};
use gits_sampler::metrics::paired_bootstrap;
use gits_sampler::noise::{eval_seed, standard_normal};
use gits_sampler::plan::execute;
use gits_sampler::schedule::{SIGMA_MAX, SIGMA_MIN, Schedule};
use gits_sampler::solver::{CompileOptions, Solver};

const MODELS: &[(&str, &str)] = &[
    ("eight Gaussians (GMM)", "models/eight-gaussians.gmm.json"),
    ("moons (KDE)", "models/toy-moons.kde.json"),
    ("swiss roll (KDE)", "models/toy-swiss-roll.kde.json"),
    ("eight Gaussians (KDE)", "models/toy-eight-gaussians.kde.json"),
    ("checkerboard (KDE)", "models/toy-checkerboard.kde.json"),
];
const WARMUP: usize = 256;
const SAMPLES: usize = 4096;
const BOOTSTRAP: usize = 200;
const NFES: std::ops::RangeInclusive<u32> = 4..=10;

/// One schedule source: a label, the search file and gamma, and whether to sample with AFS.
struct Variant {
    label: &'static str,
    file: usize,
    gamma: f64,
    afs: bool,
}

/// What a search also does beyond the DP: AFS for a student, refinement, optimal steps.
#[derive(Default)]
struct Extras {
    afs: Option<Solver>,
    refine: Option<Refine>,
    optimal_steps: Option<OptimalSteps>,
}

fn search(spec: &DenoiserSpec, metric: Metric, gammas: &[f64], propagation: Option<Propagation>, extras: Extras) -> GitsFile {
    let config = SearchConfig {
        teacher: Solver::Ipndm { max_order: 4 },
        grid_schedule: Schedule::Polynomial { rho: 7.0 },
        grid_points: 61,
        warmup: WARMUP,
        seed: 0,
        metric,
        gammas: gammas.to_vec(),
        min_steps: 3,
        max_steps: 11,
        sigma_min: SIGMA_MIN,
        sigma_max: SIGMA_MAX,
        afs_student: extras.afs,
        propagation,
        refine: extras.refine,
        optimal_steps: extras.optimal_steps,
    };
    let model = ModelRef { id: "toy".into(), sha256: "00".into() };
    block_on(Search::new(config, spec.clone(), model, || 0.0).unwrap().finish()).unwrap()
}

fn main() {
    println!("## GITS variants on the exact 2-D toy denoisers\n");
    println!("Regenerate: `bash bench/gits-toys.sh` (deterministic; about 3 minutes). Each search: iPNDM teacher");
    println!("on a 61-point polynomial grid, {WARMUP} warmup trajectories from seed 0. Evaluation: {SAMPLES} samples");
    println!("from the evaluation noise stream (`noise::eval_seed(0)`, disjoint from the warmup), each solver on each");
    println!("schedule, mean L2 of the final sample to the teacher's (iPNDM, 60 NFE, polynomial; the");
    println!("search's own target) from the same noise. Cells: mean L2 for polynomial, else the ratio to");
    println!("polynomial's on the same noise ± its paired bootstrap SE ({BOOTSTRAP} resamples). Variants:");
    println!("*paper* = l2 cost, gamma 1.15 (the paper's text); *dev* = the reference code's metric; *prop*");
    println!("= the propagated cost of docs/gits.md; *+AFS* = the search's AFS refinement for the solver, sampled");
    println!("with the analytic first step (one grid point more at the same NFE); *+refined* = the propagated");
    println!("schedules refined for the solver by running it (`gits --refine`, 64 warmup trajectories, 4 sweeps);");
    println!("*optimal steps* = the search of docs/gits.md#optimal-steps for the solver (`gits --optimal-steps`, 64 warmup");
    println!("trajectories, at most 11 x 60 evaluations each).\n");
    let teacher_solver = Solver::Ipndm { max_order: 4 };
    for (name, path) in MODELS {
        let spec = DenoiserSpec::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
        let dim = spec.dim();
        let z = standard_normal(eval_seed(0), SAMPLES, dim);
        let grid = Schedule::Polynomial { rho: 7.0 }.sigmas(60, SIGMA_MIN, SIGMA_MAX).unwrap();
        let teacher = execute(&teacher_solver.compile(&grid, &CompileOptions::PLAIN).unwrap(), z.clone(), &spec, false).unwrap().sample;
        println!("### {name}\n");
        println!("| solver | schedule | {} |", NFES.map(|n| format!("NFE {n}")).collect::<Vec<_>>().join(" | "));
        println!("|---|---|{}", "---:|".repeat(NFES.count()));
        // The dev search has no AFS student, so one serves both solvers.
        let dev = search(&spec, Metric::Dev, &[1.15], None, Extras::default());
        for (label, solver) in [("iPNDM", Solver::Ipndm { max_order: 4 }), ("Euler", Solver::Euler)] {
            let prop = || Some(Propagation::default_for(WARMUP, true));
            let files = [
                search(&spec, Metric::L2, &[1.0, 1.15, 1.3], None, Extras { afs: Some(solver), ..Extras::default() }),
                dev.clone(),
                search(&spec, Metric::L2, &[1.0, 1.15], prop(), Extras { afs: Some(solver), ..Extras::default() }),
                search(&spec, Metric::L2, &[1.0], prop(), Extras { refine: Some(Refine::default_for(vec![solver], WARMUP)), ..Extras::default() }),
                search(&spec, Metric::L2, &[1.15], None, Extras { optimal_steps: Some(OptimalSteps::default_for(vec![solver], WARMUP)), ..Extras::default() }),
            ];
            let variants = [
                Variant { label: "GITS paper (l2, γ 1.15)", file: 0, gamma: 1.15, afs: false },
                Variant { label: "GITS paper + AFS", file: 0, gamma: 1.15, afs: true },
                Variant { label: "GITS l2, γ 1.0", file: 0, gamma: 1.0, afs: false },
                Variant { label: "GITS l2, γ 1.3", file: 0, gamma: 1.3, afs: false },
                Variant { label: "GITS dev, γ 1.15", file: 1, gamma: 1.15, afs: false },
                Variant { label: "GITS prop, γ 1.0", file: 2, gamma: 1.0, afs: false },
                Variant { label: "GITS prop, γ 1.15", file: 2, gamma: 1.15, afs: false },
                Variant { label: "GITS prop, γ 1.0 + AFS", file: 2, gamma: 1.0, afs: true },
                Variant { label: "GITS prop, γ 1.0 + refined", file: 3, gamma: 1.0, afs: false },
                Variant { label: "optimal steps (DP over the solver's own states)", file: 4, gamma: 1.15, afs: false },
            ];
            let errors = |sigmas: &[f64], afs: bool| {
                let x = execute(&solver.compile(sigmas, &CompileOptions::afs(afs)).unwrap(), z.clone(), &spec, false).unwrap().sample;
                l2_per_sample(&x, &teacher, dim)
            };
            let poly: Vec<Vec<f64>> = NFES.map(|n| errors(&Schedule::Polynomial { rho: 7.0 }.sigmas(n as usize, SIGMA_MIN, SIGMA_MAX).unwrap(), false)).collect();
            println!("| {label} | polynomial | {} |", poly.iter().map(|e| format!("{:.4}", mean(e))).collect::<Vec<_>>().join(" | "));
            for v in &variants {
                let cells: Vec<String> = NFES
                    .zip(&poly)
                    .map(|(nfe, base)| {
                        let sigmas = files[v.file].sigmas_for(&solver, nfe, false, Some(v.afs), Some(v.gamma)).unwrap().0;
                        let e = errors(&sigmas, v.afs);
                        let ratio = |p: &[usize]| p.iter().map(|&i| e[i]).sum::<f64>() / p.iter().map(|&i| base[i]).sum::<f64>();
                        let [se] = paired_bootstrap(SAMPLES, BOOTSTRAP, 0, |p| [ratio(p)]);
                        format!("{:.2} ± {:.3}", mean(&e) / mean(base), se)
                    })
                    .collect();
                println!("| {label} | {} | {} |", v.label, cells.join(" | "));
            }
        }
        println!();
    }
}
