//! A small MLP denoiser network for 2-D toy data: [x, noise features] -> hidden layers -> 2.

use super::activation::silu;
use super::precond::{NOISE_FREQS, noise_features};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::{Device, Tensor};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mlp2dConfig {
    pub hidden: usize,
    /// Number of hidden layers (>= 1).
    pub layers: usize,
}

impl Mlp2dConfig {
    pub fn toy() -> Self {
        Mlp2dConfig { hidden: 128, layers: 3 }
    }

    pub fn validate(&self) -> crate::Result<()> {
        if self.hidden == 0 || self.layers == 0 {
            crate::bail!("MLP config needs hidden > 0 and layers >= 1");
        }
        crate::limits::at_most("MLP hidden", self.hidden, crate::limits::MAX_PARAMETERS)?;
        crate::limits::at_most("MLP layers", self.layers, crate::limits::MAX_TENSORS)?;
        let params = self.parameters();
        if params > crate::limits::MAX_PARAMETERS as u128 {
            crate::bail!("MLP with {} layers of {} would have {params} parameters, above the limit of {}", self.layers, self.hidden, crate::limits::MAX_PARAMETERS);
        }
        Ok(())
    }

    /// Number of parameters `init` creates (u128: the sizes may come from an untrusted file).
    pub fn parameters(&self) -> u128 {
        let (h, inputs) = (self.hidden as u128, (2 + 2 * NOISE_FREQS) as u128);
        (inputs * h + h) + (self.layers as u128 - 1) * (h * h + h) + (2 * h + 2)
    }

    pub fn init(&self, device: &Device) -> Mlp2d {
        let first = LinearConfig::new(2 + 2 * NOISE_FREQS, self.hidden).init(device);
        let rest = (1..self.layers).map(|_| LinearConfig::new(self.hidden, self.hidden).init(device));
        Mlp2d { hidden: std::iter::once(first).chain(rest).collect(), out: LinearConfig::new(self.hidden, 2).init(device) }
    }
}

#[derive(Module, Debug)]
pub struct Mlp2d {
    hidden: Vec<Linear>,
    out: Linear,
}

impl Mlp2d {
    /// F(x_in; c_noise): x_in [batch, 2], c_noise [batch, 1] -> [batch, 2].
    pub fn forward(&self, x: Tensor<2>, c_noise: Tensor<2>) -> Tensor<2> {
        let h = Tensor::cat(vec![x, noise_features(c_noise)], 1);
        let h = self.hidden.iter().fold(h, |h, layer| silu(layer.forward(h)));
        self.out.forward(h)
    }
}
