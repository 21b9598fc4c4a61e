//! The GITS schedule file: what was searched, how, and the schedule found for every step budget
//! and gamma. Versioned JSON (docs/formats.md); `load` validates it before anything uses it.

use crate::limits;
use crate::schedule::{check_sigma_range, validate_sigmas};
use crate::solver::Solver;
use super::propagation::Gains;
use crate::model::ModelRef;
use crate::{Error, Result, bail};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

pub const GITS_VERSION: u32 = 1;

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

/// Wall time of each stage, in seconds (as the paper's Table 4).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub warmup_s: f64,
    pub cost_matrix_s: f64,
    pub dp_s: f64,
    /// The AFS refinement, when asked for (full student samples per candidate).
    #[serde(default)]
    pub afs_s: f64,
    /// Measuring the propagation gains, when asked for (teacher continuations).
    #[serde(default)]
    pub propagation_s: f64,
    /// The student refinement, when asked for (full student samples per candidate).
    #[serde(default)]
    pub refine_s: f64,
    /// The optimal-step search, when asked for.
    #[serde(default)]
    pub optimal_steps_s: f64,
}

/// The schedule found for one step budget and gamma.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub gamma: f64,
    pub steps: usize,
    /// Indices into the grid, from 0 to grid.len() - 1.
    pub indices: Vec<usize>,
    pub sigmas: Vec<f64>,
    /// The DP objective of this path (for an AFS entry: its student's mean L2 to the teacher).
    pub cost: f64,
    /// Refined for the analytic first step: one grid point inserted before the DP's first
    /// choice, so `steps` is one more than the NFE of a 1-NFE-per-step solver with AFS.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub afs: bool,
    /// Refined by running this solver (`gits --refine`; `cost` is then its mean L2 to the
    /// teacher), or, on an AFS entry, the solver its inserted point was chosen with (files
    /// written before AFS entries named it have none): [`GitsFile::sigmas_for`] prefers such an
    /// entry for that solver, and runs that solver with AFS unless told otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<String>,
    /// Made by the optimal-step search for `student` (`gits --optimal-steps`; `cost` is the
    /// student's final mean L2 to the teacher; `gamma` is the file's first, unused).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optimal: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GitsFile {
    pub version: u32,
    pub model: ModelRef,
    pub sigma_min: f64,
    pub sigma_max: f64,
    /// How the fine grid was made, e.g. `polynomial:7`, and its sigmas.
    pub grid_schedule: String,
    pub grid: Vec<f64>,
    pub teacher: String,
    pub metric: Metric,
    pub warmup: usize,
    pub seed: u64,
    pub timing: Timing,
    /// Present when jumps were priced by the error they leave at the end (the gains used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation: Option<Gains>,
    pub schedules: Vec<Found>,
    /// The cost matrix the DP ran on (propagated when `propagation` is present): `cost[i][k]`
    /// is the cost of the jump from grid point i to grid point i + 1 + k. Files without it
    /// still sample; the page's GITS map needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Vec<Vec<f64>>>,
}

/// A file's cost matrix and the DP's paths through it at one gamma (the page's GITS map).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostMap<'a> {
    pub grid: &'a [f64],
    pub rows: &'a [Vec<f64>],
    pub gamma: f64,
    /// `paths[k - 1]`: the grid indices of the cheapest k-step path.
    pub paths: Vec<Vec<usize>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation: Option<&'a Gains>,
}

/// The upper triangle of a full cost matrix, row by row (what the file keeps).
pub fn cost_rows(cost: &[Vec<f64>]) -> Vec<Vec<f64>> {
    cost.iter().enumerate().take(cost.len().saturating_sub(1)).map(|(i, row)| row[i + 1..].to_vec()).collect()
}

impl GitsFile {
    /// Parses and validates; `model` (id, sha256), when given, must match the file's.
    pub fn load(text: &str, model: Option<&ModelRef>) -> Result<GitsFile> {
        let file: GitsFile = serde_json::from_str(text).map_err(|e| Error(format!("invalid GITS schedule file: {e}")))?;
        file.validate(model)?;
        Ok(file)
    }

