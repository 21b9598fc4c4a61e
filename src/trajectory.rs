//! The 3-D view of a sampling trajectory (paper Sec. 3): axis 1 is the unit direction from the
//! sample x_0 to the noise x_T, axes 2-3 the top two principal components of what is left of
//! the trajectory points once that direction is taken out. The denoising trajectory D(x_t) is
//! drawn in the same coordinates. The origin is x_0, so the line x_T -> x_0 is axis 1 itself and
//! the components are taken about x_0 (the points' remainders are not re-centred): they are the
//! two directions that keep the most of the trajectory's spread around the line.

use crate::{Result, bail};

/// Coordinates of a projected trajectory, each point relative to x_0.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Projection {
    /// One [axis 1, PC 1, PC 2] per trajectory point, x_T first.
    pub path: Vec<[f64; 3]>,
    /// The denoiser outputs in the same coordinates.
    pub denoised: Vec<[f64; 3]>,
    /// The share of the path's spread off axis 1 (sum of squared distances from the line
    /// x_T -> x_0) that the two components keep: 1 when the trajectory lies in a 3-D subspace.
    pub captured: f64,
}

/// Projects the trajectory `path` (points x_T ... x_0, row-major, `dim` numbers each) and the
/// denoiser outputs `denoised` onto the trajectory's own 3-D frame.
pub fn project3d(path: &[f64], denoised: &[f64], dim: usize) -> Result<Projection> {
    if dim == 0 || path.len() % dim != 0 || denoised.len() % dim != 0 {
        bail!("trajectory of {} and {} numbers is not whole {dim}-dimensional points", path.len(), denoised.len());
    }
    if path.len() < 2 * dim {
        bail!("a trajectory needs at least two points, got {}", path.len() / dim);
    }
    if path.iter().chain(denoised).any(|v| !v.is_finite()) {
        bail!("trajectory points must be finite");
    }
    let points: Vec<&[f64]> = path.chunks(dim).collect();
    let x0 = points[points.len() - 1];
    let mut axis: Vec<f64> = points[0].iter().zip(x0).map(|(a, b)| a - b).collect();
    let norm = dot(&axis, &axis).sqrt();
    axis.iter_mut().for_each(|v| *v /= if norm > 0.0 { norm } else { 1.0 });
    // Each point as (coordinate along the axis, remainder orthogonal to it).
    let split = |p: &[f64]| {
        let d: Vec<f64> = p.iter().zip(x0).map(|(a, b)| a - b).collect();
        let a = dot(&d, &axis);
        let r: Vec<f64> = d.iter().zip(&axis).map(|(v, u)| v - a * u).collect();
        (a, r)
    };
    let parts: Vec<(f64, Vec<f64>)> = points.iter().map(|p| split(p)).collect();
    // Principal directions of the remainders from the small n x n Gram matrix: an eigenvector
    // g of R R^T with eigenvalue l gives the direction R^T g / sqrt(l).
    let n = parts.len();
    let gram: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| dot(&parts[i].1, &parts[j].1)).collect()).collect();
    let (values, vectors) = symmetric_eigen(gram);
    let scale = values.iter().cloned().fold(0.0, f64::max);
    let mut pcs: Vec<Vec<f64>> = Vec::new();
    for k in 0..2.min(n) {
        let l = values[k];
        if l <= 1e-12 * scale || l <= 0.0 {
            pcs.push(vec![0.0; dim]);
            continue;
        }
        let mut v = vec![0.0; dim];
        for (i, part) in parts.iter().enumerate() {
            v.iter_mut().zip(&part.1).for_each(|(o, r)| *o += vectors[i][k] * r / l.sqrt());
        }
        // Orientation: the path bulges towards +.
        let side: f64 = parts.iter().map(|p| dot(&p.1, &v)).sum();
        if side < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
        pcs.push(v);
    }
    pcs.resize(2, vec![0.0; dim]);
    let coords = |a: f64, r: &[f64]| [a, dot(r, &pcs[0]), dot(r, &pcs[1])];
    let path: Vec<[f64; 3]> = parts.iter().map(|(a, r)| coords(*a, r)).collect();
    let denoised = denoised.chunks(dim).map(|p| {
        let (a, r) = split(p);
        coords(a, &r)
    });
    let total: f64 = parts.iter().map(|p| dot(&p.1, &p.1)).sum();
    let kept: f64 = path.iter().map(|c| c[1] * c[1] + c[2] * c[2]).sum();
    Ok(Projection { captured: if total > 0.0 { (kept / total).min(1.0) } else { 1.0 }, denoised: denoised.collect(), path })
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Eigenvalues (descending) and eigenvectors (columns: `vectors[i][k]` is entry i of vector k)
/// of a small symmetric matrix, by cyclic Jacobi rotations.
fn symmetric_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect()).collect();
    for _sweep in 0..64 {
        let off: f64 = (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i][j] * a[i][j]).sum();
        let diag: f64 = (0..n).map(|i| a[i][i] * a[i][i]).sum();
        if off <= 1e-30 * diag.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q] == 0.0 {
                    continue;
                }
                // The rotation that zeroes a[p][q] (Golub & Van Loan, Sec. 8.5).
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[j][j].total_cmp(&a[i][i]));
    let values = order.iter().map(|&k| a[k][k]).collect();
    let vectors = (0..n).map(|i| order.iter().map(|&k| v[i][k]).collect()).collect();
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_of_a_known_matrix() {
        // [[2, 1], [1, 2]]: eigenvalues 3 and 1, vectors (1, 1) and (1, -1) over sqrt 2.
        let (values, vectors) = symmetric_eigen(vec![vec![2.0, 1.0], vec![1.0, 2.0]]);
        assert!((values[0] - 3.0).abs() < 1e-12 && (values[1] - 1.0).abs() < 1e-12);
        assert!((vectors[0][0].abs() - 0.5f64.sqrt()).abs() < 1e-12);
        assert!((vectors[0][0] - vectors[1][0]).abs() < 1e-12);
    }
}
