//! The whole wasm-bindgen surface. Nothing else in the crate knows about JavaScript.
//!
//! Every entry point validates its input before any tensor work and turns errors into rejected
//! promises or thrown `Error`s with the message; no Rust panic is meant to reach JS.

use crate::gits::{GitsFile, OptimalSteps, Propagation, Refine, Search, SearchConfig, parse_grid};
use crate::model;
use crate::onnx::binding::{DType, Dim, TensorDecl};
use crate::onnx::external::{External, RunFn};
use crate::onnx::{Card, Graph, proto};
use crate::plan::{self, AsyncDenoiser, Denoiser, Ready, execute_async};
use crate::schedule::Schedule;
use crate::sigma_text::{self, FinalSigma};
use crate::solver::{CompileOptions, REFERENCE_NFE, SamplingSpec, Solver, TEACHER_NFE};
use crate::tensor::{read_all, to_tensor};
use crate::{Error, Result, noise};
use burn::prelude::{Device, Tensor};
use serde::Serialize;
use js_sys::{Float32Array, Float64Array, Object, Reflect};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

fn js_err(e: Error) -> JsError {
    JsError::new(&e.0)
}

/// Where sampling runs: the device and a sentence a person can read.
#[derive(Clone)]
struct Backend {
    device: Device,
    kind: &'static str,
    description: String,
}

#[cfg(not(any(feature = "webgpu", feature = "cpu")))]
compile_error!("the wasm build needs a backend: --features webgpu or --features cpu");

#[cfg(feature = "webgpu")]
thread_local! {
    // The wgpu runtime may be initialised once per page: keep its outcome.
    static WEBGPU: RefCell<Option<std::result::Result<Backend, String>>> = const { RefCell::new(None) };
}

#[cfg(feature = "webgpu")]
fn has_navigator_gpu() -> bool {
    let global = js_sys::global();
    Reflect::get(&global, &"navigator".into())
        .ok()
        .filter(|n| !n.is_undefined())
        .and_then(|n| Reflect::get(&n, &"gpu".into()).ok())
        .is_some_and(|gpu| !gpu.is_undefined() && !gpu.is_null())
}

#[cfg(feature = "webgpu")]
async fn init_webgpu() -> std::result::Result<Backend, String> {
    if !has_navigator_gpu() {
        return Err("this browser exposes no WebGPU (navigator.gpu is missing)".into());
    }
    match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            // Browsers often leave these empty; the page adds what the browser says of its adapter.
            let info = setup.adapter.get_info();
            let words: Vec<&str> = [info.name.as_str(), info.driver.as_str(), info.driver_info.as_str()].into_iter().filter(|s| !s.is_empty()).collect();
            let description = if words.is_empty() { "WebGPU".to_string() } else { format!("WebGPU: {}", words.join(" ")) };
            Ok(Backend { device, kind: "webgpu", description })
        }
        Err(e) => Err(format!("no usable WebGPU adapter: {e}")),
    }
}

/// Samples from a denoiser by running solver plans on WebGPU or, without it, on the CPU.
#[wasm_bindgen]
pub struct Sampler {
    backend: Backend,
}

#[wasm_bindgen]
impl Sampler {
    /// A sampler on WebGPU; rejects with the reason when there is no usable adapter (the page
    /// then loads the CPU module and calls `Sampler.cpu(reason)`).
    pub async fn webgpu() -> std::result::Result<Sampler, JsError> {
        #[cfg(feature = "webgpu")]
        {
            let cached = WEBGPU.with(|w| w.borrow().clone());
            let outcome = match cached {
                Some(outcome) => outcome,
                None => {
                    let outcome = init_webgpu().await;
                    WEBGPU.with(|w| *w.borrow_mut() = Some(outcome.clone()));
                    outcome
                }
            };
            outcome.map(|backend| Sampler { backend }).map_err(|why| JsError::new(&why))
        }
        #[cfg(not(feature = "webgpu"))]
        Err(JsError::new("this is the CPU module of gits-sampler; WebGPU is in gits_sampler_webgpu.js"))
    }

    /// A sampler on the CPU (burn flex); `why` says why not WebGPU, for the page to show.
    pub fn cpu(why: &str) -> std::result::Result<Sampler, JsError> {
        #[cfg(feature = "cpu")]
        {
            Ok(Sampler { backend: Backend { device: Device::flex(), kind: "cpu", description: format!("CPU fallback (burn flex): {why}") } })
        }
        #[cfg(not(feature = "cpu"))]
        {
            let _ = why;
            Err(JsError::new("this is the WebGPU module of gits-sampler; the CPU backend is in gits_sampler_cpu.js"))
        }
    }

