//! The plan format: compiled plans validate and round-trip; each kind of bad plan is rejected
//! with a message that names the problem.

use gits_sampler::plan::{Op, Plan, execute};
use gits_sampler::schedule::Schedule;
use gits_sampler::solver::{CompileOptions, SamplingSpec, Solver};

fn euler_plan() -> Plan {
    let sigmas = Schedule::Polynomial { rho: 7.0 }.sigmas(4, 0.002, 80.0).unwrap();
    Solver::Euler.compile(&sigmas, &CompileOptions::PLAIN).unwrap()
}

fn rejects(plan: &Plan, needle: &str) {
    let err = plan.validate().expect_err("plan should be rejected").to_string();
    assert!(err.contains(needle), "message '{err}' should mention '{needle}'");
    let json = serde_json::to_string(plan).unwrap();
    assert!(Plan::from_json(&json).is_err(), "from_json must validate too");
}

#[test]
fn compiled_plans_validate_and_round_trip_through_json() {
    for solver in ["euler", "ddim_eta:0.5", "ddim_eta", "heun", "ipndm:1", "ipndm:2", "ipndm:3", "ipndm", "ipndm_v:2", "ipndm_v", "dpm2", "dpmpp:1", "dpmpp:2", "dpmpp:3", "ab_exact:2", "ab_exact", "deis:1", "deis:2", "deis", "unipc:1", "unipc_bh1:2", "unipc", "unip:3", "rk4"] {
        let solver: Solver = solver.parse().unwrap();
        for (to_zero, afs) in [(false, false), (true, false), (false, true), (true, true)] {
            if afs && !solver.supports_afs() {
                continue;
            }
            let nfe = solver.nfe(6, to_zero, afs);
            let spec = SamplingSpec { solver, schedule: Schedule::Logsnr, nfe, sigma_min: 0.002, sigma_max: 80.0, to_zero, afs };
            let plan = spec.plan().unwrap();
            plan.validate().unwrap();
            assert_eq!(plan.nfe, nfe, "{solver} to_zero={to_zero} afs={afs}");
            assert_eq!(plan.sigmas.len(), 7);
            assert_eq!(*plan.sigmas.last().unwrap() == 0.0, to_zero);
            let back = Plan::from_json(&plan.to_json()).unwrap();
            assert_eq!(back, plan);
        }
    }
}

#[test]
fn nfe_budgets_map_to_steps() {
    assert_eq!(Solver::Heun.steps_for_nfe(10, false, false).unwrap(), 5);
    assert_eq!(Solver::Heun.steps_for_nfe(11, true, false).unwrap(), 6);
    assert!(Solver::Heun.steps_for_nfe(9, false, false).unwrap_err().to_string().contains("not reachable"));
    assert_eq!(Solver::Euler.steps_for_nfe(7, false, false).unwrap(), 7);
    assert_eq!(Solver::Rk4.steps_for_nfe(8, false, false).unwrap(), 2);
    // AFS saves one evaluation: 5 NFE buy 6 steps of iPNDM.
    assert_eq!(Solver::Ipndm { max_order: 4 }.steps_for_nfe(5, false, true).unwrap(), 6);
    assert_eq!(Solver::Ipndm { max_order: 4 }.nfe(6, true, true), 5);
    let sigmas = Schedule::Logsnr.sigmas(6, 0.002, 80.0).unwrap();
    assert!(Solver::Heun.compile(&sigmas, &CompileOptions::afs(true)).unwrap_err().to_string().contains("analytic first step"));
}

