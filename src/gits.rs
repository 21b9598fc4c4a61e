//! GITS (Chen et al., ICML 2024, Sec. 5 and Alg. 1): warmup teacher trajectories on a fine grid,
//! a cost matrix of Euler jumps between grid points, and dynamic programming for the cheapest
//! path of K steps from sigma_max to sigma_min.

use crate::plan::{Op, Plan, Run, execute};
use crate::solver::Solver;
use crate::{Error, Result, bail};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// How an Euler jump is compared with the teacher point it lands next to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// ||x_hat - x_k||_2 per sample (the paper's text).
    L2,
    /// ||x_hat - x_k||_1 per sample.
    L1,
    /// Signed difference of perpendicular deviations from the line x_T -> teacher endpoint
    /// (the reference code's default); can be negative.
    Dev,
}

impl FromStr for Metric {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "l2" => Ok(Metric::L2),
            "l1" => Ok(Metric::L1),
            "dev" => Ok(Metric::Dev),
            _ => bail!("unknown metric '{s}' (expected l2, l1 or dev)"),
        }
    }
}

/// What a GITS search needs of a model: f64 batches in and out, whatever the model computes on
/// (the analytic denoisers in f64; trained networks on burn tensors). Async because reading a
/// WebGPU tensor back is; everywhere else the futures are ready at once (see [`block_on`]).
/// `first_row` is the warmup index of the batch's first row: a class-conditional network gives
/// row r the class r mod classes, so the labels do not depend on how the warmup is chunked.
#[allow(async_fn_in_trait)] // single-threaded callers only: the browser and a native loop
pub trait BatchModel {
    /// Values per sample.
    fn dim(&self) -> usize;
    /// Runs `plan` from the starting batch `z` (row-major [batch, dim]).
    async fn run(&self, plan: &Plan, z: Vec<f64>, first_row: usize, trajectory: bool) -> Result<Run<Vec<f64>>>;
    /// D(x; sigma) of a batch.
    async fn denoise(&self, x: &[f64], sigma: f64, first_row: usize) -> Result<Vec<f64>>;
}

impl BatchModel for crate::denoiser::DenoiserSpec {
    fn dim(&self) -> usize {
        crate::denoiser::DenoiserSpec::dim(self)
    }
    async fn run(&self, plan: &Plan, z: Vec<f64>, _first_row: usize, trajectory: bool) -> Result<Run<Vec<f64>>> {
        execute(plan, z, self, trajectory)
    }
    async fn denoise(&self, x: &[f64], sigma: f64, _first_row: usize) -> Result<Vec<f64>> {
        crate::plan::Denoiser::denoise(self, &x.to_vec(), sigma)
    }
}

/// Either kind of model a search runs on: an analytic denoiser or a trained network.
pub enum SearchModel {
    Analytic(crate::denoiser::DenoiserSpec),
    Network(crate::denoiser::network::NetModel),
}

impl BatchModel for SearchModel {
    fn dim(&self) -> usize {
        match self {
            SearchModel::Analytic(m) => BatchModel::dim(m),
            SearchModel::Network(m) => m.dim(),
        }
    }
    async fn run(&self, plan: &Plan, z: Vec<f64>, first_row: usize, trajectory: bool) -> Result<Run<Vec<f64>>> {
        match self {
            SearchModel::Analytic(m) => m.run(plan, z, first_row, trajectory).await,
            SearchModel::Network(m) => m.run(plan, z, first_row, trajectory).await,
        }
    }
    async fn denoise(&self, x: &[f64], sigma: f64, first_row: usize) -> Result<Vec<f64>> {
        match self {
            SearchModel::Analytic(m) => BatchModel::denoise(m, x, sigma, first_row).await,
            SearchModel::Network(m) => m.denoise(x, sigma, first_row).await,
        }
    }
}

/// Runs a future whose work is synchronous (every native model) to completion on this thread.
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

