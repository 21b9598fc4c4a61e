//! Sample-quality metrics (native only): Fréchet distance of classifier features and the
//! paired bootstrap that gives a difference between two configurations on the same noise its
//! standard error (distances between samples are in [`crate::distance`]).

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Fréchet distance between Gaussians fitted to two feature sets (rows):
/// |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S2^1/2 S1 S2^1/2)^1/2).
pub fn frechet_distance(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    Frechet::new(b).distance(a, None)
}

/// A fixed reference feature set (the held-out digits), fitted once, so that many sets (and
/// bootstrap resamples of them) are measured against it without refitting.
pub struct Frechet {
    mu: DVector<f64>,
    trace: f64,
    root: DMatrix<f64>,
}

impl Frechet {
    pub fn new(reference: &[Vec<f64>]) -> Self {
        let (mu, cov) = moments(reference, None);
        Frechet { mu, trace: cov.trace(), root: psd_sqrt(&cov) }
    }

    /// A reference given by its moments (an exact distribution's mean and covariance, row-major).
    pub fn from_moments(mean: &[f64], cov: &[f64]) -> Self {
        let d = mean.len();
        let cov = DMatrix::from_row_slice(d, d, cov);
        Frechet { mu: DVector::from_column_slice(mean), trace: cov.trace(), root: psd_sqrt(&cov) }
    }

    /// FD of `rows` (or of the rows `pick` lists, repeats allowed) against the reference.
    pub fn distance(&self, rows: &[Vec<f64>], pick: Option<&[usize]>) -> f64 {
        let (mu, cov) = moments(rows, pick);
        let middle = &self.root * &cov * &self.root;
        let middle = (&middle + middle.transpose()) * 0.5;
        let tr_root: f64 = SymmetricEigen::new(middle).eigenvalues.iter().map(|&l| l.max(0.0).sqrt()).sum();
        (mu - &self.mu).norm_squared() + cov.trace() + self.trace - 2.0 * tr_root
    }
}

/// Mean and (unbiased) covariance of the rows (or of the rows `pick` lists).
fn moments(rows: &[Vec<f64>], pick: Option<&[usize]>) -> (DVector<f64>, DMatrix<f64>) {
    let row = |i: usize| &rows[pick.map_or(i, |p| p[i])];
    let (n, d) = (pick.map_or(rows.len(), |p| p.len()), rows[0].len());
    let x = DMatrix::from_fn(n, d, |i, j| row(i)[j]);
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

/// Paired bootstrap: `resamples` draws of n row indices with replacement (seeded), the same
/// draw for both configurations; returns the standard deviation over the draws of each of the
/// K numbers `diff(draw)` gives: the standard errors of differences of statistics between two
/// sets of samples that share their noise row by row.
pub fn paired_bootstrap<const K: usize>(n: usize, resamples: usize, seed: u64, mut diff: impl FnMut(&[usize]) -> [f64; K]) -> [f64; K] {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pick = vec![0; n];
    let draws: Vec<[f64; K]> = (0..resamples)
        .map(|_| {
            pick.iter_mut().for_each(|p| *p = rng.random_range(0..n));
            diff(&pick)
        })
        .collect();
    std::array::from_fn(|k| {
        let m = draws.iter().map(|d| d[k]).sum::<f64>() / resamples as f64;
        (draws.iter().map(|d| (d[k] - m).powi(2)).sum::<f64>() / (resamples.max(2) - 1) as f64).sqrt()
    })
}
