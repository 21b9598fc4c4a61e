//! The weights file: one binary file holding a JSON manifest and the tensors of a trained
//! network, in f32 or int8 (per-output-channel symmetric, f32 scales). See docs/formats.md.
//!
//! Layout: the 8 bytes `GITSWTS1`, the manifest length as u32 little-endian, the manifest
//! (UTF-8 JSON), then the payload. Each tensor's bytes sit at the offset the manifest gives:
//! f32 values little-endian, or int8 values followed by one f32 scale per output channel.
//! int8 weights are dequantized once at load (w = q * scale) and uploaded as f32: burn computes
//! in f32 anyway, so int8 is a download-size format.

use super::network::{Architecture, Network};
use crate::hash::sha256_hex;
use crate::limits;
use crate::schedule::check_sigma_range;
use crate::{Error, Result};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 8] = b"GITSWTS1";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    F32,
    Int8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DType {
    F32,
    I8,
}

/// Where one tensor lives in the payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorEntry {
    /// Module path, e.g. `down.0.conv1.weight`.
    pub path: String,
    pub shape: Vec<usize>,
    pub dtype: DType,
    /// Byte offset of the values in the payload.
    pub offset: usize,
    /// int8 only: the axis of the output channels (0 for convolutions [out, in, kh, kw],
    /// 1 for linear layers [in, out]); one f32 scale per index of that axis follows the values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub axis: Option<usize>,
}

/// Everything about a model but its numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    #[serde(flatten)]
    pub model: ModelInfo,
    pub precision: Precision,
    pub tensors: Vec<TensorEntry>,
    pub payload_bytes: usize,
    pub payload_sha256: String,
}

/// What a model is, apart from how its numbers are stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Short model name, e.g. `mnist-unet`.
    pub name: String,
    pub architecture: Architecture,
    /// Training data, e.g. `mnist` or `toy:moons`.
    pub data: String,
    pub sigma_min: f64,
    pub sigma_max: f64,
    pub sigma_data: f64,
    /// Class names (empty for unconditional models); the null class is not listed.
    pub classes: Vec<String>,
    /// How the weights were made (command, seed, steps), free-form.
    pub training: serde_json::Value,
}

/// A loaded weights file: the manifest and the dequantized f32 tensors, in manifest order.
pub struct Weights {
    pub manifest: Manifest,
    pub tensors: Vec<Vec<f32>>,
    /// sha256 of the whole file (the model id GITS schedule files refer to).
    pub sha256: String,
}