#[test]
fn executor_counts_evaluations_and_emits_every_step() {
    let plan = euler_plan();
    let den = |x: &Vec<f64>, _s: f64| -> gits_sampler::Result<Vec<f64>> { Ok(x.iter().map(|v| v * 0.5).collect()) };
    struct F<T>(T);
    impl<T: Fn(&Vec<f64>, f64) -> gits_sampler::Result<Vec<f64>>> gits_sampler::plan::Denoiser<Vec<f64>> for F<T> {
        fn denoise(&self, x: &Vec<f64>, s: f64) -> gits_sampler::Result<Vec<f64>> {
            (self.0)(x, s)
        }
    }
    let run = execute(&plan, vec![1.0, -1.0], &F(den), true).unwrap();
    assert_eq!(run.nfe, 4);
    assert_eq!(run.steps.iter().map(|s| s.step).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    assert_eq!(run.steps[0].x, vec![80.0, -80.0]);
    assert_eq!(run.evals.len(), 4);
    assert_eq!(run.sample, run.steps[4].x);
}

#[test]
fn rejects_undefined_register() {
    let mut plan = euler_plan();
    plan.ops.insert(0, Op::Combine { out: 900, terms: vec![(1.0, 77)] });
    rejects(&plan, "register 77 is read before it is defined");
}

#[test]
fn rejects_non_finite_coefficient() {
    let mut plan = euler_plan();
    let at = plan.ops.iter().position(|op| matches!(op, Op::Combine { .. })).unwrap();
    if let Op::Combine { terms, .. } = &mut plan.ops[at] {
        terms[0].0 = f64::NAN;
    }
    rejects(&plan, "non-finite coefficient");
}

#[test]
fn rejects_eval_at_non_positive_sigma() {
    for bad in [0.0, -1.0, f64::INFINITY] {
        let mut plan = euler_plan();
        let at = plan.ops.iter().position(|op| matches!(op, Op::Eval { .. })).unwrap();
        if let Op::Eval { sigma, .. } = &mut plan.ops[at] {
            *sigma = bad;
        }
        rejects(&plan, "must be finite and > 0");
    }
}

#[test]
fn rejects_nfe_mismatch() {
    let mut plan = euler_plan();
    plan.nfe += 1;
    rejects(&plan, "declares nfe = 5 but has 4");
}

#[test]
fn rejects_structural_problems() {
    let mut plan = euler_plan();
    plan.ops.pop();
    rejects(&plan, "final step");

    let mut plan = euler_plan();
    plan.version = 99;
    rejects(&plan, "unsupported plan version");

    let mut plan = euler_plan();
    plan.sigmas[2] = plan.sigmas[1] + 1.0;
    rejects(&plan, "strictly decreasing");

    let mut plan = euler_plan();
    plan.ops.push(Op::Combine { out: 1, terms: vec![(1.0, 0)] });
    rejects(&plan, "written twice");

    assert!(Plan::from_json("{\"version\": 1}").unwrap_err().to_string().contains("invalid plan JSON"));
}

/// The plan table's rows say each op in words, with the sigma of evaluations and emitted points
/// and the coefficients of combinations, one row per op.
#[test]
fn rows_describe_every_op() {
    let plan = euler_plan();
    let rows = plan.rows();
    assert_eq!(rows.len(), plan.ops.len());
    assert_eq!(rows.iter().filter(|r| r.kind == "eval").count(), plan.nfe as usize);
    for (row, op) in rows.iter().zip(&plan.ops) {
        match op {
            Op::Eval { input, sigma, out, .. } => assert_eq!((row.operation.clone(), row.sigma), (format!("r{out} = D(r{input})"), Some(*sigma))),
            Op::Combine { terms, .. } => assert_eq!(row.coefficients, terms.iter().map(|&(c, r)| (r, c)).collect::<Vec<_>>()),
            Op::Emit { step, .. } => assert_eq!(row.sigma, Some(plan.sigmas[*step as usize])),
            Op::Noise { .. } => assert_eq!(row.kind, "noise"),
        }
    }
}

/// AFS is explicit: the derivative at x_T alone is analytic, whatever the solver asks first.
#[test]
fn afs_saves_exactly_the_first_evaluation() {
    let sigmas = Schedule::Polynomial { rho: 7.0 }.sigmas(5, 0.002, 80.0).unwrap();
    for solver in [Solver::Euler, Solver::Ipndm { max_order: 4 }] {
        let plain = solver.compile(&sigmas, &CompileOptions::PLAIN).unwrap();
        let afs = solver.compile(&sigmas, &CompileOptions::afs(true)).unwrap();
        assert_eq!(afs.nfe + 1, plain.nfe, "{solver}");
        let evals = |p: &Plan| p.ops.iter().filter_map(|op| if let Op::Eval { sigma, .. } = op { Some(*sigma) } else { None }).collect::<Vec<_>>();
        assert_eq!(evals(&afs), evals(&plain)[1..].to_vec(), "{solver}: AFS drops the evaluation at sigma_max only");
    }
}
