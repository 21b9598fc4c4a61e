//! Procedural 2-D toy data sets, seeded; each scaled to a standard deviation near 0.5 per
//! coordinate (like sigma_data).

use super::Dataset;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use std::f64::consts::PI;

pub const NAMES: [&str; 4] = ["moons", "swiss_roll", "eight_gaussians", "checkerboard"];

/// `n` points of the named set; an unknown name is an error listing the known ones.
pub fn generate(name: &str, n: usize, seed: u64) -> crate::Result<Dataset> {
    crate::limits::elements(n, 2).map_err(|e| crate::Error(format!("{name}: {e}")))?;
    let mut rng = StdRng::seed_from_u64(seed);
    let normal = |rng: &mut StdRng| -> f64 { StandardNormal.sample(rng) };
    let mut points = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let [x, y] = match name {
            "moons" => {
                let t = rng.random::<f64>() * PI;
                let [x, y] = if rng.random::<bool>() { [t.cos(), t.sin()] } else { [1.0 - t.cos(), 0.5 - t.sin()] };
                [(x - 0.5) * 0.6 + 0.03 * normal(&mut rng), (y - 0.25) * 0.6 + 0.03 * normal(&mut rng)]
            }
            "swiss_roll" => {
                let t = 1.5 * PI * (1.0 + 2.0 * rng.random::<f64>());
                [t * t.cos() / 20.0 + 0.02 * normal(&mut rng), t * t.sin() / 20.0 + 0.02 * normal(&mut rng)]
            }
            "eight_gaussians" => {
                let k = rng.random_range(0..8) as f64;
                let a = k * PI / 4.0;
                [0.7 * a.cos() + 0.05 * normal(&mut rng), 0.7 * a.sin() + 0.05 * normal(&mut rng)]
            }
            "checkerboard" => {
                // 4x4 board on [-1, 1]^2, the squares whose row + column is even.
                let (i, j) = loop {
                    let (i, j) = (rng.random_range(0..4), rng.random_range(0..4));
                    if (i + j) % 2 == 0 {
                        break (i, j);
                    }
                };
                [-1.0 + 0.5 * (i as f64 + rng.random::<f64>()), -1.0 + 0.5 * (j as f64 + rng.random::<f64>())]
            }
            other => crate::bail!("unknown toy data set {other:?} (known: {})", NAMES.join(", ")),
        };
        points.extend([x as f32, y as f32]);
    }
    Ok(Dataset { dim: 2, x: points, labels: vec![0; n] })
}