    /// "webgpu" or "cpu".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.kind.into()
    }

    /// The adapter in use, or why sampling fell back to the CPU.
    #[wasm_bindgen(getter)]
    pub fn description(&self) -> String {
        self.backend.description.clone()
    }

    /// Reads a model onto this sampler's device: a weights file (f32 or int8; int8 is
    /// dequantized here) or an analytic denoiser's JSON. `id` names it (its URL) in GITS files.
    #[wasm_bindgen(js_name = loadModel)]
    pub fn load_model(&self, bytes: &[u8], id: &str) -> std::result::Result<Model, JsError> {
        Ok(Model(Rc::new(model::Model::from_bytes(id, bytes, &self.backend.device).map_err(js_err)?)))
    }

    /// Runs `plan` on `model` from standard-normal `noise` (row-major [batch, dim]); `labels`
    /// holds one class per sample for networks with classes (the class count means
    /// unconditional; empty otherwise), `guidance` the classifier-free guidance scale; `seed`
    /// seeds the step noise of stochastic solvers: row r is sample `firstRow` + r of the seed, so
    /// a batch split over workers samples as one. Resolves to `{ dim, batch, nfe, samples,
    /// stepSigmas, steps, evalSigmas, evals }`: `steps` holds x at every step and `evals` every
    /// denoiser output, each [count, batch, dim] flattened. `onEval(done, nfe)` is called after
    /// each evaluation is issued (on WebGPU the device may still be running it).
    #[allow(clippy::too_many_arguments)]
    pub fn sample(&self, plan: &Plan, model: &Model, noise: Vec<f64>, labels: Vec<u32>, guidance: f64, seed: Option<u64>, first_row: Option<u32>, on_eval: Option<js_sys::Function>) -> js_sys::Promise {
        let first = first_row.unwrap_or(0) as u64;
        let rows = (noise.len() / model.0.dim().max(1)) as u64;
        let seeds = noise::sample_seeds(seed.unwrap_or(0), first..first + rows);
        if model.0.as_onnx().is_some() {
            let (plan, model) = (plan.0.clone(), model.0.clone());
            return wasm_bindgen_futures::future_to_promise(async move {
                run_onnx(&plan, &model, noise, &labels, guidance, &seeds, on_eval).await.map_err(|e| JsValue::from(js_err(e)))
            });
        }
        let prepared = self.prepare(plan, model, &noise, &labels, guidance);
        let (plan, model, device) = (plan.0.clone(), model.0.clone(), self.backend.device.clone());
        wasm_bindgen_futures::future_to_promise(async move {
            let denoiser = prepared.map_err(|e| JsValue::from(js_err(e)))?;
            run(&device, &plan, &denoiser, model.dim(), &noise, &seeds, on_eval).await.map_err(|e| JsValue::from(js_err(e)))
        })
    }

    fn prepare(&self, plan: &Plan, model: &Model, noise: &[f64], labels: &[u32], guidance: f64) -> Result<crate::denoiser::TensorDenoiser> {
        let m = &model.0;
        if *m.device() != self.backend.device {
            crate::bail!("the model was loaded by a sampler on another device; load it with this sampler");
        }
        let (_, labels) = check_request(&plan.0, m, noise, labels)?;
        m.denoiser(&labels, guidance)
    }

    /// Reads an ONNX model run by `run` (onnxruntime-web): `run(feeds, output)` gets `[{ name,
    /// type, dims, data }]` (type an onnxruntime-web tensor type, data its typed array) and the
    /// output's name, and resolves to that output's Float32Array or Float64Array. The card is `card` (JSON), else the one
    /// in the file's metadata_props, else `scheduler_config` (a diffusers
    /// scheduler_config.json). `id` names the model in GITS files; its sha256 is the file's.
    #[wasm_bindgen(js_name = loadOnnx)]
    pub fn load_onnx(&self, bytes: &[u8], id: &str, card: Option<String>, scheduler_config: Option<String>, run: js_sys::Function) -> std::result::Result<Model, JsError> {
        let load = || -> Result<model::Model> {
            let card = card.as_deref().map(|t| Card::from_json(t).map(|c| (c, "the card given".to_string()))).transpose()?;
            let fallback = scheduler_config.as_deref().map(|t| Card::diffusers(t).map(|c| (c, "the scheduler_config.json given".to_string())));
            let external = External::new(bytes, card, fallback, js_runner(run))?;
            Ok(model::Model::onnx(id, crate::hash::sha256_hex(bytes), external, &self.backend.device))
        };
        Ok(Model(Rc::new(load().map_err(|e| js_err(Error(format!("{id}: {e}"))))?)))
    }
}

/// An ONNX file's declared inputs and outputs and whether its metadata_props hold a card:
/// `{ inputs, outputs: [{ name, type, shape }], metadataCard }` (shape entries: a number or the
/// name of a symbolic dimension; `type` as ONNX names it). The page asks for a card when there
/// is none.
#[wasm_bindgen(js_name = inspectOnnx)]
pub fn inspect_onnx(bytes: &[u8]) -> std::result::Result<JsValue, JsError> {
    let (sig, metadata) = proto::read_interface(bytes).map_err(js_err)?;
    let decl = |t: &TensorDecl| {
        let shape: Option<Vec<serde_json::Value>> = t.dims.as_ref().map(|d| d.iter().map(|d| match d {
            Dim::Fixed(n) => (*n).into(),
            Dim::Symbol(s) => s.as_str().into(),
        }).collect());
        serde_json::json!({ "name": t.name, "type": t.dtype.name(), "shape": shape })
    };
    let info = serde_json::json!({
        "inputs": sig.inputs.iter().map(decl).collect::<Vec<_>>(),
        "outputs": sig.outputs.iter().map(decl).collect::<Vec<_>>(),
        "metadataCard": Card::from_metadata(&metadata).ok().flatten().is_some(),
    });
    info.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&format!("cannot return the interface: {e}")))
}

