//! Distances between row-major batches of samples: the one home of "mean L2 to the teacher"
//! (GITS costs and refinement, `eval`, and the page's compare mode through the wasm surface).

/// The L2 norm of the difference of each sample (row-major batches of `dim`).
pub fn l2_per_sample(a: &[f64], b: &[f64], dim: usize) -> Vec<f64> {
    a.chunks(dim).zip(b.chunks(dim)).map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q) * (p - q)).sum::<f64>().sqrt()).collect()
}

/// The L1 norm of the difference of each sample.
pub fn l1_per_sample(a: &[f64], b: &[f64], dim: usize) -> Vec<f64> {
    a.chunks(dim).zip(b.chunks(dim)).map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()).sum::<f64>()).collect()
}

/// Mean over samples of the L2 norm of the difference.
pub fn mean_l2(a: &[f64], b: &[f64], dim: usize) -> f64 {
    mean(&l2_per_sample(a, b, dim))
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}
