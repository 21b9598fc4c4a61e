//! A GITS search as resumable steps (warmup chunks, propagation gain points, student
//! refinements), so the page can show progress and cancel; and its configuration.

use super::cost::cost_matrix;
use super::dp::dynamic_programming;
use super::file::{Found, GITS_VERSION, GitsFile, Metric, Timing, cost_rows};
use super::optimal_steps::{OptimalSteps, optimal_steps};
use super::propagation::{Gains, Propagation, gain_at, gains_from, propagate};
use super::warmup::{Warmup, warmup};
use crate::distance::mean_l2;
use crate::limits;
use crate::model::{BatchModel, ModelRef};
use crate::solver::{CompileOptions, Solver};
use crate::{Error, Result, bail};
use serde::{Deserialize, Serialize};

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
    /// The optimal-step search (dynamic programming over the student's own states,
    /// [`super::optimal_steps`]): also store its schedule of every budget for each student.
    #[serde(default)]
    pub optimal_steps: Option<OptimalSteps>,
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
        if self.grid_schedule.ends_at_zero() {
            bail!("the grid must run from sigma_max to sigma_min: {} is one of ComfyUI's lists, which end at 0 (use polynomial, logsnr, uniform, kl_optimal or flow_shift)", self.grid_schedule);
        }
        let students = self.afs_student.iter().chain(self.refine.iter().flat_map(|r| &r.students)).chain(self.optimal_steps.iter().flat_map(|o| &o.students));
        if let Some(s) = std::iter::once(&self.teacher).chain(students).find(|s| s.is_stochastic()) {
            bail!("GITS searches the ODE's trajectories: its teacher and students must be ODE solvers, not the stochastic {s}");
        }
        limits::at_most("grid points", self.grid_points, limits::MAX_GRID)?;
        limits::at_most("warmup", self.warmup, limits::MAX_BATCH)?;
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
        if let Some(o) = &self.optimal_steps {
            if o.students.is_empty() || o.samples == 0 || o.samples > self.warmup {
                bail!("the optimal-step search needs at least 1 student and 1..={} samples (the warmup), got {} and {}", self.warmup, o.students.len(), o.samples);
            }
            o.students.iter().try_for_each(Solver::check)?;
            if let Some(both) = self.refine.as_ref().and_then(|r| r.students.iter().find(|s| o.students.contains(s))) {
                bail!("{both} is both refined and given optimal steps; a file holds one schedule per student and budget");
            }
        }
        self.teacher.check()
    }
}

/// A GITS search that runs its warmup in chunks, so a caller can show progress and cancel.
pub struct Search<M: BatchModel> {
    config: SearchConfig,
    model: ModelRef,
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
    refined: Vec<Found>,
    refine_s: f64,
    /// Optimal-step schedules so far (one job per student) and their time.
    optimal: Vec<Found>,
    optimal_jobs: usize,
    optimal_s: f64,
    clock: fn() -> f64,
    started: f64,
    /// When the warmup finished (the propagation gains are timed from there).
    warmed_at: f64,
}

