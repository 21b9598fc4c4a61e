//! Coefficient identities of the solvers, checked on their compiled plans and weights.

use gits_sampler::schedule::{SIGMA_MAX, SIGMA_MIN, Schedule};
use gits_sampler::solver::deis::{Deis, Time};
use gits_sampler::solver::{CompileOptions, vp_time_of};

/// DEIS and exact AB integrate a partition of unity: sum_j C_ij = h_i at every step and order.
#[test]
fn lagrange_weights_sum_to_the_step() {
    let sigmas = Schedule::Polynomial { rho: 7.0 }.sigmas(12, SIGMA_MIN, SIGMA_MAX).unwrap();
    for order in 1..=4 {
        for time in [Time::Sigma, Time::Vp(vp_time_of(&sigmas))] {
            let deis = Deis::new(order, time);
            for i in 0..12 {
                let k = order.min(i + 1);
                let c = deis.coefficients(&sigmas, i, k);
                let h = sigmas[i + 1] - sigmas[i];
                let sum: f64 = c.iter().sum();
                assert!((sum - h).abs() <= 1e-9 * h.abs().max(1.0), "order {order} step {i}: sum {sum} != h {h}");
            }
        }
    }
}

/// On equal steps the exact weights are the classical Adams–Bashforth ones.
#[test]
fn exact_ab_on_uniform_steps_is_classical_ab() {
    let sigmas = Schedule::UniformSigma.sigmas(10, 1.0, 11.0).unwrap();
    let deis = Deis::new(4, Time::Sigma);
    let c = deis.coefficients(&sigmas, 5, 4);
    let h = sigmas[6] - sigmas[5];
    let expected = [55.0, -59.0, 37.0, -9.0].map(|w| w / 24.0 * h);
    for (got, want) in c.iter().zip(expected) {
        assert!((got - want).abs() < 1e-12, "{c:?} vs {expected:?}");
    }
}

#[test]
fn vp_time_map_round_trips() {
    let vp = vp_time_of(&[80.0, 0.002]);
    for s in [0.002, 0.01, 0.5, 3.0, 80.0] {
        let t = vp.tau(s);
        assert!((vp.sigma(t) - s).abs() < 1e-9 * s.max(1.0), "sigma {s} -> tau {t} -> {}", vp.sigma(t));
    }
    assert!((vp.tau(80.0) - 1.0).abs() < 1e-12 && (vp.tau(0.002) - 1e-3).abs() < 1e-9);
}

/// The reference toolbox's iPNDM_v weights: order 4 on equal steps is (57, -65, 43, -11)/24
/// (not AB4), and order 2 is exact variable-step AB2 on any steps.
#[test]
fn ipndm_v_weights() {
    let w = gits_sampler::solver::ipndm_v::weights(4, &[-1.0; 4]);
    for (got, want) in w.iter().zip([57.0, -65.0, 43.0, -11.0].map(|v| v / 24.0)) {
        assert!((got - want).abs() < 1e-12, "{w:?}");
    }
    let (h0, h1) = (-0.3, -0.5);
    let w = gits_sampler::solver::ipndm_v::weights(2, &[h0, h1]);
    // Integrating the line through (s-h1, d_-1), (s, d_0) over [s, s+h0], divided by h0.
    let exact = [1.0 + h0 / (2.0 * h1), -h0 / (2.0 * h1)];
    assert!((w[0] - exact[0]).abs() < 1e-12 && (w[1] - exact[1]).abs() < 1e-12, "{w:?} vs {exact:?}");
}

/// AFS replaces the first denoiser call by d = x / sqrt(1 + sigma^2).
#[test]
fn afs_saves_one_evaluation() {
    use gits_sampler::plan::Op;
    use gits_sampler::solver::Solver;
    let sigmas = Schedule::Logsnr.sigmas(5, SIGMA_MIN, SIGMA_MAX).unwrap();
    let plain = Solver::Ipndm { max_order: 4 }.compile(&sigmas, &CompileOptions::PLAIN).unwrap();
    let afs = Solver::Ipndm { max_order: 4 }.compile(&sigmas, &CompileOptions::afs(true)).unwrap();
    assert_eq!(afs.nfe + 1, plain.nfe);
    let first_eval = afs.ops.iter().find_map(|op| match op { Op::Eval { sigma, .. } => Some(*sigma), _ => None });
    assert_eq!(first_eval, Some(sigmas[1]), "the first evaluation moves to the second step");
    assert_eq!(afs.options["afs"], true);
}