/// Teacher trajectories: x at every grid point and d = (x - D(x)) / sigma at every point but
/// the last, each a row-major [warmup, dim] batch.
pub struct Warmup {
    pub sigmas: Vec<f64>,
    pub xs: Vec<Vec<f64>>,
    pub ds: Vec<Vec<f64>>,
    pub dim: usize,
}

/// Runs the teacher over `grid` from standard-normal `z`. The derivative at each grid point is
/// taken from the teacher's own evaluation there when it made one, else computed.
/// `first_row`: the warmup index of z's first row.
pub async fn warmup<M: BatchModel + ?Sized>(teacher: Solver, grid: &[f64], denoiser: &M, z: Vec<f64>, first_row: usize) -> Result<Warmup> {
    let dim = denoiser.dim();
    let plan = teacher.compile(grid)?;
    let run = denoiser.run(&plan, z, first_row, true).await?;
    // Which evaluation (if any) denoised the emitted x of each step at that step's sigma.
    let mut emitted = std::collections::HashMap::new();
    let mut at_step: Vec<Option<usize>> = vec![None; grid.len()];
    let mut eval_index = 0;
    for op in &plan.ops {
        match op {
            Op::Emit { reg, step } => _ = emitted.insert(*reg, *step as usize),
            Op::Eval { input, sigma, .. } => {
                if let Some(&step) = emitted.get(input)
                    && *sigma == grid[step]
                    && at_step[step].is_none()
                {
                    at_step[step] = Some(eval_index);
                }
                eval_index += 1;
            }
            _ => {}
        }
    }
    let xs: Vec<Vec<f64>> = run.steps.into_iter().map(|s| s.x).collect();
    let mut ds = Vec::with_capacity(grid.len() - 1);
    for g in 0..grid.len() - 1 {
        let den = match at_step[g] {
            Some(k) => run.evals[k].denoised.clone(),
            None => denoiser.denoise(&xs[g], grid[g], first_row).await?,
        };
        ds.push(xs[g].iter().zip(&den).map(|(x, d)| (x - d) / grid[g]).collect());
    }
    Ok(Warmup { sigmas: grid.to_vec(), xs, ds, dim })
}

/// Perpendicular distance of each sample of `v` from the line through `a` and `b` (per sample).
fn deviation(v: &[f64], a: &[f64], b: &[f64], dim: usize) -> Vec<f64> {
    (0..v.len() / dim)
        .map(|n| {
            let r = n * dim..(n + 1) * dim;
            let (v, a, b) = (&v[r.clone()], &a[r.clone()], &b[r]);
            let u: Vec<f64> = b.iter().zip(a).map(|(b, a)| b - a).collect();
            let un = u.iter().map(|x| x * x).sum::<f64>().sqrt();
            let w: Vec<f64> = v.iter().zip(a).map(|(v, a)| v - a).collect();
            let along = w.iter().zip(&u).map(|(w, u)| w * u).sum::<f64>() / un;
            (w.iter().map(|x| x * x).sum::<f64>() - along * along).max(0.0).sqrt()
        })
        .collect()
}

/// Batch mean of the per-sample distance between two row-major batches: l1 or l2 norm.
fn mean_distance(a: &[f64], b: &[f64], dim: usize, metric: Metric) -> f64 {
    let batch = a.len() / dim;
    let per_sample = a.chunks(dim).zip(b.chunks(dim)).map(|(x, y)| {
        let diffs = x.iter().zip(y).map(|(p, q)| (p - q).abs());
        if metric == Metric::L1 { diffs.sum::<f64>() } else { diffs.map(|e| e * e).sum::<f64>().sqrt() }
    });
    per_sample.sum::<f64>() / batch as f64
}

