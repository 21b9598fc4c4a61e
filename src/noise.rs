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

/// The noise stream of evaluations: `eval` starts sample i of seed s from row i of
/// `standard_normal(eval_seed(s), ..)`. Its generator is seeded with a hash of ("eval", s), never
/// with a small integer, so no GITS search, sampling run or training step (all seeded with the
/// plain seed) shares its noise.
pub fn eval_seed(seed: u64) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new().chain_update(b"gits-sampler eval noise").chain_update(seed.to_le_bytes()).finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("a sha256 digest has 32 bytes"))
}
