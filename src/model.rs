//! The one model type: an analytic denoiser (Gaussian mixture, KDE), a trained network, or
//! (natively) an ONNX model, loaded from a file's bytes, with its identity (how it was named, the
//! sha256 of those bytes), its sample dimension, classes and sigma range. It builds the denoiser
//! a sampler runs and is the batch model a GITS search and `eval` run on.

use crate::denoiser::network::{NetDenoiser, Network};
use crate::denoiser::weights::{self, Manifest, Weights};
use crate::denoiser::{DenoiserSpec, TensorDenoiser};
use crate::hash::sha256_hex;
use crate::onnx::{Graph, graph};
use crate::model_sigmas::ModelSigmas;
use crate::plan::{AsyncDenoiser, Denoiser, Plan, Run, execute_async, execute_seeded};
use crate::schedule::{SIGMA_MAX, SIGMA_MIN};
use crate::tensor::{read_async, read_run, to_tensor};
use crate::{Error, Result, bail};
use burn::prelude::Device;
use serde::{Deserialize, Serialize};

/// A model as a GITS schedule file names it: how it was named and the sha256 of its file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelRef {
    /// What the schedule was searched for, e.g. `gmm:models/eight-gaussians.gmm.json`.
    pub id: String,
    /// sha256 of the model file's bytes (hex).
    pub sha256: String,
}

/// A loaded model on a device.
pub struct Model {
    id: String,
    sha256: String,
    kind: Kind,
    device: Device,
}

enum Kind {
    /// The spec (exact f64 arithmetic) and its constants on the device, uploaded once.
    Analytic { spec: DenoiserSpec, tensors: TensorDenoiser },
    Network { net: Network, manifest: Manifest },
    /// Run by tract natively, by onnxruntime-web in the page; the plan executes in f64 around it.
    Onnx(Box<crate::onnx::Runtime>),
}

impl Model {
    /// A weights file (it starts with the weights magic, or `id` ends in .gsw) or an analytic
    /// denoiser's JSON; `id` names it (a path or URL) in GITS files and errors.
    pub fn from_bytes(id: &str, bytes: &[u8], device: &Device) -> Result<Model> {
        if weights::is_weights(bytes) || id.ends_with(".gsw") {
            let w = weights::decode(bytes).map_err(|e| Error(format!("{id}: {e}")))?;
            return Model::network(id, w, device);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| Error(format!("{id}: neither a weights file nor UTF-8 JSON")))?;
        let spec = DenoiserSpec::from_json(text).map_err(|e| Error(format!("{id}: {e}")))?;
        Ok(Model::analytic(id, spec, sha256_hex(bytes), device))
    }

    /// An analytic denoiser whose file had the given sha256.
    pub fn analytic(id: &str, spec: DenoiserSpec, sha256: String, device: &Device) -> Model {
        let tensors = spec.to_device(device);
        Model { id: id.into(), sha256, kind: Kind::Analytic { spec, tensors }, device: device.clone() }
    }

    /// A decoded weights file's network, built on `device`.
    pub fn network(id: &str, w: Weights, device: &Device) -> Result<Model> {
        let net = w.to_network(device).map_err(|e| Error(format!("{id}: {e}")))?;
        Ok(Model { id: id.into(), sha256: w.sha256, kind: Kind::Network { net, manifest: w.manifest }, device: device.clone() })
    }

    /// A loaded ONNX model; `sha256` is that of the ONNX file's bytes.
    pub fn onnx(id: &str, sha256: String, model: impl Into<crate::onnx::Runtime>, device: &Device) -> Model {
        Model { id: id.into(), sha256, kind: Kind::Onnx(Box::new(model.into())), device: device.clone() }
    }

    /// The ONNX model, if this is one.
    pub fn as_onnx(&self) -> Option<&crate::onnx::Runtime> {
        match &self.kind {
            Kind::Onnx(m) => Some(m),
            _ => None,
        }
    }

    /// sha256 of the bytes the model was loaded from (a GITS file's model identity).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The model as a GITS file names it.
    pub fn model_ref(&self) -> ModelRef {
        ModelRef { id: self.id.clone(), sha256: self.sha256.clone() }
    }

    /// Values per sample.
    pub fn dim(&self) -> usize {
        match &self.kind {
            Kind::Analytic { spec, .. } => spec.dim(),
            Kind::Network { manifest, .. } => manifest.model.architecture.dim(),
            Kind::Onnx(m) => m.dim(),
        }
    }