/// `run` (see `Sampler.loadOnnx`) as the crate's runner: feeds out as typed arrays, the output in.
fn js_runner(run: js_sys::Function) -> RunFn {
    Box::new(move |feeds, output| {
        let (run, output) = (run.clone(), JsValue::from(output));
        Box::pin(async move {
            let fail = |what: &str, e: JsValue| Error(format!("{what}: {}", e.as_string().or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message()))).unwrap_or_else(|| format!("{e:?}"))));
            let list = js_sys::Array::new();
            for f in feeds {
                let (kind, data): (&str, JsValue) = match f.dtype {
                    DType::F64 => ("float64", Float64Array::from(&f.values[..]).into()),
                    DType::I64 => ("int64", js_sys::BigInt64Array::from(&f.values.iter().map(|&v| v.round() as i64).collect::<Vec<_>>()[..]).into()),
                    DType::I32 => ("int32", js_sys::Int32Array::from(&f.values.iter().map(|&v| v.round() as i32).collect::<Vec<_>>()[..]).into()),
                    _ => ("float32", Float32Array::from(&f.values.iter().map(|&v| v as f32).collect::<Vec<_>>()[..]).into()),
                };
                let feed = Object::new();
                let dims = js_sys::Array::new();
                f.shape.iter().for_each(|&d| _ = dims.push(&(d as u32).into()));
                for (k, v) in [("name", JsValue::from(f.name.as_str())), ("type", kind.into()), ("dims", dims.into()), ("data", data)] {
                    Reflect::set(&feed, &k.into(), &v).map_err(|e| fail("cannot build a feed", e))?;
                }
                list.push(&feed);
            }
            let promise = run.call2(&JsValue::NULL, &list, &output).map_err(|e| fail("the model failed to run", e))?;
            let out = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&promise)).await.map_err(|e| fail("the model failed to run", e))?;
            if let Some(a) = out.dyn_ref::<Float32Array>() {
                Ok(a.to_vec().into_iter().map(f64::from).collect())
            } else if let Some(a) = out.dyn_ref::<Float64Array>() {
                Ok(a.to_vec())
            } else {
                crate::bail!("the model's output is not a float32 or float64 tensor")
            }
        })
    })
}

/// A loaded model (analytic or a network) on a sampler's device; shared with the GITS
/// searches that run on it.
#[wasm_bindgen]
pub struct Model(Rc<model::Model>);

#[wasm_bindgen]
impl Model {
    /// Values per sample (784 for 28x28 digits).
    #[wasm_bindgen(getter)]
    pub fn dim(&self) -> usize {
        self.0.dim()
    }

    /// Number of classes (0: unconditional); label `classes` is the null class.
    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> usize {
        self.0.classes()
    }

    /// One sample's shape: [C, H, W] for images, [D] otherwise.
    #[wasm_bindgen(getter, js_name = sampleShape)]
    pub fn sample_shape(&self) -> Vec<u32> {
        self.0.sample_shape().into_iter().map(|d| d as u32).collect()
    }

    /// The data's value range [low, high] (for drawing samples).
    #[wasm_bindgen(getter, js_name = dataRange)]
    pub fn data_range(&self) -> Vec<f64> {
        self.0.data_range().to_vec()
    }

