//! SiLU, x * sigmoid(x), the networks' activation, with a vectorized path on the CPU.
//!
//! burn flex computes sigmoid with one libm `expf` call per element, which the compiler cannot
//! vectorize: in the browser's CPU build that was a fifth of every U-Net evaluation. On a plain
//! flex tensor (not under autodiff) we take the values and compute x * sigmoid(x) in one
//! branch-free pass whose exp the compiler turns into SIMD (wasm simd128, SSE/AVX natively).
//! Everywhere else (WebGPU, training) it is burn's own `silu`.

use burn::prelude::{Device, Tensor, TensorData};

pub fn silu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    if on_plain_cpu(&device) {
        // A clone, so that an unreadable tensor (not expected on flex) still has burn's path.
        if let Ok(Ok(mut values)) = x.clone().try_into_data().map(|d| d.try_into_vec::<f32>()) {
            silu_in_place(&mut values);
            return Tensor::from_data(TensorData::new(values, x.shape()), &device);
        }
    }
    burn::tensor::activation::silu(x)
}

#[cfg(any(not(target_arch = "wasm32"), feature = "cpu"))]
fn on_plain_cpu(device: &Device) -> bool {
    // Equality looks through autodiff, so ask about it first.
    !device.is_autodiff() && *device == Device::flex()
}

#[cfg(not(any(not(target_arch = "wasm32"), feature = "cpu")))]
fn on_plain_cpu(_: &Device) -> bool {
    false
}

/// x * sigmoid(x) for every element; relative error about 1e-7 (f32 rounding), NaN stays NaN.
/// Below x = -88 it gives x * e^-88 (under 1e-33 in size for |x| < 1e5) for x * e^x.
pub fn silu_in_place(xs: &mut [f32]) {
    for x in xs.iter_mut() {
        *x /= 1.0 + exp(-*x);
    }
}

/// e^x in f32 without branches or calls, so loops over it vectorize: x = k ln 2 + r with
/// |r| <= ln(2)/2 (ln 2 split in two for an exact k ln 2), e^r by its Taylor series to r^7
/// (truncation below 6e-9), 2^k put into the exponent bits. Inputs are clamped to [-87, 88],
/// where e^x is a normal float: sigmoid needs nothing beyond.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4; // 355/512: 9 bits, so k * LN2_HI is exact
    const LN2_LO: f32 = -2.121_944_4e-4; // ln 2 - 355/512
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding and subtracting it rounds to an integer
    let x = if x < -87.0 { -87.0 } else if x > 88.0 { 88.0 } else { x };
    let k = (x * LOG2E + ROUND) - ROUND;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let scale = f32::from_bits(((k as i32 + 127) << 23) as u32);
    p * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_f32_rounding_of_the_exact_value() {
        let mut worst = 0.0f64;
        for i in 0..350_000 {
            let x = -87.0 + i as f32 * 0.0005;
            let exact = (x as f64).exp();
            worst = worst.max(((exp(x) as f64) - exact).abs() / exact);
        }
        assert!(worst < 4e-7, "worst relative error {worst}");
    }

    #[test]
    fn silu_matches_the_f64_formula_and_keeps_nan() {
        let mut xs: Vec<f32> = (-4000..=4000).map(|i| i as f32 * 0.025).collect();
        xs.extend([-1e4, -200.0, -88.5, 88.5, 200.0, 1e4, 1e30, 0.0, -0.0]);
        let mut got = xs.clone();
        silu_in_place(&mut got);
        for (&x, &y) in xs.iter().zip(&got) {
            let exact = x as f64 / (1.0 + (-(x as f64)).exp());
            assert!((y as f64 - exact).abs() <= 4e-7 * exact.abs() + 1e-30, "silu({x}) = {y}, exact {exact}");
        }
        let mut nan = [f32::NAN];
        silu_in_place(&mut nan);
        assert!(nan[0].is_nan());
    }
}
