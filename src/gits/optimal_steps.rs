//! Optimal steps: dynamic programming over the student's own states (after "Optimal Stepsize
//! for Diffusion Sampling", 2025), the search to compare GITS with.
//!
//! GITS prices each jump as an Euler step from the *teacher's* point. Here every transition
//! starts where the *student* really is: for each step count k and grid point j the search keeps
//! the student state closest (mean L2) to the teacher's point j among those reached in k steps
//! (its path and the evaluations made along it), and extends each kept state by one step of the
//! student solver to every later grid point. The k-step schedule is the kept path that reaches
//! the last grid point in k steps; its cost is the student's final mean L2 to the teacher.
//!
//! A state's one evaluation D(x; sigma) serves every extension of it, so the search costs at most
//! `max_steps * (grid - 1)` evaluations per sample, and one run of each schedule found to check
//! it (docs/gits.md#optimal-steps); the extensions themselves replay the student's plan on the
//! kept evaluations (linear combinations only). The replay needs a solver whose step does not
//! depend on how many steps follow it; the check refuses one that does.

use super::warmup::Warmup;
use crate::distance::mean_l2;
use crate::model::BatchModel;
use crate::plan::{Denoiser, execute};
use crate::solver::{CompileOptions, Solver};
use crate::{Error, Result, bail};
use serde::{Deserialize, Serialize};
use std::cell::Cell;

/// Which students to search steps for, on the first `samples` warmup trajectories.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimalSteps {
    pub students: Vec<Solver>,
    pub samples: usize,
}

impl OptimalSteps {
    /// 64 trajectories (at most the warmup).
    pub fn default_for(students: Vec<Solver>, warmup: usize) -> Self {
        OptimalSteps { students, samples: warmup.clamp(1, 64) }
    }
}

/// A student state: the grid path that reached it, the evaluations made along it (one per
/// point but the last), where it is, and its mean L2 to the teacher's point there.
struct State {
    path: Vec<usize>,
    evals: Vec<Vec<f64>>,
    x: Vec<f64>,
    cost: f64,
}

/// Hands a plan the evaluations already made along a path, in order; an evaluation anywhere
/// else (a solver that evaluates between grid points) is an error.
struct Replay<'a> {
    evals: &'a [Vec<f64>],
    sigmas: &'a [f64],
    next: Cell<usize>,
}

impl Denoiser<Vec<f64>> for Replay<'_> {
    fn denoise(&self, _x: &Vec<f64>, sigma: f64) -> Result<Vec<f64>> {
        let k = self.next.get();
        if self.sigmas.get(k) != Some(&sigma) {
            bail!("the optimal-step search takes solvers that evaluate once per step, where it starts (euler, ipndm, ipndm_v, ab_exact), not one that evaluates at sigma {sigma}");
        }
        self.next.set(k + 1);
        Ok(self.evals[k].clone())
    }
}

/// The k-step schedules for k = 1..=max_steps (`(indices, final mean L2)` each) of `student`
/// on the warmup's grid, from its first `samples` trajectories, and the evaluations per
/// trajectory the search made.
pub async fn optimal_steps<M: BatchModel + ?Sized>(w: &Warmup, student: Solver, model: &M, max_steps: usize, samples: usize) -> Result<(Vec<(Vec<usize>, f64)>, u32)> {
    let (g, dim) = (w.sigmas.len(), w.dim);
    if max_steps == 0 || max_steps > g - 1 {
        bail!("a grid of {g} points allows 1..{} steps, asked for {max_steps}", g - 1);
    }
    let rows = samples.min(w.xs[0].len() / dim).max(1) * dim;
    let z: Vec<f64> = w.xs[0][..rows].iter().map(|x| x / w.sigmas[0]).collect();
    let teacher = |j: usize| &w.xs[j][..rows];
    let mut level: Vec<Option<State>> = (0..g).map(|_| None).collect();
    level[0] = Some(State { path: vec![0], evals: Vec::new(), x: w.xs[0][..rows].to_vec(), cost: 0.0 });
    let (mut found, mut nfe) = (Vec::new(), 0u32);
    for k in 1..=max_steps {
        let mut next: Vec<Option<State>> = (0..g).map(|_| None).collect();
        for state in level.iter().flatten() {
            let i = *state.path.last().expect("a path has a start");
            let mut evals = state.evals.clone();
            evals.push(model.denoise(&state.x, w.sigmas[i], 0).await?);
            nfe += 1;
            for j in i + 1..g {
                let path: Vec<usize> = state.path.iter().copied().chain([j]).collect();
                let sigmas: Vec<f64> = path.iter().map(|&p| w.sigmas[p]).collect();
                let plan = student.compile(&sigmas, &CompileOptions::PLAIN)?;
                let replay = Replay { evals: &evals, sigmas: &sigmas[..k], next: Cell::new(0) };
                let x = execute(&plan, z.clone(), &replay, false)?.sample;
                if replay.next.get() != k {
                    bail!("the optimal-step search: {student} made {} evaluations over {k} steps; it takes solvers with one per step", replay.next.get());
                }
                let cost = mean_l2(&x, teacher(j), dim);
                if !cost.is_finite() {
                    bail!("the optimal-step search: {student}'s state at grid point {j} after {k} steps is not finite");
                }
                if next[j].as_ref().is_none_or(|s| cost < s.cost) {
                    next[j] = Some(State { path, evals: evals.clone(), x, cost });
                }
            }
        }
        let end = next[g - 1].as_ref().ok_or_else(|| Error(format!("the optimal-step search found no {k}-step path")))?;
        found.push((end.path.clone(), end.cost));
        level = next;
        level[g - 1] = None; // nothing follows the last grid point
    }
    // The replay assumed each step is the same whatever follows it. A solver that takes lower
    // orders in its last steps (DPM-Solver++) or whose weights see the whole schedule (DEIS)
    // breaks that; running each schedule once finds out. The tolerance covers f32 networks (a
    // batch evaluated alone rounds differently from one inside a plan, about 1e-8 relative);
    // a solver that does not fit differs far more (DEIS 2e-5, DPM-Solver++ 0.3). The run's
    // error is the cost kept.
    for (path, cost) in found.iter_mut() {
        let sigmas: Vec<f64> = path.iter().map(|&p| w.sigmas[p]).collect();
        let x = model.run(&student.compile(&sigmas, &CompileOptions::PLAIN)?, z.clone(), 0, 0, false).await?.sample;
        nfe += path.len() as u32 - 1;
        let real = mean_l2(&x, teacher(g - 1), dim);
        if (real - *cost).abs() > 1e-5 * real.max(1e-300) {
            bail!(
                "the optimal-step search does not apply to {student}: its steps change with how many follow them (a lower-order final step, weights that see the whole schedule), so a state reached on the way is not the one a longer schedule passes through ({} steps: {cost} searched, {real} run); use euler, ipndm, ipndm_v or ab_exact",
                path.len() - 1
            );
        }
        *cost = real;
    }
    Ok((found, nfe))
}
