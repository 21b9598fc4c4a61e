//! The dynamic programming of GITS (paper Alg. 1): the cheapest path of each length through
//! a cost matrix, later steps weighted by powers of gamma.

use crate::{Result, bail};

/// The cheapest path of each length: `paths[k - 1]` = (grid indices 0 = i_0 < ... < i_k = G-1,
/// cost) minimising C[i_0][i_1] + gamma C[i_1][i_2] + gamma^2 ..., for k = 1..=max_steps.
pub fn dynamic_programming(cost: &[Vec<f64>], max_steps: usize, gamma: f64) -> Result<Vec<(Vec<usize>, f64)>> {
    let g = cost.len();
    if g < 2 || max_steps == 0 || max_steps > g - 1 {
        bail!("a grid of {g} points allows 1..{} steps, asked for {max_steps}", g.saturating_sub(1));
    }
    if !(gamma.is_finite() && gamma > 0.0) {
        bail!("gamma must be finite and > 0, got {gamma}");
    }
    // v[k][j]: best cost from grid point j to the end in exactly k steps; next[k][j]: its first hop.
    let mut v = vec![vec![f64::INFINITY; g]; max_steps + 1];
    let mut next = vec![vec![usize::MAX; g]; max_steps + 1];
    for j in 0..g - 1 {
        v[1][j] = cost[j][g - 1];
        next[1][j] = g - 1;
    }
    for k in 2..=max_steps {
        for j in 0..g - 1 {
            for i in j + 1..g - 1 {
                let c = cost[j][i] + gamma * v[k - 1][i];
                if c < v[k][j] {
                    v[k][j] = c;
                    next[k][j] = i;
                }
            }
        }
    }
    (1..=max_steps)
        .map(|k| {
            let mut path = vec![0];
            for left in (1..=k).rev() {
                let hop = next[left][*path.last().unwrap()];
                if hop == usize::MAX {
                    bail!("no path of {k} steps through the grid");
                }
                path.push(hop);
            }
            Ok((path, v[k][0]))
        })
        .collect()
}
