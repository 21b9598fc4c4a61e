//! The GITS cost matrix (paper Sec. 5): the distance between an Euler jump from one teacher
//! point and the teacher point it lands next to, for every pair of grid points.

use super::file::Metric;
use super::warmup::Warmup;
use crate::distance::{l1_per_sample, l2_per_sample, mean};

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


/// C[g][k] for g < k: the batch mean of the metric between the Euler jump from teacher point g
/// to sigma_k and teacher point k. Entries with g >= k are unused (infinite).
pub fn cost_matrix(w: &Warmup, metric: Metric) -> Vec<Vec<f64>> {
    let g_count = w.sigmas.len();
    let (first, last) = (&w.xs[0], &w.xs[g_count - 1]);
    let teacher_dev: Vec<f64> = w.xs.iter().map(|x| mean(&deviation(x, first, last, w.dim))).collect();
    let mut cost = vec![vec![f64::INFINITY; g_count]; g_count];
    for g in 0..g_count - 1 {
        for k in g + 1..g_count {
            let h = w.sigmas[k] - w.sigmas[g];
            let jump: Vec<f64> = w.xs[g].iter().zip(&w.ds[g]).map(|(x, d)| x + h * d).collect();
            cost[g][k] = match metric {
                Metric::Dev => mean(&deviation(&jump, first, last, w.dim)) - teacher_dev[k],
                Metric::L1 => mean(&l1_per_sample(&jump, &w.xs[k], w.dim)),
                Metric::L2 => mean(&l2_per_sample(&jump, &w.xs[k], w.dim)),
            };
        }
    }
    cost
}