    /// For an ONNX model, `{ card, cardSource, description }`: the card it runs with (JSON),
    /// where it came from, and what the card makes of the graph in lines; undefined otherwise.
    #[wasm_bindgen(getter)]
    pub fn onnx(&self) -> JsValue {
        let Some(g) = self.0.as_onnx() else { return JsValue::UNDEFINED };
        let info = serde_json::json!({
            "card": serde_json::to_string_pretty(g.card()).unwrap_or_default(),
            "cardSource": g.card_source(),
            "description": g.binding().describe(),
        });
        info.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::UNDEFINED)
    }

    /// sha256 of the file (the model id of GITS schedule files).
    #[wasm_bindgen(getter)]
    pub fn sha256(&self) -> String {
        self.0.sha256().into()
    }

    /// Compiles `solver` over a schedule family with `nfe` evaluations, over this model's sigma
    /// range (`to_zero`: end with a step to sigma = 0; `afs`: analytic first step).
    pub fn plan(&self, solver: &str, schedule: &str, nfe: u32, to_zero: bool, afs: bool) -> std::result::Result<Plan, JsError> {
        let solver: Solver = solver.parse().map_err(js_err)?;
        let schedule: Schedule = schedule.parse().map_err(|e: String| js_err(Error(e)))?;
        let (sigma_min, sigma_max) = self.0.sigma_range();
        let spec = SamplingSpec { solver, schedule, nfe, sigma_min, sigma_max, to_zero, afs };
        Ok(Plan(Rc::new(spec.plan_on(Some(&self.0.model_sigmas())).map_err(js_err)?)))
    }

    /// The sigma range the model samples over (its schedules run from sigmaMax to sigmaMin).
    #[wasm_bindgen(getter, js_name = sigmaMin)]
    pub fn sigma_min(&self) -> f64 {
        self.0.sigma_range().0
    }

    #[wasm_bindgen(getter, js_name = sigmaMax)]
    pub fn sigma_max(&self) -> f64 {
        self.0.sigma_range().1
    }

    /// Compiles `solver` over a sigma list (strictly decreasing; only the last may be 0).
    #[wasm_bindgen(js_name = planOn)]
    pub fn plan_on(&self, solver: &str, sigmas: Vec<f64>, afs: bool) -> std::result::Result<Plan, JsError> {
        let solver: Solver = solver.parse().map_err(js_err)?;
        Ok(Plan(Rc::new(solver.compile(&sigmas, &CompileOptions::afs(afs)).map_err(js_err)?)))
    }

    /// The plan of the teacher that compare mode measures L2 against (`eval`'s teacher).
    #[wasm_bindgen(js_name = teacherPlan)]
    pub fn teacher_plan(&self) -> std::result::Result<Plan, JsError> {
        self.teacher(TEACHER_NFE)
    }

    /// Whether the denoiser is exact (a Gaussian mixture or KDE), not a trained network.
    #[wasm_bindgen(getter)]
    pub fn exact(&self) -> bool {
        self.0.spec().is_some()
    }

    /// The kernel MMD of `samples` (row-major, f32 as the page holds them) to this exact model's
    /// distribution at noise level `sigma` (the schedule's last; 0 for the data itself): the
    /// distance compare mode shows for stochastic samplers (`distance::mmd_to_mixture`).
    #[wasm_bindgen(js_name = mmdToExact)]
    pub fn mmd_to_exact(&self, samples: Vec<f32>, sigma: f64) -> std::result::Result<f64, JsError> {
        let spec = self.0.spec().ok_or_else(|| JsError::new("only exact models (a Gaussian mixture or a point set) have a distribution to measure against"))?;
        let dim = spec.dim();
        if samples.len() < 2 * dim || samples.len() % dim != 0 || !(sigma.is_finite() && sigma >= 0.0) {
            return Err(JsError::new(&format!("mmdToExact needs two or more {dim}-dimensional samples and a sigma >= 0, got {} numbers and sigma {sigma}", samples.len())));
        }
        let x: Vec<f64> = samples.into_iter().map(f64::from).collect();
        Ok(crate::distance::mmd_to_mixture(&x, dim, &spec.marginal(sigma)))
    }

    /// What the schedule lab measures against: for exact models a 200-NFE solve of their ODE,
    /// for networks the 60-NFE teacher (iPNDM, polynomial rho 7, both).
    #[wasm_bindgen(js_name = referencePlan)]
    pub fn reference_plan(&self) -> std::result::Result<Plan, JsError> {
        self.teacher(if self.exact() { REFERENCE_NFE } else { TEACHER_NFE })
    }

    fn teacher(&self, nfe: u32) -> std::result::Result<Plan, JsError> {
        let (sigma_min, sigma_max) = self.0.sigma_range();
        Ok(Plan(Rc::new(SamplingSpec::teacher(nfe, sigma_min, sigma_max).plan().map_err(js_err)?)))
    }

    /// Reads a sigma list as ComfyUI, diffusers or k-diffusion write it (`sigma_text::import`);
    /// `zero_to_sigma_min`: a final 0 becomes this model's sigma_min. Returns `{ sigmas,
    /// notation, last }`: the sigmas, the notation read and what the last sigma means, in words.
    #[wasm_bindgen(js_name = importSigmas)]
    pub fn import_sigmas(&self, text: &str, zero_to_sigma_min: bool) -> std::result::Result<JsValue, JsError> {
        let last = if zero_to_sigma_min { FinalSigma::SigmaMin(self.0.sigma_range().0) } else { FinalSigma::Keep };
        let imported = sigma_text::import(text, last).map_err(js_err)?;
        imported.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&format!("cannot return the sigmas: {e}")))
    }
}

/// A compiled, validated plan.
#[wasm_bindgen]
pub struct Plan(Rc<plan::Plan>);

#[wasm_bindgen]
impl Plan {
    /// This plan with its step noise from `source` (fresh or brownian); a plan without step
    /// noise is returned as it is.
    #[wasm_bindgen(js_name = withNoise)]
    pub fn with_noise(&self, source: &str) -> std::result::Result<Plan, JsError> {
        let source: noise::NoiseSource = source.parse().map_err(js_err)?;
        let mut plan = (*self.0).clone();
        if plan.noise.is_some() {
            plan.noise = Some(source);
        }
        Ok(Plan(Rc::new(plan)))
    }

