//! Propagation gains (docs/gits.md): how much of an error made at a grid point reaches the
//! final sample, measured by perturbing teacher points and continuing with the teacher; the
//! propagated cost prices each jump by the error it leaves at the end.

use super::warmup::Warmup;
use crate::distance::mean_l2;
use crate::model::BatchModel;
use crate::solver::{CompileOptions, Solver};
use crate::{Result, bail};
use serde::{Deserialize, Serialize};

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
    let measured = p.measured(w.sigmas.len());
    let mut at = Vec::new();
    for &k in &measured {
        at.push(gain_at(w, teacher, model, k, p.samples).await?);
    }
    Ok(gains_from(w, measured, &at, p.samples, p.through(w.sigmas.len())))
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
    let plan = teacher.compile(&w.sigmas[k..], &CompileOptions::PLAIN)?;
    let from = |x: &[f64]| x.iter().map(|v| v / sk).collect::<Vec<f64>>();
    let perturbed = model.run(&plan, from(&jump), 0, 0, false).await?.sample;
    let exact = model.run(&plan, from(xk), 0, 0, false).await?.sample;
    let (landing, left) = (mean_l2(&jump, xk, dim), mean_l2(&perturbed, &exact, dim));
    if !(landing.is_finite() && left.is_finite()) {
        bail!("propagation gain at grid point {k} is not finite");
    }
    Ok((landing, left, 2 * plan.nfe))
}

/// The gains of every grid point from the measured (landing, left, nfe) of `measured`,
/// interpolated through the measured points that are in `through`.
pub fn gains_from(w: &Warmup, measured: Vec<usize>, at: &[(f64, f64, u32)], samples: usize, through: Vec<usize>) -> Gains {
    let g = w.sigmas.len();
    // A jump that lands exactly (a single-point data set) leaves nothing to measure: gain 1.
    let mut points: Vec<(f64, f64)> = measured
        .iter()
        .zip(at)
        .filter(|(k, _)| through.contains(k))
        .map(|(&k, &(l, f, _))| (w.sigmas[k].ln(), if l > 0.0 { (f / l).max(1e-12).ln() } else { 0.0 }))
        .collect();
    points.push((w.sigmas[g - 1].ln(), 0.0));
    Gains {
        gains: w.sigmas.iter().map(|s| interpolate(&points, s.ln()).exp()).collect(),
        landing: at.iter().map(|a| a.0).collect(),
        left: at.iter().map(|a| a.1).collect(),
        samples: samples.min(w.xs[0].len() / w.dim).max(1),
        nfe: at.iter().map(|a| a.2).sum(),
        through: if through == measured { Vec::new() } else { through },
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

/// How the propagation gains are measured: at `points` grid points (spread evenly, gains
/// interpolated in ln sigma between them) on the first `samples` warmup trajectories;
/// `every_point` also measures the first jump at every other point, for the GITS map only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Propagation {
    pub points: usize,
    pub samples: usize,
    pub every_point: bool,
}

impl Propagation {
    /// 13 points (every 5th of a 61-point grid) on an eighth of the warmup (at most 32), which
    /// keeps the measurement at about 1.6x the warmup's evaluations. An exact denoiser, whose
    /// evaluations are cheap, is measured at every point for the map; its gains still go
    /// through the 13 (through all of them the DP's schedules came out 5% worse on the toys:
    /// 32 trajectories give a gain curve noisy enough for the DP to exploit).
    pub fn default_for(warmup: usize, exact: bool) -> Self {
        Propagation { points: 13, samples: (warmup / 8).clamp(1, 32), every_point: exact }
    }

    /// The grid points measured on a `g`-point grid.
    pub fn measured(&self, g: usize) -> Vec<usize> {
        gain_points(g, if self.every_point { usize::MAX } else { self.points })
    }

    /// The measured points the gains interpolate through on a `g`-point grid.
    pub fn through(&self, g: usize) -> Vec<usize> {
        gain_points(g, self.points)
    }
}

/// The measured gains of a search: `gains[k]` for every grid point (1 at the last).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gains {
    /// The grid points where the first jump was measured.
    pub measured: Vec<usize>,
    /// The measured points the gains interpolate through, when not all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub through: Vec<usize>,
    pub gains: Vec<f64>,
    /// For each measured point: the mean L2 of the first jump's landing error there, and of the
    /// error that jump leaves in the final sample (the teacher continuing from it).
    pub landing: Vec<f64>,
    pub left: Vec<f64>,
    pub samples: usize,
    /// Network evaluations per sample the measurement took.
    pub nfe: u32,
}
