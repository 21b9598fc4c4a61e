//! ONNX models natively, through tract (pure Rust, loaded at run time): the graph's declared
//! interface, its card bound to it, the optimized plan with a symbolic batch, and the denoiser
//! a sampler runs (the plan executor in f64; the graph in its own precision).

use super::binding::{Binding, DType, Dim, Signature, TensorDecl};
use super::card::Card;
use super::graph::{self, Feed, Graph};
use crate::plan::{AsyncDenoiser, Denoiser, Thresholding, now};
use crate::{Error, Result, bail, limits};
use std::path::Path;
use std::sync::Arc;
use tract_onnx::pb;
use tract_onnx::prelude::*;

/// A loaded ONNX model, ready to run.
pub struct OnnxModel {
    pub signature: Signature,
    pub binding: Binding,
    /// The card it runs with, as written (`inspect` prints it).
    pub card: Card,
    /// Where the card came from, for messages.
    pub card_source: String,
    pub metadata: Vec<(String, String)>,
    /// The graph with its batch symbolic, decluttered: each batch size gets its own plan from it.
    typed: TypedModel,
    batch: Symbol,
    /// Optimized plans by batch size (tract picks its kernels for known shapes).
    plans: std::sync::Mutex<std::collections::HashMap<usize, Arc<TypedRunnableModel>>>,
}

/// The most bytes of an ONNX file this loads (a 4-GB model does not fit a browser either).
pub const MAX_ONNX_BYTES: usize = 4 << 30;

/// Decodes an ONNX file's protobuf, refusing what is not one.
fn decode(bytes: &[u8]) -> Result<pb::ModelProto> {
    limits::at_most("ONNX file size in bytes", bytes.len(), MAX_ONNX_BYTES)?;
    let proto = tract_onnx::onnx().proto_model_for_read(&mut &bytes[..]).map_err(|e| Error(format!("not an ONNX model (truncated or another format: {e})")))?;
    match &proto.graph {
        Some(g) if proto.ir_version > 0 && !g.node.is_empty() && !g.output.is_empty() => Ok(proto),
        _ => bail!("not an ONNX model (no graph with nodes and outputs)"),
    }
}

/// The graph's declared inputs (initializers excluded) and outputs.
fn signature(graph: &pb::GraphProto) -> Signature {
    use pb::tensor_shape_proto::dimension::Value as D;
    use pb::type_proto::Value as T;
    let decl = |v: &pb::ValueInfoProto| {
        let tensor = v.r#type.as_ref().and_then(|t| t.value.as_ref()).map(|T::TensorType(t)| t);
        let dims = tensor.and_then(|t| t.shape.as_ref()).map(|s| {
            s.dim
                .iter()
                .map(|d| match &d.value {
                    Some(D::DimValue(n)) if *n > 0 => Dim::Fixed(*n as usize),
                    Some(D::DimParam(p)) => Dim::Symbol(p.clone()),
                    _ => Dim::Symbol(String::new()),
                })
                .collect()
        });
        TensorDecl { name: v.name.clone(), dtype: DType::from_onnx(tensor.map_or(0, |t| t.elem_type)), dims }
    };
    let initialized: std::collections::HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    Signature {
        inputs: graph.input.iter().filter(|i| !initialized.contains(i.name.as_str())).map(decl).collect(),
        outputs: graph.output.iter().map(decl).collect(),
    }
}

/// An ONNX file's bytes, refused unread when it is larger than [`MAX_ONNX_BYTES`].
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    read_at_most(path, MAX_ONNX_BYTES)
}

/// A file's bytes, refused unread when it has more than `max`.
fn read_at_most(p: &Path, max: usize) -> Result<Vec<u8>> {
    let size = std::fs::metadata(p).map_err(|e| Error(format!("cannot read {}: {e}", p.display())))?.len();
    limits::at_most(&format!("{}: size in bytes", p.display()), usize::try_from(size).unwrap_or(usize::MAX), max)?;
    std::fs::read(p).map_err(|e| Error(format!("cannot read {}: {e}", p.display())))
}

/// An ONNX file's interface and metadata, without building it (what `inspect` shows first).
pub fn read_interface(bytes: &[u8]) -> Result<(Signature, Vec<(String, String)>)> {
    let proto = decode(bytes)?;
    let graph = proto.graph.as_ref().expect("decode checked the graph");
    Ok((signature(graph), proto.metadata_props.iter().map(|e| (e.key.clone(), e.value.clone())).collect()))
}

