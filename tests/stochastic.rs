//! The samplers and schedules people pick in k-diffusion and ComfyUI: each stochastic sampler
//! with eta = 0 is its ODE sibling, and with noise it equals a direct transcription of
//! k-diffusion's loop (`sampling.py`) fed the same normal draws, on the exact Gaussian mixture in
//! f64; ComfyUI's schedules equal reference values computed with its formulas.

use gits_sampler::denoiser::{DenoiserSpec, Gmm};
use gits_sampler::noise::{NoiseSource, StepNoise, sample_seeds};
use gits_sampler::plan::{Denoiser, Op, execute, execute_seeded};
use gits_sampler::schedule::{SIGMA_MAX, SIGMA_MIN, Schedule};
use gits_sampler::solver::{CompileOptions, Solver};

const DIM: usize = 8;

fn setup() -> (DenoiserSpec, Vec<f64>, Vec<f64>) {
    let spec = DenoiserSpec::Gmm(Gmm::benchmark_8d());
    let sigmas = Schedule::Polynomial { rho: 7.0 }.sigmas(9, SIGMA_MIN, SIGMA_MAX).unwrap();
    (spec, sigmas, gits_sampler::noise::standard_normal(3, 5, DIM))
}

fn run(solver: Solver, sigmas: &[f64], z: &[f64], spec: &DenoiserSpec, seed: u64) -> Vec<f64> {
    run_with(solver, None, sigmas, z, spec, seed)
}

fn run_with(solver: Solver, source: Option<NoiseSource>, sigmas: &[f64], z: &[f64], spec: &DenoiserSpec, seed: u64) -> Vec<f64> {
    let options = CompileOptions { noise: source, ..CompileOptions::PLAIN };
    execute_seeded(&solver.compile(sigmas, &options).unwrap(), z.to_vec(), spec, false, &seeds(z, seed)).unwrap().sample
}