    pub fn validate(&self, model: Option<&ModelRef>) -> Result<()> {
        if self.version != GITS_VERSION {
            bail!("unsupported GITS file version {} (this build reads {GITS_VERSION})", self.version);
        }
        if let Some(m) = model
            && m.sha256 != self.model.sha256
        {
            bail!("GITS file was searched for model {} (sha256 {}), not this one ({})", self.model.id, short(&self.model.sha256), short(&m.sha256));
        }
        check_sigma_range(self.sigma_min, self.sigma_max).map_err(|e| Error(format!("GITS file: {e}")))?;
        limits::at_most("GITS file: warmup", self.warmup, limits::MAX_BATCH)?;
        limits::at_most("GITS file: schedules", self.schedules.len(), limits::MAX_STEPS)?;
        validate_sigmas(&self.grid).map_err(|e| Error(format!("GITS file grid: {e}")))?;
        let in_range = |s: f64| s >= self.sigma_min * (1.0 - 1e-12) && s <= self.sigma_max * (1.0 + 1e-12);
        if !in_range(self.grid[0]) || !in_range(*self.grid.last().unwrap()) {
            bail!("GITS file grid [{}, {}] leaves the model's range [{}, {}]", self.grid[0], self.grid.last().unwrap(), self.sigma_min, self.sigma_max);
        }
        if self.schedules.is_empty() {
            bail!("GITS file holds no schedules");
        }
        if let Some(p) = &self.propagation
            && (p.gains.len() != self.grid.len() || p.gains.iter().any(|g| !(g.is_finite() && *g > 0.0)))
        {
            bail!("GITS file: propagation needs one finite gain > 0 per grid point ({}), has {}", self.grid.len(), p.gains.len());
        }
        if let Some(rows) = &self.cost {
            let g = self.grid.len();
            if rows.len() != g - 1 || rows.iter().enumerate().any(|(i, r)| r.len() != g - 1 - i) {
                bail!("GITS file: cost needs {} rows, row i with {} - i costs (jumps from grid point i to each later one)", g - 1, g - 1);
            }
            if let Some((i, _)) = rows.iter().enumerate().find(|(_, r)| r.iter().any(|c| !c.is_finite())) {
                bail!("GITS file: cost row {i} holds a value that is not finite");
            }
        }
        for f in &self.schedules {
            let what = format!("GITS schedule (gamma {}, {} steps)", f.gamma, f.steps);
            validate_sigmas(&f.sigmas).map_err(|e| Error(format!("{what}: {e}")))?;
            if f.steps.checked_add(1) != Some(f.sigmas.len()) || f.indices.len() != f.sigmas.len() {
                bail!("{what}: needs {} sigmas and indices, has {} and {}", f.steps as u128 + 1, f.sigmas.len(), f.indices.len());
            }
            if f.indices[0] != 0 || *f.indices.last().unwrap() != self.grid.len() - 1 {
                bail!("{what}: must run from grid point 0 to {}", self.grid.len() - 1);
            }
            for (&i, &s) in f.indices.iter().zip(&f.sigmas) {
                if self.grid.get(i) != Some(&s) {
                    bail!("{what}: sigma {s} is not grid point {i}");
                }
            }
            if !(f.gamma.is_finite() && f.gamma > 0.0 && f.cost.is_finite()) {
                bail!("{what}: gamma and cost must be finite (gamma > 0)");
            }
            if let Some(student) = &f.student {
                let solver: Solver = student.parse().map_err(|e| Error(format!("{what}: refined for an unknown solver: {e}")))?;
                if f.afs && !solver.supports_afs() {
                    bail!("{what}: an AFS entry for {solver}, which does not take the analytic first step");
                }
            } else if f.optimal {
                bail!("{what}: an optimal-step entry names its student");
            }
            if f.afs && f.optimal {
                bail!("{what}: an entry is either AFS or made by the optimal-step search, not both");
            }
        }
        Ok(())
    }

    /// The cost matrix and the DP's cheapest path of each length 1..=grid - 1 (at most the
    /// file's longest schedule) through it at `gamma`.
    pub fn cost_map(&self, gamma: f64) -> Result<CostMap<'_>> {
        let Some(rows) = &self.cost else {
            bail!("this GITS file has no cost matrix (written before files kept it); search again to draw its map");
        };
        let g = self.grid.len();
        let full: Vec<Vec<f64>> = (0..g).map(|i| (0..g).map(|j| if j > i { rows[i][j - i - 1] } else { f64::INFINITY }).collect()).collect();
        let longest = self.schedules.iter().map(|f| f.steps).max().unwrap_or(1).min(g - 1);
        let paths = super::dp::dynamic_programming(&full, longest, gamma)?.into_iter().map(|(path, _)| path).collect();
        Ok(CostMap { grid: &self.grid, rows, gamma, paths, propagation: self.propagation.as_ref() })
    }

    /// The sigmas to run `solver` with `nfe` evaluations on, for `gamma` (or the first gamma in
    /// the file), and whether to run it with the analytic first step: the entry made for
    /// `solver` if the file has one, else the DP's; `to_zero` appends a final step to sigma = 0.
    /// `afs` None: with AFS where the file holds an AFS entry made for `solver` at this budget
    /// (its search chose AFS for that solver), else without.
    pub fn sigmas_for(&self, solver: &Solver, nfe: u32, to_zero: bool, afs: Option<bool>, gamma: Option<f64>) -> Result<(Vec<f64>, bool)> {
        let gamma = gamma.unwrap_or(self.schedules[0].gamma);
        let name = solver.to_string();
        let own = |f: &Found| f.student.as_deref() == Some(name.as_str());
        let afs = match afs {
            Some(afs) => afs,
            None => solver.supports_afs() && {
                let steps = solver.steps_for_nfe(nfe, to_zero, true)? - to_zero as usize;
                self.schedules.iter().any(|f| f.afs && own(f) && f.steps == steps && f.gamma == gamma)
            },
        };
        let steps = solver.steps_for_nfe(nfe, to_zero, afs)? - to_zero as usize;
        let fits = |f: &&Found| f.steps == steps && f.gamma == gamma && f.afs == afs;
        let refined = self.schedules.iter().filter(fits).find(|f| own(f));
        match refined.or_else(|| self.schedules.iter().filter(fits).find(|f| f.student.is_none())) {
            Some(f) => Ok((f.sigmas.iter().cloned().chain(to_zero.then_some(0.0)).collect(), afs)),
            None => {
                let usable = |f: &&Found| f.gamma == gamma && f.afs == afs && (f.student.is_none() || own(f));
                // A step count with entries for several solvers is listed once.
                let have: std::collections::BTreeSet<usize> = self.schedules.iter().filter(usable).map(|f| f.steps).collect();
                let have: Vec<String> = have.iter().map(usize::to_string).collect();
                let kind = if afs { "AFS " } else { "" };
                let mut msg = format!("{solver} with NFE {nfe} needs a {steps}-step {kind}schedule; this file has {} for gamma {gamma}", if have.is_empty() { "none".into() } else { have.join(", ") + " steps" });
                if let Some(other) = self.schedules.iter().filter(|f| afs && f.afs && !own(f)).find_map(|f| f.student.as_deref()) {
                    msg += &format!(" (its AFS schedules were chosen for {other})");
                }
                bail!("{msg}")
            }
        }
    }
}

/// The first 12 characters of a hash (any text: a file may hold anything there).
fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}