    /// Parses and validates plan JSON (the CLI's `plan` output).
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(text: &str) -> std::result::Result<Plan, JsError> {
        Ok(Plan(Rc::new(plan::Plan::from_json(text).map_err(js_err)?)))
    }

    /// The plan as JSON.
    #[wasm_bindgen(getter)]
    pub fn json(&self) -> String {
        self.0.to_json()
    }

    /// `{ solver, nfe, afs, sigmas, rows }`: what the page's plan table shows (`afs`: the first
    /// step is analytic), `rows` as `{ kind, operation, sigma, coefficients: [register, c][] }`.
    pub fn summary(&self) -> std::result::Result<JsValue, JsError> {
        let p = &self.0;
        let afs = p.options.get("afs").and_then(|a| a.as_bool()).unwrap_or(false);
        let summary = serde_json::json!({ "solver": p.solver, "nfe": p.nfe, "afs": afs, "sigmas": p.sigmas, "noise": p.noise, "rows": p.rows() });
        summary.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&format!("cannot return the plan: {e}")))
    }
}

/// A GITS schedule file, parsed and validated once against the model it is used with.
#[wasm_bindgen]
pub struct GitsSchedules {
    file: GitsFile,
}

#[wasm_bindgen]
impl GitsSchedules {
    /// Loads a GITS file's text for `model`: the file must have been searched for it.
    pub fn load(text: &str, model: &Model) -> std::result::Result<GitsSchedules, JsError> {
        let file = GitsFile::load(text, Some(&model.0.model_ref())).map_err(js_err)?;
        Ok(GitsSchedules { file })
    }

    /// Compiles `solver` with `nfe` evaluations on the file's schedule for that budget (`gamma`:
    /// which of the file's gammas, default its first; `afs`: the AFS-refined schedule with the
    /// analytic first step, or without; undefined: as the file chose for `solver`; a schedule
    /// made for `solver` is preferred). The plan's `afs` says which it is.
    pub fn plan(&self, solver: &str, nfe: u32, afs: Option<bool>, gamma: Option<f64>) -> std::result::Result<Plan, JsError> {
        let solver: Solver = solver.parse().map_err(js_err)?;
        let (sigmas, afs) = self.file.sigmas_for(&solver, nfe, false, afs, gamma).map_err(js_err)?;
        Ok(Plan(Rc::new(solver.compile(&sigmas, &CompileOptions::afs(afs)).map_err(js_err)?)))
    }

    /// The file's cost matrix and the DP's path of every length through it at `gamma` (the
    /// matrix is kept, so a new gamma costs only the DP): `{ grid, rows, gamma, paths,
    /// propagation? }` (docs/formats.md).
    #[wasm_bindgen(js_name = costMap)]
    pub fn cost_map(&self, gamma: f64) -> std::result::Result<JsValue, JsError> {
        let map = self.file.cost_map(gamma).map_err(js_err)?;
        map.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&format!("cannot return the cost map: {e}")))
    }
}

/// A denoiser that tells JS after each evaluation (the executor itself knows nothing of JS).
struct Reporting<'a, D> {
    inner: &'a D,
    nfe: u32,
    done: Cell<u32>,
    on_eval: Option<js_sys::Function>,
}

impl<V, D: AsyncDenoiser<V>> AsyncDenoiser<V> for Reporting<'_, D> {
    async fn denoise(&self, x: &V, sigma: f64) -> Result<V> {
        let d = self.inner.denoise(x, sigma).await?;
        self.done.set(self.done.get() + 1);
        if let Some(f) = &self.on_eval {
            // A throwing callback must not stop sampling: progress is only shown.
            let _ = f.call2(&JsValue::NULL, &self.done.get().into(), &self.nfe.into());
        }
        Ok(d)
    }

    async fn threshold(&self, x0: V, t: &crate::plan::Thresholding) -> Result<V> {
        self.inner.threshold(x0, t).await
    }
}

async fn run(device: &Device, plan: &plan::Plan, denoiser: &impl Denoiser<Tensor<2>>, dim: usize, noise: &[f64], seeds: &[u64], on_eval: Option<js_sys::Function>) -> Result<JsValue> {
    let denoiser = Reporting { inner: &Ready(denoiser), nfe: plan.nfe, done: Cell::new(0), on_eval };
    let out = execute_async(plan, to_tensor(noise, dim, device), &denoiser, true, seeds).await?;
    let (sigmas, numbers, eval_sigmas) = run_points(&out);
    // One readback for all steps and one for all evaluations.
    let steps = read_all(out.steps.into_iter().map(|s| s.x).collect()).await?;
    let evals = read_all(out.evals.into_iter().map(|e| e.denoised).collect()).await?;
    result_object(dim, noise.len() / dim, out.nfe, &sigmas, &numbers, &eval_sigmas, &steps, &evals)
}