/// C[g][k] for g < k: the batch mean of the metric between the Euler jump from teacher point g
/// to sigma_k and teacher point k. Entries with g >= k are unused (infinite).
pub fn cost_matrix(w: &Warmup, metric: Metric) -> Vec<Vec<f64>> {
    let g_count = w.sigmas.len();
    let (first, last) = (&w.xs[0], &w.xs[g_count - 1]);
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    let teacher_dev: Vec<f64> = w.xs.iter().map(|x| mean(deviation(x, first, last, w.dim))).collect();
    let mut cost = vec![vec![f64::INFINITY; g_count]; g_count];
    for g in 0..g_count - 1 {
        for k in g + 1..g_count {
            let h = w.sigmas[k] - w.sigmas[g];
            let jump: Vec<f64> = w.xs[g].iter().zip(&w.ds[g]).map(|(x, d)| x + h * d).collect();
            cost[g][k] = match metric {
                Metric::Dev => mean(deviation(&jump, first, last, w.dim)) - teacher_dev[k],
                Metric::L1 | Metric::L2 => mean_distance(&jump, &w.xs[k], w.dim, metric),
            };
        }
    }
    cost
}

/// The cheapest path of each length: `paths[k - 1]` = (grid indices 0 = i_0 < ... < i_k = G-1,
/// cost) minimising C[i_0][i_1] + gamma C[i_1][i_2] + gamma^2 ..., for k = 1..=max_steps.
pub fn dynamic_programming(cost: &[Vec<f64>], max_steps: usize, gamma: f64) -> Result<Vec<(Vec<usize>, f64)>> {
    let g = cost.len();
    if g < 2 || max_steps == 0 || max_steps > g - 1 {
        bail!("a grid of {g} points allows 1..{} steps, asked for {max_steps}", g.saturating_sub(1));
    }
    if !(gamma.is_finite() && gamma > 0.0) {
        bail!("gamma must be finite and > 0, got {gamma}");
    }
    // v[k][j]: best cost from grid point j to the end in exactly k steps; next[k][j]: its first hop.
    let mut v = vec![vec![f64::INFINITY; g]; max_steps + 1];
    let mut next = vec![vec![usize::MAX; g]; max_steps + 1];
    for j in 0..g - 1 {
        v[1][j] = cost[j][g - 1];
        next[1][j] = g - 1;
    }
    for k in 2..=max_steps {
        for j in 0..g - 1 {
            for i in j + 1..g - 1 {
                let c = cost[j][i] + gamma * v[k - 1][i];
                if c < v[k][j] {
                    v[k][j] = c;
                    next[k][j] = i;
                }
            }
        }
    }
    (1..=max_steps)
        .map(|k| {
            let mut path = vec![0];
            for left in (1..=k).rev() {
                let hop = next[left][*path.last().unwrap()];
                if hop == usize::MAX {
                    bail!("no path of {k} steps through the grid");
                }
                path.push(hop);
            }
            Ok((path, v[k][0]))
        })
        .collect()
}

/// Grid points at which gains are measured: `points` spread evenly over 2..=g-2. Not 1: a
/// teacher whose first step is an Euler step (iPNDM) lands exactly where the first jump does.
pub fn gain_points(g: usize, points: usize) -> Vec<usize> {
    let (lo, hi) = ((g - 2).min(2) as f64, (g - 2) as f64);
    let n = points.clamp(1, g - 2 - lo as usize + 1);
    let mut v: Vec<usize> = (0..n).map(|i| if n == 1 { lo as usize } else { (lo + (hi - lo) * i as f64 / (n - 1) as f64).round() as usize }).collect();
    v.dedup();
    v
}

/// Propagation gains: how much of an error made at grid point k reaches the final sample.
///
/// At each measured point k the first jump's landing error e = x_hat(0 -> k) - x_k (the jump
/// the paper's cost misprices most) is added to the teacher point, and the teacher continues on
/// the grid from sigma_k both from x_k + e and from x_k; gain_k = mean ||final difference|| /
/// mean ||e|| over the first `samples` warmup trajectories. Between measured points ln gain is
/// interpolated linearly in ln sigma; the last grid point has gain 1 (nothing follows it).
/// For data N(mu, s^2 I) the flow is affine and the gain is sqrt(s^2 + sigma_min^2) /
/// sqrt(s^2 + sigma_k^2) for every direction (tests/gits.rs checks it).
pub async fn propagation_gains<M: BatchModel + ?Sized>(w: &Warmup, teacher: Solver, model: &M, p: Propagation) -> Result<Gains> {
    let measured = gain_points(w.sigmas.len(), p.points);
    let mut at = Vec::new();
    for &k in &measured {
        at.push(gain_at(w, teacher, model, k, p.samples).await?);
    }
    Ok(gains_from(w, measured, &at, p.samples))
}