/// Serializes a network's parameters.
pub fn encode(info: ModelInfo, net: &Network, precision: Precision) -> Result<Vec<u8>> {
    let mut tensors = Vec::new();
    let mut payload = Vec::new();
    for (path, shape, values) in parameters(net)? {
        let axis = match (precision, shape.len()) {
            (Precision::Int8, 4) => Some(0),
            (Precision::Int8, 2) => Some(1),
            _ => None,
        };
        // Keep 4-byte alignment so a reader may view f32 runs in place.
        payload.resize(payload.len().next_multiple_of(4), 0);
        let offset = payload.len();
        match axis {
            Some(axis) => {
                let (q, scales) = quantize(&values, &shape, axis);
                payload.extend(q.iter().map(|&v| v as u8));
                payload.resize(payload.len().next_multiple_of(4), 0);
                payload.extend(scales.iter().flat_map(|s| s.to_le_bytes()));
            }
            None => payload.extend(values.iter().flat_map(|v| v.to_le_bytes())),
        }
        tensors.push(TensorEntry { path, shape, dtype: if axis.is_some() { DType::I8 } else { DType::F32 }, offset, axis });
    }
    let manifest = Manifest {
        format: "gits-sampler-weights".into(),
        version: FORMAT_VERSION,
        model: info,
        precision,
        tensors,
        payload_bytes: payload.len(),
        payload_sha256: sha256_hex(&payload),
    };
    let json = serde_json::to_vec(&manifest)?;
    let mut out = Vec::with_capacity(12 + json.len() + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Per-output-channel symmetric int8: scale_c = max |w_c| / 127, q = round(w / scale_c).
pub fn quantize(values: &[f32], shape: &[usize], axis: usize) -> (Vec<i8>, Vec<f32>) {
    let channels = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let channel_of = |i: usize| (i / inner) % channels;
    let mut max = vec![0f32; channels];
    for (i, v) in values.iter().enumerate() {
        max[channel_of(i)] = max[channel_of(i)].max(v.abs());
    }
    let scales: Vec<f32> = max.iter().map(|&m| if m > 0.0 { m / 127.0 } else { 1.0 }).collect();
    let q = values.iter().enumerate().map(|(i, v)| (v / scales[channel_of(i)]).round().clamp(-127.0, 127.0) as i8).collect();
    (q, scales)
}

/// Whether `bytes` start like a weights file (the loaders then decode rather than parse JSON).
pub fn is_weights(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Parses and checks a weights file: magic, manifest, sizes, payload hash, tensor layout.
pub fn decode(bytes: &[u8]) -> Result<Weights> {
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        crate::bail!("not a gits-sampler weights file (it does not start with GITSWTS1)");
    }
    let len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let json = bytes.get(12..).and_then(|rest| rest.get(..len)).ok_or_else(|| Error(format!("weights file is truncated: the manifest needs {len} bytes, the file has {}", bytes.len() - 12)))?;
    let manifest: Manifest = serde_json::from_slice(json).map_err(|e| Error(format!("weights manifest is not valid: {e}")))?;
    if manifest.format != "gits-sampler-weights" || manifest.version != FORMAT_VERSION {
        crate::bail!("weights file has format {:?} version {}; this build reads version {FORMAT_VERSION}", manifest.format, manifest.version);
    }
    let m = &manifest.model;
    m.architecture.validate()?;
    limits::at_most("weights manifest: tensors", manifest.tensors.len(), limits::MAX_TENSORS)?;
    check_sigma_range(m.sigma_min, m.sigma_max).map_err(|e| Error(format!("weights manifest: {e}")))?;
    if !(m.sigma_data.is_finite() && m.sigma_data > 0.0 && m.sigma_data <= limits::MAX_SIGMA) {
        crate::bail!("weights manifest: sigma_data = {} must be finite, > 0 and at most {}", m.sigma_data, limits::MAX_SIGMA);
    }
    if m.classes.len() != m.architecture.classes() {
        crate::bail!("weights manifest names {} classes, the architecture has {}", m.classes.len(), m.architecture.classes());
    }
    let payload = &bytes[12 + json.len()..];
    if payload.len() != manifest.payload_bytes {
        crate::bail!("weights file is {} by {} bytes: the payload has {} bytes, the manifest says {}",
            if payload.len() < manifest.payload_bytes { "truncated" } else { "too long" },
            payload.len().abs_diff(manifest.payload_bytes), payload.len(), manifest.payload_bytes);
    }
    if sha256_hex(payload) != manifest.payload_sha256 {
        crate::bail!("weights file is corrupted: the payload's sha256 does not match the manifest");
    }
    let tensors = manifest.tensors.iter().map(|t| read_tensor(payload, t)).collect::<Result<Vec<_>>>()?;
    // Checked before `to_network` builds the architecture, so a manifest cannot make it allocate.
    let listed: u128 = tensors.iter().map(|t| t.len() as u128).sum();
    if listed != m.architecture.parameters() {
        crate::bail!("weights manifest lists {listed} values, the architecture has {} parameters", m.architecture.parameters());
    }
    Ok(Weights { manifest, tensors, sha256: sha256_hex(bytes) })
}

fn read_tensor(payload: &[u8], t: &TensorEntry) -> Result<Vec<f32>> {
    let n = limits::product(&format!("weights tensor {}", t.path), &t.shape, limits::MAX_PARAMETERS)?;
    let bad = || Error(format!("weights tensor {} (offset {}, shape {:?}) lies outside the payload of {} bytes", t.path, t.offset, t.shape, payload.len()));
    // Every end is checked: offsets and shapes come from the file.
    let bytes = |at: usize, len: usize| at.checked_add(len).and_then(|end| payload.get(at..end)).ok_or_else(bad);
    let f32s = |at: usize, count: usize| -> Result<Vec<f32>> {
        let raw = bytes(at, count.checked_mul(4).ok_or_else(bad)?)?;
        Ok(raw.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect())
    };
    let values = match (t.dtype, t.axis) {
        (DType::F32, None) => f32s(t.offset, n)?,
        (DType::I8, Some(axis)) if axis < t.shape.len() && t.shape[axis] > 0 => {
            let q = bytes(t.offset, n)?;
            let scales = f32s((t.offset + n).next_multiple_of(4), t.shape[axis])?;
            let inner: usize = t.shape[axis + 1..].iter().product();
            q.iter().enumerate().map(|(i, &v)| v as i8 as f32 * scales[(i / inner) % t.shape[axis]]).collect()
        }
        _ => crate::bail!("weights tensor {} has dtype {:?} with axis {:?}", t.path, t.dtype, t.axis),
    };
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        crate::bail!("weights tensor {} holds a non-finite value {v}", t.path);
    }
    Ok(values)
}

impl Weights {
    /// Builds the network on `device` with these weights; every parameter of the architecture
    /// must be present with the same path and shape.
    pub fn to_network(&self, device: &Device) -> Result<Network> {
        let expected = parameter_shapes(&self.manifest.model.architecture.init(device));
        let found: Vec<(String, Vec<usize>)> = self.manifest.tensors.iter().map(|t| (t.path.clone(), t.shape.clone())).collect();
        if expected != found {
            let first = expected.iter().zip(&found).find(|(a, b)| a != b);
            crate::bail!(
                "weights do not fit the architecture: {} tensors expected, {} found{}",
                expected.len(),
                found.len(),
                first.map(|(a, b)| format!("; first difference: expected {} {:?}, found {} {:?}", a.0, a.1, b.0, b.1)).unwrap_or_default()
            );
        }
        struct Load<'a> {
            tensors: std::slice::Iter<'a, Vec<f32>>,
            device: &'a Device,
        }
        impl ModuleMapper for Load<'_> {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                let values = self.tensors.next().expect("tensor count checked against the architecture");
                let shape = param.lazy_shape();
                let t = Tensor::<D>::from_data(TensorData::new(values.clone(), shape), self.device);
                Param::initialized(param.id, t)
            }
        }
        let net = self.manifest.model.architecture.init(device);
        Ok(net.map(&mut Load { tensors: self.tensors.iter(), device }))
    }
}

/// Paths and shapes of a network's parameters, in visiting order.
fn parameter_shapes(net: &Network) -> Vec<(String, Vec<usize>)> {
    let mut v = PathVisitor::default();
    net.visit(&mut v);
    v.found.into_iter().map(|(p, s, _)| (p, s)).collect()
}

/// (path, shape, values) of every parameter (blocking read; native only).
fn parameters(net: &Network) -> Result<Vec<(String, Vec<usize>, Vec<f32>)>> {
    let mut v = PathVisitor { read: true, ..Default::default() };
    net.visit(&mut v);
    v.found.into_iter().map(|(p, s, t)| Ok((p, s, t.ok_or_else(|| Error("cannot read a parameter".into()))?))).collect()
}

#[derive(Default)]
struct PathVisitor {
    stack: Vec<String>,
    read: bool,
    found: Vec<(String, Vec<usize>, Option<Vec<f32>>)>,
}

impl ModuleVisitor for PathVisitor {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.stack.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.stack.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let shape = param.lazy_shape().dims::<D>().to_vec();
        let values = self.read.then(|| param.val().into_data().try_to_vec::<f32>().ok()).flatten();
        self.found.push((self.stack.join("."), shape, values));
    }
}