/// An ONNX model's run: the plan in f64, each evaluation awaited from the model's runtime.
async fn run_onnx(plan: &plan::Plan, model: &model::Model, noise: Vec<f64>, labels: &[u32], guidance: f64, seeds: &[u64], on_eval: Option<js_sys::Function>) -> Result<JsValue> {
    let graph = model.as_onnx().expect("only ONNX models come here");
    let (batch, labels) = check_request(plan, model, &noise, labels)?;
    let dim = model.dim();
    let denoiser = crate::onnx::graph::denoiser(graph, &labels, guidance)?;
    let denoiser = Reporting { inner: &denoiser, nfe: plan.nfe, done: Cell::new(0), on_eval };
    let out = execute_async(plan, noise, &denoiser, true, seeds).await?;
    let (sigmas, numbers, eval_sigmas) = run_points(&out);
    let narrow = |v: Vec<Vec<f64>>| v.into_iter().flatten().map(|x| x as f32).collect::<Vec<f32>>();
    let steps = narrow(out.steps.into_iter().map(|s| s.x).collect());
    let evals = narrow(out.evals.into_iter().map(|e| e.denoised).collect());
    result_object(dim, batch, out.nfe, &sigmas, &numbers, &eval_sigmas, &steps, &evals)
}

/// The sigma and number of every step, and the sigma of every evaluation.
fn run_points<V>(out: &plan::Run<V>) -> (Vec<f64>, Vec<u32>, Vec<f64>) {
    (out.steps.iter().map(|s| s.sigma).collect(), out.steps.iter().map(|s| s.step).collect(), out.evals.iter().map(|e| e.sigma).collect())
}

/// A sampling request checked before any work: `noise` whole rows of the model's dimension,
/// finite; the trajectory the page gets back (every step, every evaluation) within bounds; one
/// label per row for every model but an analytic one. The batch size and the labels.
fn check_request(plan: &plan::Plan, m: &model::Model, noise: &[f64], labels: &[u32]) -> Result<(usize, Vec<usize>)> {
    let dim = m.dim();
    if noise.is_empty() || noise.len() % dim != 0 {
        crate::bail!("noise has {} numbers: not a whole batch of {dim}-dimensional samples", noise.len());
    }
    if noise.iter().any(|v| !v.is_finite()) {
        crate::bail!("noise must be finite");
    }
    let batch = noise.len() / dim;
    let points = plan.steps() + 1 + plan.nfe as usize;
    crate::limits::product("the trajectory (points x batch x dimension)", &[points, batch, dim], crate::limits::MAX_ELEMENTS)?;
    if m.spec().is_none() && labels.len() != batch {
        crate::bail!("{} class labels for a batch of {batch} samples", labels.len());
    }
    Ok((batch, labels.iter().map(|&l| l as usize).collect()))
}

/// What `Sampler.sample` resolves to, from x at every step and D at every evaluation.
#[allow(clippy::too_many_arguments)]
fn result_object(dim: usize, batch: usize, nfe: u32, step_sigmas: &[f64], step_numbers: &[u32], eval_sigmas: &[f64], steps: &[f32], evals: &[f32]) -> Result<JsValue> {
    let per = batch * dim;
    let finite = steps.chunks(per).map(|x| x.iter().all(|v| v.is_finite()));
    plan::check_finite(step_numbers.iter().zip(step_sigmas).zip(finite).map(|((&k, &sigma), ok)| (k, sigma, ok)))?;
    let samples = &steps[steps.len() - per..];
    let obj = Object::new();
    let set = |k: &str, v: JsValue| Reflect::set(&obj, &k.into(), &v).map(|_| ()).map_err(|_| Error("cannot build the result object".into()));
    set("dim", (dim as u32).into())?;
    set("batch", (batch as u32).into())?;
    set("nfe", nfe.into())?;
    set("samples", Float32Array::from(samples).into())?;
    set("stepSigmas", Float64Array::from(step_sigmas).into())?;
    set("steps", Float32Array::from(steps).into())?;
    set("evalSigmas", Float64Array::from(eval_sigmas).into())?;
    set("evals", Float32Array::from(evals).into())?;
    Ok(obj.into())
}

/// The 3-D view of one trajectory: `path` holds x_T ... x_0 and `denoised` the denoiser outputs
/// (row-major, `dim` numbers per point). Returns `{ path, denoised, captured }`: [axis 1, PC 1,
/// PC 2] per point relative to x_0, and the share of the spread those axes keep.
#[wasm_bindgen(js_name = projectTrajectory)]
pub fn project_trajectory(path: Vec<f64>, denoised: Vec<f64>, dim: usize) -> std::result::Result<JsValue, JsError> {
    let p = crate::trajectory::project3d(&path, &denoised, dim).map_err(js_err)?;
    serde_wasm_bindgen::to_value(&p).map_err(|e| JsError::new(&format!("cannot return the projection: {e}")))
}