/// On a single data point y, D = y everywhere and the exact flow is x(s) = y + (s / s0)(x0 - y):
/// DDIM is exact in one step, to sigma_min and to 0.
#[test]
fn ddim_is_exact_in_one_step_on_a_single_point() {
    use gits_sampler::denoiser::{DenoiserSpec, Kde};
    use gits_sampler::plan::execute;
    use gits_sampler::solver::Solver;
    let y = vec![0.3, -1.2, 2.0];
    let spec = DenoiserSpec::Kde(Kde { points: vec![y.clone()] });
    let z = gits_sampler::noise::standard_normal(1, 4, 3);
    for sigmas in [vec![80.0, 0.002], vec![80.0, 0.0]] {
        let run = execute(&Solver::Euler.compile(&sigmas, &CompileOptions::PLAIN).unwrap(), z.clone(), &spec, false).unwrap();
        for (i, v) in run.sample.iter().enumerate() {
            let exact = y[i % 3] + sigmas[1] / 80.0 * (80.0 * z[i] - y[i % 3]);
            assert!((v - exact).abs() < 1e-12, "{sigmas:?}: {v} vs {exact}");
        }
    }
}

/// DPM-Solver++ of order 1 is DDIM: same samples on the oracle.
#[test]
fn dpmpp_order_one_is_ddim() {
    use gits_sampler::plan::execute;
    use gits_sampler::solver::Solver;
    let spec = gits_sampler::denoiser::DenoiserSpec::Gmm(gits_sampler::denoiser::Gmm::benchmark_8d());
    let sigmas = Schedule::Polynomial { rho: 7.0 }.sigmas(7, SIGMA_MIN, SIGMA_MAX).unwrap();
    let z = gits_sampler::noise::standard_normal(3, 8, 8);
    let a = execute(&Solver::Euler.compile(&sigmas, &CompileOptions::PLAIN).unwrap(), z.clone(), &spec, false).unwrap().sample;
    let b = execute(&Solver::DpmPp { order: 1, lower_order_final: true }.compile(&sigmas, &CompileOptions::PLAIN).unwrap(), z, &spec, false).unwrap().sample;
    let diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    assert!(diff < 1e-12, "DPM-Solver++(1) differs from DDIM by {diff}");
}

/// With the corrector off, UniPC is its predictor UniP, and UniP(bh2) of order 1 and 2 is
/// DDIM and DPM-Solver++(2M): the same samples.
#[test]
fn unipc_without_corrector_is_its_predictor() {
    use gits_sampler::plan::execute;
    use gits_sampler::solver::Solver;
    use gits_sampler::solver::unipc::Variant;
    let spec = gits_sampler::denoiser::DenoiserSpec::Gmm(gits_sampler::denoiser::Gmm::benchmark_8d());
    let z = gits_sampler::noise::standard_normal(4, 8, 8);
    for steps in [6, 20] {
        let sigmas = Schedule::Logsnr.sigmas(steps, SIGMA_MIN, SIGMA_MAX).unwrap();
        let sample = |s: Solver| execute(&s.compile(&sigmas, &CompileOptions::PLAIN).unwrap(), z.clone(), &spec, false).unwrap().sample;
        for (order, twin) in [(1, Solver::Euler), (2, Solver::DpmPp { order: 2, lower_order_final: true })] {
            let unip = sample(Solver::UniPc { order, variant: Variant::Bh2, corrector: false, lower_order_final: true });
            let diff = unip.iter().zip(&sample(twin)).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(diff < 1e-10, "UniP-{order} vs {twin} over {steps} steps: {diff}");
        }
        // The corrector does change the result.
        let unipc = sample(Solver::UniPc { order: 2, variant: Variant::Bh2, corrector: true, lower_order_final: true });
        let unip = sample(Solver::UniPc { order: 2, variant: Variant::Bh2, corrector: false, lower_order_final: true });
        assert!(unipc.iter().zip(&unip).any(|(a, b)| (a - b).abs() > 1e-6));
    }
}

/// Stochastic DDIM: eta = 0 is DDIM exactly; eta = 1 draws one noise vector per step from the
/// executor's seed (same seed, same samples; another seed, other samples); on tensors the
/// draws are the same numbers as in f64.
#[test]
fn ddim_eta_noise_registers() {
    use burn::prelude::Device;
    use gits_sampler::plan::{Op, execute, execute_seeded};
    use gits_sampler::solver::Solver;
    use gits_sampler::tensor::{read, to_tensor};
    let spec = gits_sampler::denoiser::DenoiserSpec::Gmm(gits_sampler::denoiser::Gmm::benchmark_8d());
    let sigmas = Schedule::Polynomial { rho: 7.0 }.sigmas(8, SIGMA_MIN, SIGMA_MAX).unwrap();
    let z = gits_sampler::noise::standard_normal(5, 4, 8);
    let ddim = execute(&Solver::Euler.compile(&sigmas, &CompileOptions::PLAIN).unwrap(), z.clone(), &spec, false).unwrap().sample;
    let eta0 = execute(&Solver::DdimEta { eta: 0.0 }.compile(&sigmas, &CompileOptions::PLAIN).unwrap(), z.clone(), &spec, false).unwrap().sample;
    assert!(ddim.iter().zip(&eta0).all(|(a, b)| (a - b).abs() < 1e-12));

    let plan = Solver::DdimEta { eta: 1.0 }.compile(&sigmas, &CompileOptions::PLAIN).unwrap();
    let seeds = |seed| gits_sampler::noise::sample_seeds(seed, 0..4);
    assert!(execute(&plan, z.clone(), &spec, false).unwrap_err().to_string().contains("one seed per sample"));
    assert_eq!(plan.ops.iter().filter(|op| matches!(op, Op::Noise { .. })).count(), 8);
    let a = execute_seeded(&plan, z.clone(), &spec, false, &seeds(11)).unwrap().sample;
    let b = execute_seeded(&plan, z.clone(), &spec, false, &seeds(11)).unwrap().sample;
    let c = execute_seeded(&plan, z.clone(), &spec, false, &seeds(12)).unwrap().sample;
    assert_eq!(a, b);
    assert!(a.iter().zip(&c).any(|(x, y)| (x - y).abs() > 1e-3));
    let device = Device::flex();
    let t = execute_seeded(&plan, to_tensor(&z, 8, &device), &spec.to_device(&device), false, &seeds(11)).unwrap().sample;
    let diff = a.iter().zip(read(t).unwrap()).map(|(x, y)| (x - y as f64).abs()).fold(0.0, f64::max);
    assert!(diff < 1e-4, "tensor and f64 stochastic runs differ by {diff}");
}

