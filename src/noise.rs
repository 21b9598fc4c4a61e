//! Seeded standard-normal noise: the same seed gives the same z natively and in the browser.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// `batch * dim` draws of N(0, 1), row-major.
pub fn standard_normal(seed: u64, batch: usize, dim: usize) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..batch * dim).map(|_| StandardNormal.sample(&mut rng)).collect()
}