/// The first jump's landing error at grid point k and the error it leaves at the end (mean L2
/// over the first `samples` warmup rows), and the evaluations per row that took.
pub async fn gain_at<M: BatchModel + ?Sized>(w: &Warmup, teacher: Solver, model: &M, k: usize, samples: usize) -> Result<(f64, f64, u32)> {
    let dim = w.dim;
    let rows = 0..samples.min(w.xs[0].len() / dim).max(1) * dim;
    let sk = w.sigmas[k];
    let h = sk - w.sigmas[0];
    let xk = &w.xs[k][rows.clone()];
    let jump: Vec<f64> = w.xs[0][rows.clone()].iter().zip(&w.ds[0][rows]).map(|(x, d)| x + h * d).collect();
    let plan = teacher.compile(&w.sigmas[k..])?;
    let from = |x: &[f64]| x.iter().map(|v| v / sk).collect::<Vec<f64>>();
    let perturbed = model.run(&plan, from(&jump), 0, false).await?.sample;
    let exact = model.run(&plan, from(xk), 0, false).await?.sample;
    let (landing, left) = (mean_distance(&jump, xk, dim, Metric::L2), mean_distance(&perturbed, &exact, dim, Metric::L2));
    if !(landing.is_finite() && left.is_finite()) {
        bail!("propagation gain at grid point {k} is not finite");
    }
    Ok((landing, left, 2 * plan.nfe))
}

/// The gains of every grid point from the measured (landing, left, nfe) of `measured`.
pub fn gains_from(w: &Warmup, measured: Vec<usize>, at: &[(f64, f64, u32)], samples: usize) -> Gains {
    let g = w.sigmas.len();
    // A jump that lands exactly (a single-point data set) leaves nothing to measure: gain 1.
    let mut points: Vec<(f64, f64)> =
        measured.iter().zip(at).map(|(&k, &(l, f, _))| (w.sigmas[k].ln(), if l > 0.0 { (f / l).max(1e-12).ln() } else { 0.0 })).collect();
    points.push((w.sigmas[g - 1].ln(), 0.0));
    Gains {
        gains: w.sigmas.iter().map(|s| interpolate(&points, s.ln()).exp()).collect(),
        landing: at.iter().map(|a| a.0).collect(),
        left: at.iter().map(|a| a.1).collect(),
        samples: samples.min(w.xs[0].len() / w.dim).max(1),
        nfe: at.iter().map(|a| a.2).sum(),
        measured,
    }
}

/// Piecewise-linear interpolation through (x, y) points with decreasing x, constant outside.
fn interpolate(points: &[(f64, f64)], x: f64) -> f64 {
    if x >= points[0].0 {
        return points[0].1;
    }
    for pair in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        if x >= x1 {
            return if x0 == x1 { y1 } else { y0 + (y1 - y0) * (x - x0) / (x1 - x0) };
        }
    }
    points[points.len() - 1].1
}

/// The propagated cost: each jump's landing cost times the gain of the point it lands on.
pub fn propagate(cost: &mut [Vec<f64>], gains: &[f64]) {
    for row in cost.iter_mut() {
        for (c, gain) in row.iter_mut().zip(gains) {
            if c.is_finite() {
                *c *= gain;
            }
        }
    }
}