/// Dynamic thresholding: s = max(quantile(|x0|, ratio), max); x0 = clamp(x0, -s, s) / s, per
/// sample; DPM-Solver++ plans carry it, and a plan ending at sigma = 0 then lands in [-1, 1].
#[test]
fn dynamic_thresholding() {
    use gits_sampler::denoiser::{DenoiserSpec, Gmm};
    use gits_sampler::plan::{Op, Plan, Thresholding, execute};
    use gits_sampler::solver::Solver;
    let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
    let mut x = [0.5, -3.0, 2.0, 0.1];
    Thresholding { ratio: 1.0, max: 1.0 }.apply(&mut x);
    assert!(close(&x, &[0.5 / 3.0, -1.0, 2.0 / 3.0, 0.1 / 3.0]), "{x:?}");
    let mut x = [0.5, -3.0, 2.0, 0.1]; // |x| sorted 0.1 0.5 2 3: the median is 1.25
    Thresholding { ratio: 0.5, max: 1.0 }.apply(&mut x);
    assert!(close(&x, &[0.4, -1.0, 1.0, 0.08]), "{x:?}");
    let mut x = [0.2, -0.4];
    Thresholding { ratio: 0.995, max: 1.0 }.apply(&mut x);
    assert!(close(&x, &[0.2, -0.4]), "inside [-1, 1] nothing changes");

    let wide = Gmm { weights: vec![1.0, 1.0], means: vec![vec![3.0, -2.5], vec![-3.0, 2.0]], variances: vec![0.1, 0.1] };
    let spec = DenoiserSpec::Gmm(wide);
    let mut sigmas = Schedule::Logsnr.sigmas(7, SIGMA_MIN, SIGMA_MAX).unwrap();
    sigmas.push(0.0);
    let t = Thresholding { ratio: 0.995, max: 1.0 };
    let plan = Solver::DpmPp { order: 2, lower_order_final: true }.compile(&sigmas, &CompileOptions { afs: false, noise: None, thresholding: Some(t) }).unwrap();
    assert!(plan.ops.iter().all(|op| !matches!(op, Op::Eval { thresholding: false, .. })));
    assert_eq!(Plan::from_json(&plan.to_json()).unwrap(), plan);
    let z = gits_sampler::noise::standard_normal(1, 16, 2);
    let plain = execute(&Solver::DpmPp { order: 2, lower_order_final: true }.compile(&sigmas, &CompileOptions::PLAIN).unwrap(), z.clone(), &spec, false).unwrap().sample;
    assert!(plain.iter().any(|v| v.abs() > 1.5), "the data reach beyond [-1, 1]");
    let out = execute(&plan, z, &spec, false).unwrap().sample;
    assert!(out.iter().all(|v| v.abs() <= 1.0 + 1e-12), "{out:?}");

    // Without parameters, on other solvers, or on tensors: clear errors.
    let mut bad = plan.clone();
    bad.thresholding = None;
    assert!(bad.validate().unwrap_err().to_string().contains("no thresholding parameters"));
    assert!(Solver::Euler.compile(&sigmas, &CompileOptions { afs: false, noise: None, thresholding: Some(t) }).unwrap_err().to_string().contains("DPM-Solver++ option"));
    assert!(Solver::DpmPp { order: 2, lower_order_final: true }.compile(&sigmas, &CompileOptions { afs: false, noise: None, thresholding: Some(Thresholding { ratio: 1.5, max: 1.0 }) }).is_err());
    let device = burn::prelude::Device::flex();
    let zt = gits_sampler::tensor::to_tensor(&[0.1, 0.2], 2, &device);
    let err = execute(&plan, zt, &spec.to_device(&device), false).unwrap_err().to_string();
    assert!(err.contains("dynamic thresholding is not available on this backend"), "{err}");
}
