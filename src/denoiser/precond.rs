//! EDM preconditioning (Karras et al. 2022, Table 1): a network F becomes the denoiser
//! D(x; sigma) = c_skip x + c_out F(c_in x; c_noise, class), and classifier-free guidance mixes a
//! conditional and an unconditional D in one batched call.

use burn::prelude::{Device, Tensor, TensorData};

/// Number of sinusoid frequencies of the noise embedding.
pub const NOISE_FREQS: usize = 16;

/// The four EDM scalings at one sigma.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scalings {
    pub c_skip: f64,
    pub c_out: f64,
    pub c_in: f64,
    pub c_noise: f64,
}

pub fn scalings(sigma: f64, sigma_data: f64) -> Scalings {
    let total = sigma * sigma + sigma_data * sigma_data;
    Scalings {
        c_skip: sigma_data * sigma_data / total,
        c_out: sigma * sigma_data / total.sqrt(),
        c_in: 1.0 / total.sqrt(),
        c_noise: sigma.ln() / 4.0,
    }
}

/// [sin, cos] of c_noise at geometric frequencies 1..100 rad per unit: c_noise spans about
/// [-1.6, 1.1] for sigma in [0.002, 80], so these resolve both coarse and fine noise levels.
pub fn noise_features(c_noise: Tensor<2>) -> Tensor<2> {
    let freqs: Vec<f32> = (0..NOISE_FREQS).map(|k| 100f32.powf(k as f32 / (NOISE_FREQS - 1) as f32)).collect();
    let freqs = Tensor::<2>::from_data(TensorData::new(freqs, [1, NOISE_FREQS]), &c_noise.device());
    let angles = c_noise * freqs;
    Tensor::cat(vec![angles.clone().sin(), angles.cos()], 1)
}

/// One-hot rows [batch, classes + 1] for class labels (`classes` = the null class).
pub fn one_hot(labels: &[usize], classes: usize, device: &Device) -> Tensor<2> {
    let mut data = vec![0f32; labels.len() * (classes + 1)];
    for (row, &label) in labels.iter().enumerate() {
        data[row * (classes + 1) + label.min(classes)] = 1.0;
    }
    Tensor::from_data(TensorData::new(data, [labels.len(), classes + 1]), device)
}