    /// One sample's shape: [C, H, W] for images, [D] otherwise.
    pub fn sample_shape(&self) -> Vec<usize> {
        match &self.kind {
            Kind::Network { manifest, .. } => match &manifest.model.architecture {
                crate::denoiser::network::Architecture::Unet(c) => vec![1, c.size, c.size],
                _ => vec![self.dim()],
            },
            Kind::Onnx(m) => m.binding().sample_shape.clone(),
            _ => vec![self.dim()],
        }
    }

    /// The data's value range (an ONNX card may give one; [-1, 1] otherwise).
    pub fn data_range(&self) -> [f64; 2] {
        match &self.kind {
            Kind::Onnx(m) => m.card().data_range.unwrap_or([-1.0, 1.0]),
            _ => [-1.0, 1.0],
        }
    }

    /// Number of classes (0: unconditional); label `classes` is the null class.
    pub fn classes(&self) -> usize {
        match &self.kind {
            Kind::Analytic { .. } => 0,
            Kind::Network { manifest, .. } => manifest.model.architecture.classes(),
            Kind::Onnx(m) => m.classes(),
        }
    }

    /// The sigma range sampling runs over: the weights file's or the ONNX card's, or the crate's
    /// default for analytic denoisers (they are exact at every sigma).
    pub fn sigma_range(&self) -> (f64, f64) {
        match &self.kind {
            Kind::Analytic { .. } => (SIGMA_MIN, SIGMA_MAX),
            Kind::Network { manifest, .. } => (manifest.model.sigma_min, manifest.model.sigma_max),
            Kind::Onnx(m) => (m.binding().schedule.sigma_min, m.binding().schedule.sigma_max),
        }
    }

    /// The training sigmas ComfyUI's table schedules pick from: an ONNX card's schedule's, else
    /// a continuous model's 1000 log-linear over the sigma range (ComfyUI's EDM models).
    pub fn model_sigmas(&self) -> ModelSigmas {
        match &self.kind {
            Kind::Onnx(m) => m.binding().schedule.model_sigmas(),
            _ => {
                let (lo, hi) = self.sigma_range();
                ModelSigmas::continuous(lo, hi)
            }
        }
    }

    /// The analytic spec, for exact f64 sampling; None for a network.
    pub fn spec(&self) -> Option<&DenoiserSpec> {
        match &self.kind {
            Kind::Analytic { spec, .. } => Some(spec),
            _ => None,
        }
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The denoiser for a batch whose row i has class `labels[i]` (networks with classes; the
    /// class count means unconditional) at classifier-free guidance `guidance` (1: plain
    /// conditional). Analytic denoisers take neither.
    pub fn denoiser(&self, labels: &[usize], guidance: f64) -> Result<TensorDenoiser> {
        match &self.kind {
            Kind::Analytic { tensors, .. } => Ok(tensors.clone()),
            Kind::Network { net, manifest } => {
                let classes = self.classes();
                if let Some(bad) = labels.iter().find(|&&l| l > classes) {
                    bail!("class label {bad} is out of range 0..={classes} ({classes} = unconditional)");
                }
                let m = &manifest.model;
                Ok(TensorDenoiser::Network(NetDenoiser::new(net.clone(), &m.architecture, m.sigma_data, labels, guidance, &self.device)?))
            }
            Kind::Onnx(_) => bail!("an ONNX model runs through its own runtime with the plan in f64, not on burn tensors (sample it with --backend f64)"),
        }
    }

    /// The model as a batch model at guidance `guidance` (GITS searches use 1).
    pub fn guided(&self, guidance: f64) -> Guided<'_> {
        Guided { model: self, guidance }
    }

    /// Row r of a batch model's batch gets the class r mod classes (unconditional: 0).
    fn row_labels(&self, batch: usize, first_row: usize) -> Vec<usize> {
        let classes = self.classes();
        (first_row..first_row + batch).map(|r| if classes == 0 { 0 } else { r % classes }).collect()
    }

    fn row_denoiser(&self, batch: usize, first_row: usize, guidance: f64) -> Result<TensorDenoiser> {
        self.denoiser(&self.row_labels(batch, first_row), guidance)
    }
}

/// What a GITS search (and `eval`) needs of a model: f64 batches in and out, whatever the model
/// computes on (analytic denoisers in f64; networks on burn tensors). Async because reading a
/// WebGPU tensor back is; everywhere else the futures are ready at once (see [`block_on`]).
/// `first_row` is the index of the batch's first row in the whole run: a class-conditional
/// network gives row r the class r mod classes, and a stochastic plan gives it the step noise of
/// sample first_row + r of `seed`, so neither depends on chunking.
#[allow(async_fn_in_trait)] // single-threaded callers only: the browser and a native loop
pub trait BatchModel {
    /// Values per sample.
    fn dim(&self) -> usize;
    /// Runs `plan` from the starting batch `z` (row-major [batch, dim]).
    async fn run(&self, plan: &Plan, z: Vec<f64>, first_row: usize, seed: u64, trajectory: bool) -> Result<Run<Vec<f64>>>;
    /// D(x; sigma) of a batch.
    async fn denoise(&self, x: &[f64], sigma: f64, first_row: usize) -> Result<Vec<f64>>;
}

/// The sample seeds of `rows` rows starting at `first_row` of a run seeded `seed`.
fn row_seeds(rows: usize, first_row: usize, seed: u64) -> Vec<u64> {
    crate::noise::sample_seeds(seed, first_row as u64..(first_row + rows) as u64)
}

/// An analytic denoiser in exact f64 arithmetic.
impl BatchModel for DenoiserSpec {
    fn dim(&self) -> usize {
        DenoiserSpec::dim(self)
    }
    async fn run(&self, plan: &Plan, z: Vec<f64>, first_row: usize, seed: u64, trajectory: bool) -> Result<Run<Vec<f64>>> {
        let seeds = row_seeds(z.len() / self.dim(), first_row, seed);
        execute_seeded(plan, z, self, trajectory, &seeds)
    }
    async fn denoise(&self, x: &[f64], sigma: f64, _first_row: usize) -> Result<Vec<f64>> {
        Denoiser::denoise(self, &x.to_vec(), sigma)
    }
}

/// A model at a guidance scale (see [`Model::guided`]).
pub struct Guided<'a> {
    model: &'a Model,
    guidance: f64,
}

