//! Seeded standard-normal noise: the same seed gives the same z natively and in the browser.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// `batch * dim` draws of N(0, 1), row-major.
pub fn standard_normal(seed: u64, batch: usize, dim: usize) -> Vec<f64> {
    draw(&mut StdRng::seed_from_u64(seed), batch * dim)
}

/// `n` further draws of N(0, 1) from `rng` (the step noise of stochastic plans).
pub fn draw(rng: &mut StdRng, n: usize) -> Vec<f64> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}