/// The DP's outcome and when it was made.
struct Planned {
    schedules: Vec<Found>,
    /// The cost matrix the DP ran on.
    cost: Vec<Vec<f64>>,
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
    pub fn new(config: SearchConfig, denoiser: M, model: ModelRef, clock: fn() -> f64) -> Result<Self> {
        config.check()?;
        let grid = config.grid_schedule.sigmas(config.grid_points - 1, config.sigma_min, config.sigma_max).map_err(Error)?;
        // The warmup keeps every trajectory at every grid point (check() bounded the warmup).
        limits::product("the warmup (trajectories x grid points x dimension)", &[config.warmup, config.grid_points, denoiser.dim()], limits::MAX_ELEMENTS)
            .map_err(|e| Error(format!("{e}: use fewer warmup trajectories or grid points")))?;
        let noise = crate::noise::standard_normal(config.seed, config.warmup, denoiser.dim());
        let measured = config.propagation.map_or(Vec::new(), |p| p.measured(grid.len()));
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
            optimal: Vec::new(),
            optimal_jobs: 0,
            optimal_s: 0.0,
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

    /// Optimal-step searches to run: one per student.
    fn optimal_total(&self) -> usize {
        self.config.optimal_steps.as_ref().map_or(0, |o| o.students.len())
    }

    /// (steps done, total): warmup trajectories, then propagation gain points, then
    /// optimal-step searches, then refined schedules.
    pub fn progress(&self) -> (usize, usize) {
        let done = self.done + self.gains.len() + self.optimal_jobs + self.refined.len();
        (done, self.config.warmup + self.measured.len() + self.optimal_total() + self.refine_jobs())
    }

    /// Runs the next chunk of warmup trajectories, or once they are done the next propagation
    /// gain point, then the next refined schedule; true once all are done.
    pub async fn step(&mut self) -> Result<bool> {
        if self.done == self.config.warmup {
            if let (Some(p), Some(&k)) = (self.config.propagation, self.measured.get(self.gains.len())) {
                let w = self.acc.as_ref().expect("warmup ran");
                self.gains.push(gain_at(w, self.config.teacher, &self.denoiser, k, p.samples).await?);
                return Ok(self.gains.len() == self.measured.len() && self.optimal_total() == 0 && self.refine_jobs() == 0);
            }
            if self.optimal_jobs < self.optimal_total() {
                let t0 = (self.clock)();
                self.run_optimal_steps().await?;
                self.optimal_s += (self.clock)() - t0;
                return Ok(self.optimal_jobs == self.optimal_total() && self.refine_jobs() == 0);
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
        let end = (self.done + self.chunk).min(self.config.warmup);
        if self.done < end {
            let next = self.warm_rows(self.done, end).await?;
            self.add_warmup(self.done, next)?;
        }
        Ok(self.done == self.config.warmup && self.measured.is_empty() && self.optimal_total() == 0 && self.refine_jobs() == 0)
    }

    /// Values per sample of the model searched for.
    pub fn dim(&self) -> usize {
        self.denoiser.dim()
    }

    /// The fine grid the warmup runs on.
    pub fn grid(&self) -> &[f64] {
        &self.grid
    }

    /// Warmup trajectories not run yet, as (first, end) rows.
    pub fn warmup_left(&self) -> (usize, usize) {
        (self.done, self.config.warmup)
    }

    /// The teacher's trajectories of warmup rows [start, end), not kept: another instance of the
    /// same search (a helper worker in the page) runs them for this one's `add_warmup`. Each row
    /// has its own noise and class, so the rows equal a whole warmup's.
    pub async fn warm_rows(&self, start: usize, end: usize) -> Result<Warmup> {
        if !(start < end && end <= self.config.warmup) {
            bail!("warmup rows {start}..{end} are not rows of a warmup of {}", self.config.warmup);
        }
        let dim = self.denoiser.dim();
        warmup(self.config.teacher, &self.grid, &self.denoiser, self.noise[start * dim..end * dim].to_vec(), start).await
    }

    /// Appends warmup rows that start where the warmup so far ends (`warm_rows` of any instance
    /// of this search).
    pub fn add_warmup(&mut self, start: usize, next: Warmup) -> Result<()> {
        let dim = self.denoiser.dim();
        let rows = next.xs.first().map_or(0, |x| x.len() / dim);
        if start != self.done || rows == 0 || self.done + rows > self.config.warmup {
            bail!("warmup rows {start}..{} do not continue the warmup at row {} of {}", start + rows, self.done, self.config.warmup);
        }
        if next.sigmas != self.grid || next.dim != dim || next.xs.len() != self.grid.len() || next.ds.len() + 1 != self.grid.len() || next.xs.iter().chain(&next.ds).any(|v| v.len() != rows * dim) {
            bail!("warmup rows {start}..{}: not trajectories of this search's grid and model", start + rows);
        }
        self.acc = Some(match self.acc.take() {
            None => next,
            Some(mut acc) => {
                acc.xs.iter_mut().zip(next.xs).for_each(|(a, b)| a.extend(b));
                acc.ds.iter_mut().zip(next.ds).for_each(|(a, b)| a.extend(b));
                acc
            }
        });
        self.done += rows;
        self.warmed_at = (self.clock)();
        Ok(())
    }

    /// The next student's optimal-step schedules, for every budget min_steps..=max_steps.
    async fn run_optimal_steps(&mut self) -> Result<()> {
        let o = self.config.optimal_steps.as_ref().expect("optimal steps asked for");
        let student = o.students[self.optimal_jobs];
        let w = self.acc.as_ref().expect("warmup ran");
        let (paths, _nfe) = optimal_steps(w, student, &self.denoiser, self.config.max_steps, o.samples).await?;
        for (k, (indices, cost)) in paths.into_iter().enumerate() {
            let steps = k + 1;
            if steps >= self.config.min_steps {
                let sigmas = indices.iter().map(|&i| self.grid[i]).collect();
                let gamma = self.config.gammas[0];
                self.optimal.push(Found { gamma, steps, indices, sigmas, cost, afs: false, student: Some(student.to_string()), optimal: true });
            }
        }
        self.optimal_jobs += 1;
        Ok(())
    }

    /// The cost matrix (propagated when asked for) and the DP's schedules for every gamma.
    fn dp(&self) -> Result<Planned> {
        let clock = self.clock;
        let started = clock();
        let warmed = self.acc.as_ref().expect("warmup ran");
        let gains = self.config.propagation.map(|p| gains_from(warmed, self.measured.clone(), &self.gains, p.samples, p.through(self.grid.len())));
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
                    schedules.push(Found { gamma, steps, indices, sigmas, cost, afs: false, student: None, optimal: false });
                }
            }
        }
        Ok(Planned { schedules, cost, gains, started, cost_matrix_s: t2 - started, dp_s: clock() - t2 })
    }

