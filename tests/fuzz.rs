//! Hostile input: thousands of mutated inputs per loader, made from the real files by a seeded
//! generator (repeatable, no network, a few seconds in a debug build, where arithmetic overflow
//! panics). Every case must give a clean error or a valid result: no panic, and nothing
//! non-finite accepted or produced. `cargo test --test fuzz -- --nocapture` prints the table of
//! issue-style counts per loader.

use gits_sampler::denoiser::DenoiserSpec;
use gits_sampler::gits::GitsFile;
use gits_sampler::io::parse_batch;
use gits_sampler::model::Model;
use gits_sampler::plan::{Plan, execute};
use gits_sampler::schedule::{resample_loglinear, validate_sigmas};
use gits_sampler::solver::{CompileOptions, Solver};
use gits_sampler::{Result, tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::cell::RefCell;
use std::sync::Once;

/// What one case came to.
enum Outcome {
    Error,
    Valid,
    /// Accepted, but something it produced is not finite.
    NonFinite(String),
}

#[derive(Default)]
struct Tally {
    cases: usize,
    errors: usize,
    valid: usize,
    panics: Vec<String>,
    non_finite: Vec<String>,
}

thread_local! {
    /// The last panic message on this thread (the tests run on threads of their own).
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `check` on every input, counting outcomes; a panic is caught and recorded with its case.
fn fuzz<T>(name: &str, inputs: Vec<(String, T)>, check: impl Fn(&T) -> Outcome) -> Tally {
    // One hook for the whole binary: it keeps the message instead of printing thousands.
    static HOOK: Once = Once::new();
    HOOK.call_once(|| std::panic::set_hook(Box::new(|info| PANIC.with(|p| *p.borrow_mut() = Some(info.to_string())))));
    let mut t = Tally::default();
    for (case, input) in &inputs {
        t.cases += 1;
        match catch_unwind(AssertUnwindSafe(|| check(input))) {
            Ok(Outcome::Error) => t.errors += 1,
            Ok(Outcome::Valid) => t.valid += 1,
            Ok(Outcome::NonFinite(what)) => t.non_finite.push(format!("{case}: {what}")),
            Err(_) => t.panics.push(format!("{case}: {}", PANIC.with(|p| p.borrow_mut().take()).unwrap_or_default())),
        }
    }
    println!("| {name} | {} | {} | {} | {} | {} |", t.cases, t.errors, t.valid, t.panics.len(), t.non_finite.len());
    t
}

fn assert_clean(t: Tally) {
    let bad: Vec<&String> = t.panics.iter().chain(&t.non_finite).take(10).collect();
    assert!(bad.is_empty(), "{} panics, {} non-finite results, e.g.:\n{}", t.panics.len(), t.non_finite.len(), bad.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"));
}

fn outcome<T>(r: Result<T>, finite: impl FnOnce(T) -> std::result::Result<(), String>) -> Outcome {
    match r {
        Err(e) => {
            assert!(!e.0.is_empty(), "an error without a message");
            Outcome::Error
        }
        Ok(v) => match finite(v) {
            Ok(()) => Outcome::Valid,
            Err(what) => Outcome::NonFinite(what),
        },
    }
}

fn all_finite(what: &str, v: &[f64]) -> std::result::Result<(), String> {
    match v.iter().find(|x| !x.is_finite()) {
        Some(x) => Err(format!("{what} holds {x}")),
        None => Ok(()),
    }
}

/// Numbers and values that break naive loaders: overflowing sizes, extreme floats, wrong types.
fn extremes() -> Vec<Value> {
    let n = |v: f64| Value::from(v);
    vec![
        Value::from(0),
        Value::from(-1),
        Value::from(1),
        Value::from(u64::MAX),
        Value::from(u32::MAX),
        Value::from(i64::MIN),
        Value::from(1u64 << 33),
        Value::from(100_000_000u64),
        n(1e308),
        n(-1e308),
        n(1e-308),
        n(5e-324),
        n(0.5),
        n(-0.0),
        Value::Null,
        Value::Bool(true),
        Value::from("x"),
        Value::from("\u{00e9}\u{1F600}"),
        Value::Array(vec![]),
        Value::Object(Default::default()),
    ]
}

/// Paths (object keys and array indices) to every value of a JSON document.
fn paths(v: &Value, at: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| {
            at.push(k.clone().into());
            paths(c, at, out);
            at.pop();
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| {
            at.push(i.into());
            paths(c, at, out);
            at.pop();
        }),
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |v, k| match k {
        Value::String(k) => &mut v[k.as_str()],
        k => &mut v[k.as_u64().unwrap() as usize],
    })
}

/// JSON documents made from `doc`: a value replaced by each extreme, a key removed, an array
/// emptied or an element repeated, `count` of them chosen at random.
fn json_edits(doc: &Value, count: usize, rng: &mut StdRng) -> Vec<(String, Value)> {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    let extremes = extremes();
    (0..count)
        .map(|_| {
            let path = &all[rng.random_range(0..all.len())];
            let mut edited = doc.clone();
            let name = serde_json::to_string(path).unwrap();
            let what = match rng.random_range(0..10) {
                0 if !path.is_empty() => {
                    let (last, parent) = path.split_last().unwrap();
                    match (get_mut(&mut edited, parent), last) {
                        (Value::Object(m), Value::String(k)) => _ = m.remove(k),
                        (Value::Array(a), Value::Number(i)) => _ = a.remove(i.as_u64().unwrap() as usize),
                        _ => {}
                    }
                    "removed".to_string()
                }
                1 => match get_mut(&mut edited, path) {
                    Value::Array(a) if !a.is_empty() => {
                        let copy = a[rng.random_range(0..a.len())].clone();
                        let times = rng.random_range(1..4) * a.len();
                        a.extend(std::iter::repeat_n(copy, times));
                        format!("one element repeated {times} times")
                    }
                    v => {
                        *v = Value::Array(vec![v.clone(); 3]);
                        "wrapped in an array".into()
                    }
                },
                _ => {
                    let x = extremes[rng.random_range(0..extremes.len())].clone();
                    let what = format!("= {x}");
                    *get_mut(&mut edited, path) = x;
                    what
                }
            };
            (format!("{name} {what}"), edited)
        })
        .collect()
}

/// Text made from `text`: truncated at `cuts` evenly spread lengths, and `flips` characters
/// replaced by JSON punctuation or digits.
fn text_mutations(text: &str, cuts: usize, flips: usize, rng: &mut StdRng) -> Vec<(String, String)> {
    let bytes = text.as_bytes();
    let mut out: Vec<(String, String)> = (0..cuts)
        .map(|i| i * bytes.len() / cuts)
        .map(|n| (format!("truncated to {n} bytes"), String::from_utf8_lossy(&bytes[..n]).into_owned()))
        .collect();
    let alphabet = b"0123456789.-+eE\"',:[]{} nult\\";
    for _ in 0..flips {
        let mut b = bytes.to_vec();
        let at = rng.random_range(0..b.len());
        b[at] = alphabet[rng.random_range(0..alphabet.len())];
        out.push((format!("byte {at} = {:?}", b[at] as char), String::from_utf8_lossy(&b).into_owned()));
    }
    out
}

/// All text and JSON mutations of a document, as text.
fn mutations(text: &str, edits: usize, seed: u64) -> Vec<(String, String)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let doc: Value = serde_json::from_str(text).unwrap();
    let mut all = text_mutations(text, 300, 700, &mut rng);
    all.extend(json_edits(&doc, edits, &mut rng).into_iter().map(|(c, v)| (c, v.to_string())));
    all
}

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn gmm() -> DenoiserSpec {
    DenoiserSpec::from_json(&read("models/eight-gaussians.gmm.json")).unwrap()
}

#[test]
fn plan_files() {
    let den = gmm();
    let z = gits_sampler::noise::standard_normal(0, 4, den.dim());
    assert_clean(fuzz("plan", mutations(&read("tests/fixtures/ipndm-10.plan.json"), 2000, 1), |text| {
        outcome(Plan::from_json(text).and_then(|p| execute(&p, z.clone(), &den, false)), |run| all_finite("the sample", &run.sample))
    }));
}

#[test]
fn gits_files() {
    let den = gmm();
    let z = gits_sampler::noise::standard_normal(0, 2, den.dim());
    assert_clean(fuzz("GITS file", mutations(&read("schedules/eight-gaussians.gits.json"), 2000, 2), |text| {
        let run = GitsFile::load(text, None).and_then(|f| {
            let s = &f.schedules[0];
            let (sigmas, _) = f.sigmas_for(&Solver::Euler, s.steps as u32, false, Some(s.afs), Some(s.gamma))?;
            execute(&Solver::Euler.compile(&sigmas, &CompileOptions::PLAIN)?, z.clone(), &den, false)
        });
        outcome(run, |run| all_finite("the sample", &run.sample))
    }));
}

#[test]
fn noise_files() {
    assert_clean(fuzz("noise", mutations(&read("tests/fixtures/noise-64x2.json"), 1500, 3), |text| {
        outcome(parse_batch(text), |(z, _)| all_finite("the noise", &z))
    }));
}

#[test]
fn denoiser_files() {
    let mut inputs = mutations(&read("models/eight-gaussians.gmm.json"), 1500, 4);
    inputs.extend(mutations(&read("models/toy-moons.kde.json"), 1000, 5));
    assert_clean(fuzz("denoiser JSON", inputs, |text| {
        let checked = DenoiserSpec::from_json(text).and_then(|spec| {
            let z = gits_sampler::noise::standard_normal(0, 3, spec.dim());
            let mut out = Vec::new();
            for sigma in [80.0, 1.0, 0.002] {
                let x: Vec<f64> = z.iter().map(|v| v * sigma).collect();
                out.extend(gits_sampler::plan::Denoiser::denoise(&spec, &x, sigma)?);
            }
            Ok(out)
        });
        outcome(checked, |d| all_finite("D(x; sigma)", &d))
    }));
}

#[test]
fn sigma_lists() {
    let den = gmm();
    let z = gits_sampler::noise::standard_normal(0, 2, den.dim());
    let list = serde_json::to_string(&gits_sampler::schedule::Schedule::Polynomial { rho: 7.0 }.sigmas(12, 0.002, 80.0).unwrap()).unwrap();
    assert_clean(fuzz("sigma lists", mutations(&list, 1500, 6), |text| {
        let run = serde_json::from_str::<Vec<f64>>(text).map_err(|e| gits_sampler::Error(e.to_string())).and_then(|sigmas| {
            validate_sigmas(&sigmas).map_err(gits_sampler::Error)?;
            let resampled = resample_loglinear(&sigmas, 6).map_err(gits_sampler::Error)?;
            let ipndm = Solver::Ipndm { max_order: 4 };
            execute(&ipndm.compile(&resampled, &CompileOptions::PLAIN)?, z.clone(), &den, false)
        });
        outcome(run, |run| all_finite("the sample", &run.sample))
    }));
}

/// Sigma lists as other tools write them (`sigma_text::import`): each notation cut short, bytes
/// flipped, and characters the parser treats specially (brackets, '=', letters, line breaks,
/// multibyte) inserted anywhere; whatever imports must sample finitely.
#[test]
fn imported_sigma_text() {
    use gits_sampler::sigma_text::{FinalSigma, import};
    let den = gmm();
    let z = gits_sampler::noise::standard_normal(0, 2, den.dim());
    let texts = ["tensor([14.6146, 6.0650,\n 2.4627, 0.0292, 0.0000], device='cuda:0')", "sigmas=[14.61, 6.07, 2.46, 0.5]", "timesteps=[999, 749, 499, 249]", "14.61, 6.07, 2.46, 0", "[80, 10, 1, 0.1, 0.002]"];
    let special: Vec<char> = "()[]=,:. \n\téx∞-+e0".chars().collect();
    let mut rng = StdRng::seed_from_u64(9);
    let mut inputs = Vec::new();
    for text in texts {
        inputs.extend(text_mutations(text, 60, 200, &mut rng));
        for _ in 0..240 {
            let mut chars: Vec<char> = text.chars().collect();
            let (at, c) = (rng.random_range(0..=chars.len()), special[rng.random_range(0..special.len())]);
            chars.insert(at, c);
            inputs.push((format!("{c:?} inserted at {at}"), chars.into_iter().collect()));
        }
    }
    assert_clean(fuzz("imported sigma text", inputs, |text| {
        let run = import(text, FinalSigma::SigmaMin(0.002)).and_then(|got| execute(&Solver::Euler.compile(&got.sigmas, &CompileOptions::PLAIN)?, z.clone(), &den, false));
        outcome(run, |run| all_finite("the sample", &run.sample))
    }));
}

/// The weights file: its manifest edited (and re-framed with the right length, so the edits
/// reach the checks behind the JSON parser), the frame's length field, truncation, byte flips.
#[test]
fn weights_files() {
    let bytes = std::fs::read(format!("{}/models/toy-moons.int8.gsw", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let (manifest, payload) = (&bytes[12..12 + len], &bytes[12 + len..]);
    let frame = |m: &[u8], declared: u32| -> Vec<u8> { [&b"GITSWTS1"[..], &declared.to_le_bytes(), m, payload].concat() };
    let mut rng = StdRng::seed_from_u64(7);
    let mut inputs: Vec<(String, Vec<u8>)> = (0..400).map(|i| i * bytes.len() / 400).map(|n| (format!("truncated to {n}"), bytes[..n].to_vec())).collect();
    inputs.extend((0..64).map(|n| (format!("truncated to {n}"), bytes[..n].to_vec())));
    for declared in [0, 1, len as u32 - 1, len as u32 + 1, u32::MAX, u32::MAX - 11, 1 << 31] {
        inputs.push((format!("manifest length {declared}"), frame(manifest, declared)));
    }
    for _ in 0..600 {
        let mut b = bytes.clone();
        let at = rng.random_range(0..b.len());
        b[at] = rng.random();
        inputs.push((format!("byte {at} = {}", b[at]), b));
    }
    let doc: Value = serde_json::from_slice(manifest).unwrap();
    for (case, edited) in json_edits(&doc, 2500, &mut rng) {
        let m = edited.to_string().into_bytes();
        inputs.push((format!("manifest {case}"), frame(&m, m.len() as u32)));
    }
    let device = burn::prelude::Device::flex();
    inputs.push(("the file itself".into(), bytes.clone()));
    let weights = fuzz("weights (.gsw)", inputs, |b| {
        let checked = Model::from_bytes("fuzz.gsw", b, &device).and_then(|model| {
            let den = model.denoiser(&[0, 0], 1.0)?;
            let x = tensor::to_tensor(&[0.3, -0.2, 5.0, 1.0], 2, model.device());
            let d = gits_sampler::plan::Denoiser::denoise(&den, &x, 1.0)?;
            Ok(tensor::read(d)?.into_iter().map(f64::from).collect::<Vec<_>>())
        });
        outcome(checked, |d| all_finite("D(x; 1)", &d))
    });
    assert!(weights.valid >= 1, "the unmodified file must load");
    assert_clean(weights);
}

/// The CLI's numeric and enum arguments with extreme values: each run ends with a clean exit
/// (0, or 1 / 2 with a message), never a panic, a signal or a hang, and whatever it prints
/// holds no NaN.
#[test]
fn arguments() {
    let ints = ["0", "1", "-1", "4294967295", "18446744073709551615", "18446744073709551616", "100000000", "0x10", " 7", "1e3", "NaN", ""];
    let floats = ["0", "-1", "1e308", "-1e308", "NaN", "inf", "-inf", "1e-320", "5e-324", "0x10", "1e5", "100001", ""];
    let solvers = ["ipndm:99", "ipndm:0", "dpm2:1e308", "dpm2:NaN", "ddim_eta:-1", "unipc:18446744073709551616", "deis:", "<b>", "", "dpmpp_sde:NaN", "euler_churn:1e308", "dpmpp_3m_sde:2:2"];
    let schedules = ["beta:{}", "beta:0.6:{}", "linear_quadratic:{}", "flow_shift:{}", "flow_shift_mu:{}"];
    let gmm = "gmm:models/eight-gaussians.gmm.json";
    let sample = ["sample", "--solver", "euler", "--denoiser", gmm, "--nfe", "4", "--batch", "2"];
    let mlp = ["sample", "--solver", "euler", "--denoiser", "models/toy-moons.int8.gsw", "--backend", "flex", "--nfe", "4", "--batch", "2"];
    let gits = ["gits", "--model", gmm, "--warmup", "4", "--nfe", "2..4", "--grid", "polynomial:11"];
    let mut templates: Vec<(Vec<&str>, &[&str])> = vec![
        (vec!["schedule", "--steps", "{}"], &ints),
        (vec!["schedule", "--steps", "10", "--sigma-max", "{}"], &floats),
        (vec!["schedule", "--steps", "10", "--sigma-min", "{}"], &floats),
        (vec!["schedule", "--kind", "polynomial:{}", "--steps", "10"], &floats),
        (vec!["schedule", "--timesteps", "{},0"], &ints),
        (vec!["schedule", "--kind", "simple", "--steps", "{}"], &ints),
        (vec!["schedule", "--kind", "ddim_uniform", "--steps", "{}"], &ints),
        (vec!["sample", "--solver", "dpmpp_sde", "--step-noise", "brownian", "--denoiser", gmm, "--nfe", "8", "--batch", "2", "--seed", "{}"], &ints),
        (vec!["plan", "--solver", "euler", "--nfe", "{}"], &ints),
        (vec!["plan", "--solver", "euler", "--nfe", "{}", "--afs"], &ints),
        (vec!["plan", "--solver", "{}", "--nfe", "10"], &solvers),
        (vec!["plan", "--solver", "heun", "--nfe", "9", "--sigma-max", "{}"], &floats),
        ([&sample[..], &["--batch", "{}"]].concat(), &ints),
        ([&sample[..], &["--nfe", "{}"]].concat(), &ints),
        ([&sample[..], &["--seed", "{}"]].concat(), &ints),
        ([&sample[..], &["--sigma-max", "{}"]].concat(), &floats),
        ([&mlp[..], &["--guidance", "{}"]].concat(), &floats),
        ([&mlp[..], &["--class", "{}"]].concat(), &ints),
        ([&gits[..], &["--grid", "polynomial:{}"]].concat(), &ints),
        ([&gits[..], &["--warmup", "{}"]].concat(), &ints),
        ([&gits[..], &["--gamma", "{}"]].concat(), &floats),
        ([&gits[..], &["--nfe", "1..{}"]].concat(), &ints),
    ];
    for kind in schedules {
        templates.push((vec!["schedule", "--steps", "10", "--kind", kind], &floats));
        templates.push(([&sample[..], &["--schedule", kind]].concat(), &floats));
    }
    // A later flag overrides an earlier one with clap only for some; drop the duplicates.
    for (args, _) in &mut templates {
        if let Some(at) = args.iter().position(|a| a.contains("{}")) {
            let flag = args[at - 1];
            if let Some(first) = args[..at - 1].iter().position(|a| *a == flag) {
                args.drain(first..first + 2);
            }
        }
    }
    let inputs: Vec<(String, Vec<String>)> = templates
        .iter()
        .flat_map(|(args, values)| values.iter().map(move |v| args.iter().map(|a| a.replace("{}", v)).collect::<Vec<String>>()))
        .map(|args| (args.join(" "), args))
        .collect();
    assert_clean(fuzz("arguments", inputs, |args| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gits-sampler"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed().as_secs() > 60 {
                child.kill().unwrap();
                return Outcome::NonFinite("still running after 60 s".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        match out.status.code() {
            _ if stderr.contains("panicked") => panic!("{stderr}"),
            None => panic!("killed by a signal: {stderr}"),
            Some(0) if stdout.contains("NaN") || stdout.contains("null") => Outcome::NonFinite(format!("printed {}", &stdout[..stdout.len().min(200)])),
            Some(0) => Outcome::Valid,
            Some(1 | 2) if stderr.trim().len() > 10 => Outcome::Error,
            Some(code) => panic!("exit {code} with: {stderr}"),
        }
    }));
}

/// The harness itself: a panic in a case is caught, counted and kept with its message.
#[test]
fn the_harness_catches_and_names_a_panic() {
    let t = fuzz("self test", vec![("fine".to_string(), 1), ("boom".to_string(), 0)], |&v| if v == 0 { panic!("deliberate") } else { Outcome::Valid });
    assert_eq!((t.cases, t.valid, t.panics.len()), (2, 1, 1));
    assert!(t.panics[0].starts_with("boom: ") && t.panics[0].contains("deliberate"), "{:?}", t.panics);
}