impl BatchModel for Guided<'_> {
    fn dim(&self) -> usize {
        self.model.dim()
    }

    async fn run(&self, plan: &Plan, z: Vec<f64>, first_row: usize, seed: u64, trajectory: bool) -> Result<Run<Vec<f64>>> {
        if let Some(spec) = self.model.spec() {
            return spec.run(plan, z, first_row, seed, trajectory).await;
        }
        let dim = self.dim();
        let seeds = row_seeds(z.len() / dim, first_row, seed);
        if let Some(onnx) = self.model.as_onnx() {
            let labels = self.model.row_labels(z.len() / dim, first_row);
            return execute_async(plan, z, &graph::denoiser(onnx, &labels, self.guidance)?, trajectory, &seeds).await;
        }
        let den = self.model.row_denoiser(z.len() / dim, first_row, self.guidance)?;
        read_run(execute_seeded(plan, to_tensor(&z, dim, &self.model.device), &den, trajectory, &seeds)?).await
    }

    async fn denoise(&self, x: &[f64], sigma: f64, first_row: usize) -> Result<Vec<f64>> {
        if let Some(spec) = self.model.spec() {
            return BatchModel::denoise(spec, x, sigma, first_row).await;
        }
        let dim = self.dim();
        if let Some(onnx) = self.model.as_onnx() {
            let labels = self.model.row_labels(x.len() / dim, first_row);
            return AsyncDenoiser::denoise(&graph::denoiser(onnx, &labels, self.guidance)?, &x.to_vec(), sigma).await;
        }
        let out = self.model.row_denoiser(x.len() / dim, first_row, self.guidance)?.denoise(&to_tensor(x, dim, &self.model.device), sigma)?;
        Ok(read_async(out).await?.into_iter().map(f64::from).collect())
    }
}

/// A model at guidance 1 (plain conditional sampling; what GITS searches run).
impl BatchModel for Model {
    fn dim(&self) -> usize {
        Model::dim(self)
    }
    async fn run(&self, plan: &Plan, z: Vec<f64>, first_row: usize, seed: u64, trajectory: bool) -> Result<Run<Vec<f64>>> {
        self.guided(1.0).run(plan, z, first_row, seed, trajectory).await
    }
    async fn denoise(&self, x: &[f64], sigma: f64, first_row: usize) -> Result<Vec<f64>> {
        self.guided(1.0).denoise(x, sigma, first_row).await
    }
}

/// A shared model (the browser's handle keeps one while a search runs on it).
impl<M: BatchModel + ?Sized> BatchModel for std::rc::Rc<M> {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    async fn run(&self, plan: &Plan, z: Vec<f64>, first_row: usize, seed: u64, trajectory: bool) -> Result<Run<Vec<f64>>> {
        (**self).run(plan, z, first_row, seed, trajectory).await
    }
    async fn denoise(&self, x: &[f64], sigma: f64, first_row: usize) -> Result<Vec<f64>> {
        (**self).denoise(x, sigma, first_row).await
    }
}

/// Runs a future whose work is synchronous (every native model) to completion on this thread.
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}
