//! SiLU, x * sigmoid(x), the networks' activation, with a vectorized path on the CPU.
//!
//! burn flex computes sigmoid with one libm `expf` call per element, which the compiler cannot
//! vectorize: in the browser's CPU build that was a fifth of every U-Net evaluation. On a plain
//! flex tensor (not under autodiff) we compute x * sigmoid(x) in one branch-free pass whose exp
//! the compiler turns into SIMD (wasm simd128, SSE/AVX natively), in place when the tensor owns
//! its buffer (a fresh activation always does). Everywhere else (WebGPU, training) it is burn's
//! own `silu`.

use burn::prelude::Tensor;

pub fn silu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    match flex_silu(x) {
        Ok(y) => y,
        Err(x) => burn::tensor::activation::silu(x),
    }
}

/// The fast path, or the tensor back untouched when it is not an f32 tensor on plain flex.
#[cfg(any(not(target_arch = "wasm32"), feature = "cpu"))]
fn flex_silu<const D: usize>(x: Tensor<D>) -> Result<Tensor<D>, Tensor<D>> {
    use burn::backend::{BackendTensor, DispatchTensorKind};
    use burn::tensor::DType;

    let mut dispatch = x.into_dispatch();
    // An autodiff tensor is its own variant, so this matches plain flex only.
    let DispatchTensorKind::Flex(BackendTensor::Float(t)) = &mut dispatch.kind else {
        return Err(Tensor::from_dispatch(dispatch));
    };
    if t.dtype() != DType::F32 {
        return Err(Tensor::from_dispatch(dispatch));
    }
    if let Some((start, end)) = t.layout().contiguous_offsets()
        && let Some(values) = t.try_storage_mut::<f32>()
    {
        silu_in_place(&mut values[start..end]);
        return Ok(Tensor::from_dispatch(dispatch));
    }
    // A view or a shared buffer: compute on a copy.
    let x = Tensor::from_dispatch(dispatch);
    let Ok(mut values) = x.clone().into_data().try_into_vec::<f32>() else {
        return Err(x);
    };
    silu_in_place(&mut values);
    Ok(Tensor::from_data(burn::tensor::TensorData::new(values, x.shape()), &x.device()))
}

#[cfg(not(any(not(target_arch = "wasm32"), feature = "cpu")))]
fn flex_silu<const D: usize>(x: Tensor<D>) -> Result<Tensor<D>, Tensor<D>> {
    Err(x)
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
    fn silu_on_flex_leaves_shared_buffers_and_views_alone() {
        use burn::prelude::{Device, Tensor};
        let device = Device::flex();
        let values: Vec<f32> = (0..24).map(|i| i as f32 * 0.5 - 6.0).collect();
        let x = Tensor::<1>::from_floats(values.as_slice(), &device).reshape([4, 6]);
        let expected = |v: &[f32]| -> Vec<f32> {
            let mut v = v.to_vec();
            silu_in_place(&mut v);
            v
        };
        // The buffer is shared with a clone kept alive: that clone must not change.
        let y = silu(x.clone());
        assert_eq!(y.to_data().try_to_vec::<f32>().unwrap(), expected(&values));
        assert_eq!(x.to_data().try_to_vec::<f32>().unwrap(), values);
        // A view into the middle of a shared buffer (rows 1..3): its own elements only.
        let view = x.clone().slice([1..3, 0..6]);
        let y = silu(view);
        assert_eq!(y.to_data().try_to_vec::<f32>().unwrap(), expected(&values[6..18]));
        assert_eq!(x.to_data().try_to_vec::<f32>().unwrap(), values);
        // A tensor that owns its buffer is computed in place, to the same values.
        let fresh = Tensor::<1>::from_floats(values.as_slice(), &device);
        assert_eq!(silu(fresh).to_data().try_to_vec::<f32>().unwrap(), expected(&values));
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
