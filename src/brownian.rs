//! A seeded Brownian path W(t), t >= 0, as a pure function of (seed, t): a virtual Brownian
//! tree (the idea behind torchsde's BrownianTree, which k-diffusion's BrownianTreeNoiseSampler
//! wraps). Any set of query times sees one consistent path, so the noise of a step s -> s',
//! (W(s) - W(s')) / sqrt(s - s'), is the same whichever schedule asks, and a refined schedule's
//! increments add up to the coarse one's: SDE samples converge as steps grow.
//!
//! Construction, every normal drawn from a generator seeded by (seed, node):
//! - W(0) = 0, W(1) ~ N(0, 1); W(2^k) for k > 0 by independent increments, for k < 0 by the
//!   Brownian bridge at the midpoint of [0, 2^(k+1)];
//! - inside [2^k, 2^(k+1)], bisection: the midpoint of a node [a, b] is the bridge's midpoint,
//!   (W(a) + W(b)) / 2 + sqrt(b - a) / 2 * N, down to width 2^(k - LEVELS);
//! - in that leaf, W is linear. So W is continuous in t (a sigma computed two ways, an ulp
//!   apart, gets the same noise to ~1e-12), and it departs from Brownian motion only below
//!   2^-40 t, by at most ~1e-6 sqrt(t): far below any step of a schedule.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// Bisection depth inside each octave [2^k, 2^(k+1)].
const LEVELS: u32 = 40;

/// The Brownian path of one sample: `dim` independent coordinates.
pub struct BrownianPath {
    seed: u64,
    dim: usize,
}

impl BrownianPath {
    pub fn new(seed: u64, dim: usize) -> Self {
        BrownianPath { seed, dim }
    }

    /// W(t) for t >= 0 (finite).
    pub fn at(&self, t: f64) -> Vec<f64> {
        if t == 0.0 {
            return vec![0.0; self.dim];
        }
        let k = octave(t);
        let (mut a, mut b) = (pow2(k), pow2(k + 1));
        let (mut wa, mut wb) = (self.anchor(k), self.anchor(k + 1));
        for level in 1..=LEVELS {
            if t == a {
                return wa;
            }
            let m = 0.5 * (a + b);
            let index = ((m - pow2(k)) / pow2(k - level as i32)) as u64; // odd: the node's name
            let wm = self.bridge(&wa, &wb, 0.5, 0.5 * (b - a).sqrt(), node(1, k, level, index));
            if t < m {
                (b, wb) = (m, wm);
            } else {
                (a, wa) = (m, wm);
            }
        }
        if t == a {
            return wa;
        }
        let f = (t - a) / (b - a);
        wa.iter().zip(&wb).map(|(a, b)| (1.0 - f) * a + f * b).collect()
    }

    /// W(2^k).
    fn anchor(&self, k: i32) -> Vec<f64> {
        let mut w = self.normal(node(0, 0, 0, 0)); // W(1)
        for j in 1..=k {
            let step = self.normal(node(0, j, 0, 0));
            w.iter_mut().zip(step).for_each(|(w, n)| *w += pow2(j - 1).sqrt() * n);
        }
        for j in (k..0).rev() {
            // W(2^j) from the bridge on [0, 2^(j+1)]: mean W(2^(j+1)) / 2, sd sqrt(2^(j+1)) / 2.
            let n = self.normal(node(0, j, 0, 0));
            w.iter_mut().zip(n).for_each(|(w, n)| *w = 0.5 * *w + 0.5 * pow2(j + 1).sqrt() * n);
        }
        w
    }

    /// (1 - f) wa + f wb + sd * N, N drawn for `node`.
    fn bridge(&self, wa: &[f64], wb: &[f64], f: f64, sd: f64, node: u64) -> Vec<f64> {
        let n = self.normal(node);
        wa.iter().zip(wb).zip(n).map(|((a, b), n)| (1.0 - f) * a + f * b + sd * n).collect()
    }

    fn normal(&self, node: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(mix(self.seed ^ mix(node)));
        (0..self.dim).map(|_| StandardNormal.sample(&mut rng)).collect()
    }
}

/// k with 2^k <= t < 2^(k+1): the float's exponent (exact, unlike log2).
fn octave(t: f64) -> i32 {
    assert!(t.is_normal(), "Brownian time must be a normal float, got {t}");
    ((t.to_bits() >> 52) & 0x7ff) as i32 - 1023
}

fn pow2(k: i32) -> f64 {
    2f64.powi(k)
}

/// A node's name: kind (anchor, bisection), octave, level, index.
fn node(kind: u64, k: i32, level: u32, index: u64) -> u64 {
    mix(mix(kind << 56 ^ (k as i64 as u64 & 0xffff) << 32 ^ level as u64) ^ index)
}

/// SplitMix64's finaliser: distinct inputs give unrelated generator seeds.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
