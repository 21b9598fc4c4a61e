//! Models exported to ONNX, run by tract: every parameterization against the exact
//! Gaussian-mixture denoiser, the sigma -> timestep map against k-diffusion's, the shipped MNIST
//! U-Net's export against its weights file, a diffusers UNet2DModel against torch, and the bad
//! inputs the loader refuses by name. Fixtures and the scripts that made them: tests/fixtures/onnx.

mod common;

use burn::prelude::Device;
use gits_sampler::denoiser::DenoiserSpec;
use gits_sampler::gits::{GitsFile, Search};
use gits_sampler::model::{BatchModel, Model, block_on};
use gits_sampler::onnx::{Card, OnnxModel};
use gits_sampler::plan::{Denoiser, Plan, execute};
use gits_sampler::schedule::Schedule;
use gits_sampler::solver::{SamplingSpec, Solver};
use gits_sampler::vp_discrete::DiscreteVp;
use gits_sampler::{noise, tensor};
use std::path::Path;

const DIR: &str = "tests/fixtures/onnx";

fn open(file: &str) -> Model {
    let path = format!("{DIR}/{file}");
    let (m, sha) = OnnxModel::open(Path::new(&path), None).unwrap_or_else(|e| panic!("{path}: {e}"));
    Model::onnx(&path, sha, m, &Device::flex())
}

fn open_err(file: &str, card: Option<&str>) -> String {
    let path = format!("{DIR}/{file}");
    let card = card.map(|c| format!("{DIR}/{c}"));
    match OnnxModel::open(Path::new(&path), card.as_deref().map(Path::new)) {
        Ok(_) => panic!("{path} loaded, but it should have been refused"),
        Err(e) => e.to_string(),
    }
}

fn mixture() -> DenoiserSpec {
    DenoiserSpec::from_json(&std::fs::read_to_string("models/eight-gaussians.gmm.json").unwrap()).unwrap()
}

fn plan(solver: Solver, nfe: u32, (lo, hi): (f64, f64)) -> Plan {
    SamplingSpec { solver, schedule: Schedule::Polynomial { rho: 7.0 }, nfe, sigma_min: lo, sigma_max: hi, to_zero: false, afs: false }.plan().unwrap()
}

