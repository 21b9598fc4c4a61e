//! Trained denoisers: a network (U-Net or 2-D MLP) under EDM preconditioning, with
//! classifier-free guidance, as a `Denoiser` on burn tensors.

use super::mlp2d::{Mlp2d, Mlp2dConfig};
use super::precond::{guided_rows, one_hot, scalings, scalings_per_row};
use super::unet::{UNet, UNetConfig};
use crate::Result;
use crate::plan::Denoiser;
use burn::module::Module;
use burn::prelude::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Which network and its shape; the `architecture` of a weights manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Architecture {
    Unet(UNetConfig),
    Mlp2d(Mlp2dConfig),
}

impl Architecture {
    pub fn validate(&self) -> Result<()> {
        match self {
            Architecture::Unet(c) => c.validate(),
            Architecture::Mlp2d(c) => c.validate(),
        }
    }

    /// Number of parameters (u128: computed from untrusted sizes before anything is allocated).
    pub fn parameters(&self) -> u128 {
        match self {
            Architecture::Unet(c) => c.parameters(),
            Architecture::Mlp2d(c) => c.parameters(),
        }
    }

    /// Dimension of one (flattened) sample.
    pub fn dim(&self) -> usize {
        match self {
            Architecture::Unet(c) => c.size * c.size,
            Architecture::Mlp2d(_) => 2,
        }
    }

    /// Number of classes (0: unconditional).
    pub fn classes(&self) -> usize {
        match self {
            Architecture::Unet(c) => c.classes,
            Architecture::Mlp2d(_) => 0,
        }
    }

    pub fn init(&self, device: &Device) -> Network {
        match self {
            Architecture::Unet(c) => Network::Unet(c.init(device)),
            Architecture::Mlp2d(c) => Network::Mlp2d(c.init(device)),
        }
    }
}

#[derive(Module, Debug)]
pub enum Network {
    Unet(UNet),
    Mlp2d(Mlp2d),
}

impl Network {
    /// The raw network F(x_in; c_noise, class one-hot).
    pub fn forward(&self, x: Tensor<2>, c_noise: Tensor<2>, class: Tensor<2>) -> Tensor<2> {
        match self {
            Network::Unet(n) => n.forward(x, c_noise, class),
            Network::Mlp2d(n) => n.forward(x, c_noise),
        }
    }

    /// D(x; sigma) = c_skip x + c_out F(c_in x; c_noise(sigma), class), one sigma per row.
    pub fn denoise(&self, x: Tensor<2>, sigma: Tensor<2>, class: Tensor<2>, sigma_data: f64) -> Tensor<2> {
        let s = scalings_per_row(sigma, sigma_data);
        let f = self.forward(x.clone() * s.c_in, s.c_noise, class);
        x * s.c_skip + f * s.c_out
    }
}

/// A trained network as a sampler's denoiser: fixed class labels per row and a guidance scale
/// w (D = D_uncond + w (D_cond - D_uncond); w = 1 is plain conditional sampling).
#[derive(Clone)]
pub struct NetDenoiser {
    net: Network,
    sigma_data: f64,
    guidance: f64,
    /// One-hot labels, and for guidance the labels followed by as many null-class rows.
    class: Tensor<2>,
}

impl NetDenoiser {
    /// `labels[i]` is the class of row i; `classes` (or any larger value) means unconditional.
    pub fn new(net: Network, arch: &Architecture, sigma_data: f64, labels: &[usize], guidance: f64, device: &Device) -> Result<Self> {
        let classes = arch.classes();
        let (rows, guidance) = guided_rows(labels, classes, guidance)?;
        Ok(NetDenoiser { net, sigma_data, guidance, class: one_hot(&rows, classes, device) })
    }
}

impl Denoiser<Tensor<2>> for NetDenoiser {
    fn denoise(&self, x: &Tensor<2>, sigma: f64) -> Result<Tensor<2>> {
        let [batch, dim] = x.dims();
        let rows = self.class.dims()[0];
        if rows != batch && rows != 2 * batch {
            crate::bail!("denoiser was set up for {} labels but the batch has {batch} rows", if self.guidance == 1.0 { rows } else { rows / 2 });
        }
        let s = scalings(sigma, self.sigma_data);
        let x_in = x.clone().mul_scalar(s.c_in);
        let x_in = if rows == batch { x_in } else { Tensor::cat(vec![x_in.clone(), x_in], 0) };
        let c_noise = Tensor::<2>::full([rows, 1], s.c_noise, &x.device());
        let f = self.net.forward(x_in, c_noise, self.class.clone());
        let f = if rows == batch {
            f
        } else {
            let cond = f.clone().slice([0..batch, 0..dim]);
            let uncond = f.slice([batch..2 * batch, 0..dim]);
            uncond.clone() + (cond - uncond).mul_scalar(self.guidance)
        };
        Ok(x.clone().mul_scalar(s.c_skip) + f.mul_scalar(s.c_out))
    }
}