/// Everything a GITS search needs besides the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchConfig {
    pub teacher: Solver,
    /// Family of the fine grid.
    pub grid_schedule: crate::schedule::Schedule,
    /// Points of the fine grid (61 = 60 teacher steps).
    pub grid_points: usize,
    pub warmup: usize,
    pub seed: u64,
    pub metric: Metric,
    pub gammas: Vec<f64>,
    /// Step budgets min_steps..=max_steps.
    pub min_steps: usize,
    pub max_steps: usize,
    pub sigma_min: f64,
    pub sigma_max: f64,
    /// AFS refinement for this student solver (paper App. A.4.1): also store, for each
    /// schedule, the variant with one grid point inserted before its first choice whose student
    /// sample (with the analytic first step) is closest to the teacher's.
    #[serde(default)]
    pub afs_student: Option<Solver>,
    /// Price each jump by the error it leaves in the final sample, not only where it lands
    /// (see [`propagation_gains`]); None: the paper's cost.
    #[serde(default)]
    pub propagation: Option<Propagation>,
    /// Student refinement: also store, for each DP schedule and each of these students, the
    /// schedule a local search over its grid points finds by running the student itself.
    #[serde(default)]
    pub refine: Option<Refine>,
}

/// The student refinement (docs/gits.md): starting from a DP schedule, each interior point in
/// turn moves by -2, -1, +1 or +2 grid points whenever that lowers the student's mean L2 to the
/// teacher's final samples on the first `samples` warmup trajectories, until a sweep changes
/// nothing (at most `sweeps`). The DP prices Euler jumps; this prices the solver that will run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Refine {
    pub students: Vec<Solver>,
    pub samples: usize,
    pub sweeps: usize,
}

impl Refine {
    /// 64 trajectories (at most the warmup), at most 4 sweeps.
    pub fn default_for(students: Vec<Solver>, warmup: usize) -> Self {
        Refine { students, samples: warmup.clamp(1, 64), sweeps: 4 }
    }
}

/// How the propagation gains are measured: at `points` grid points (spread evenly, gains
/// interpolated in ln sigma between them) on the first `samples` warmup trajectories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Propagation {
    pub points: usize,
    pub samples: usize,
}

impl Propagation {
    /// 13 points (every 5th of a 61-point grid) on an eighth of the warmup (at most 32), which
    /// keeps the measurement at about 1.6x the warmup's evaluations.
    pub fn default_for(warmup: usize) -> Self {
        Propagation { points: 13, samples: (warmup / 8).clamp(1, 32) }
    }
}

/// The measured gains of a search: `gains[k]` for every grid point (1 at the last).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gains {
    /// The grid points where the gain was measured.
    pub measured: Vec<usize>,
    pub gains: Vec<f64>,
    /// For each measured point: the mean L2 of the first jump's landing error there, and of the
    /// error that jump leaves in the final sample (the teacher continuing from it).
    pub landing: Vec<f64>,
    pub left: Vec<f64>,
    pub samples: usize,
    /// Network evaluations per sample the measurement took.
    pub nfe: u32,
}

/// Parses a fine grid `FAMILY:POINTS`, e.g. `polynomial:61` (rho 7), `logsnr:61`.
pub fn parse_grid(text: &str) -> Result<(crate::schedule::Schedule, usize)> {
    let (family, points) = text.rsplit_once(':').ok_or_else(|| Error(format!("a grid is FAMILY:POINTS (e.g. polynomial:61), got '{text}'")))?;
    let points = points.parse().map_err(|_| Error(format!("bad number of grid points in '{text}'")))?;
    Ok((family.parse().map_err(Error)?, points))
}

