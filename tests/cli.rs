//! The command line end to end: it writes what it documents and fails with clear messages.

use std::path::PathBuf;
use std::process::Command;

fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gits-sampler")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gits-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const MODEL: &str = "gmm:models/eight-gaussians.gmm.json";

#[test]
fn schedule_prints_the_sigma_list() {
    let (ok, out, _) = cli(&["schedule", "--kind", "logsnr", "--steps", "5"]);
    assert!(ok);
    let sigmas: Vec<f64> = serde_json::from_str(&out).unwrap();
    assert_eq!(sigmas.len(), 6);
    assert!((sigmas[1] - 9.6090).abs() < 1e-4);
}

#[test]
fn plan_then_sample_gives_the_same_samples_as_sampling_directly() {
    let plan = tmp("heun.plan.json");
    let (ok, _, err) = cli(&["plan", "--solver", "heun", "--schedule", "logsnr", "--nfe", "8", "--out", plan.to_str().unwrap()]);
    assert!(ok, "{err}");
    let (a, b) = (tmp("a.json"), tmp("b.json"));
    let (ok, _, err) = cli(&["sample", "--plan", plan.to_str().unwrap(), "--denoiser", MODEL, "--seed", "5", "--batch", "8", "--out", a.to_str().unwrap()]);
    assert!(ok, "{err}");
    let direct = ["sample", "--solver", "heun", "--schedule", "logsnr", "--nfe", "8", "--denoiser", MODEL, "--seed", "5", "--batch", "8"];
    let (ok, _, err) = cli(&[&direct[..], &["--out", b.to_str().unwrap()]].concat());
    assert!(ok, "{err}");
    let read = |p: &PathBuf| serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(p).unwrap()).unwrap();
    let (va, vb) = (read(&a), read(&b));
    assert_eq!(va["samples"], vb["samples"]);
    assert_eq!(va["nfe"], 8);
    assert_eq!(va["steps"].as_array().unwrap().len(), 5);
    assert_eq!(va["evals"].as_array().unwrap().len(), 8);
    assert_eq!(va["samples"].as_array().unwrap().len(), 8);
}

#[test]
fn flex_backend_matches_f64() {
    let args = ["sample", "--solver", "euler", "--nfe", "12", "--denoiser", MODEL, "--noise", "tests/fixtures/noise-64x2.json"];
    let (ok, f64_out, _) = cli(&args);
    assert!(ok);
    let (ok, flex_out, _) = cli(&[&args[..], &["--backend", "flex"]].concat());
    assert!(ok);
    let samples = |s: &str| -> Vec<Vec<f64>> { serde_json::from_value(serde_json::from_str::<serde_json::Value>(s).unwrap()["samples"].clone()).unwrap() };
    let (a, b) = (samples(&f64_out), samples(&flex_out));
    let diff = a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    assert!(diff < 1e-4, "flex differs from f64 by {diff}");
}

#[test]
fn bad_input_fails_with_a_message() {
    let bad_plan = tmp("bad.plan.json");
    std::fs::write(&bad_plan, r#"{"version": 1, "solver": "x", "sigmas": [80, 1], "nfe": 3, "ops": []}"#).unwrap();
    let bad_noise = tmp("bad-noise.json");
    std::fs::write(&bad_noise, "[[1, 2, 3]]").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["sample", "--plan", bad_plan.to_str().unwrap(), "--denoiser", MODEL], "must end by emitting the final step"),
        (&["sample", "--solver", "euler", "--denoiser", MODEL, "--noise", bad_noise.to_str().unwrap()], "noise has dimension 3, the denoiser 2"),
        (&["sample", "--solver", "heun", "--nfe", "7", "--denoiser", MODEL], "NFE 7 is not reachable"),
        (&["sample", "--solver", "euler", "--denoiser", "gmm:missing.json"], "cannot read missing.json"),
        (&["plan", "--solver", "rk5"], "unknown solver 'rk5'"),
        (&["schedule", "--kind", "cosine", "--steps", "4"], "unknown schedule 'cosine'"),
        (&["schedule", "--steps", "4", "--sigma-min", "5", "--sigma-max", "1"], "0 < sigma_min < sigma_max"),
    ];
    for (args, needle) in cases {
        let (ok, _, err) = cli(args);
        assert!(!ok, "{args:?} should fail");
        assert!(err.contains(needle), "{args:?}: stderr '{err}' should contain '{needle}'");
    }
}

