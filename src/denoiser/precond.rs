//! EDM preconditioning (Karras et al. 2022, Table 1): a network F becomes the denoiser
//! D(x; sigma) = c_skip x + c_out F(c_in x; c_noise, class), and classifier-free guidance mixes a
//! conditional and an unconditional D in one batched call.

use burn::prelude::{Device, Tensor, TensorData};

/// Number of sinusoid frequencies of the noise embedding.
pub const NOISE_FREQS: usize = 16;

/// The four EDM scalings: numbers at one sigma, or tensors of one sigma per row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scalings<T = f64> {
    pub c_skip: T,
    pub c_out: T,
    pub c_in: T,
    pub c_noise: T,
}

/// sigma_data^2 / (sigma^2 + sigma_data^2), sigma sigma_data / sqrt(..), 1 / sqrt(..), ln(sigma) / 4.
pub fn scalings(sigma: f64, sigma_data: f64) -> Scalings {
    let total = sigma * sigma + sigma_data * sigma_data;
    Scalings {
        c_skip: sigma_data * sigma_data / total,
        c_out: sigma * sigma_data / total.sqrt(),
        c_in: 1.0 / total.sqrt(),
        c_noise: sigma.ln() / 4.0,
    }
}

/// The same scalings for one sigma per row ([batch, 1]), as training draws them.
pub fn scalings_per_row(sigma: Tensor<2>, sigma_data: f64) -> Scalings<Tensor<2>> {
    let sd2 = sigma_data * sigma_data;
    let total = sigma.clone().powf_scalar(2.0).add_scalar(sd2);
    Scalings {
        c_skip: total.clone().recip().mul_scalar(sd2),
        c_out: sigma.clone().mul_scalar(sigma_data) / total.clone().sqrt(),
        c_in: total.sqrt().recip(),
        c_noise: sigma.log().div_scalar(4.0),
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

/// The rows of a classifier-free-guided call: each row's label (`classes` is the null class),
/// then as many null-class rows when guidance applies; and the scale that applies (1 where
/// nothing is guided: no classes, w = 1, or only unconditional rows).
pub fn guided_rows(labels: &[usize], classes: usize, guidance: f64) -> crate::Result<(Vec<usize>, f64)> {
    if !guidance.is_finite() || !(0.0..=20.0).contains(&guidance) {
        crate::bail!("guidance scale {guidance} is out of range [0, 20]");
    }
    let guided = classes > 0 && guidance != 1.0 && labels.iter().any(|&l| l < classes);
    let mut rows = labels.to_vec();
    if guided {
        rows.extend(std::iter::repeat_n(classes, labels.len()));
    }
    Ok((rows, if guided { guidance } else { 1.0 }))
}

/// One-hot rows [batch, classes + 1] for class labels (`classes` = the null class).
pub fn one_hot(labels: &[usize], classes: usize, device: &Device) -> Tensor<2> {
    let mut data = vec![0f32; labels.len() * (classes + 1)];
    for (row, &label) in labels.iter().enumerate() {
        data[row * (classes + 1) + label.min(classes)] = 1.0;
    }
    Tensor::from_data(TensorData::new(data, [labels.len(), classes + 1]), device)
}