/// `sigmas` in an export format: json (ours), kdiffusion, diffusers or comfyui.
#[wasm_bindgen(js_name = exportSigmas)]
pub fn export_sigmas(sigmas: Vec<f64>, format: &str) -> std::result::Result<String, JsError> {
    sigma_text::export(&sigmas, format.parse().map_err(js_err)?).map_err(js_err)
}

/// The same seeded N(0, 1) noise as the native CLI: `batch * dim` numbers, row-major.
#[wasm_bindgen(js_name = standardNormal)]
pub fn standard_normal(seed: u64, batch: usize, dim: usize) -> std::result::Result<Vec<f64>, JsError> {
    if batch == 0 || dim == 0 {
        return Err(JsError::new("standardNormal: batch and dim must be at least 1"));
    }
    crate::limits::elements(batch, dim).map_err(js_err)?;
    Ok(noise::standard_normal(seed, batch, dim))
}

/// Mean over samples of ||a_n - b_n||_2 (row-major batches of `dim`): the crate's L2 to the
/// teacher, for the page's compare mode.
#[wasm_bindgen(js_name = meanL2)]
pub fn mean_l2(a: Vec<f32>, b: Vec<f32>, dim: usize) -> std::result::Result<f64, JsError> {
    if dim == 0 || a.is_empty() || a.len() != b.len() || a.len() % dim != 0 {
        return Err(JsError::new(&format!("meanL2 needs two batches of the same whole number of {dim}-dimensional samples, got {} and {} numbers", a.len(), b.len())));
    }
    let wide = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<f64>>();
    Ok(crate::distance::mean_l2(&wide(a), &wide(b), dim))
}

/// A GITS search run chunk by chunk so the page can show progress and cancel: await `step()`
/// until it resolves to true (or stop calling it), then await `finish()` for the file JSON.
/// On a loaded model, over its sigma range; networks with classes draw classes 0, 1, ... in
/// turn at guidance 1 (as `gits-sampler gits --model`).
#[wasm_bindgen]
pub struct GitsSearch {
    inner: Rc<RefCell<Option<Search<Rc<model::Model>>>>>,
    progress: Rc<Cell<(usize, usize)>>,
}

/// performance.now() in seconds (sub-millisecond; the DP takes well under a millisecond),
/// Date.now() where there is no performance object.
fn now_seconds() -> f64 {
    let global = js_sys::global();
    let precise = Reflect::get(&global, &"performance".into()).ok().and_then(|perf| {
        let now = Reflect::get(&perf, &"now".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
        now.call0(&perf).ok()?.as_f64()
    });
    precise.unwrap_or_else(js_sys::Date::now) / 1000.0
}

/// The search settings the page passes, as one object: `{ teacher, grid, warmup, seed, metric,
/// gammas, minSteps, maxSteps, afsStudent?, propagate?, refine?, optimalSteps?, chunk? }` (`grid` is
/// FAMILY:POINTS; `propagate` prices jumps by the error they leave at the end, with the CLI's
/// default gains; `refine` lists the solvers to refine every schedule for, with the CLI's
/// default samples and sweeps; `optimalSteps` the solvers to run the optimal-step search for).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SearchOptions {
    teacher: String,
    grid: String,
    warmup: usize,
    seed: u64,
    metric: String,
    gammas: Vec<f64>,
    min_steps: usize,
    max_steps: usize,
    #[serde(default)]
    afs_student: Option<String>,
    #[serde(default)]
    propagate: bool,
    #[serde(default)]
    refine: Option<Vec<String>>,
    #[serde(default)]
    optimal_steps: Option<Vec<String>>,
    /// Warmup trajectories per step (default 32).
    #[serde(default)]
    chunk: Option<usize>,
}

impl SearchOptions {
    fn parse(options: JsValue) -> Result<SearchOptions> {
        serde_wasm_bindgen::from_value(options).map_err(|e| Error(format!("bad GITS search options: {e}")))
    }

    fn config(&self, sigma_min: f64, sigma_max: f64, exact: bool) -> Result<SearchConfig> {
        let (grid_schedule, grid_points) = parse_grid(&self.grid)?;
        Ok(SearchConfig {
            teacher: self.teacher.parse()?,
            grid_schedule,
            grid_points,
            warmup: self.warmup,
            seed: self.seed,
            metric: self.metric.parse()?,
            gammas: self.gammas.clone(),
            min_steps: self.min_steps,
            max_steps: self.max_steps,
            sigma_min,
            sigma_max,
            afs_student: self.afs_student.as_deref().map(str::parse).transpose()?,
            propagation: self.propagate.then(|| Propagation::default_for(self.warmup, exact)),
            refine: match &self.refine {
                Some(students) => Some(Refine::default_for(students.iter().map(|s| s.parse()).collect::<Result<_>>()?, self.warmup)),
                None => None,
            },
            optimal_steps: match &self.optimal_steps {
                Some(students) => Some(OptimalSteps::default_for(students.iter().map(|s| s.parse()).collect::<Result<_>>()?, self.warmup)),
                None => None,
            },
        })
    }
}