impl SearchConfig {
    pub fn check(&self) -> Result<()> {
        if self.grid_points < 3 {
            bail!("the grid needs at least 3 points, got {}", self.grid_points);
        }
        if self.min_steps == 0 || self.min_steps > self.max_steps {
            bail!("step budgets must satisfy 1 <= min <= max, got {}..{}", self.min_steps, self.max_steps);
        }
        if self.max_steps > self.grid_points - 1 {
            bail!("a {}-point grid allows at most {} steps, asked for {}", self.grid_points, self.grid_points - 1, self.max_steps);
        }
        if self.warmup == 0 {
            bail!("warmup must be at least 1 trajectory");
        }
        if self.gammas.is_empty() || self.gammas.iter().any(|g| !(g.is_finite() && *g > 0.0)) {
            bail!("gammas must be a non-empty list of finite numbers > 0, got {:?}", self.gammas);
        }
        if let Some(p) = self.propagation
            && (p.points == 0 || p.samples == 0 || p.samples > self.warmup)
        {
            bail!("propagation needs at least 1 point and 1..={} samples (the warmup), got {} and {}", self.warmup, p.points, p.samples);
        }
        if let Some(student) = self.afs_student {
            if !student.supports_afs() {
                bail!("AFS refinement needs a student that takes the analytic first step, not {student}");
            }
            student.check()?;
        }
        if let Some(r) = &self.refine {
            if r.students.is_empty() || r.samples == 0 || r.samples > self.warmup || r.sweeps == 0 {
                bail!("refinement needs at least 1 student, 1..={} samples (the warmup) and 1 sweep, got {}, {} and {}", self.warmup, r.students.len(), r.samples, r.sweeps);
            }
            r.students.iter().try_for_each(Solver::check)?;
        }
        self.teacher.check()
    }
}

/// A GITS search that runs its warmup in chunks, so a caller can show progress and cancel.
pub struct Search<M: BatchModel> {
    config: SearchConfig,
    model: crate::gits_file::ModelRef,
    denoiser: M,
    chunk: usize,
    grid: Vec<f64>,
    noise: Vec<f64>,
    done: usize,
    acc: Option<Warmup>,
    /// Propagation: the grid points to measure and what was measured so far.
    measured: Vec<usize>,
    gains: Vec<(f64, f64, u32)>,
    /// Refinement: the DP's schedules (made once the gains are in) and the refined ones so far.
    planned: Option<Planned>,
    refined: Vec<crate::gits_file::Found>,
    refine_s: f64,
    clock: fn() -> f64,
    started: f64,
    /// When the warmup finished (the propagation gains are timed from there).
    warmed_at: f64,
}

/// The DP's outcome and when it was made.
struct Planned {
    schedules: Vec<crate::gits_file::Found>,
    gains: Option<Gains>,
    /// Clock time when the cost matrix was begun (the end of the gains' measurement).
    started: f64,
    cost_matrix_s: f64,
    dp_s: f64,
}

/// Trajectories per chunk of warmup work, unless the caller picks another size.
pub const CHUNK: usize = 32;

impl<M: BatchModel> Search<M> {
    /// `clock` returns seconds (the caller's: `Instant` natively, `performance.now` on the web).
    pub fn new(config: SearchConfig, denoiser: M, model: crate::gits_file::ModelRef, clock: fn() -> f64) -> Result<Self> {
        config.check()?;
        let grid = config.grid_schedule.sigmas(config.grid_points - 1, config.sigma_min, config.sigma_max).map_err(Error)?;
        let noise = crate::noise::standard_normal(config.seed, config.warmup, denoiser.dim());
        let measured = config.propagation.map_or(Vec::new(), |p| gain_points(grid.len(), p.points));
        Ok(Search {
            config,
            model,
            denoiser,
            chunk: CHUNK,
            grid,
            noise,
            done: 0,
            acc: None,
            measured,
            gains: Vec::new(),
            planned: None,
            refined: Vec::new(),
            refine_s: 0.0,
            clock,
            started: clock(),
            warmed_at: 0.0,
        })
    }

    /// Warmup trajectories per `step` (smaller: finer progress and cancel on slow models; the
    /// result does not depend on it beyond floating-point batching).
    pub fn with_chunk(mut self, chunk: usize) -> Self {
        self.chunk = chunk.max(1);
        self
    }

    /// Refined schedules to make: one per DP schedule and student.
    fn refine_jobs(&self) -> usize {
        let c = &self.config;
        c.refine.as_ref().map_or(0, |r| r.students.len() * c.gammas.len() * (c.max_steps + 1 - c.min_steps))
    }

    /// (steps done, total): warmup trajectories, then propagation gain points, then refined
    /// schedules.
    pub fn progress(&self) -> (usize, usize) {
        (self.done + self.gains.len() + self.refined.len(), self.config.warmup + self.measured.len() + self.refine_jobs())
    }