fn seeds(z: &[f64], seed: u64) -> Vec<u64> {
    sample_seeds(seed, 0..(z.len() / DIM) as u64)
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn eta_zero_is_the_ode_sibling() {
    let (spec, sigmas, z) = setup();
    let pairs = [
        ("euler_ancestral:0", Solver::Euler),
        ("dpm_2_ancestral:0", Solver::Dpm2 { r: 0.5 }),
        ("dpmpp_2m_sde:0", Solver::DpmPp { order: 2, lower_order_final: false }),
        ("dpmpp_sde:0", "dpmpp_2s_ancestral:0".parse().unwrap()),
    ];
    for (name, sibling) in pairs {
        let a = run(name.parse().unwrap(), &sigmas, &z, &spec, 0);
        let b = execute(&sibling.compile(&sigmas, &CompileOptions::PLAIN).unwrap(), z.clone(), &spec, false).unwrap().sample;
        let d = max_diff(&a, &b);
        assert!(d < 1e-12, "{name} against {sibling}: {d}");
    }
    for name in ["euler_ancestral:0", "dpm_2_ancestral:0", "dpmpp_2s_ancestral:0", "dpmpp_2m_sde:0", "dpmpp_2m_sde_heun:0", "dpmpp_3m_sde:0", "dpmpp_sde:0", "euler_ancestral:1:0"] {
        let plan = name.parse::<Solver>().unwrap().compile(&sigmas, &CompileOptions::PLAIN).unwrap();
        assert!(!plan.ops.iter().any(|op| matches!(op, Op::Noise { .. })), "{name} draws noise");
    }
    for name in ["euler_ancestral", "dpm_2_ancestral:0.5", "dpmpp_2s_ancestral", "dpmpp_2m_sde:1:0.9", "dpmpp_2m_sde_heun", "dpmpp_3m_sde"] {
        let plan = name.parse::<Solver>().unwrap().compile(&sigmas, &CompileOptions::PLAIN).unwrap();
        assert_eq!(plan.ops.iter().filter(|op| matches!(op, Op::Noise { .. })).count(), sigmas.len() - 1, "{name}: one draw per step");
    }
}

/// k-diffusion's `get_ancestral_step`.
fn ancestral(s: f64, s_next: f64, eta: f64) -> (f64, f64) {
    let up = s_next.min(eta * (s_next * s_next * (s * s - s_next * s_next) / (s * s)).sqrt());
    ((s_next * s_next - up * up).sqrt(), up)
}

/// k-diffusion's loops, transcribed: `kind` picks the sampler; `noise(sigma, sigma_next)` is its
/// noise sampler, here fed the same per-sample draws as ours.
#[allow(clippy::too_many_arguments)] // a transcription: the loop's own parameters
fn reference(kind: &str, eta: f64, s_noise: f64, source: NoiseSource, sigmas: &[f64], z: &[f64], spec: &DenoiserSpec, seed: u64) -> Vec<f64> {
    let mut step_noise = StepNoise::new(source, &seeds(z, seed), DIM);
    let mut noise = |s: f64, sn: f64| step_noise.next(s, sn);
    let den = |x: &[f64], s: f64| spec.denoise(&x.to_vec(), s).unwrap();
    let axpy = |a: f64, x: &[f64], b: f64, y: &[f64]| x.iter().zip(y).map(|(u, v)| a * u + b * v).collect::<Vec<f64>>();
    let mut x: Vec<f64> = z.iter().map(|v| v * sigmas[0]).collect();
    let mut old: Option<(Vec<f64>, f64)> = None;
    let mut older: Option<(Vec<f64>, f64)> = None;
    for i in 0..sigmas.len() - 1 {
        let (s, sn) = (sigmas[i], sigmas[i + 1]);
        let d0 = den(&x, s);
        match kind {
            "euler_ancestral" | "dpm_2_ancestral" | "dpmpp_2s_ancestral" => {
                let (down, up) = ancestral(s, sn, eta);
                let d = axpy(1.0 / s, &x, -1.0 / s, &d0); // (x - D) / s
                x = match kind {
                    "euler_ancestral" => axpy(1.0, &x, down - s, &d),
                    "dpm_2_ancestral" => {
                        let mid = (s.ln() + 0.5 * (down.ln() - s.ln())).exp();
                        let x2 = axpy(1.0, &x, mid - s, &d);
                        let d2 = axpy(1.0 / mid, &x2, -1.0 / mid, &den(&x2, mid));
                        axpy(1.0, &x, down - s, &d2)
                    }
                    _ => {
                        let (t, t_next) = (-s.ln(), -down.ln());
                        let h = t_next - t;
                        let sm = (-(t + 0.5 * h)).exp();
                        let x2 = axpy(sm / s, &x, -(-0.5 * h).exp_m1(), &d0);
                        axpy(down / s, &x, -(-h).exp_m1(), &den(&x2, sm))
                    }
                };
                if up > 0.0 {
                    x = axpy(1.0, &x, s_noise * up, &noise(s, sn));
                }
            }
            "dpmpp_sde" => {
                // sample_dpmpp_sde with r = 1/2 in t = -ln sigma.
                let (t, tn) = (-s.ln(), -sn.ln());
                let sm = (-(t + 0.5 * (tn - t))).exp();
                let (sd, su) = ancestral(s, sm, eta);
                let mut x2 = axpy(sd / s, &x, -(t + sd.ln()).exp_m1(), &d0);
                if su > 0.0 {
                    x2 = axpy(1.0, &x2, s_noise * su, &noise(s, sm));
                }
                let d2 = den(&x2, sm);
                let (sd, su) = ancestral(s, sn, eta);
                x = axpy(sd / s, &x, -(t + sd.ln()).exp_m1(), &d2); // fac = 1: (1 - fac) D + fac D_2 = D_2
                if su > 0.0 {
                    x = axpy(1.0, &x, s_noise * su, &noise(s, sn));
                }
            }
            "dpmpp_3m_sde" => {
                let h = (s / sn).ln();
                let h_eta = h * (eta + 1.0);
                x = axpy((-h_eta).exp(), &x, -(-h_eta).exp_m1(), &d0);
                let phi_2 = (-h_eta).exp_m1() / h_eta + 1.0;
                match (&old, &older) {
                    (Some((d1, h1)), Some((d2, h2))) => {
                        let (r0, r1) = (h1 / h, h2 / h);
                        let d1_0 = axpy(1.0 / r0, &d0, -1.0 / r0, d1);
                        let d1_1 = axpy(1.0 / r1, d1, -1.0 / r1, d2);
                        let dd1 = axpy(1.0 + r0 / (r0 + r1), &d1_0, -r0 / (r0 + r1), &d1_1);
                        let dd2 = axpy(1.0 / (r0 + r1), &d1_0, -1.0 / (r0 + r1), &d1_1);
                        let phi_3 = phi_2 / h_eta - 0.5;
                        x = axpy(1.0, &x, phi_2, &dd1);
                        x = axpy(1.0, &x, -phi_3, &dd2);
                    }
                    (Some((d1, h1)), None) => {
                        let r = h1 / h;
                        x = axpy(1.0, &x, phi_2 / r, &axpy(1.0, &d0, -1.0, d1));
                    }
                    _ => {}
                }
                if eta > 0.0 {
                    x = axpy(1.0, &x, sn * (-(-2.0 * h * eta).exp_m1()).sqrt() * s_noise, &noise(s, sn));
                }
                older = old.take();
                old = Some((d0, h));
            }
            _ => {
                // sample_dpmpp_2m_sde, solver_type midpoint or heun.
                let (t, tn) = (-s.ln(), -sn.ln());
                let h = tn - t;
                let eta_h = eta * h;
                let phi = -(-h - eta_h).exp_m1();
                x = axpy(sn / s * (-eta_h).exp(), &x, phi, &d0);
                if let Some((od, h_last)) = &old {
                    let r = h_last / h;
                    let w = if kind.ends_with("heun") { phi / (-h - eta_h) + 1.0 } else { 0.5 * phi };
                    x = axpy(1.0, &x, w / r, &axpy(1.0, &d0, -1.0, od));
                }
                if eta > 0.0 {
                    x = axpy(1.0, &x, sn * (-(-2.0 * eta_h).exp_m1()).sqrt() * s_noise, &noise(s, sn));
                }
                old = Some((d0, h));
            }
        }
    }
    x
}

#[test]
fn each_equals_k_diffusion_on_the_same_draws() {
    let (spec, sigmas, z) = setup();
    for (kind, eta, s_noise) in [
        ("euler_ancestral", 1.0, 1.0),
        ("euler_ancestral", 0.6, 0.9),
        ("dpm_2_ancestral", 1.0, 1.0),
        ("dpmpp_2s_ancestral", 1.0, 1.0),
        ("dpmpp_2s_ancestral", 0.3, 1.0),
        ("dpmpp_2m_sde", 1.0, 1.0),
        ("dpmpp_2m_sde", 0.5, 1.1),
        ("dpmpp_2m_sde_heun", 1.0, 1.0),
        ("dpmpp_3m_sde", 1.0, 1.0),
        ("dpmpp_3m_sde", 0.5, 0.8),
        ("dpmpp_sde", 1.0, 1.0),
        ("dpmpp_sde", 0.4, 0.9),
    ] {
        for source in [NoiseSource::Fresh, NoiseSource::Brownian] {
            let solver: Solver = format!("{kind}:{eta}:{s_noise}").parse().unwrap();
            let ours = run_with(solver, Some(source), &sigmas, &z, &spec, 7);
            let theirs = reference(kind, eta, s_noise, source, &sigmas, &z, &spec, 7);
            let d = max_diff(&ours, &theirs);
            assert!(d < 1e-10, "{kind} eta {eta} s_noise {s_noise} {source}: {d}");
            // The draws matter: another seed moves the samples.
            let other = run_with(solver, Some(source), &sigmas, &z, &spec, 8);
            assert!(max_diff(&ours, &other) > 1e-3, "{kind} {source}: the seed does not matter");
        }
    }
}

#[test]
fn names_round_trip_and_bad_parameters_are_refused() {
    for name in ["euler_ancestral:1", "dpm_2_ancestral:0.5:0.8", "dpmpp_2s_ancestral:1", "dpmpp_2m_sde:1", "dpmpp_2m_sde_heun:0.7", "dpmpp_3m_sde:1"] {
        let s: Solver = name.parse().unwrap();
        assert_eq!(s.to_string(), name);
        assert_eq!(s.to_string().parse::<Solver>().unwrap(), s);
    }
    assert_eq!("euler_ancestral".parse::<Solver>().unwrap(), Solver::EulerAncestral { eta: 1.0, s_noise: 1.0 });
    for bad in ["euler_ancestral:-1", "euler_ancestral:1:3", "dpmpp_2m_sde:x", "euler_ancestral:1:1:1"] {
        assert!(bad.parse::<Solver>().is_err(), "{bad} accepted");
    }
    assert_eq!("dpm_2_ancestral".parse::<Solver>().unwrap().nfe_per_step(), 2);
    // k-diffusion's LMS integrates the Lagrange interpolant of d in sigma: our exact Adams-Bashforth.
    assert_eq!("lms".parse::<Solver>().unwrap(), Solver::AbExact { max_order: 4 });
    assert_eq!("lms:2".parse::<Solver>().unwrap(), Solver::AbExact { max_order: 2 });
}

/// EDM's churn (k-diffusion `sample_euler`/`sample_heun` with s_churn), transcribed.
fn churn_reference(heun: bool, [churn, tmin, tmax, s_noise]: [f64; 4], sigmas: &[f64], z: &[f64], spec: &DenoiserSpec, seed: u64) -> Vec<f64> {
    let mut step_noise = StepNoise::new(NoiseSource::Fresh, &seeds(z, seed), DIM);
    let d_of = |x: &[f64], s: f64| -> Vec<f64> { x.iter().zip(spec.denoise(&x.to_vec(), s).unwrap()).map(|(a, b)| (a - b) / s).collect() };
    let mut x: Vec<f64> = z.iter().map(|v| v * sigmas[0]).collect();
    let steps = (sigmas.len() - 1) as f64;
    for i in 0..sigmas.len() - 1 {
        let (s, sn) = (sigmas[i], sigmas[i + 1]);
        let gamma = if tmin <= s && s <= tmax { (churn / steps).min(2f64.sqrt() - 1.0) } else { 0.0 };
        let s_hat = s * (gamma + 1.0);
        if gamma > 0.0 {
            let eps = step_noise.next(s_hat, s);
            x = x.iter().zip(&eps).map(|(a, e)| a + e * s_noise * (s_hat * s_hat - s * s).sqrt()).collect();
        }
        let d = d_of(&x, s_hat);
        let x2: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + b * (sn - s_hat)).collect();
        x = if heun {
            let d2 = d_of(&x2, sn);
            x.iter().zip(d.iter().zip(&d2)).map(|(a, (b, c))| a + (b + c) / 2.0 * (sn - s_hat)).collect()
        } else {
            x2
        };
    }
    x
}

