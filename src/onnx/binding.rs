//! The graph's declared interface (input and output names, element types, dimensions) and the
//! binding of a card to it: which input gets the sample, the noise level and the class, in which
//! layout, checked so that a card that contradicts the graph is refused before anything runs.

use super::adapter::Adapter;
use super::card::{Card, ClassEncoding, Family, NoiseAs, Parameterization, Schedule};
use crate::{Result, bail, limits};

/// An ONNX element type (TensorProto.DataType).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F32,
    F64,
    F16,
    I64,
    I32,
    Other(i32),
}

impl DType {
    pub fn from_onnx(code: i32) -> DType {
        match code {
            1 => DType::F32,
            11 => DType::F64,
            10 => DType::F16,
            7 => DType::I64,
            6 => DType::I32,
            other => DType::Other(other),
        }
    }

    fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    fn is_int(self) -> bool {
        matches!(self, DType::I64 | DType::I32)
    }

    pub fn name(self) -> String {
        match self {
            DType::F32 => "float32".into(),
            DType::F64 => "float64".into(),
            DType::F16 => "float16".into(),
            DType::I64 => "int64".into(),
            DType::I32 => "int32".into(),
            DType::Other(code) => format!("ONNX type {code}"),
        }
    }
}

/// One declared dimension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    Fixed(usize),
    Symbol(String),
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Symbol(s) if s.is_empty() => f.write_str("?"),
            Dim::Symbol(s) => f.write_str(s),
        }
    }
}

/// A declared graph input or output; `dims` None when the graph does not give its rank.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorDecl {
    pub name: String,
    pub dtype: DType,
    pub dims: Option<Vec<Dim>>,
}