fn datum(d: DType) -> DatumType {
    match d {
        DType::F64 => f64::datum_type(),
        DType::I64 => i64::datum_type(),
        DType::I32 => i32::datum_type(),
        _ => f32::datum_type(),
    }
}

/// A tensor of `dtype` from f64 values.
fn tensor(dtype: DType, shape: &[usize], values: &[f64]) -> Result<Tensor> {
    let t = match dtype {
        DType::F64 => Tensor::from_shape(shape, values),
        DType::I64 => Tensor::from_shape(shape, &values.iter().map(|&v| v.round() as i64).collect::<Vec<_>>()),
        DType::I32 => Tensor::from_shape(shape, &values.iter().map(|&v| v.round() as i32).collect::<Vec<_>>()),
        _ => Tensor::from_shape(shape, &values.iter().map(|&v| v as f32).collect::<Vec<_>>()),
    };
    t.map_err(|e| Error(format!("cannot build an input tensor of shape {shape:?}: {e}")))
}

impl OnnxModel {
    /// Loads an ONNX file's bytes with a card: `card` if given (with where it came from), else
    /// the card in the file's metadata_props, else `fallback` (a diffusers scheduler config's
    /// card, read or refused: its error counts only when it is used). `dir` is the file's folder,
    /// where weights stored as external data are found.
    pub fn load(bytes: &[u8], dir: Option<&str>, card: Option<(Card, String)>, fallback: Option<Result<(Card, String)>>) -> Result<OnnxModel> {
        let proto = decode(bytes)?;
        let graph = proto.graph.as_ref().expect("decode checked the graph");
        let signature = signature(graph);
        let metadata: Vec<(String, String)> = proto.metadata_props.iter().map(|e| (e.key.clone(), e.value.clone())).collect();
        let (card, card_source) = Card::pick(card, &metadata, fallback)?;
        let binding = Binding::new(&card, &signature).map_err(|e| Error(format!("{e} (card: {card_source})")))?;

        let onnx = tract_onnx::onnx();
        let parsed = onnx.parse(&proto, dir).map_err(|e| Error(format!("cannot read the graph: {e:#}")))?;
        let mut model = parsed.model;
        let unsupported: Vec<String> = model
            .nodes()
            .iter()
            .filter_map(|n| {
                let name = n.op.name();
                name.strip_prefix("Unimplemented(").map(|op| format!("{} (node \"{}\")", op.trim_end_matches(')'), n.name))
            })
            .collect();
        if !unsupported.is_empty() {
            bail!("the graph uses operators tract cannot run: {}", unsupported.join(", "));
        }

        // Facts for every input: one batch symbol shared by sample, noise and class.
        let b = model.sym("batch");
        for (ix, outlet) in model.input_outlets().map_err(|e| Error(format!("{e}")))?.to_vec().into_iter().enumerate() {
            let name = model.node(outlet.node).name.clone();
            let (dtype, dims) = binding.input_shape(&name).ok_or_else(|| Error(format!("graph input \"{name}\" is not bound by the card")))?;
            let shape: Vec<TDim> = dims.iter().map(|d| d.map_or_else(|| b.clone().into(), TDim::from)).collect();
            model.set_input_fact(ix, InferenceFact::dt_shape(datum(dtype), shape)).map_err(|e| Error(format!("input \"{name}\": {e:#}")))?;
        }
        let output = *parsed.outlets_by_name.get(&binding.output).ok_or_else(|| Error(format!("output \"{}\" not found in the graph", binding.output)))?;
        let model = model.with_output_outlets(&[output]).map_err(|e| Error(format!("{e:#}")))?;
        let typed = model.into_typed().and_then(|m| m.into_decluttered()).map_err(|e| Error(format!("tract cannot prepare the graph with the card's inputs: {e:#}")))?;
        let onnx = OnnxModel { signature, binding, card, card_source, metadata, typed, batch: b, plans: Default::default() };
        onnx.plan(onnx.binding.batch.unwrap_or(1))?; // refuse a graph tract cannot optimize now, not at the first evaluation
        Ok(onnx)
    }

