//! Step noise that reproduces: each sample's noise comes from its own seed (fresh draws or a
//! Brownian path), so a sample does not depend on its batch; the Brownian path is one path
//! whatever the schedule; and the SDE samplers' samples converge in distribution to the exact
//! one on a Gaussian mixture as steps grow.

use gits_sampler::brownian::BrownianPath;
use gits_sampler::denoiser::{DenoiserSpec, Gmm};
use gits_sampler::distance::mmd_to_mixture;
use gits_sampler::noise::{NoiseSource, StepNoise, sample_seeds, standard_normal};
use gits_sampler::plan::execute_seeded;
use gits_sampler::schedule::{SIGMA_MAX, SIGMA_MIN, Schedule};
use gits_sampler::solver::{CompileOptions, Solver};

const STOCHASTIC: [&str; 10] =
    ["ddim_eta", "euler_ancestral", "dpm_2_ancestral", "dpmpp_2s_ancestral", "dpmpp_sde", "dpmpp_2m_sde", "dpmpp_2m_sde_heun", "dpmpp_3m_sde", "euler_churn:10:0:100:1", "heun_churn:10:0:100:1"];

fn sample(solver: &str, source: NoiseSource, steps: usize, z: &[f64], seeds: &[u64], spec: &DenoiserSpec) -> Vec<f64> {
    let sigmas = Schedule::Polynomial { rho: 7.0 }.sigmas(steps, SIGMA_MIN, SIGMA_MAX).unwrap();
    let plan = solver.parse::<Solver>().unwrap().compile(&sigmas, &CompileOptions { noise: Some(source), ..CompileOptions::PLAIN }).unwrap();
    execute_seeded(&plan, z.to_vec(), spec, false, seeds).unwrap().sample
}

#[test]
fn a_sample_does_not_depend_on_its_batch_or_row() {
    let spec = DenoiserSpec::Gmm(Gmm::benchmark_8d());
    let (rows, dim) = (6, 8);
    let z = standard_normal(4, rows, dim);
    let seeds = sample_seeds(5, 0..rows as u64);
    for solver in STOCHASTIC {
        for source in [NoiseSource::Fresh, NoiseSource::Brownian] {
            let all = sample(solver, source, 7, &z, &seeds, &spec);
            // Rows 2..5 alone, as a worker of a split batch runs them.
            let part = sample(solver, source, 7, &z[2 * dim..5 * dim], &seeds[2..5], &spec);
            assert_eq!(part, all[2 * dim..5 * dim], "{solver} {source}: rows 2..5 alone differ");
            // The batch in reverse order: every sample moves with its row.
            let rev = |v: &[f64]| v.chunks(dim).rev().flatten().copied().collect::<Vec<f64>>();
            let mut rseeds = seeds.clone();
            rseeds.reverse();
            assert_eq!(rev(&sample(solver, source, 7, &rev(&z), &rseeds, &spec)), all, "{solver} {source}: the row order matters");
        }
    }
}

#[test]
fn the_brownian_path_has_brownian_statistics() {
    // Over 4000 seeds: Var W(t) = t (across octaves, down to sigma_min), increments over
    // disjoint intervals are uncorrelated, and the normalized increment is standard normal.
    let n = 4000;
    let times = [0.002, 0.37, 1.0, 3.0, 80.0];
    let w: Vec<Vec<f64>> = (0..n).map(|i| times.iter().map(|&t| BrownianPath::new(i as u64 * 7919, 1).at(t)[0]).collect()).collect();
    let tol = 5.0 * (2.0 / n as f64).sqrt();
    for (j, &t) in times.iter().enumerate() {
        let var = w.iter().map(|r| r[j] * r[j]).sum::<f64>() / n as f64 / t;
        assert!((var - 1.0).abs() < tol, "Var W({t}) / t = {var}");
    }
    for j in 0..times.len() - 2 {
        let (a, b): (Vec<f64>, Vec<f64>) = w.iter().map(|r| (r[j + 1] - r[j], r[j + 2] - r[j + 1])).unzip();
        let corr = a.iter().zip(&b).map(|(x, y)| x * y).sum::<f64>() / (a.iter().map(|x| x * x).sum::<f64>() * b.iter().map(|y| y * y).sum::<f64>()).sqrt();
        assert!(corr.abs() < 5.0 / (n as f64).sqrt(), "increments after {} correlate: {corr}", times[j]);
    }
    // Continuous in t: a sigma an ulp away gets the same noise (to ~1e-8).
    let p = BrownianPath::new(3, 4);
    for t in [0.0123, 1.7, 57.3] {
        let (a, b) = (p.at(t), p.at(f64::from_bits(t.to_bits() + 1)));
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-8), "W jumps at {t}");
    }
}