impl TensorDecl {
    pub fn shape_text(&self) -> String {
        match &self.dims {
            None => "[unknown rank]".into(),
            Some(d) => format!("[{}]", d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Signature {
    pub inputs: Vec<TensorDecl>,
    pub outputs: Vec<TensorDecl>,
}

/// How the noise level is laid out: one number for the batch, or one per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoiseLayout {
    /// Shape [].
    Scalar,
    /// Shape [1].
    One,
    /// Shape [batch].
    Row,
    /// Shape [batch, 1].
    RowColumn,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClassBinding {
    pub input: String,
    pub dtype: DType,
    pub encoding: ClassEncoding,
    pub classes: usize,
    /// One-hot width (classes, or classes + 1 with a null column).
    pub columns: usize,
    /// The unconditional label, if the model has one.
    pub null: Option<usize>,
}

/// A card bound to a graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub sample: String,
    pub sample_dtype: DType,
    /// One sample's shape as the graph takes it (after the batch dimension).
    pub sample_dims: Vec<usize>,
    /// One sample's shape as the card describes it (e.g. [1, 28, 28] for a graph taking 784).
    pub sample_shape: Vec<usize>,
    /// A batch size the graph fixes; None: any.
    pub batch: Option<usize>,
    pub noise: String,
    pub noise_dtype: DType,
    pub noise_layout: NoiseLayout,
    pub class: Option<ClassBinding>,
    pub output: String,
    pub output_dtype: DType,
    pub adapter: Adapter,
    pub schedule: Schedule,
}

impl Binding {
    /// Values per sample.
    pub fn dim(&self) -> usize {
        self.sample_dims.iter().product()
    }

    /// Binds `card` to `sig`, refusing every contradiction with a message that names it.
    pub fn new(card: &Card, sig: &Signature) -> Result<Binding> {
        let (schedule, parameterization) = card.resolve()?;
        let names = [Some(&card.sample.input), Some(&card.noise.input), card.class.as_ref().map(|c| &c.input)];
        let names: Vec<&String> = names.into_iter().flatten().collect();
        if let Some(dup) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)) {
            bail!("the card binds input \"{}\" twice: sample, noise and class must be different inputs", dup.1);
        }
        let input = |name: &str, role: &str| -> Result<&TensorDecl> {
            sig.inputs.iter().find(|i| i.name == name).ok_or_else(|| {
                let names: Vec<&str> = sig.inputs.iter().map(|i| i.name.as_str()).collect();
                crate::Error(format!("the card's {role} input \"{name}\" is not an input of the graph (its inputs: {})", names.join(", ")))
            })
        };
        // The sample: [batch, ...], the card's shape filling what the graph leaves open.
        let s = input(&card.sample.input, "sample")?;
        if !s.dtype.is_float() {
            bail!("sample input \"{}\" is {}: it must be float32 or float64", s.name, s.dtype.name());
        }
        let dims = s.dims.clone().ok_or_else(|| crate::Error(format!("sample input \"{}\" has no declared rank: give it one in the export", s.name)))?;
        if dims.len() < 2 {
            bail!("sample input \"{}\" has shape {}: it needs a batch dimension and at least one more", s.name, s.shape_text());
        }
        let batch = match dims[0] {
            Dim::Fixed(0) => bail!("sample input \"{}\" has a batch dimension of 0", s.name),
            Dim::Fixed(n) => Some(limits::at_most("the graph's fixed batch", n, limits::MAX_BATCH)?),
            Dim::Symbol(_) => None,
        };
        let declared = &dims[1..];
        let sample_dims: Vec<usize> = match &card.sample.shape {
            Some(shape) if shape.len() == declared.len() => {
                for (i, (d, &c)) in declared.iter().zip(shape).enumerate() {
                    if let Dim::Fixed(n) = d {
                        if *n != c {
                            bail!("the card's sample shape {shape:?} contradicts the graph's {} at dimension {}", s.shape_text(), i + 1);
                        }
                    }
                }
                shape.clone()
            }
            Some(shape) => {
                // A flattened graph: its fixed dimensions must hold the card's shape exactly.
                let fixed: Option<Vec<usize>> = declared.iter().map(|d| if let Dim::Fixed(n) = d { Some(*n) } else { None }).collect();
                let size = |dims: &[usize]| limits::product("sample", dims, limits::MAX_DIM).ok();
                match fixed {
                    Some(f) if size(&f).is_some() && size(&f) == size(shape) => f,
                    _ => bail!("the card's sample shape {shape:?} does not fit the graph's {}", s.shape_text()),
                }
            }
            None => declared
                .iter()
                .map(|d| match d {
                    Dim::Fixed(n) => Ok(*n),
                    Dim::Symbol(_) => bail!("sample input \"{}\" has shape {}: give the card's sample.shape for the open dimensions", s.name, s.shape_text()),
                })
                .collect::<Result<_>>()?,
        };
        if sample_dims.contains(&0) {
            bail!("sample shape {sample_dims:?} has a zero dimension");
        }
        limits::product("sample", &sample_dims, limits::MAX_DIM)?;
        limits::elements(batch.unwrap_or(1), sample_dims.iter().product())?;
        let sample_shape = card.sample.shape.clone().unwrap_or_else(|| sample_dims.clone());

        // The noise level: a scalar, [1], [batch] or [batch, 1].
        let n = input(&card.noise.input, "noise")?;
        if !(n.dtype.is_float() || n.dtype.is_int()) {
            bail!("noise input \"{}\" is {}: it must be a float or an integer type", n.name, n.dtype.name());
        }
        let batch_like = |d: &Dim| match (d, batch) {
            (Dim::Symbol(_), _) => true,
            (Dim::Fixed(k), Some(b)) => *k == b,
            (Dim::Fixed(_), None) => false,
        };
        let noise_layout = match n.dims.as_deref() {
            None => bail!("noise input \"{}\" has no declared rank: give it one in the export", n.name),
            Some([]) => NoiseLayout::Scalar,
            Some([Dim::Fixed(1)]) if batch != Some(1) => NoiseLayout::One,
            Some([d]) if batch_like(d) => NoiseLayout::Row,
            Some([d, Dim::Fixed(1)]) if batch_like(d) => NoiseLayout::RowColumn,
            Some(_) => bail!("noise input \"{}\" has shape {}: expected [], [1], [batch] or [batch, 1]", n.name, n.shape_text()),
        };
        let quantize = match (card.noise.kind, card.noise.quantize, n.dtype.is_int()) {
            (NoiseAs::Timestep, Some(false), true) => bail!("noise input \"{}\" is {}: it cannot take the fractional timesteps the card asks for (quantize: false)", n.name, n.dtype.name()),
            (NoiseAs::Timestep, q, int) => q.unwrap_or(int),
            (kind, _, true) => bail!("noise input \"{}\" is {} but the card says it holds {kind}, which is not an integer: a timestep dtype mismatch", n.name, n.dtype.name()),
            (_, Some(true), _) => bail!("noise.quantize applies to timesteps only"),
            _ => false,
        };

        let class = match &card.class {
            None => None,
            Some(c) => {
                let i = input(&c.input, "class")?;
                let columns = match (c.encoding, i.dims.as_deref()) {
                    (ClassEncoding::Index, Some([d])) if batch_like(d) && i.dtype.is_int() => 0,
                    (ClassEncoding::Index, _) => bail!("class input \"{}\" is {} {}: an index class input is int64 or int32 of shape [batch]", i.name, i.dtype.name(), i.shape_text()),
                    (ClassEncoding::OneHot, Some([d, Dim::Fixed(w)])) if batch_like(d) && i.dtype.is_float() && (*w == c.classes || *w == c.classes + 1) => *w,
                    (ClassEncoding::OneHot, _) => {
                        bail!("class input \"{}\" is {} {}: a one-hot class input is float of shape [batch, {}] or [batch, {}]", i.name, i.dtype.name(), i.shape_text(), c.classes, c.classes + 1)
                    }
                };
                if let Some(null) = c.null {
                    if c.encoding == ClassEncoding::OneHot && null != c.classes {
                        bail!("class.null {null}: a one-hot null label is {} (its own column, or all zeros without one)", c.classes);
                    }
                }
                Some(ClassBinding { input: i.name.clone(), dtype: i.dtype, encoding: c.encoding, classes: c.classes, columns, null: c.null })
            }
        };

        let bound: Vec<&str> = [Some(card.sample.input.as_str()), Some(card.noise.input.as_str()), card.class.as_ref().map(|c| c.input.as_str())].into_iter().flatten().collect();
        if let Some(extra) = sig.inputs.iter().find(|i| !bound.contains(&i.name.as_str())) {
            bail!(
                "the graph has an input \"{}\" {} {} that the card does not describe (it binds sample, noise and class only; text-conditioned models are not supported)",
                extra.name,
                extra.dtype.name(),
                extra.shape_text()
            );
        }

        let o = sig.outputs.iter().find(|o| o.name == card.output.name).ok_or_else(|| {
            let names: Vec<&str> = sig.outputs.iter().map(|o| o.name.as_str()).collect();
            crate::Error(format!("the card's output \"{}\" is not an output of the graph (its outputs: {})", card.output.name, names.join(", ")))
        })?;
        if !o.dtype.is_float() {
            bail!("output \"{}\" is {}: it must be float32 or float64", o.name, o.dtype.name());
        }
        if let Some(od) = &o.dims {
            let fixed: Option<Vec<usize>> = od.iter().skip(1).map(|d| if let Dim::Fixed(n) = d { Some(*n) } else { None }).collect();
            if let Some(f) = fixed {
                if od.len() > 1 && limits::product("output", &f, limits::MAX_DIM).ok() != Some(sample_dims.iter().product::<usize>()) {
                    bail!("output \"{}\" has shape {}: it does not hold one value per sample value ({sample_dims:?})", o.name, o.shape_text());
                }
            }
        }

        let sigma_data = if parameterization == Parameterization::V { card.sigma_data.unwrap_or(1.0) } else { 1.0 };
        let adapter = Adapter { family: schedule.family.clone(), parameterization, noise: card.noise.kind, quantize, sigma_data };
        Ok(Binding {
            sample: s.name.clone(),
            sample_dtype: s.dtype,
            sample_dims,
            sample_shape,
            batch,
            noise: n.name.clone(),
            noise_dtype: n.dtype,
            noise_layout,
            class,
            output: o.name.clone(),
            output_dtype: o.dtype,
            adapter,
            schedule,
        })
    }

    /// The element type and shape of graph input `name` as the card binds it, `None` standing
    /// for the batch dimension where the graph leaves it open; None for an input it does not bind.
    pub fn input_shape(&self, name: &str) -> Option<(DType, Vec<Option<usize>>)> {
        let batch = self.batch;
        if name == self.sample {
            return Some((self.sample_dtype, std::iter::once(batch).chain(self.sample_dims.iter().map(|&d| Some(d))).collect()));
        }
        if name == self.noise {
            let dims = match self.noise_layout {
                NoiseLayout::Scalar => vec![],
                NoiseLayout::One => vec![Some(1)],
                NoiseLayout::Row => vec![batch],
                NoiseLayout::RowColumn => vec![batch, Some(1)],
            };
            return Some((self.noise_dtype, dims));
        }
        let c = self.class.as_ref().filter(|c| c.input == name)?;
        Some((c.dtype, if c.columns == 0 { vec![batch] } else { vec![batch, Some(c.columns)] }))
    }

    /// The class input's values for rows with `labels` (the null label where a label is
    /// `classes` or more): indices, or one-hot rows (a null row is all zeros when the graph has
    /// no null column).
    pub fn class_values(&self, labels: &[usize]) -> Vec<f64> {
        let Some(c) = &self.class else { return Vec::new() };
        let null = c.null.unwrap_or(c.classes);
        match c.encoding {
            ClassEncoding::Index => labels.iter().map(|&l| if l >= c.classes { null } else { l } as f64).collect(),
            ClassEncoding::OneHot => {
                let mut v = vec![0.0; labels.len() * c.columns];
                for (row, &l) in labels.iter().enumerate() {
                    let col = if l >= c.classes { null } else { l };
                    if col < c.columns {
                        v[row * c.columns + col] = 1.0;
                    }
                }
                v
            }
        }
    }

    /// Whether classifier-free guidance is possible: a class input with a null label.
    pub fn has_null_class(&self) -> bool {
        self.class.as_ref().is_some_and(|c| c.null.is_some())
    }

    /// What the card makes of the graph, in lines a person reads (`inspect`, the page).
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let batch = self.batch.map_or("any batch".to_string(), |n| format!("batch fixed at {n} (larger batches run in chunks)"));
        lines.push(format!("sample   \"{}\": one sample {:?} ({} values), {batch}", self.sample, self.sample_shape, self.dim()));
        let layout = match self.noise_layout {
            NoiseLayout::Scalar => "one scalar per call",
            NoiseLayout::One => "[1] per call",
            NoiseLayout::Row => "one per row",
            NoiseLayout::RowColumn => "one per row, [batch, 1]",
        };
        let quantized = match (&self.schedule.family, self.adapter.quantize) {
            (Family::Vp(_), true) => ", rounded to the nearest training timestep",
            (_, true) => ", rounded to an integer",
            _ => "",
        };
        lines.push(format!("noise    \"{}\": {} ({layout}, {}{quantized})", self.noise, self.adapter.noise, self.noise_dtype.name()));
        if let Some(c) = &self.class {
            let enc = match c.encoding {
                ClassEncoding::Index => "indices".to_string(),
                ClassEncoding::OneHot => format!("one-hot, {} columns", c.columns),
            };
            let null = c.null.map_or("no null label (no guidance)".to_string(), |n| format!("null label {n}"));
            lines.push(format!("class    \"{}\": {} classes, {enc}, {null}", c.input, c.classes));
        }
        lines.push(format!("output   \"{}\": {}", self.output, self.adapter.parameterization));
        lines.push(format!("schedule {}; sampling runs over sigma {} .. {}", self.schedule.family.describe(), self.schedule.sigma_min, self.schedule.sigma_max));
        lines.push("D(x; sigma) = c_skip x + c_out y(c_in x, noise input):".into());
        let (lo, hi) = (self.schedule.sigma_min, self.schedule.sigma_max);
        for sigma in [hi, (lo * hi).sqrt(), lo] {
            let s = self.adapter.scalings(sigma);
            lines.push(format!("  sigma {sigma:<10.4}  c_in {:<10.6}  c_skip {:<10.6}  c_out {:<11.6}  noise input {:.6}", s.c_in, s.c_skip, s.c_out, s.c_noise));
        }
        lines
    }
}
