//! ComfyUI's schedules over a model's training sigmas equal reference values computed with
//! ComfyUI's published formulas (tests/fixtures/schedules/comfy_schedules.py, float64), on a
//! continuous EDM model, SD's discrete VP schedule and a shift-3 flow-matching model; the flow
//! shift keeps its ends and is uniform in unshifted flow time.

use gits_sampler::model_sigmas::ModelSigmas;
use gits_sampler::onnx::card::Schedule as CardSchedule;
use gits_sampler::schedule::Schedule;
use gits_sampler::vp_discrete::DiscreteVp;
use std::collections::BTreeMap;

fn models() -> Vec<(&'static str, ModelSigmas)> {
    let vp = DiscreteVp::named("scaled_linear", 1000, 0.00085, 0.012).unwrap();
    let (lo, hi) = vp.range();
    let flow = CardSchedule::parse(&serde_json::json!({ "kind": "flow", "shift": 3.0, "num_train_timesteps": 1000 })).unwrap();
    vec![("edm", ModelSigmas::continuous(0.002, 80.0)), ("vp", ModelSigmas::trained(vp.sigmas(), lo, hi, false)), ("flow", flow.model_sigmas())]
}

#[test]
fn comfyui_schedules_equal_its_formulas() {
    let reference: BTreeMap<String, BTreeMap<String, Vec<f64>>> = serde_json::from_str(include_str!("fixtures/schedules/comfy.json")).unwrap();
    let mut checked = 0;
    for (name, model) in models() {
        let (lo, hi) = (model.table[0], model.table[model.table.len() - 1]);
        for (key, want) in &reference[name] {
            let (schedule, steps) = key.rsplit_once(':').unwrap();
            let schedule: Schedule = schedule.parse().unwrap();
            assert!(schedule.ends_at_zero(), "{key}");
            let got = schedule.sigmas_on(steps.parse().unwrap(), lo, hi, Some(&model)).unwrap();
            assert_eq!(got.len(), want.len(), "{name} {key}: {got:?} against {want:?}");
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() <= 1e-12 * w.abs(), "{name} {key}: {got:?} against {want:?}");
            }
            checked += 1;
        }
    }
    // Align Your Steps: its tables, stretched log-linearly, the last sigma 0 (any model).
    for (key, want) in &reference["ays"] {
        let (schedule, steps) = key.rsplit_once(':').unwrap();
        let got = schedule.parse::<Schedule>().unwrap().sigmas(steps.parse().unwrap(), 0.002, 80.0).unwrap();
        assert_eq!(got.len(), want.len(), "{key}");
        assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() <= 1e-12 * w.abs()), "{key}: {got:?} against {want:?}");
        checked += 1;
    }
    assert!(checked >= 95, "only {checked} lists checked");
}

#[test]
fn the_model_sigmas_are_comfyuis_tables() {
    // The flow model's table ends in its pure-noise time t = 1, clamped to the range's top.
    let flow = &models()[2].1;
    let top = 3.0 * 0.999 / (1.0 + 2.0 * 0.999);
    assert_eq!(flow.table.len(), 1000);
    assert!((flow.table[999] - top / (1.0 - top)).abs() < 1e-9 && flow.table[998] == flow.table[999]);
    assert!(flow.flow && !models()[1].1.flow);
}

#[test]
fn flow_shift_keeps_the_ends_and_is_uniform_in_unshifted_time() {
    let (lo, hi) = (0.01, 500.0);
    for shift in [1.0, 3.0, 0.5] {
        let sigmas = Schedule::FlowShift { shift }.sigmas(8, lo, hi).unwrap();
        assert_eq!((sigmas[0], sigmas[8]), (hi, lo));
        let u: Vec<f64> = sigmas.iter().map(|s| s / (1.0 + s)).map(|t| t / (shift - (shift - 1.0) * t)).collect();
        let du: Vec<f64> = u.windows(2).map(|w| w[0] - w[1]).collect();
        assert!(du.iter().all(|d| (d - du[0]).abs() < 1e-12), "shift {shift}: {du:?}");
    }
    // Flux's dynamic shift with mu is the static shift e^mu.
    let mu: Schedule = "flow_shift_mu:1.15".parse().unwrap();
    assert_eq!(mu, Schedule::FlowShift { shift: 1.15f64.exp() });
    for bad in ["flow_shift:0", "flow_shift:-2", "flow_shift_mu", "beta:0", "beta:1:2:3", "linear_quadratic:2", "linear_quadratic:0.1:0.5", "simple:3", "ays:sd3"] {
        assert!(bad.parse::<Schedule>().is_err(), "{bad} accepted");
    }
    for name in ["ays:sd1", "ays:svd", "flow_shift:3", "beta:0.6:0.6", "simple", "sgm_uniform", "normal", "ddim_uniform", "linear_quadratic:0.025", "linear_quadratic:0.05:3"] {
        assert_eq!(name.parse::<Schedule>().unwrap().to_string(), name);
    }
}
