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

/// The kernel MMD between a batch of samples and an isotropic Gaussian mixture, with the
/// mixture's side in closed form (no reference draws, so no reference noise): for the Gaussian
/// kernel k_l(x, y) = exp(-|x - y|^2 / 2l^2), E_y k_l(x, y) over y ~ N(mu, v I) is
/// (l^2 / (l^2 + v))^(d/2) exp(-|x - mu|^2 / 2(l^2 + v)). The kernel is the mean of k_l over
/// l = (1/4, 1/2, 1, 2) x s sqrt(d), s the mixture's RMS standard deviation per coordinate, so
/// it sees both the modes and their shapes. The sample term is the unbiased U-statistic, so
/// MMD^2 is unbiased; returned as sqrt(max(MMD^2, 0)).
pub fn mmd_to_mixture(x: &[f64], dim: usize, mixture: &crate::denoiser::Gmm) -> f64 {
    let n = x.len() / dim;
    assert!(n >= 2 && mixture.dim() == dim, "MMD needs two samples or more of the mixture's dimension");
    let d = dim as f64;
    let scale = mixture_rms_sd(mixture) * d.sqrt();
    let lengths: Vec<f64> = [0.25, 0.5, 1.0, 2.0].iter().map(|c| c * scale).collect();
    let sq = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum::<f64>();
    // E k(y, y') for y, y' ~ mixture: components j, k combine with variance v_j + v_k.
    let expect = |dist2: f64, v: f64| lengths.iter().map(|l| (l * l / (l * l + v)).powf(d / 2.0) * (-dist2 / (2.0 * (l * l + v))).exp()).sum::<f64>() / lengths.len() as f64;
    let comps: Vec<(f64, &[f64], f64)> = mixture.weights.iter().zip(&mixture.means).zip(&mixture.variances).map(|((w, m), v)| (*w, m.as_slice(), *v)).collect();
    let total: f64 = comps.iter().map(|c| c.0).sum();
    let mut yy = 0.0;
    for &(wj, mj, vj) in &comps {
        for &(wk, mk, vk) in &comps {
            yy += wj * wk * expect(sq(mj, mk), vj + vk);
        }
    }
    yy /= total * total;
    let rows: Vec<&[f64]> = x.chunks(dim).collect();
    let xy = rows.iter().map(|r| comps.iter().map(|&(w, m, v)| w * expect(sq(r, m), v)).sum::<f64>() / total).sum::<f64>() / n as f64;
    let mut xx = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            xx += expect(sq(rows[i], rows[j]), 0.0);
        }
    }
    xx /= (n * (n - 1) / 2) as f64;
    (xx - 2.0 * xy + yy).max(0.0).sqrt()
}

/// sqrt(trace(Cov) / d) of a mixture: its spread per coordinate.
fn mixture_rms_sd(g: &crate::denoiser::Gmm) -> f64 {
    let (d, cov) = (g.dim(), g.moments().1);
    ((0..d).map(|i| cov[i * d + i]).sum::<f64>() / d as f64).sqrt()
}