#[test]
fn schedule_resamples_lists_and_maps_ddpm_timesteps() {
    let fine = tmp("fine.json");
    let (ok, out, _) = cli(&["schedule", "--kind", "logsnr", "--steps", "60"]);
    assert!(ok);
    std::fs::write(&fine, out).unwrap();
    let (ok, out, err) = cli(&["schedule", "--from", fine.to_str().unwrap(), "--steps", "5"]);
    assert!(ok, "{err}");
    let coarse: Vec<f64> = serde_json::from_str(&out).unwrap();
    assert!((coarse[1] - 9.6090).abs() < 1e-4, "{coarse:?}");
    let (ok, out, err) = cli(&["schedule", "--timesteps", "999,499,0"]);
    assert!(ok, "{err}");
    let sigmas: Vec<f64> = serde_json::from_str(&out).unwrap();
    assert_eq!(sigmas.len(), 3);
    assert!((sigmas[0] - 157.4).abs() < 0.1);
    let (ok, _, err) = cli(&["schedule", "--timesteps", "999,1000"]);
    assert!(!ok && err.contains("timestep 1000 is outside"), "{err}");
}

#[test]
fn plans_say_how_the_nfe_budget_is_spent() {
    let (ok, out, err) = cli(&["plan", "--solver", "heun", "--nfe", "9", "--to-zero"]);
    assert!(ok, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["nfe"], 9);
    assert_eq!(plan["options"]["steps"], 5);
    assert_eq!(plan["options"]["nfe_rule"], "2 per step, 1 for the final step to sigma = 0");
}

