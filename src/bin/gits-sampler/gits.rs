//! `gits`: search GITS schedules for a model (warmup trajectories, cost matrix, dynamic
//! programming; optionally propagated costs, student and AFS refinement).

use crate::common::{Range, budgets, load_model, seconds, write};
use clap::Args;
use gits_sampler::Result;
use gits_sampler::gits::{Metric, OptimalSteps, Propagation, Refine, Search, SearchConfig, parse_grid};
use gits_sampler::model::block_on;
use gits_sampler::solver::Solver;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

#[derive(Args)]
pub struct GitsArgs {
    /// The card of an ONNX model (default: NAME.card.json beside it, its metadata_props, or a
    /// diffusers scheduler_config.json beside it).
    #[arg(long)]
    card: Option<PathBuf>,
    /// The denoiser to search for: gmm:FILE, kde:FILE, a network weights file (*.gsw) or an ONNX
    /// model (*.onnx).
    #[arg(long)]
    model: String,
    /// The teacher solver that draws the fine trajectories.
    #[arg(long, default_value = "ipndm")]
    teacher: Solver,
    /// The fine grid: FAMILY:POINTS, e.g. polynomial:61 (rho 7), logsnr:61, uniform:61.
    #[arg(long, default_value = "polynomial:61")]
    grid: String,
    /// Number of warmup trajectories.
    #[arg(long, default_value_t = 256)]
    warmup: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// l2, l1 or dev (signed deviation from the line x_T -> x_0).
    #[arg(long, default_value = "l2")]
    metric: Metric,
    /// DP coefficients, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1.15")]
    gamma: Vec<f64>,
    /// Step budgets: a range A..B or one number.
    #[arg(long, default_value = "3..10")]
    nfe: String,
    /// Also store AFS-refined schedules for --student (one grid point inserted before the
    /// first choice); `sample`, `eval` and the page then run that solver with AFS on this file
    /// unless told otherwise.
    #[arg(long)]
    afs: bool,
    /// The solver the AFS refinement tunes for.
    #[arg(long, default_value = "ipndm", requires = "afs")]
    student: Solver,
    /// Price each jump by the error it leaves in the final sample: its landing cost times the
    /// measured propagation gain of the grid point it lands on (docs/gits.md).
    #[arg(long)]
    propagate: bool,
    /// Grid points at which the gains are measured (interpolated between them). For an exact
    /// denoiser (gmm:, kde:) the first jump is also measured at every other point, for the map.
    #[arg(long, default_value_t = 13, requires = "propagate")]
    propagation_points: usize,
    /// Warmup trajectories the gains are measured on (default: an eighth of --warmup, at most 32).
    #[arg(long, requires = "propagate")]
    propagation_samples: Option<usize>,
    /// Also store, for each of these solvers, every schedule refined by running that solver
    /// (a local search over grid points; `sample`, `eval` and the page then use the refined
    /// schedule for that solver).
    #[arg(long, value_delimiter = ',')]
    refine: Vec<Solver>,
    /// Warmup trajectories the refinement runs the student on (default: 64, at most --warmup).
    #[arg(long, requires = "refine")]
    refine_samples: Option<usize>,
    /// Most sweeps over the schedule's points per refinement.
    #[arg(long, default_value_t = 4, requires = "refine")]
    refine_sweeps: usize,
    /// Also store, for each of these solvers, the schedules of the optimal-step search: dynamic
    /// programming over that solver's own states (at most max steps x (grid - 1) evaluations
    /// per trajectory; docs/gits.md#optimal-steps). Not with --refine for the same solver.
    #[arg(long, value_delimiter = ',')]
    optimal_steps: Vec<Solver>,
    /// Warmup trajectories the optimal-step search runs on (default: 64, at most --warmup).
    #[arg(long, requires = "optimal_steps")]
    optimal_samples: Option<usize>,
    #[command(flatten)]
    range: Range,
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(a: GitsArgs) -> Result<()> {
    let model = load_model(&a.model, a.card.as_deref())?;
    let (grid_schedule, grid_points) = parse_grid(&a.grid)?;
    let ks = budgets(&a.nfe)?;
    let config = SearchConfig {
        teacher: a.teacher,
        grid_schedule,
        grid_points,
        warmup: a.warmup,
        seed: a.seed,
        metric: a.metric,
        gammas: a.gamma,
        min_steps: *ks.start(),
        max_steps: *ks.end(),
        sigma_min: a.range.or(Some(model.sigma_range())).0,
        sigma_max: a.range.or(Some(model.sigma_range())).1,
        afs_student: a.afs.then_some(a.student),
        propagation: a.propagate.then(|| {
            let d = Propagation::default_for(a.warmup, model.spec().is_some());
            Propagation { points: a.propagation_points, samples: a.propagation_samples.unwrap_or(d.samples), ..d }
        }),
        refine: (!a.refine.is_empty()).then(|| {
            let d = Refine::default_for(a.refine.clone(), a.warmup);
            Refine { samples: a.refine_samples.unwrap_or(d.samples), sweeps: a.refine_sweeps, ..d }
        }),
        optimal_steps: (!a.optimal_steps.is_empty()).then(|| {
            let d = OptimalSteps::default_for(a.optimal_steps.clone(), a.warmup);
            OptimalSteps { samples: a.optimal_samples.unwrap_or(d.samples), ..d }
        }),
    };
    let id = model.model_ref();
    let mut search = Search::new(config, model, id, seconds)?;
    let bar = ProgressBar::new(search.progress().1 as u64).with_style(
        ProgressStyle::with_template("gits {bar:40} {pos}/{len} warmup trajectories + gain points + optimal-step searches + refined schedules ({elapsed})").expect("valid template"),
    );
    while !block_on(search.step())? {
        bar.set_position(search.progress().0 as u64);
    }
    bar.finish_with_message("done");
    let file = block_on(search.finish())?;
    let t = &file.timing;
    eprintln!(
        "time: warmup {:.3} s, propagation gains {:.3} s, cost matrix {:.3} s, dynamic programming {:.4} s, AFS refinement {:.3} s, student refinement {:.3} s, optimal steps {:.3} s",
        t.warmup_s, t.propagation_s, t.cost_matrix_s, t.dp_s, t.afs_s, t.refine_s, t.optimal_steps_s
    );
    if let Some(p) = &file.propagation {
        eprintln!("propagation ({} samples, {} NFE each): first jump from sigma {} to", p.samples, p.nfe, file.grid[0]);
        for (i, &k) in p.measured.iter().enumerate() {
            eprintln!("  sigma {:>9.4}: lands {:.4} off the teacher, leaves {:.4} in the final sample (gain {:.3})", file.grid[k], p.landing[i], p.left[i], p.gains[k]);
        }
    }
    for f in &file.schedules {
        let sigmas: Vec<String> = f.sigmas.iter().map(|s| format!("{s:.4}")).collect();
        let kind = match (&f.student, f.afs) {
            (Some(student), _) if f.optimal => format!(" (optimal steps for {student}, final L2 {:.4})", f.cost),
            (Some(student), true) => format!(" (AFS for {student})"),
            (Some(student), false) => format!(" (refined for {student})"),
            (None, true) => " (AFS)".into(),
            (None, false) => String::new(),
        };
        eprintln!("gamma {} steps {:>2}{kind}: [{}]", f.gamma, f.steps, sigmas.join(", "));
    }
    write(a.out.as_deref(), &serde_json::to_string_pretty(&file)?)
}

