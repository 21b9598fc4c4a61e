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
    tagged_seed(b"gits-sampler eval noise", &[seed])
}

/// The seed of sample `index` of a run seeded `seed`: its step noise comes from this alone, so a
/// sample is the same at any batch size, in any row, and in any worker of a split batch.
pub fn sample_seed(seed: u64, index: u64) -> u64 {
    tagged_seed(b"gits-sampler step noise", &[seed, index])
}

/// A generator seed from sha256 of a tag and numbers: streams with different tags never meet.
fn tagged_seed(tag: &[u8], parts: &[u64]) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = parts.iter().fold(Sha256::new().chain_update(tag), |h, p| h.chain_update(p.to_le_bytes())).finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("a sha256 digest has 32 bytes"))
}

/// The seeds of samples `rows` of a run seeded `seed`.
pub fn sample_seeds(seed: u64, rows: std::ops::Range<u64>) -> Vec<u64> {
    rows.map(|i| sample_seed(seed, i)).collect()
}

/// Where the step noise of stochastic samplers comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseSource {
    /// A fresh draw per noise op, from each sample's own generator in op order (k-diffusion's
    /// default noise sampler, per sample).
    Fresh,
    /// Increments of each sample's Brownian path over the step's sigma interval (k-diffusion's
    /// BrownianTreeNoiseSampler): refining the schedule refines the same path.
    Brownian,
}

impl std::fmt::Display for NoiseSource {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            NoiseSource::Fresh => "fresh",
            NoiseSource::Brownian => "brownian",
        })
    }
}

impl std::str::FromStr for NoiseSource {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "fresh" => Ok(NoiseSource::Fresh),
            "brownian" => Ok(NoiseSource::Brownian),
            _ => crate::bail!("unknown noise source {s:?}: use fresh or brownian"),
        }
    }
}

/// The step noise of a batch: one source per row, each from that sample's seed.
pub struct StepNoise {
    rows: Vec<Row>,
    dim: usize,
}

enum Row {
    Fresh(Box<StdRng>),
    /// The path and its last value, W(sigma_next) of one step being W(sigma) of the next.
    Brownian(crate::brownian::BrownianPath, Option<(f64, Vec<f64>)>),
}

impl StepNoise {
    /// `seeds`: one per row, from [`sample_seeds`].
    pub fn new(source: NoiseSource, seeds: &[u64], dim: usize) -> Self {
        let rows = seeds
            .iter()
            .map(|&s| match source {
                NoiseSource::Fresh => Row::Fresh(Box::new(StdRng::seed_from_u64(s))),
                NoiseSource::Brownian => Row::Brownian(crate::brownian::BrownianPath::new(s, dim), None),
            })
            .collect();
        StepNoise { rows, dim }
    }

    /// The next standard-normal draw of the batch (row-major), for the step sigma -> sigma_next.
    pub fn next(&mut self, sigma: f64, sigma_next: f64) -> Vec<f64> {
        let dim = self.dim;
        self.rows
            .iter_mut()
            .flat_map(|row| match row {
                Row::Fresh(rng) => draw(rng, dim),
                Row::Brownian(path, last) => {
                    let at = |t: f64| match &*last {
                        Some((lt, w)) if *lt == t => w.clone(),
                        _ => path.at(t),
                    };
                    let (hi, lo) = (at(sigma), at(sigma_next));
                    let scale = 1.0 / (sigma - sigma_next).sqrt();
                    let out = hi.iter().zip(&lo).map(|(h, l)| (h - l) * scale).collect::<Vec<f64>>();
                    *last = Some((sigma_next, lo));
                    out
                }
            })
            .collect()
    }
}
