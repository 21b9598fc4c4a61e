//! Warmup: the teacher's trajectories on the fine grid, with the derivative at every point.

use crate::model::BatchModel;
use crate::plan::Op;
use crate::solver::{CompileOptions, Solver};
use crate::Result;

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
    let plan = teacher.compile(grid, &CompileOptions::PLAIN)?;
    let run = denoiser.run(&plan, z, first_row, 0, true).await?;
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