#[test]
fn gits_searches_writes_and_samples_from_a_schedule_file() {
    let out = tmp("toy.gits.json");
    let (ok, _, err) = cli(&["gits", "--model", MODEL, "--warmup", "64", "--gamma", "1.15,1.05", "--nfe", "3..6", "--out", out.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(err.contains("time: warmup") && err.contains("dynamic programming"), "{err}");
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(file["version"], 1);
    assert_eq!(file["grid"].as_array().unwrap().len(), 61);
    assert_eq!(file["schedules"].as_array().unwrap().len(), 8); // 2 gammas x 4 budgets
    let gits = format!("gits:{}", out.display());
    let (ok, stdout, err) = cli(&["sample", "--solver", "heun", "--nfe", "8", "--schedule", &gits, "--gamma", "1.05", "--denoiser", MODEL, "--batch", "2"]);
    assert!(ok, "{err}");
    let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(result["sigmas"].as_array().unwrap().len(), 5);
    let (ok, _, err) = cli(&["sample", "--solver", "euler", "--nfe", "9", "--schedule", &gits, "--denoiser", MODEL]);
    assert!(!ok && err.contains("needs a 9-step schedule"), "{err}");
    let (ok, _, err) = cli(&["gits", "--model", MODEL, "--grid", "polynomial:5", "--nfe", "3..6"]);
    assert!(!ok && err.contains("at most 4 steps"), "{err}");
}

#[test]
fn export_writes_each_tools_final_sigma_convention() {
    let gits = "gits:schedules/eight-gaussians.gits.json";
    let args = |f: &'static str| ["export", "--solver", "euler", "--nfe", "5", "--schedule", gits, "--format", f];
    let (ok, kd, err) = cli(&args("kdiffusion"));
    assert!(ok, "{err}");
    let kd: Vec<f64> = serde_json::from_str(&kd).unwrap();
    let (ok, df, _) = cli(&args("diffusers"));
    assert!(ok);
    let df: Vec<f64> = serde_json::from_str(&df).unwrap();
    let (ok, comfy, _) = cli(&args("comfyui"));
    assert!(ok);
    assert_eq!(kd.len(), 7);
    assert_eq!(*kd.last().unwrap(), 0.0);
    assert_eq!(&kd[..6], &df[..]);
    assert_eq!(df[5], 0.002);
    let comfy: Vec<f64> = comfy.trim().split(", ").map(|v| v.parse().unwrap()).collect();
    assert_eq!(comfy, kd);
}

#[test]
fn import_reads_another_tools_list_and_round_trips_with_export() {
    let (comfy, ours, bad) = (tmp("comfy.txt"), tmp("ours.json"), tmp("bad.txt"));
    std::fs::write(&comfy, "14.6146, 6.0650, 2.4627, 0.0292, 0").unwrap();
    let (ok, _, err) = cli(&["import", comfy.to_str().unwrap(), "--out", ours.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(err.contains("ManualSigmas") && err.contains("final 0 is kept"), "{err}");
    let (ok, text, err) = cli(&["export", "--sigmas", ours.to_str().unwrap(), "--format", "comfyui"]);
    assert!(ok, "{err}");
    assert_eq!(text.trim(), "14.6146, 6.065, 2.4627, 0.0292, 0");
    let (ok, text, err) = cli(&["import", comfy.to_str().unwrap(), "--zero-to-sigma-min", "--format", "diffusers"]);
    assert!(ok, "{err}");
    assert_eq!(text.trim(), "[14.6146,6.065,2.4627,0.0292,0.002]");
    assert!(err.contains("replaced by the model's sigma_min 0.002"), "{err}");
    let (ok, out, err) = cli(&["sample", "--solver", "euler", "--sigmas", ours.to_str().unwrap(), "--denoiser", MODEL, "--batch", "4"]);
    assert!(ok, "{err}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap()["nfe"], 4);
    std::fs::write(&bad, "[1, 2]").unwrap();
    let (ok, _, err) = cli(&["import", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("bad.txt: line 1, column 5: sigma 1 = 2 is not below sigma 0 = 1"), "{err}");
}

#[test]
fn dpmpp_thresholding_from_the_command_line() {
    let args = ["sample", "--solver", "dpmpp:2", "--nfe", "8", "--to-zero", "--thresholding", "0.995", "--denoiser", MODEL, "--batch", "8"];
    let (ok, out, err) = cli(&args);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["samples"].as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap()).all(|x| x.as_f64().unwrap().abs() <= 1.0 + 1e-12));
    let (ok, _, err) = cli(&[&args[..], &["--backend", "flex"]].concat());
    assert!(!ok && err.contains("dynamic thresholding is not available on this backend"), "{err}");
    let (ok, _, err) = cli(&["plan", "--solver", "heun", "--thresholding", "0.995"]);
    assert!(!ok && err.contains("DPM-Solver++ option"), "{err}");
}

#[test]
fn bench_times_each_solver_and_the_gits_stages() {
    let out = tmp("bench.json");
    let (ok, _, err) = cli(&["bench", "--model", MODEL, "--solvers", "euler,heun", "--batch", "8", "--reps", "3", "--gits-warmup", "16", "--out", out.to_str().unwrap()]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let rows = v["sampling"].as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["solver"].as_str().unwrap()).collect::<Vec<_>>(), ["euler", "heun"]);
    for r in rows {
        assert_eq!(r["runs_s"].as_array().unwrap().len(), 3);
        assert_eq!(r["nfe"], 10);
        let (median, per_nfe) = (r["median_s"].as_f64().unwrap(), r["ms_per_nfe"].as_f64().unwrap());
        assert!(median > 0.0 && (per_nfe - 100.0 * median).abs() < 1e-9 * per_nfe.max(1.0));
    }
    let t = &v["gits"];
    assert!(t["warmup_s"].as_f64().unwrap() > 0.0 && t["cost_matrix_s"].as_f64().unwrap() > 0.0 && t["dp_s"].as_f64().unwrap() >= 0.0, "{t}");
    assert!(err.contains("GITS: warmup"), "{err}");
    let (ok, _, err) = cli(&["bench", "--model", MODEL, "--batch", "0"]);
    assert!(!ok && err.contains("--batch and --reps must be at least 1"), "{err}");
}

/// `eval` on a few digits: the teacher, the real digits' FD, the baseline's cells without a
/// difference and every other cell with its difference to the baseline and a bootstrap SE, on
/// noise of the evaluation's own stream.
#[test]
fn eval_compares_each_schedule_with_the_baseline_on_the_same_noise() {
    let out = tmp("eval.json");
    let args = ["eval", "--solvers", "euler", "--schedules", "logsnr,polynomial:7", "--nfe", "3", "--samples", "20", "--teacher-nfe", "6", "--bootstrap", "30", "--chunk", "8"];
    let (ok, stdout, err) = cli(&[&args[..], &["--out", out.to_str().unwrap()]].concat());
    assert!(ok, "{err}");
    assert!(stdout.contains("vs polynomial:7") && stdout.contains("real digits: FD"), "{stdout}");
    let t: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(t["samples"], 20);
    assert_eq!(t["noise_seed"].as_u64().unwrap(), gits_sampler::noise::eval_seed(0));
    assert_eq!(t["teacher"]["l2_to_teacher"], 0.0);
    assert!(t["real_fd"].as_f64().unwrap() >= 0.0 && t["teacher"]["fd"].as_f64().unwrap() > 0.0);
    // The shipped judge's held-out accuracy (models/README.md), and per-class accuracies that
    // average to the whole (20 digits: two of each class).
    assert!((t["real_accuracy"].as_f64().unwrap() - 0.973).abs() < 0.0005, "{}", t["real_accuracy"]);
    let per_class: Vec<f64> = t["teacher_per_class"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(per_class.len(), 10);
    assert!((per_class.iter().sum::<f64>() / 10.0 - t["teacher"]["accuracy"].as_f64().unwrap()).abs() < 1e-12, "{per_class:?}");
    let cells = t["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 2);
    // The baseline is run first and has no difference of its own.
    assert_eq!((cells[0]["schedule"].as_str(), cells[0]["vs_baseline"].is_null()), (Some("polynomial:7"), true));
    let d = &cells[1]["vs_baseline"];
    for key in ["fd", "l2_to_teacher", "accuracy"] {
        let diff = cells[1][key].as_f64().unwrap() - cells[0][key].as_f64().unwrap();
        assert!((d[key].as_f64().unwrap() - diff).abs() < 1e-9, "{key}: {d}");
    }
    assert!(d["fd_se"].as_f64().unwrap() > 0.0 && d["l2_to_teacher_se"].as_f64().unwrap() > 0.0, "{d}");
    let (ok, _, err) = cli(&["eval", "--schedules", "logsnr", "--samples", "20"]);
    assert!(!ok && err.contains("--baseline polynomial:7 must be one of --schedules"), "{err}");
    let (ok, _, err) = cli(&["eval", "--schedules", "polynomial:7,gits:schedules/mnist-unet.gits.json@x", "--samples", "20"]);
    assert!(!ok && err.contains("bad gamma 'x'"), "{err}");
}

/// The shipped int8 file is the shipped f32 one re-packed: `pack --weights` reproduces it byte
/// for byte (same manifest, same per-channel quantization), and rejects a file that is not one.
#[test]
fn pack_repacks_a_weights_file_at_another_precision() {
    let out = tmp("repacked.int8.gsw");
    let (ok, _, err) = cli(&["pack", "--weights", "models/mnist-unet.f32.gsw", "--precision", "int8", "--name", "mnist-unet", "--out", out.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(std::fs::read(&out).unwrap() == std::fs::read("models/mnist-unet.int8.gsw").unwrap(), "re-packed bytes differ from the shipped int8 file");
    let (ok, _, err) = cli(&["pack", "--weights", "README.md", "--name", "x", "--out", tmp("x.gsw").to_str().unwrap()]);
    assert!(!ok && err.contains("README.md: not a gits-sampler weights file"), "{err}");
    let (ok, _, err) = cli(&["pack", "--name", "x", "--out", tmp("y.gsw").to_str().unwrap()]);
    assert!(!ok && err.contains("--checkpoint") && err.contains("--weights"), "{err}");
}

/// Outputs replace the old file whole (a temporary file beside it, then a rename): a longer old
/// file leaves no tail behind, a write that fails leaves the target as it was, and no temporary
/// file stays in the folder either way.
#[test]
fn outputs_replace_the_old_file_whole_or_not_at_all() {
    let dir = std::env::temp_dir().join(format!("gits-cli-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("schedule.json");
    std::fs::write(&out, "x".repeat(100_000)).unwrap();
    let (ok, _, err) = cli(&["schedule", "--steps", "4", "--out", out.to_str().unwrap()]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "{text}");
    // A folder where the file should go: the rename fails, the folder and its content stay.
    let blocked = dir.join("blocked.json");
    std::fs::create_dir_all(blocked.join("inside")).unwrap();
    let (ok, _, err) = cli(&["schedule", "--steps", "4", "--out", blocked.to_str().unwrap()]);
    assert!(!ok && err.contains("cannot write") && err.contains("blocked.json"), "{err}");
    assert!(blocked.join("inside").is_dir());
    let names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "temporary files left: {names:?}");
}

/// Sizes are checked before anything is allocated for them: a KDE of 2^64 - 1 or 10^9 points, a
/// noise file of 3M rows (over the 1M-row batch limit) are refused by name, without a panic or
/// an abort.
#[test]
fn absurd_sizes_are_refused_before_allocating() {
    for n in ["18446744073709551615", "1000000000"] {
        let (ok, _, err) = cli(&["kde", "--set", "moons", "--n", n]);
        assert!(!ok && err.contains("--n") && err.contains("above the limit of 10000"), "{n}: {err}");
    }
    let noise = tmp("huge-noise.json");
    let mut text = String::with_capacity(36 << 20);
    text.push('[');
    for i in 0..3_000_000 {
        text.push_str(if i == 0 { "[0.1,0.2]" } else { ",[0.1,0.2]" });
    }
    text.push(']');
    std::fs::write(&noise, text).unwrap();
    let (ok, _, err) = cli(&["sample", "--solver", "euler", "--nfe", "2", "--denoiser", MODEL, "--noise", noise.to_str().unwrap()]);
    assert!(!ok && err.contains("above the batch limit"), "{err}");
    std::fs::remove_file(&noise).unwrap();
}

/// An ONNX model through the command line: `inspect` says what its card makes of it; `sample`
/// runs a diffusers export as an epsilon model (no card, its scheduler_config.json beside it) and
/// draws the colour grid; a GITS file searched on one ONNX model is refused for another.
#[test]
fn onnx_models_inspect_sample_and_search() {
    let (ok, out, err) = cli(&["inspect", "tests/fixtures/onnx/diffusers-unet/model.onnx"]);
    assert!(ok, "{err}");
    for want in ["sample", "timestep", "out_sample", "int64", "scheduler_config.json", "epsilon", "discrete vp, 1000 timesteps", "rounded to the nearest training timestep", "tract: ready"] {
        assert!(out.contains(want), "inspect lacks {want:?}:\n{out}");
    }
    let (png, json) = (tmp("unet.png"), tmp("unet.json"));
    let (ok, _, err) = cli(&["sample", "--denoiser", "tests/fixtures/onnx/diffusers-unet/model.onnx", "--solver", "dpmpp:2", "--nfe", "4", "--batch", "2", "--png", png.to_str().unwrap(), "--out", json.to_str().unwrap()]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!((v["samples"].as_array().unwrap().len(), v["samples"][0].as_array().unwrap().len(), v["nfe"].as_u64()), (2, 3 * 32 * 32, Some(4)));
    let sigmas: Vec<f64> = serde_json::from_value(v["sigmas"].clone()).unwrap();
    let vp = gits_sampler::vp_discrete::DiscreteVp::ddpm();
    assert_eq!((sigmas[0], *sigmas.last().unwrap()), (vp.range().1, vp.range().0), "the schedule runs over the model's own sigma range");
    assert!((sigmas[0] - 157.4073).abs() < 1e-4 && (sigmas[sigmas.len() - 1] - 0.0100005).abs() < 1e-7, "DDPM's sigma range: {sigmas:?}");
    assert_eq!(&std::fs::read(&png).unwrap()[..8], b"\x89PNG\r\n\x1a\n");

    let gits = tmp("gmm-v.gits.json");
    let (ok, _, err) = cli(&["gits", "--model", "tests/fixtures/onnx/gmm-v.onnx", "--warmup", "16", "--grid", "polynomial:21", "--nfe", "3..5", "--out", gits.to_str().unwrap()]);
    assert!(ok, "{err}");
    let (ok, _, err) = cli(&["sample", "--denoiser", "tests/fixtures/onnx/gmm-v.onnx", "--solver", "ipndm", "--nfe", "4", "--schedule", &format!("gits:{}", gits.display()), "--batch", "4"]);
    assert!(ok, "{err}");
    let (ok, _, err) = cli(&["sample", "--denoiser", "tests/fixtures/onnx/gmm-velocity.onnx", "--solver", "ipndm", "--nfe", "4", "--schedule", &format!("gits:{}", gits.display()), "--batch", "4"]);
    assert!(!ok && err.contains("sha256"), "{err}");
    let (ok, _, err) = cli(&["sample", "--denoiser", "tests/fixtures/onnx/gmm-v.onnx", "--card", "tests/fixtures/onnx/bad/nan-output.card.json", "--solver", "euler", "--nfe", "4"]);
    assert!(!ok && err.contains("not an input of the graph"), "{err}");
    let (ok, _, err) = cli(&["sample", "--denoiser", "tests/fixtures/onnx/mnist-unet.onnx", "--solver", "euler", "--nfe", "4", "--backend", "flex"]);
    assert!(!ok && err.contains("--backend f64"), "{err}");
}

/// `export --model`: a flow-matching model's schedule is written in its own time t = sigma /
/// (1 + sigma) for the other tools, ours stays in sigma; the default range is the model's.
#[test]
fn export_writes_a_flow_models_schedule_in_its_own_time() {
    let flow = "tests/fixtures/onnx/gmm-velocity.onnx";
    let args = |format: &str| ["export", "--model", flow, "--solver", "euler", "--nfe", "4", "--format", format].map(String::from);
    let (ok, ours, err) = cli(&args("json").iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "{err}");
    let sigmas: Vec<f64> = serde_json::from_str(&ours).unwrap();
    assert!((sigmas[0] - 2997.0).abs() < 1e-6 && (sigmas[4] - 0.003003003).abs() < 1e-9, "the flow model's own range: {sigmas:?}");
    let (ok, theirs, err) = cli(&args("kdiffusion").iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok && err.contains("t = sigma / (1 + sigma)"), "{err}");
    let ts: Vec<f64> = serde_json::from_str(&theirs).unwrap();
    assert_eq!(ts.len(), 6);
    for (t, s) in ts.iter().zip(&sigmas) {
        assert!((t - s / (1.0 + s)).abs() < 1e-15, "{t} vs sigma {s}");
    }
    assert_eq!(ts[5], 0.0);
}