    /// The optimized plan for `rows` rows, built once per batch size.
    fn plan(&self, rows: usize) -> Result<Arc<TypedRunnableModel>> {
        let mut plans = self.plans.lock().map_err(|_| Error("the model's plan cache is poisoned".into()))?;
        if let Some(p) = plans.get(&rows) {
            return Ok(p.clone());
        }
        let subs = std::collections::HashMap::from([(self.batch.clone(), TDim::Val(rows as i64))]);
        let plan = self
            .typed
            .set_symbols(&subs)
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| Error(format!("tract cannot prepare the graph for a batch of {rows}: {e:#}")))?;
        plans.insert(rows, plan.clone());
        Ok(plan)
    }

    /// An ONNX file and its card: `card` if given, else NAME.card.json beside NAME.onnx, else
    /// the card in the file's metadata_props, else a diffusers scheduler_config.json beside it
    /// (or in ../scheduler/, optimum's layout). Also returns the file's sha256.
    pub fn open(path: &Path, card: Option<&Path>) -> Result<(OnnxModel, String)> {
        Self::open_bytes(path, &read_file(path)?, card)
    }

    /// As [`Self::open`], for the file's bytes already read (with [`read_file`]).
    pub fn open_bytes(path: &Path, bytes: &[u8], card: Option<&Path>) -> Result<(OnnxModel, String)> {
        let text = |p: &Path| String::from_utf8(read_at_most(p, limits::MAX_TEXT)?).map_err(|_| Error(format!("{}: not UTF-8 text", p.display())));
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let card_at = |p: &Path, diffusers: bool| -> Result<(Card, String)> {
            let t = text(p)?;
            let card = if diffusers { Card::diffusers(&t) } else { Card::from_json(&t) };
            Ok((card.map_err(|e| Error(format!("{}: {e}", p.display())))?, p.display().to_string()))
        };
        let sidecar = path.with_extension("card.json");
        let explicit = match card {
            Some(p) => Some(card_at(p, false)?),
            None if sidecar.exists() => Some(card_at(&sidecar, false)?),
            None => None,
        };
        let configs = [dir.join("scheduler_config.json"), dir.join("../scheduler/scheduler_config.json")];
        let fallback = match configs.iter().find(|p| p.exists()) {
            Some(p) if explicit.is_none() => Some(card_at(p, true)),
            _ => None,
        };
        let model = OnnxModel::load(bytes, dir.to_str(), explicit, fallback).map_err(|e| Error(format!("{}: {e}", path.display())))?;
        Ok((model, crate::hash::sha256_hex(bytes)))
    }

    /// The raw network output for a batch already scaled to the graph's input (see
    /// [`graph::forward`]).
    pub fn forward(&self, x_in: &[f64], noise_level: f64, class: &[f64]) -> Result<Vec<f64>> {
        now(graph::forward(self, x_in, noise_level, class))
    }

    /// The denoiser for rows with `labels` at guidance `guidance` (1: plain conditional).
    pub fn denoiser(&self, labels: &[usize], guidance: f64) -> Result<OnnxDenoiser<'_>> {
        graph::denoiser(self, labels, guidance)
    }
}

/// A tract model's denoiser (its runs complete at once: drive it with [`crate::plan::now`]).
pub type OnnxDenoiser<'a> = graph::OnnxDenoiser<'a, OnnxModel>;

impl Graph for OnnxModel {
    fn binding(&self) -> &Binding {
        &self.binding
    }

    fn card(&self) -> &Card {
        &self.card
    }

    async fn run(&self, rows: usize, mut feeds: Vec<Feed>) -> Result<Vec<f64>> {
        let plan = self.plan(rows)?;
        let mut inputs: TVec<TValue> = TVec::new();
        for outlet in plan.model().input_outlets().map_err(|e| Error(format!("{e}")))? {
            let name = &plan.model().node(outlet.node).name;
            let at = feeds.iter().position(|f| f.name == *name).ok_or_else(|| Error(format!("graph input \"{name}\" is not bound by the card")))?;
            let f = feeds.swap_remove(at);
            inputs.push(tensor(f.dtype, &f.shape, &f.values)?.into_tvalue());
        }
        let result = plan.run(inputs).map_err(|e| Error(format!("the model failed to run: {e:#}")))?;
        let y = result[0].cast_to::<f64>().map_err(|e| Error(format!("cannot read the output: {e}")))?;
        y.to_plain_array_view::<f64>().map(|v| v.iter().copied().collect()).map_err(|e| Error(format!("cannot read the output: {e}")))
    }
}

/// tract's runs complete at once, so its denoiser is a plain [`Denoiser`] too.
impl Denoiser<Vec<f64>> for OnnxDenoiser<'_> {
    fn denoise(&self, x: &Vec<f64>, sigma: f64) -> Result<Vec<f64>> {
        now(AsyncDenoiser::denoise(self, x, sigma))
    }

    fn threshold(&self, x0: Vec<f64>, t: &Thresholding) -> Result<Vec<f64>> {
        now(AsyncDenoiser::threshold(self, x0, t))
    }
}
