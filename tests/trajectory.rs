//! The 3-D trajectory projection against constructed trajectories whose projection is known
//! exactly, and on real trajectories of the Gaussian-mixture oracle.

mod common;

use gits_sampler::noise::standard_normal;
use gits_sampler::plan::execute;
use gits_sampler::solver::SamplingSpec;
use gits_sampler::trajectory::project3d;

const DIM: usize = 40;

/// Four orthonormal directions in R^DIM (Gram-Schmidt on seeded noise).
fn frame() -> Vec<Vec<f64>> {
    let raw = standard_normal(7, 4, DIM);
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for v in raw.chunks(DIM) {
        let mut v = v.to_vec();
        for b in &basis {
            let c: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
            v.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
        }
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        basis.push(v.iter().map(|x| x / n).collect());
    }
    basis
}

/// x0 + sum_k c[k] * basis[k] for each row of coefficients.
fn points(x0: &[f64], basis: &[Vec<f64>], coefs: &[[f64; 4]]) -> Vec<f64> {
    coefs.iter().flat_map(|c| (0..DIM).map(move |i| x0[i] + (0..4).map(|k| c[k] * basis[k][i]).sum::<f64>())).collect()
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt()
}

#[test]
fn a_trajectory_in_a_3d_subspace_is_reproduced_isometrically() {
    let basis = frame();
    let x0 = standard_normal(3, 1, DIM);
    // x_T = x0 + 5 u; the path bulges into the (v, w) plane and comes back to x0.
    let coefs = [[5.0, 0.0, 0.0, 0.0], [3.5, 1.2, 0.3, 0.0], [2.0, 1.5, -0.4, 0.0], [0.7, 0.6, 0.2, 0.0], [0.0, 0.0, 0.0, 0.0]];
    let denoised_coefs = [[0.4, 0.9, 0.1, 0.0], [0.1, 0.3, -0.2, 0.0]];
    let path = points(&x0, &basis, &coefs);
    let denoised = points(&x0, &basis, &denoised_coefs);
    let p = project3d(&path, &denoised, DIM).unwrap();
    assert!((p.captured - 1.0).abs() < 1e-12, "captured {}", p.captured);
    assert_eq!(p.path.len(), 5);
    assert_eq!(p.denoised.len(), 2);
    // Axis 1 is the coordinate along u; x_T sits on it, x_0 at the origin.
    for (c, q) in coefs.iter().zip(&p.path) {
        assert!((c[0] - q[0]).abs() < 1e-12);
    }
    assert!(p.path[0][1].abs() < 1e-12 && p.path[0][2].abs() < 1e-12);
    assert!(p.path[4].iter().all(|v| v.abs() < 1e-12));
    // Every distance between projected points (path and denoised) is the original distance.
    let all: Vec<&[f64]> = path.chunks(DIM).chain(denoised.chunks(DIM)).collect();
    let projected: Vec<[f64; 3]> = p.path.iter().chain(&p.denoised).cloned().collect();
    for i in 0..all.len() {
        for j in 0..all.len() {
            let d = dist(&projected[i], &projected[j]);
            assert!((d - dist(all[i], all[j])).abs() < 1e-10, "points {i}, {j}: {d} vs {}", dist(all[i], all[j]));
        }
    }
    // The bulge is on the + side of each component.
    assert!(p.path.iter().map(|q| q[1]).sum::<f64>() >= 0.0 && p.path.iter().map(|q| q[2]).sum::<f64>() >= 0.0);
}

#[test]
fn the_kept_share_is_exact_when_a_fourth_direction_is_dropped() {
    let basis = frame();
    let x0 = vec![0.5; DIM];
    // Remainders along v, w, z with orthogonal coefficient columns of energy 27 > 8 > 1.5: the
    // top two components are v and w, and the z part (1.5) is what is lost off axis 1.
    let (b, c, e) = ([0.0, 3.0, 3.0, 3.0, 0.0], [0.0, 2.0, 0.0, -2.0, 0.0], [0.0, 0.5, -1.0, 0.5, 0.0]);
    let a = [4.0, 3.0, 2.0, 1.0, 0.0];
    let coefs: Vec<[f64; 4]> = (0..5).map(|i| [a[i], b[i], c[i], e[i]]).collect();
    let p = project3d(&points(&x0, &basis, &coefs), &[], DIM).unwrap();
    let expected = (27.0 + 8.0) / (27.0 + 8.0 + 1.5);
    assert!((p.captured - expected).abs() < 1e-12, "captured {} vs {expected}", p.captured);
    for i in 0..5 {
        assert!((p.path[i][1].abs() - b[i]).abs() < 1e-10 && (p.path[i][2].abs() - c[i].abs()).abs() < 1e-10, "point {i}: {:?}", p.path[i]);
    }
}

#[test]
fn gaussian_mixture_trajectories_are_nearly_three_dimensional() {
    // The paper's observation (Sec. 3) on the 8-D oracle. With isotropic components D(x) lies in
    // span{x, means}, so a trajectory stays in span{x_T, 3 means}: 4 dimensions at most, and its
    // own 3-D frame keeps nearly all of its bend off the line x_T -> x_0.
    let spec = common::gmm8();
    let plan = SamplingSpec { solver: "heun".parse().unwrap(), schedule: "polynomial:7".parse().unwrap(), nfe: 34, sigma_min: 0.002, sigma_max: 80.0, to_zero: false, afs: false }.plan().unwrap();
    let batch = 16;
    let run = execute(&plan, common::noise(&spec, batch, 1), &spec, true).unwrap();
    let dim = spec.dim();
    let mut worst = 1.0f64;
    for n in 0..batch {
        let path: Vec<f64> = run.steps.iter().flat_map(|s| s.x[n * dim..(n + 1) * dim].to_vec()).collect();
        let den: Vec<f64> = run.evals.iter().flat_map(|e| e.denoised[n * dim..(n + 1) * dim].to_vec()).collect();
        let p = project3d(&path, &den, dim).unwrap();
        assert_eq!(p.denoised.len(), run.evals.len());
        worst = worst.min(p.captured);
    }
    eprintln!("lowest kept share over {batch} trajectories: {worst:.9} (lost {:.2e})", 1.0 - worst);
    assert!(worst > 0.99, "lowest kept share {worst}");
}

#[test]
fn bad_trajectories_are_refused_with_a_reason() {
    let err = |path: &[f64], den: &[f64], dim| project3d(path, den, dim).unwrap_err().to_string();
    assert!(err(&[1.0, 2.0, 3.0], &[], 2).contains("not whole 2-dimensional points"));
    assert!(err(&[1.0, 2.0], &[], 2).contains("at least two points"));
    assert!(err(&[1.0, f64::NAN, 0.0, 0.0], &[], 2).contains("finite"));
    assert!(err(&[1.0, 2.0], &[], 0).contains("0-dimensional"));
}