    /// Runs the next chunk of warmup trajectories, or once they are done the next propagation
    /// gain point, then the next refined schedule; true once all are done.
    pub async fn step(&mut self) -> Result<bool> {
        if self.done == self.config.warmup {
            if let (Some(p), Some(&k)) = (self.config.propagation, self.measured.get(self.gains.len())) {
                let w = self.acc.as_ref().expect("warmup ran");
                self.gains.push(gain_at(w, self.config.teacher, &self.denoiser, k, p.samples).await?);
                return Ok(self.gains.len() == self.measured.len() && self.refine_jobs() == 0);
            }
            if self.refined.len() < self.refine_jobs() {
                if self.planned.is_none() {
                    self.planned = Some(self.dp()?);
                }
                let t0 = (self.clock)();
                let r = self.config.refine.as_ref().expect("refinement asked for");
                let job = self.refined.len();
                let found = &self.planned.as_ref().expect("DP ran").schedules[job / r.students.len()];
                let refined = self.refine_student(r.students[job % r.students.len()], r, found).await?;
                self.refined.push(refined);
                self.refine_s += (self.clock)() - t0;
            }
            return Ok(self.refined.len() == self.refine_jobs());
        }
        let dim = self.denoiser.dim();
        let end = (self.done + self.chunk).min(self.config.warmup);
        if self.done < end {
            let z = self.noise[self.done * dim..end * dim].to_vec();
            let next = warmup(self.config.teacher, &self.grid, &self.denoiser, z, self.done).await?;
            self.acc = Some(match self.acc.take() {
                None => next,
                Some(mut acc) => {
                    acc.xs.iter_mut().zip(next.xs).for_each(|(a, b)| a.extend(b));
                    acc.ds.iter_mut().zip(next.ds).for_each(|(a, b)| a.extend(b));
                    acc
                }
            });
            self.done = end;
            self.warmed_at = (self.clock)();
        }
        Ok(self.done == self.config.warmup && self.measured.is_empty() && self.refine_jobs() == 0)
    }

    /// The cost matrix (propagated when asked for) and the DP's schedules for every gamma.
    fn dp(&self) -> Result<Planned> {
        let clock = self.clock;
        let started = clock();
        let warmed = self.acc.as_ref().expect("warmup ran");
        let gains = self.config.propagation.map(|p| gains_from(warmed, self.measured.clone(), &self.gains, p.samples));
        let mut cost = cost_matrix(warmed, self.config.metric);
        if let Some(gains) = &gains {
            propagate(&mut cost, &gains.gains);
        }
        let t2 = clock();
        let mut schedules = Vec::new();
        for &gamma in &self.config.gammas {
            for (i, (indices, cost)) in dynamic_programming(&cost, self.config.max_steps, gamma)?.into_iter().enumerate() {
                let steps = i + 1;
                if steps >= self.config.min_steps {
                    let sigmas = indices.iter().map(|&i| self.grid[i]).collect();
                    schedules.push(crate::gits_file::Found { gamma, steps, indices, sigmas, cost, afs: false, student: None });
                }
            }
        }
        Ok(Planned { schedules, gains, started, cost_matrix_s: t2 - started, dp_s: clock() - t2 })
    }

    /// Mean L2 between `student`'s samples on the grid points `indices` and the teacher's final
    /// samples, over the first `samples` warmup trajectories.
    async fn student_distance(&self, student: Solver, indices: &[usize], samples: usize, afs: bool) -> Result<f64> {
        let w = self.acc.as_ref().expect("warmup ran");
        let n = samples.min(self.config.warmup) * w.dim;
        let sigmas: Vec<f64> = indices.iter().map(|&i| self.grid[i]).collect();
        let x = self.denoiser.run(&student.compile_with(&sigmas, afs)?, self.noise[..n].to_vec(), 0, false).await?.sample;
        Ok(mean_distance(&x, &w.xs.last().expect("grid has points")[..n], w.dim, Metric::L2))
    }