fn max_abs(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Each parameterization of the mixture, as an f64 graph, sampled with one plan on its own sigma
/// range, equals the native f64 mixture sampler on the same plan, in every evaluation and in the
/// sample. What separates them is rounding alone: the adapter maps sigma to the graph's noise input
/// and the graph maps it back (ln-sigma interpolation of a timestep, t / (1 - t)), each exact up to
/// a few ulps of ln sigma (|ln sigma| < 8, so ~1e-15 relative in sigma); then the scalings, whose
/// largest cancellation is velocity's D = (x - sigma y) / (1 + sigma) at sigma ~ 3000 (x ~ 3000:
/// ~1e-12 absolute). 1e-9 leaves three orders for the 14-NFE solve (measured: at most 6e-14).
#[test]
fn every_parameterization_equals_the_exact_mixture() {
    let exact = mixture();
    for file in ["gmm-denoised.onnx", "gmm-epsilon/model.onnx", "gmm-v.onnx", "gmm-velocity.onnx"] {
        let model = open(file);
        assert_eq!((model.dim(), model.classes()), (2, 0), "{file}");
        for solver in [Solver::Heun, Solver::Ipndm { max_order: 4 }] {
            let plan = plan(solver, 14, model.sigma_range());
            let z = noise::standard_normal(7, 32, 2);
            let want = execute(&plan, z.clone(), &exact, true).unwrap();
            let got = block_on(model.run(&plan, z, 0, 0, true)).unwrap();
            let worst_eval = want.evals.iter().zip(&got.evals).map(|(a, b)| max_abs(&a.denoised, &b.denoised)).fold(0.0, f64::max);
            let err = max_abs(&want.sample, &got.sample);
            println!("{file} {solver}: sample {err:.2e}, worst evaluation {worst_eval:.2e} (sigma {} .. {})", plan.sigmas[plan.sigmas.len() - 1], plan.sigmas[0]);
            assert!(err < 1e-9 && worst_eval < 1e-9, "{file} {solver}: sample off by {err:e}, an evaluation by {worst_eval:e}");
        }
    }
}

/// The same graphs in f32: the noise input and the state cross into f32 (2^-24 relative), so
/// D is off by about 1e-7 x |x| / sigma-scaled; 1e-4 on samples in [-1.6, 1.6].
#[test]
fn float32_graphs_agree_to_float32_rounding() {
    let exact = mixture();
    for file in ["gmm-denoised-f32.onnx", "gmm-epsilon-f32/model.onnx", "gmm-v-f32.onnx", "gmm-velocity-f32.onnx"] {
        let model = open(file);
        let plan = plan(Solver::Heun, 14, model.sigma_range());
        let z = noise::standard_normal(8, 32, 2);
        let err = max_abs(&execute(&plan, z.clone(), &exact, false).unwrap().sample, &block_on(model.run(&plan, z, 0, 0, false)).unwrap().sample);
        println!("{file}: sample off by {err:.2e}");
        assert!(err < 1e-4, "{file}: {err:e}");
    }
}

/// An int64 timestep input is quantized as k-diffusion's DiscreteEpsDDPMDenoiser does: the
/// network sees the nearest training timestep t_q, the scalings keep the requested sigma. So each
/// evaluation equals x - sigma eps(x c_in(sigma); t_q) computed from the mixture at sigma(t_q);
/// against the exact D at sigma the difference is the quantization error itself, bounded by the
/// half-gap in ln sigma between neighbouring timesteps.
#[test]
fn integer_timesteps_are_quantized_like_k_diffusion() {
    let exact = mixture();
    let model = open("gmm-epsilon-int64.onnx");
    let vp = DiscreteVp::ddpm();
    let den = model.as_onnx().unwrap().tract().unwrap().denoiser(&[], 1.0).unwrap();
    let x = noise::standard_normal(3, 16, 2);
    let (lo, hi) = model.sigma_range();
    let mut worst_to_exact: f64 = 0.0;
    for k in 0..40 {
        let sigma = lo * (hi / lo).powf(k as f64 / 39.0);
        let xs: Vec<f64> = x.iter().map(|v| v * sigma.max(1.0)).collect();
        let got = den.denoise(&xs, sigma).unwrap();
        let sq = vp.sigma(vp.timestep_quantized(sigma)).unwrap();
        // The graph: x_ve' = x_in sqrt(1 + sq^2), eps = (x_ve' - D(x_ve'; sq)) / sq.
        let x_ve: Vec<f64> = xs.iter().map(|v| v / (1.0 + sigma * sigma).sqrt() * (1.0 + sq * sq).sqrt()).collect();
        let d = Denoiser::denoise(&exact, &x_ve, sq).unwrap();
        let want: Vec<f64> = xs.iter().zip(x_ve.iter().zip(&d)).map(|(xv, (xe, dv))| xv - sigma * (xe - dv) / sq).collect();
        assert!(max_abs(&got, &want) < 1e-9, "sigma {sigma}: {:e}", max_abs(&got, &want));
        worst_to_exact = worst_to_exact.max(max_abs(&got, &Denoiser::denoise(&exact, &xs, sigma).unwrap()));
    }
    println!("quantized timesteps: worst |D - D_exact| over 40 sigmas {worst_to_exact:.3e}");
    // Unquantized, the graph would give D to 1e-13 (every_parameterization_equals_the_exact_mixture).
    assert!(worst_to_exact > 1e-6, "quantization must move D off the exact value somewhere");
}

/// sigma -> timestep equals k-diffusion's DiscreteSchedule.sigma_to_t on its own table
/// (fractional: 1e-9; quantized: exactly, except at the table's geometric midpoints between two
/// timesteps, an exact tie that the last ulp of ln decides, where either neighbour is right).
#[test]
fn sigma_to_timestep_equals_k_diffusion() {
    let table: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/kdiffusion-sigma-to-t.json")).unwrap()).unwrap();
    let mut checked = 0;
    for t in table["tables"].as_array().unwrap() {
        let c = &t["config"];
        let vp = DiscreteVp::named(c["beta_schedule"].as_str().unwrap(), c["num_train_timesteps"].as_u64().unwrap() as usize, c["beta_start"].as_f64().unwrap(), c["beta_end"].as_f64().unwrap()).unwrap();
        let col = |k: &str| t[k].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>();
        for ((sigma, want), want_q) in col("sigma").into_iter().zip(col("t")).zip(col("t_quantized")) {
            let got = vp.timestep_clamped(sigma);
            assert!((got - want).abs() < 1e-9, "{c}: sigma {sigma}: t {got} vs k-diffusion {want}");
            let q = vp.timestep_quantized(sigma) as f64;
            let tie = (want - want.floor() - 0.5).abs() < 1e-9;
            assert!(q == want_q || (tie && (q == want.floor() || q == want.ceil())), "{c}: sigma {sigma}: quantized {q} vs k-diffusion {want_q}");
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} table rows");
}

/// The training sigmas of diffusers' three beta schedules equal diffusers' own (it keeps
/// alphas_cumprod in f32: 1 - alpha_bar near t = 0 is ~1e-4, so f32 leaves ~1e-3 relative there).
#[test]
fn beta_schedules_equal_diffusers() {
    let table: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/kdiffusion-sigma-to-t.json")).unwrap()).unwrap();
    let schedules = table["diffusers_schedules"].as_array().unwrap();
    assert_eq!(schedules.len(), 3);
    for d in schedules {
        let c = &d["config"];
        let vp = DiscreteVp::named(c["beta_schedule"].as_str().unwrap(), c["num_train_timesteps"].as_u64().unwrap() as usize, c["beta_start"].as_f64().unwrap(), c["beta_end"].as_f64().unwrap()).unwrap();
        let worst = d["indices"].as_array().unwrap().iter().zip(d["sigma"].as_array().unwrap()).map(|(i, want)| {
            let want = want.as_f64().unwrap();
            (vp.sigma(i.as_u64().unwrap() as usize).unwrap() - want).abs() / want
        });
        let worst = worst.fold(0.0, f64::max);
        println!("{}: worst relative difference to diffusers' f32 sigmas {worst:.2e}", c["beta_schedule"]);
        assert!(worst < 2e-3, "{c}: {worst:e}");
    }
}

/// The shipped MNIST U-Net exported to ONNX (its card in metadata_props), sampled through tract
/// with the plan in f64, equals the weights file sampled on burn's CPU backend (state in f32), with
/// classes and guidance 2 as the product applies them: both networks compute in f32 with the same
/// weights, so they differ by f32 rounding, accumulated over the steps.
#[test]
fn mnist_export_equals_the_weights_file() {
    let device = Device::flex();
    let gsw = Model::from_bytes("models/mnist-unet.int8.gsw", &std::fs::read("models/mnist-unet.int8.gsw").unwrap(), &device).unwrap();
    let onnx = open("mnist-unet.onnx");
    assert_eq!((onnx.dim(), onnx.classes(), onnx.sigma_range()), (gsw.dim(), gsw.classes(), gsw.sigma_range()));
    assert!(onnx.as_onnx().unwrap().card_source().contains("metadata_props"));
    let plan = plan(Solver::Ipndm { max_order: 4 }, 8, gsw.sigma_range());
    let z = noise::standard_normal(11, 6, 784);
    let labels = [0, 3, 7, 9, 10, 5]; // 10: unconditional
    let want = block_on(tensor::read_run(execute(&plan, tensor::to_tensor(&z, 784, &device), &gsw.denoiser(&labels, 2.0).unwrap(), true).unwrap())).unwrap();
    let got = execute(&plan, z, &onnx.as_onnx().unwrap().tract().unwrap().denoiser(&labels, 2.0).unwrap(), true).unwrap();
    let worst_eval = want.evals.iter().zip(&got.evals).map(|(a, b)| max_abs(&a.denoised, &b.denoised)).fold(0.0, f64::max);
    let err = max_abs(&want.sample, &got.sample);
    println!("MNIST export vs weights file: sample {err:.2e}, worst evaluation {worst_eval:.2e}");
    assert!(err < 2e-4 && worst_eval < 2e-4, "sample off by {err:e}, an evaluation by {worst_eval:e}");
}

/// A small GITS search on the export finds the same grid indices as on the weights file.
#[test]
fn mnist_export_searches_the_same_gits_schedule() {
    let device = Device::flex();
    let config = common::search_config(21, 8, 3, vec![1.15], (3, 6));
    let search = |model: Model| -> GitsFile {
        let id = model.model_ref();
        block_on(Search::new(config.clone(), model, id, || 0.0).unwrap().finish()).unwrap()
    };
    let gsw = search(Model::from_bytes("models/mnist-unet.int8.gsw", &std::fs::read("models/mnist-unet.int8.gsw").unwrap(), &device).unwrap());
    let onnx = search(open("mnist-unet.onnx"));
    let indices = |f: &GitsFile| f.schedules.iter().map(|s| (s.steps, s.indices.clone())).collect::<Vec<_>>();
    assert_eq!(indices(&onnx), indices(&gsw));
    assert_eq!(onnx.model.sha256, gits_sampler::hash::sha256_hex(&std::fs::read(format!("{DIR}/mnist-unet.onnx")).unwrap()));
    // The file names the ONNX model: loading it against another model is refused.
    let text = serde_json::to_string(&onnx).unwrap();
    assert!(GitsFile::load(&text, Some(&onnx.model)).is_ok());
    assert!(GitsFile::load(&text, Some(&gsw.model)).unwrap_err().to_string().contains("sha256"));
}

/// A diffusers UNet2DModel (GroupNorm, attention, sinusoidal timestep embedding) exported by
/// torch.onnx.export, with its scheduler_config.json and no card: tract reproduces torch's output.
#[test]
fn diffusers_unet_matches_torch() {
    let model = open("diffusers-unet/model.onnx");
    let onnx = model.as_onnx().unwrap().tract().unwrap();
    assert!(onnx.card_source.ends_with("scheduler_config.json"), "{}", onnx.card_source);
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/diffusers-unet/reference.json")).unwrap()).unwrap();
    let floats = |k: &str| r[k].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>();
    let (sample, timesteps, want) = (floats("sample"), floats("timestep"), floats("out_sample"));
    let dim = model.dim();
    let mut got = Vec::new();
    for (row, &t) in sample.chunks(dim).zip(&timesteps) {
        got.extend(onnx.forward(row, t, &[]).unwrap());
    }
    let err = max_abs(&got, &want);
    println!("diffusers UNet2DModel: tract vs torch max |diff| {err:.2e} (outputs up to {:.2})", want.iter().fold(0.0f64, |m, v| m.max(v.abs())));
    assert!(err < 1e-4, "{err:e}");
    // Through the adapter: at sigma = sigma(t) the int64 input gets t, the graph c_in x, and
    // D = x - sigma eps; so x = sample / c_in gives D = x - sigma * torch's output.
    let vp = DiscreteVp::ddpm();
    for (row, (t, eps)) in sample.chunks(dim).zip(timesteps.iter().zip(want.chunks(dim))) {
        let sigma = vp.sigma(*t as usize).unwrap();
        let x: Vec<f64> = row.iter().map(|v| v * (1.0 + sigma * sigma).sqrt()).collect();
        let d = onnx.denoiser(&[], 1.0).unwrap().denoise(&x, sigma).unwrap();
        let want_d: Vec<f64> = x.iter().zip(eps).map(|(xv, e)| xv - sigma * e).collect();
        let err = max_abs(&d, &want_d) / sigma.max(1.0);
        assert!(err < 1e-4, "timestep {t}: D off by {err:e} (relative to sigma)");
    }
}

/// The card's formats: a diffusers scheduler config as it is, contradictions refused by name.
#[test]
fn cards_are_read_and_checked() {
    let diffusers = r#"{"_class_name": "DDPMScheduler", "_diffusers_version": "0.30.0", "num_train_timesteps": 1000,
        "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "prediction_type": "v_prediction",
        "clip_sample": false, "timestep_spacing": "leading", "steps_offset": 1}"#;
    let card = Card::diffusers(diffusers).unwrap();
    let (schedule, p) = card.resolve().unwrap();
    assert_eq!(p, gits_sampler::onnx::Parameterization::V);
    let vp = DiscreteVp::named("scaled_linear", 1000, 0.00085, 0.012).unwrap();
    assert_eq!((schedule.sigma_min, schedule.sigma_max), vp.range());
    let flow = Card::diffusers(r#"{"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000, "shift": 3.0}"#).unwrap();
    assert_eq!(flow.resolve().unwrap().1, gits_sampler::onnx::Parameterization::Velocity);
    let err = |text: &str| Card::from_json(text).and_then(|c| c.resolve().map(|_| ())).unwrap_err().to_string();
    let base = |schedule: &str, output: &str| format!(r#"{{"sample": {{"input": "x"}}, "noise": {{"input": "s", "as": "sigma"}}, "output": {output}, "schedule": {schedule}}}"#);
    assert!(err(&base(r#"{"kind": "vp", "prediction_type": "epsilon"}"#, r#"{"name": "y", "parameterization": "v"}"#)).contains("says parameterization v but the scheduler config's prediction_type says epsilon"));
    assert!(err(&base(r#"{"kind": "edm"}"#, r#"{"name": "y"}"#)).contains("must give output.parameterization"));
    assert!(err(&base(r#"{"kind": "warp"}"#, r#"{"name": "y", "parameterization": "v"}"#)).contains("not one of edm, vp, flow"));
    assert!(err(&base(r#"{"kind": "vp", "beta_schedule": "sigmoid"}"#, r#"{"name": "y", "parameterization": "v"}"#)).contains("beta_schedule \"sigmoid\" is not supported"));
    assert!(err(&base(r#"{"kind": "flow", "use_dynamic_shifting": true}"#, r#"{"name": "y"}"#)).contains("use_dynamic_shifting"));
    assert!(err(&base(r#"{"kind": "edm", "sigma_min": 5, "sigma_max": 1}"#, r#"{"name": "y", "parameterization": "denoised"}"#)).contains("sigma_min < sigma_max"));
    assert!(err(&base(r#"{"kind": "vp", "num_train_timesteps": 1e12}"#, r#"{"name": "y", "parameterization": "epsilon"}"#)).contains("num_train_timesteps"));
    assert!(err(r#"{"sample": {"input": "x"}, "schedule": {"kind": "edm"}, "colour": 1}"#).contains("unknown field `colour`"));
    assert!(err(r#"{"noise": {"input": "t", "as": "t"}, "output": {"name": "y", "parameterization": "epsilon"}, "schedule": {"kind": "edm"}}"#).contains("needs a vp or flow schedule"));
    assert!(err(&base(r#"{"kind": "flow", "shift": 3}"#, r#"{"name": "y", "parameterization": "v"}"#)).contains("a flow-matching model predicts velocity"));
    assert!(err(&base(r#"{"kind": "vp", "sigma_max": 1000}"#, r#"{"name": "y", "parameterization": "epsilon"}"#)).contains("leave the training range"));
    assert!(err(&base(r#"{"kind": "vp", "trained_betas": "0.1"}"#, r#"{"name": "y", "parameterization": "epsilon"}"#)).contains("trained_betas must be a list"));
    assert!(err(&base(r#"{"kind": "vp", "trained_betas": [0.1, 1e-300, 0.2]}"#, r#"{"name": "y", "parameterization": "epsilon"}"#)).contains("strictly increasing"));
    let diffusers_err = |text: &str| Card::diffusers(text).and_then(|c| c.resolve().map(|_| ())).unwrap_err().to_string();
    assert!(diffusers_err(r#"{"_class_name": "EDMEulerScheduler", "sigma_min": 0.002, "sigma_max": 80, "sigma_data": 0.5}"#).contains("not a discrete VP"));
    assert!(diffusers_err(r#"{"_class_name": "EulerDiscreteScheduler", "num_train_timesteps": 1000, "timestep_type": "continuous"}"#).contains("continuous timesteps"));
    // diffusers' default prediction_type is epsilon.
    assert_eq!(Card::diffusers(r#"{"_class_name": "DDIMScheduler", "num_train_timesteps": 1000}"#).unwrap().resolve().unwrap().1, gits_sampler::onnx::Parameterization::Epsilon);
    // Other tools' metadata is not a card; the keys with a schedule are.
    let props = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    assert_eq!(Card::from_metadata(&props(&[("name", "my model"), ("author", "me")])).unwrap(), None);
    let card = Card::from_metadata(&props(&[("name", "my model"), ("schedule", r#"{"kind": "edm"}"#), ("output", r#"{"name": "d", "parameterization": "denoised"}"#)])).unwrap().unwrap();
    assert_eq!((card.name.as_deref(), card.output.name.as_str()), (Some("my model"), "d"));
}

/// Bad files and cards: each refused with a message that names what is wrong.
#[test]
fn bad_models_are_refused_by_name() {
    let e = open_err("bad/unsupported-op.onnx", None);
    assert!(e.contains("operators tract cannot run") && e.contains("NotARealOperator"), "{e}");
    let e = open_err("bad/not-onnx.onnx", None);
    assert!(e.contains("not an ONNX model"), "{e}");
    let e = open_err("bad/int-sigma.onnx", None);
    assert!(e.contains("timestep dtype mismatch") && e.contains("int64"), "{e}");
    let e = open_err("bad/text-conditioned/model.onnx", None);
    assert!(e.contains("encoder_hidden_states") && e.contains("text-conditioned"), "{e}");
    // A truncated file.
    let bytes = std::fs::read(format!("{DIR}/gmm-denoised.onnx")).unwrap();
    let dir = std::env::temp_dir().join(format!("gits-onnx-truncated-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("m.onnx"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::copy(format!("{DIR}/gmm-denoised.card.json"), dir.join("m.card.json")).unwrap();
    let e = OnnxModel::open(&dir.join("m.onnx"), None).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("not an ONNX model"), "{e}");
    // Cards that contradict the graph.
    let write_card = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    let cases = [
        (r#"{"sample": {"input": "y"}, "noise": {"input": "sigma", "as": "sigma"}, "output": {"name": "denoised", "parameterization": "denoised"}, "schedule": {"kind": "edm"}}"#, "\"y\" is not an input of the graph (its inputs: x, sigma)"),
        (r#"{"sample": {"input": "x", "shape": [3]}, "noise": {"input": "sigma", "as": "sigma"}, "output": {"name": "denoised", "parameterization": "denoised"}, "schedule": {"kind": "edm"}}"#, "contradicts the graph's"),
        (r#"{"sample": {"input": "x", "shape": [1, 100000, 100000]}, "noise": {"input": "sigma", "as": "sigma"}, "output": {"name": "denoised", "parameterization": "denoised"}, "schedule": {"kind": "edm"}}"#, "does not fit the graph's"),
        (r#"{"sample": {"input": "sigma"}, "noise": {"input": "x", "as": "sigma"}, "output": {"name": "denoised", "parameterization": "denoised"}, "schedule": {"kind": "edm"}}"#, "needs a batch dimension"),
        (r#"{"sample": {"input": "x"}, "noise": {"input": "sigma", "as": "sigma"}, "output": {"name": "eps", "parameterization": "epsilon"}, "schedule": {"kind": "edm"}}"#, "\"eps\" is not an output of the graph (its outputs: denoised)"),
        (r#"{"sample": {"input": "x"}, "noise": {"input": "sigma", "as": "sigma"}, "class": {"input": "label", "classes": 10}, "output": {"name": "denoised", "parameterization": "denoised"}, "schedule": {"kind": "edm"}}"#, "class input \"label\" is not an input"),
        (r#"{"sample": {"input": "x"}, "noise": {"input": "x", "as": "sigma"}, "output": {"name": "denoised", "parameterization": "denoised"}, "schedule": {"kind": "edm"}}"#, "binds input \"x\" twice"),
        (r#"{"sample": {"input": "x", "shape": [9223372036854775807, 4]}, "noise": {"input": "sigma", "as": "sigma"}, "output": {"name": "denoised", "parameterization": "denoised"}, "schedule": {"kind": "edm"}}"#, "does not fit the graph's"),
    ];
    for (i, (card, want)) in cases.iter().enumerate() {
        write_card(&format!("c{i}.json"), card);
        let e = OnnxModel::open(Path::new(&format!("{DIR}/gmm-denoised-f32.onnx")), Some(&dir.join(format!("c{i}.json")))).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains(want), "case {i}: {e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A graph that goes non-finite below sigma 1 stops the sampler at that evaluation, named.
#[test]
fn a_non_finite_output_names_the_evaluation() {
    let model = open("bad/nan-output.onnx");
    let plan = plan(Solver::Euler, 10, model.sigma_range());
    let e = block_on(model.run(&plan, noise::standard_normal(1, 4, 2), 0, 0, false)).map(|_| ()).unwrap_err().to_string();
    let first_below_1 = plan.sigmas.iter().position(|&s| s < 1.0).unwrap() + 1;
    assert!(e.contains(&format!("evaluation {first_below_1} (sigma")) && e.contains("not finite"), "{e}");
}

/// A graph with a fixed batch of 1 runs a larger batch in chunks; a 4-D sample with a scalar
/// timestep gets its shape from the graph.
#[test]
fn fixed_batches_and_scalar_noise_inputs_run() {
    for file in ["bad/fixed-batch.onnx", "bad/fixed-batch-3.onnx"] {
        let model = open(file);
        let x = noise::standard_normal(2, 5, 2);
        let d = block_on(model.denoise(&x, 2.0, 0)).unwrap();
        assert!(max_abs(&d, &x.iter().map(|v| v / 5.0).collect::<Vec<_>>()) < 1e-6, "{file}");
    }
    let model = open("bad/scalar-noise-4d.onnx");
    assert_eq!(model.dim(), 16);
    let x = noise::standard_normal(3, 3, 16);
    let sigma = 2.5;
    // epsilon = 0.5 x_in: D = x - sigma 0.5 x / sqrt(1 + sigma^2).
    let want: Vec<f64> = x.iter().map(|v| v - sigma * 0.5 * v / (1.0 + sigma * sigma).sqrt()).collect();
    assert!(max_abs(&block_on(model.denoise(&x, sigma, 0)).unwrap(), &want) < 1e-5);
}

/// The page reads an ONNX file's interface without tract (onnx::proto): on every fixture it
/// equals tract's reading, metadata included, and it refuses what tract refuses as not ONNX.
#[test]
fn the_page_reads_the_interface_tract_reads() {
    let mut files = Vec::new();
    for dir in [DIR.to_string(), format!("{DIR}/bad"), format!("{DIR}/gmm-epsilon"), format!("{DIR}/diffusers-unet"), format!("{DIR}/bad/text-conditioned")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "onnx") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 15, "found only {} fixtures", files.len());
    for p in files {
        let bytes = std::fs::read(&p).unwrap();
        match (gits_sampler::onnx::runtime::read_interface(&bytes), gits_sampler::onnx::proto::read_interface(&bytes)) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", p.display()),
            (Err(_), Err(e)) => assert!(e.to_string().contains("not an ONNX model"), "{}: {e}", p.display()),
            (a, b) => panic!("{}: tract says {:?}, the page's reader {:?}", p.display(), a.map(|_| ()), b.map(|_| ())),
        }
    }
    // Truncated anywhere, the reader fails with a message, never a panic.
    let bytes = std::fs::read(format!("{DIR}/gmm-v.onnx")).unwrap();
    for cut in (0..bytes.len()).step_by(7) {
        let _ = gits_sampler::onnx::proto::read_interface(&bytes[..cut]);
    }
}

/// The page's ONNX model (a runtime outside the crate, answering later) samples through the
/// same adapter and executor: with tract as that runtime, behind a future that is not ready at
/// first, it equals the tract model on a class-conditional, guided MNIST run.
#[test]
fn an_outside_runtime_samples_as_tract_does() {
    use gits_sampler::onnx::external::{External, RunFn};
    use gits_sampler::onnx::{Feed, Graph};
    use std::rc::Rc;
    let path = format!("{DIR}/mnist-unet.onnx");
    let bytes = std::fs::read(&path).unwrap();
    let (tract, sha) = OnnxModel::open(Path::new(&path), None).unwrap();
    let inner = Rc::new(OnnxModel::open(Path::new(&path), None).unwrap().0);
    let run: RunFn = Box::new(move |feeds: Vec<Feed>, output: &str| {
        assert_eq!(output, "denoised");
        let (inner, rows) = (inner.clone(), feeds[0].shape[0]);
        Box::pin(async move {
            Pending(true).await; // an answer that comes later, as a promise's does
            inner.run(rows, feeds).await
        })
    });
    let external = External::new(&bytes, None, None, run).unwrap();
    assert_eq!(external.card_source, "the model's metadata_props");
    let a = Model::onnx(&path, sha.clone(), external, &Device::flex());
    let b = Model::onnx(&path, sha, tract, &Device::flex());
    let p = plan(Solver::Ipndm { max_order: 4 }, 4, a.sigma_range());
    let z = noise::standard_normal(5, 3, a.dim());
    let ra = block_on(a.guided(2.0).run(&p, z.clone(), 0, 0, true)).unwrap();
    let rb = block_on(b.guided(2.0).run(&p, z, 0, 0, true)).unwrap();
    assert_eq!(ra.sample, rb.sample);
    assert_eq!(ra.evals.len(), 4);
}

/// A future that is pending once, then ready (and wakes its task).
struct Pending(bool);

impl std::future::Future for Pending {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if std::mem::take(&mut self.0) {
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        std::task::Poll::Ready(())
    }
}
