//! Sample-quality metrics (native only): Fréchet distance of classifier features, mean L2
//! distance to a teacher's samples.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// Fréchet distance between Gaussians fitted to two feature sets (rows):
/// |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2).
pub fn frechet_distance(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    let (mu1, s1) = moments(a);
    let (mu2, s2) = moments(b);
    let root1 = psd_sqrt(&s1);
    let middle = &root1 * &s2 * &root1;
    let middle = (&middle + middle.transpose()) * 0.5;
    let tr_root: f64 = SymmetricEigen::new(middle).eigenvalues.iter().map(|&l| l.max(0.0).sqrt()).sum();
    (mu1 - mu2).norm_squared() + s1.trace() + s2.trace() - 2.0 * tr_root
}

/// Mean and (unbiased) covariance of the rows.
fn moments(rows: &[Vec<f64>]) -> (DVector<f64>, DMatrix<f64>) {
    let (n, d) = (rows.len(), rows[0].len());
    let x = DMatrix::from_fn(n, d, |i, j| rows[i][j]);
    let mu = DVector::from_fn(d, |j, _| x.column(j).mean());
    let centred = DMatrix::from_fn(n, d, |i, j| x[(i, j)] - mu[j]);
    let cov = centred.transpose() * &centred / (n.max(2) - 1) as f64;
    (mu, cov)
}

/// Square root of a symmetric positive semi-definite matrix (negative rounding clipped).
fn psd_sqrt(m: &DMatrix<f64>) -> DMatrix<f64> {
    let e = SymmetricEigen::new(m.clone());
    let root = DMatrix::from_diagonal(&e.eigenvalues.map(|l| l.max(0.0).sqrt()));
    &e.eigenvectors * root * e.eigenvectors.transpose()
}

/// Mean over samples of the L2 norm of the difference (row-major batches of `dim`).
pub fn mean_l2(a: &[f64], b: &[f64], dim: usize) -> f64 {
    let n = a.len() / dim;
    a.chunks(dim).zip(b.chunks(dim)).map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).powi(2)).sum::<f64>().sqrt()).sum::<f64>() / n as f64
}