    /// The student refinement of `found` (see [`Refine`]).
    async fn refine_student(&self, student: Solver, r: &Refine, found: &crate::gits_file::Found) -> Result<crate::gits_file::Found> {
        let mut indices = found.indices.clone();
        let mut best = self.student_distance(student, &indices, r.samples, false).await?;
        for _ in 0..r.sweeps {
            let mut moved = false;
            for j in 1..indices.len() - 1 {
                for delta in [-2isize, -1, 1, 2] {
                    let to = indices[j] as isize + delta;
                    if to <= indices[j - 1] as isize || to >= indices[j + 1] as isize {
                        continue;
                    }
                    let mut candidate = indices.clone();
                    candidate[j] = to as usize;
                    let dist = self.student_distance(student, &candidate, r.samples, false).await?;
                    if dist < best {
                        (best, indices, moved) = (dist, candidate, true);
                    }
                }
            }
            if !moved {
                break;
            }
        }
        if !best.is_finite() {
            bail!("refining the {}-step schedule for {student}: the student's distance to the teacher is not finite", found.steps);
        }
        Ok(crate::gits_file::Found {
            gamma: found.gamma,
            steps: found.steps,
            sigmas: indices.iter().map(|&i| self.grid[i]).collect(),
            indices,
            cost: best,
            afs: false,
            student: Some(student.to_string()),
        })
    }

    /// The AFS variant of `found`: insert the grid point k in (0, first choice) that brings the
    /// student's samples (analytic first step, warmup noise) closest to the teacher's in mean L2.
    /// None when the DP's first choice is grid point 1 (nothing to insert).
    async fn refine_afs(&self, student: Solver, found: &crate::gits_file::Found) -> Result<Option<crate::gits_file::Found>> {
        let mut best: Option<(f64, Vec<usize>)> = None;
        for k in 1..found.indices[1] {
            let indices: Vec<usize> = [0, k].into_iter().chain(found.indices[1..].iter().cloned()).collect();
            let dist = self.student_distance(student, &indices, self.config.warmup, true).await?;
            if best.as_ref().is_none_or(|(d, _)| dist < *d) {
                best = Some((dist, indices));
            }
        }
        Ok(best.map(|(cost, indices)| crate::gits_file::Found {
            gamma: found.gamma,
            steps: found.steps + 1,
            sigmas: indices.iter().map(|&i| self.grid[i]).collect(),
            indices,
            cost,
            afs: true,
            student: None,
        }))
    }

    /// Finishes the warmup (and gains, refinement), then builds the cost matrix and runs the DP
    /// for every gamma.
    pub async fn finish(mut self) -> Result<crate::gits_file::GitsFile> {
        while !self.step().await? {}
        let clock = self.clock;
        let warmup_s = self.warmed_at - self.started;
        let planned = match self.planned.take() {
            Some(p) => p,
            None => self.dp()?,
        };
        let mut schedules = planned.schedules;
        let t3 = clock();
        if let Some(student) = self.config.afs_student {
            let mut refined = Vec::new();
            for found in &schedules {
                refined.extend(self.refine_afs(student, found).await?);
            }
            schedules.extend(refined);
        }
        let t4 = clock();
        schedules.append(&mut self.refined);
        let c = &self.config;
        let file = crate::gits_file::GitsFile {
            version: crate::gits_file::GITS_VERSION,
            model: self.model,
            sigma_min: c.sigma_min,
            sigma_max: c.sigma_max,
            grid_schedule: c.grid_schedule.to_string(),
            grid: self.grid,
            teacher: c.teacher.to_string(),
            metric: c.metric,
            warmup: c.warmup,
            seed: c.seed,
            timing: crate::gits_file::Timing {
                warmup_s,
                propagation_s: planned.started - self.warmed_at,
                cost_matrix_s: planned.cost_matrix_s,
                dp_s: planned.dp_s,
                afs_s: t4 - t3,
                refine_s: self.refine_s,
            },
            propagation: planned.gains,
            schedules,
        };
        file.validate(None)?;
        Ok(file)
    }
}