#[test]
fn refining_the_schedule_refines_the_same_path() {
    // A coarse step's noise times sqrt(its length) is the sum of its sub-steps' (W telescopes).
    let (dim, seeds) = (3, sample_seeds(9, 0..2));
    let fine = Schedule::Polynomial { rho: 7.0 }.sigmas(40, SIGMA_MIN, SIGMA_MAX).unwrap();
    let coarse: Vec<f64> = fine.iter().step_by(8).copied().collect();
    let (mut cn, mut fnoise) = (StepNoise::new(NoiseSource::Brownian, &seeds, dim), StepNoise::new(NoiseSource::Brownian, &seeds, dim));
    for c in coarse.windows(2) {
        let big: Vec<f64> = cn.next(c[0], c[1]).iter().map(|v| v * (c[0] - c[1]).sqrt()).collect();
        let mut sum = vec![0.0; big.len()];
        for f in fine.windows(2).filter(|f| f[0] <= c[0] && f[1] >= c[1]) {
            fnoise.next(f[0], f[1]).iter().zip(&mut sum).for_each(|(v, s)| *s += v * (f[0] - f[1]).sqrt());
        }
        let d = big.iter().zip(&sum).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(d < 1e-10, "step {} -> {}: {d}", c[0], c[1]);
    }
    // Fresh noise is not one path: the same test fails for it.
    let (mut a, mut b) = (StepNoise::new(NoiseSource::Fresh, &seeds, dim), StepNoise::new(NoiseSource::Fresh, &seeds, dim));
    let one = a.next(fine[0], fine[2]);
    let two: Vec<f64> = b.next(fine[0], fine[1]).iter().zip(b.next(fine[1], fine[2])).map(|(x, y)| x * (fine[0] - fine[1]).sqrt() + y * (fine[1] - fine[2]).sqrt()).collect();
    assert!(one.iter().zip(&two).any(|(x, y)| (x * (fine[0] - fine[2]).sqrt() - y).abs() > 1e-3));
}

/// MMD to the exact distribution at sigma_min (the mixture convolved with N(0, sigma_min^2)),
/// per step count, for 1000 samples of the 8-D benchmark mixture.
fn mmd_by_steps(solver: &str, steps: &[usize]) -> Vec<f64> {
    let gmm = Gmm::benchmark_8d();
    let spec = DenoiserSpec::Gmm(gmm);
    let n = 1000;
    let z = standard_normal(21, n, 8);
    let seeds = sample_seeds(22, 0..n as u64);
    let exact = spec.marginal(SIGMA_MIN);
    steps.iter().map(|&k| mmd_to_mixture(&sample(solver, NoiseSource::Brownian, k, &z, &seeds, &spec), 8, &exact)).collect()
}

#[test]
fn sde_samples_converge_in_distribution_as_steps_grow() {
    // Exact samples (drawn from the mixture itself) set the floor the estimator reaches.
    let gmm = DenoiserSpec::Gmm(Gmm::benchmark_8d()).marginal(SIGMA_MIN);
    let floor = {
        let (n, z) = (1000, standard_normal(23, 1000, 8));
        let x: Vec<f64> = (0..n)
            .flat_map(|i| {
                let k = [0usize, 0, 0, 0, 0, 1, 1, 1, 2, 2][i % 10]; // weights 0.5, 0.3, 0.2
                (0..8).map(move |j| (k, j)).collect::<Vec<_>>()
            })
            .zip(&z)
            .map(|((k, j), e)| gmm.means[k][j] + gmm.variances[k].sqrt() * e)
            .collect();
        mmd_to_mixture(&x, 8, &gmm)
    };
    assert!(floor < 0.02, "exact samples are {floor} from their own distribution");
    let steps = [4, 8, 16, 32, 64];
    for solver in ["euler_ancestral", "dpmpp_2m_sde", "dpmpp_sde", "dpmpp_3m_sde"] {
        let m = mmd_by_steps(solver, &steps);
        let rate = (m[1] / m[4]).ln() / 8f64.ln();
        println!("{solver}: MMD {m:.4?} at steps {steps:?}; exact samples {floor:.4}; from 8 to 64 steps MMD ~ steps^-{rate:.2}");
        // From 8 to 32 steps (at 4, a multistep SDE solver can land closer than at 8; by 64, some
        // reach the estimator's noise, ~0.006 for 1000 samples).
        assert!(m[1..4].windows(2).all(|w| w[1] < w[0]), "{solver}: MMD does not fall with steps: {m:?}");
        assert!(m[4] < m[1] / 4.0 && rate > 0.5, "{solver}: 64 steps stay off the exact distribution: {m:?}");
    }
}