#[wasm_bindgen]
impl GitsSearch {
    #[wasm_bindgen(constructor)]
    pub fn new(model: &Model, options: JsValue) -> std::result::Result<GitsSearch, JsError> {
        let options = SearchOptions::parse(options).map_err(js_err)?;
        let (sigma_min, sigma_max) = model.0.sigma_range();
        let config = options.config(sigma_min, sigma_max, model.exact()).map_err(js_err)?;
        let mut search = Search::new(config, model.0.clone(), model.0.model_ref(), now_seconds).map_err(js_err)?;
        if let Some(chunk) = options.chunk {
            search = search.with_chunk(chunk);
        }
        let progress = Rc::new(Cell::new(search.progress()));
        Ok(GitsSearch { inner: Rc::new(RefCell::new(Some(search))), progress })
    }

    /// Runs the next chunk of warmup trajectories (then the next propagation gain point, when
    /// asked for); resolves to true when all are done.
    pub fn step(&self) -> js_sys::Promise {
        let (inner, progress) = (self.inner.clone(), self.progress.clone());
        wasm_bindgen_futures::future_to_promise(async move {
            let mut slot = inner.try_borrow_mut().map_err(|_| busy())?;
            let search = slot.as_mut().ok_or_else(finished)?;
            let complete = search.step().await.map_err(|e| JsValue::from(js_err(e)))?;
            progress.set(search.progress());
            Ok(complete.into())
        })
    }

    /// The teacher's trajectories of warmup rows [start, end), not kept (a helper worker runs
    /// them for another instance's `addWarmup`): `{ xs, ds }`, x at every grid point and the
    /// derivative at every point but the last, each [point][row][dim] flattened.
    #[wasm_bindgen(js_name = warmRows)]
    pub fn warm_rows(&self, start: usize, end: usize) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let slot = inner.try_borrow().map_err(|_| busy())?;
            let search = slot.as_ref().ok_or_else(finished)?;
            let w = search.warm_rows(start, end).await.map_err(|e| JsValue::from(js_err(e)))?;
            let out = Object::new();
            let flat = |v: &[Vec<f64>]| Float64Array::from(v.concat().as_slice());
            Reflect::set(&out, &"xs".into(), &flat(&w.xs))?;
            Reflect::set(&out, &"ds".into(), &flat(&w.ds))?;
            Ok(out.into())
        })
    }

    /// Appends warmup rows from `start` (where the warmup so far ends), as `warmRows` gives them.
    #[wasm_bindgen(js_name = addWarmup)]
    pub fn add_warmup(&self, start: usize, xs: &[f64], ds: &[f64]) -> std::result::Result<(), JsValue> {
        let mut slot = self.inner.try_borrow_mut().map_err(|_| busy())?;
        let search = slot.as_mut().ok_or_else(finished)?;
        let (points, dim) = (search.grid().len(), search.dim());
        if xs.len() % (points * dim) != 0 || ds.len() * points != xs.len() * (points - 1) {
            return Err(JsError::new(&format!("warmup rows from {start}: {} and {} numbers are not whole rows of {points} grid points x {dim}", xs.len(), ds.len())).into());
        }
        let per = xs.len() / points;
        let w = crate::gits::Warmup {
            sigmas: search.grid().to_vec(),
            xs: xs.chunks(per).map(<[f64]>::to_vec).collect(),
            ds: ds.chunks(per.max(1)).map(<[f64]>::to_vec).collect(),
            dim,
        };
        search.add_warmup(start, w).map_err(|e| JsValue::from(js_err(e)))?;
        self.progress.set(search.progress());
        Ok(())
    }

    /// Warmup rows done so far.
    #[wasm_bindgen(js_name = warmupDone, getter)]
    pub fn warmup_done(&self) -> usize {
        self.inner.try_borrow().ok().and_then(|s| s.as_ref().map(|s| s.warmup_left().0)).unwrap_or(0)
    }

    /// Steps done so far: warmup trajectories, then propagation gain points.
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> usize {
        self.progress.get().0
    }

    /// Steps in all.
    #[wasm_bindgen(getter)]
    pub fn total(&self) -> usize {
        self.progress.get().1
    }

    /// The rest of the warmup, the cost matrix, the DP (and AFS refinement); resolves to the
    /// GITS schedule file as JSON.
    pub fn finish(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let search = inner.try_borrow_mut().map_err(|_| busy())?.take().ok_or_else(finished)?;
            let file = search.finish().await.map_err(|e| JsValue::from(js_err(e)))?;
            Ok(serde_json::to_string_pretty(&file).map_err(|e| JsValue::from(JsError::new(&e.to_string())))?.into())
        })
    }
}

fn busy() -> JsValue {
    JsError::new("this GITS search is already running a step; await it first").into()
}

fn finished() -> JsValue {
    JsError::new("this GITS search has already finished").into()
}
