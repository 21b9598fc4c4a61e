//! An ONNX graph as a denoiser, whatever runs it (tract natively, onnxruntime-web in the page):
//! the runtime only runs named input tensors; here the batch is cut to the graph's fixed batch,
//! the inputs are built as the card binds them, and the adapter makes the output D(x; sigma).

use super::binding::{Binding, DType};
use super::card::Card;
use crate::plan::{AsyncDenoiser, Thresholding};
use crate::{Error, Result, bail};
use std::cell::Cell;

/// One input tensor of a run: values in f64, converted to `dtype` by the runtime (integer
/// types rounded).
#[derive(Clone, Debug, PartialEq)]
pub struct Feed {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

/// What runs a graph: its binding and card, and one run on named inputs giving the bound
/// output's values (row-major, as f64).
#[allow(async_fn_in_trait)] // single-threaded callers only: the browser and a native loop
pub trait Graph {
    fn binding(&self) -> &Binding;
    fn card(&self) -> &Card;
    async fn run(&self, rows: usize, feeds: Vec<Feed>) -> Result<Vec<f64>>;

    /// Values per sample.
    fn dim(&self) -> usize {
        self.binding().dim()
    }

    /// Classes the model is conditioned on (0: unconditional).
    fn classes(&self) -> usize {
        self.binding().class.as_ref().map_or(0, |c| c.classes)
    }
}

/// The raw network output for a batch already scaled to the graph's input (`x_in`, rows of
/// `dim`) at one noise level, rows of class values `class` (see [`Binding::class_values`]).
pub async fn forward<G: Graph + ?Sized>(g: &G, x_in: &[f64], noise_level: f64, class: &[f64]) -> Result<Vec<f64>> {
    let bnd = g.binding();
    let dim = bnd.dim();
    let rows = x_in.len() / dim;
    let per_row = match &bnd.class {
        Some(c) => c.columns.max(1),
        None => 0,
    };
    if class.len() != rows * per_row || !x_in.len().is_multiple_of(dim) {
        bail!("a batch of {} values with {} class values does not fit {dim}-value samples with {per_row} class values each", x_in.len(), class.len());
    }
    // A graph with a fixed batch runs in chunks of it, the last one padded.
    let chunk = bnd.batch.unwrap_or(rows.max(1));
    let mut out = Vec::with_capacity(x_in.len());
    for start in (0..rows).step_by(chunk) {
        let n = chunk.min(rows - start);
        let mut xs = x_in[start * dim..(start + n) * dim].to_vec();
        xs.resize(chunk * dim, 0.0);
        let mut cs = class[start * per_row..(start + n) * per_row].to_vec();
        cs.resize(chunk * per_row, 0.0);
        let feed = |name: &str, values: Vec<f64>| {
            let (dtype, dims) = bnd.input_shape(name).expect("the binding binds its own inputs");
            let shape: Vec<usize> = dims.iter().map(|d| d.unwrap_or(chunk)).collect();
            let values = if name == bnd.noise { vec![noise_level; shape.iter().product()] } else { values };
            Feed { name: name.into(), dtype, shape, values }
        };
        let mut feeds = vec![feed(&bnd.sample, xs), feed(&bnd.noise, Vec::new())];
        if let Some(c) = &bnd.class {
            feeds.push(feed(&c.input, cs));
        }
        let y = g.run(chunk, feeds).await?;
        if y.len() != chunk * dim {
            bail!("output \"{}\" has {} values for {chunk} samples of {dim}: its shape is not the sample's", bnd.output, y.len());
        }
        out.extend_from_slice(&y[..n * dim]);
    }
    Ok(out)
}

/// The denoiser of graph `g` for rows with `labels` at guidance `guidance` (1: plain conditional).
pub fn denoiser<'a, G: Graph + ?Sized>(g: &'a G, labels: &[usize], guidance: f64) -> Result<OnnxDenoiser<'a, G>> {
    let (classes, bnd) = (g.classes(), g.binding());
    if let Some(bad) = labels.iter().find(|&&l| classes > 0 && l > classes) {
        bail!("class label {bad} is out of range 0..={classes} ({classes} = unconditional)");
    }
    let (rows, guidance) = crate::denoiser::precond::guided_rows(labels, classes, guidance)?;
    if guidance != 1.0 && !bnd.has_null_class() {
        bail!("guidance needs an unconditional label: the card's class.null");
    }
    if classes > 0 && labels.iter().any(|&l| l >= classes) && !bnd.has_null_class() {
        bail!("unconditional rows need the card's class.null");
    }
    Ok(OnnxDenoiser { graph: g, class: bnd.class_values(&rows), rows: labels.len(), guidance, evals: Cell::new(0) })
}

/// An ONNX model as a sampler's denoiser: D = c_skip x + c_out y(c_in x; c_noise), with
/// classifier-free guidance on y (the same as on D: D is affine in y).
pub struct OnnxDenoiser<'a, G: ?Sized> {
    graph: &'a G,
    /// Class input values: the rows' labels, then as many null rows when guided.
    class: Vec<f64>,
    rows: usize,
    guidance: f64,
    evals: Cell<usize>,
}

impl<G: Graph + ?Sized> AsyncDenoiser<Vec<f64>> for OnnxDenoiser<'_, G> {
    async fn denoise(&self, x: &Vec<f64>, sigma: f64) -> Result<Vec<f64>> {
        let bnd = self.graph.binding();
        let dim = bnd.dim();
        let batch = crate::denoiser::check_batch(x, dim)?;
        if bnd.class.is_some() && batch != self.rows {
            bail!("denoiser was set up for {} rows but the batch has {batch}", self.rows);
        }
        let k = self.evals.get() + 1;
        self.evals.set(k);
        let s = bnd.adapter.scalings(sigma);
        let mut x_in: Vec<f64> = x.iter().map(|v| v * s.c_in).collect();
        if self.guidance != 1.0 {
            x_in.extend_from_within(..);
        }
        let mut y = forward(self.graph, &x_in, s.c_noise, &self.class).await.map_err(|e| Error(format!("evaluation {k} (sigma {sigma}): {e}")))?;
        if self.guidance != 1.0 {
            let (cond, uncond) = y.split_at(x.len());
            y = cond.iter().zip(uncond).map(|(c, u)| u + self.guidance * (c - u)).collect();
        }
        if let Some(bad) = y.iter().position(|v| !v.is_finite()) {
            bail!("the model's output \"{}\" is not finite at evaluation {k} (sigma {sigma}, noise input {}; value {} of sample {})", bnd.output, s.c_noise, bad % dim, bad / dim);
        }
        Ok(x.iter().zip(&y).map(|(xv, yv)| s.c_skip * xv + s.c_out * yv).collect())
    }

    async fn threshold(&self, mut x0: Vec<f64>, t: &Thresholding) -> Result<Vec<f64>> {
        let dim = self.graph.dim();
        crate::denoiser::check_batch(&x0, dim)?;
        x0.chunks_mut(dim).for_each(|sample| t.apply(sample));
        Ok(x0)
    }
}