    /// Mean L2 between `student`'s samples on the grid points `indices` and the teacher's final
    /// samples, over the first `samples` warmup trajectories.
    async fn student_distance(&self, student: Solver, indices: &[usize], samples: usize, afs: bool) -> Result<f64> {
        let w = self.acc.as_ref().expect("warmup ran");
        let n = samples.min(self.config.warmup) * w.dim;
        let sigmas: Vec<f64> = indices.iter().map(|&i| self.grid[i]).collect();
        let x = self.denoiser.run(&student.compile(&sigmas, &CompileOptions::afs(afs))?, self.noise[..n].to_vec(), 0, 0, false).await?.sample;
        Ok(mean_l2(&x, &w.xs.last().expect("grid has points")[..n], w.dim))
    }

    /// The student refinement of `found` (see [`Refine`]).
    async fn refine_student(&self, student: Solver, r: &Refine, found: &Found) -> Result<Found> {
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
        Ok(Found {
            gamma: found.gamma,
            steps: found.steps,
            sigmas: indices.iter().map(|&i| self.grid[i]).collect(),
            indices,
            cost: best,
            afs: false,
            student: Some(student.to_string()),
            optimal: false,
        })
    }

    /// The AFS variant of `found`: insert the grid point k in (0, first choice) that brings the
    /// student's samples (analytic first step, warmup noise) closest to the teacher's in mean L2.
    /// None when the DP's first choice is grid point 1 (nothing to insert).
    async fn refine_afs(&self, student: Solver, found: &Found) -> Result<Option<Found>> {
        let mut best: Option<(f64, Vec<usize>)> = None;
        for k in 1..found.indices[1] {
            let indices: Vec<usize> = [0, k].into_iter().chain(found.indices[1..].iter().cloned()).collect();
            let dist = self.student_distance(student, &indices, self.config.warmup, true).await?;
            if best.as_ref().is_none_or(|(d, _)| dist < *d) {
                best = Some((dist, indices));
            }
        }
        Ok(best.map(|(cost, indices)| Found {
            gamma: found.gamma,
            steps: found.steps + 1,
            sigmas: indices.iter().map(|&i| self.grid[i]).collect(),
            indices,
            cost,
            afs: true,
            student: Some(student.to_string()),
            optimal: false,
        }))
    }

    /// Finishes the warmup (and gains, refinement), then builds the cost matrix and runs the DP
    /// for every gamma.
    pub async fn finish(mut self) -> Result<GitsFile> {
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
        schedules.append(&mut self.optimal);
        schedules.append(&mut self.refined);
        let c = &self.config;
        let file = GitsFile {
            version: GITS_VERSION,
            model: self.model,
            sigma_min: c.sigma_min,
            sigma_max: c.sigma_max,
            grid_schedule: c.grid_schedule.to_string(),
            grid: self.grid,
            teacher: c.teacher.to_string(),
            metric: c.metric,
            warmup: c.warmup,
            seed: c.seed,
            timing: Timing {
                warmup_s,
                // The optimal-step search runs between the gains and the cost matrix.
                propagation_s: planned.started - self.warmed_at - self.optimal_s,
                cost_matrix_s: planned.cost_matrix_s,
                dp_s: planned.dp_s,
                afs_s: t4 - t3,
                refine_s: self.refine_s,
                optimal_steps_s: self.optimal_s,
            },
            propagation: planned.gains,
            schedules,
            cost: Some(cost_rows(&planned.cost)),
        };
        file.validate(None)?;
        Ok(file)
    }
}