#[test]
fn edm_churn_is_k_diffusions_and_churn_zero_is_the_ode_solver() {
    let (spec, sigmas, z) = setup();
    for (name, ode) in [("euler_churn:0", Solver::Euler), ("heun_churn:0", Solver::Heun)] {
        let a = run(name.parse().unwrap(), &sigmas, &z, &spec, 0);
        let b = execute(&ode.compile(&sigmas, &CompileOptions::PLAIN).unwrap(), z.clone(), &spec, false).unwrap().sample;
        assert!(max_diff(&a, &b) < 1e-12, "{name}");
    }
    for (heun, params) in [(false, [40.0, 0.05, 50.0, 1.003]), (true, [40.0, 0.05, 50.0, 1.003]), (true, [5.0, 0.0, 1e5, 1.0])] {
        let name = format!("{}:{}", if heun { "heun_churn" } else { "euler_churn" }, params.map(|v| v.to_string()).join(":"));
        let solver: Solver = name.parse().unwrap();
        assert_eq!(solver.to_string(), name);
        let ours = run(solver, &sigmas, &z, &spec, 9);
        let theirs = churn_reference(heun, params, &sigmas, &z, &spec, 9);
        assert!(max_diff(&ours, &theirs) < 1e-10, "{name}: {}", max_diff(&ours, &theirs));
    }
    assert_eq!("heun_churn".parse::<Solver>().unwrap(), Solver::HeunChurn { churn: 40.0, tmin: 0.05, tmax: 50.0, s_noise: 1.003 });
    for bad in ["euler_churn:-1", "heun_churn:1:2:1", "euler_churn:1:0:1:1:1"] {
        assert!(bad.parse::<Solver>().is_err(), "{bad} accepted");
    }
}

/// ComfyUI's kl_optimal_scheduler(steps, sigma_min, sigma_max), its points before the final 0,
/// computed with its published formula (Python's math.atan/tan) for 5 and 11 points: our schedule
/// with 4 and 10 steps on the same range.
#[test]
fn kl_optimal_is_comfyuis() {
    let cases: [(f64, f64, &[f64]); 2] = [
        (0.002, 80.0, &[79.99999999999964, 2.3548841736965183, 0.9895553832181438, 0.4123112234334025, 0.002]),
        (0.0292, 14.6146, &[14.614600000000008, 4.565104551607427, 2.632938696051456, 1.786485981303679, 1.2948021089799795, 0.9616194201907788, 0.7116563565306641, 0.5094482654393182, 0.33566655492724656, 0.1783769113734464, 0.0292]),
    ];
    for (smin, smax, want) in cases {
        let got = Schedule::KlOptimal.sigmas(want.len() - 1, smin, smax).unwrap();
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-12 * w, "{got:?} against {want:?}");
        }
    }
    assert_eq!("kl_optimal".parse::<Schedule>().unwrap().to_string(), "kl_optimal");
}
