//! The judge of generated digits (native only): a LeNet-style classifier trained on the same
//! MNIST split. Its 128-wide penultimate layer gives the features of the Fréchet distance.

use crate::data::Dataset;
use crate::{Error, Result};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::{Device, Tensor, TensorData};
use burn::tensor::activation::{log_softmax, relu};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::path::Path;

pub const FEATURES: usize = 128;

#[derive(Module, Debug)]
pub struct LeNet {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
}

impl LeNet {
    pub fn new(device: &Device) -> Self {
        let conv = |a, b| Conv2dConfig::new([a, b], [5, 5]).with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2)).init(device);
        LeNet {
            conv1: conv(1, 16),
            conv2: conv(16, 32),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(32 * 7 * 7, FEATURES).init(device),
            fc2: LinearConfig::new(FEATURES, 10).init(device),
        }
    }

    /// Loads the shipped weights (burnpack).
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        LeNet::new(device).try_load_file(path).map_err(|e| Error(format!("cannot load classifier {}: {e:?}", path.display())))
    }

    /// Penultimate features of images [batch, 784] in [-1, 1].
    pub fn features(&self, x: Tensor<2>) -> Tensor<2> {
        let batch = x.dims()[0];
        let h = self.pool.forward(relu(self.conv1.forward(x.reshape([batch, 1, 28, 28]))));
        let h = self.pool.forward(relu(self.conv2.forward(h)));
        relu(self.fc1.forward(h.reshape([batch, 32 * 7 * 7])))
    }

    pub fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        self.fc2.forward(self.features(x))
    }
}

/// Trains on `train` for `epochs` (Adam, batch 64, cross-entropy); returns the model.
pub fn train(train: &Dataset, epochs: usize, seed: u64, mut report: impl FnMut(usize, f64)) -> LeNet {
    let device = Device::flex().autodiff();
    let mut net = LeNet::new(&device);
    let mut optim = AdamConfig::new().init();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut step = 0;
    for _ in 0..epochs {
        order.shuffle(&mut rng);
        for chunk in order.chunks(64) {
            let x: Vec<f32> = chunk.iter().flat_map(|&i| train.sample(i).iter().cloned()).collect();
            let mut target = vec![0f32; chunk.len() * 10];
            chunk.iter().enumerate().for_each(|(row, &i)| target[row * 10 + train.labels[i]] = 1.0);
            let x = Tensor::<2>::from_data(TensorData::new(x, [chunk.len(), train.dim]), &device);
            let target = Tensor::<2>::from_data(TensorData::new(target, [chunk.len(), 10]), &device);
            let loss = (log_softmax(net.logits(x), 1) * target).sum_dim(1).mean().neg();
            let value = loss.clone().into_scalar::<f32>() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(1e-3, net, grads);
            step += 1;
            report(step, value);
        }
    }
    net.valid()
}

/// Predicted classes and features of a batch of images, in chunks of 500.
pub fn classify(net: &LeNet, images: &[f32], device: &Device) -> Result<(Vec<usize>, Vec<Vec<f64>>)> {
    let (mut classes, mut features) = (Vec::new(), Vec::new());
    for chunk in images.chunks(500 * 784) {
        let x = Tensor::<2>::from_data(TensorData::new(chunk.to_vec(), [chunk.len() / 784, 784]), device);
        let f = net.features(x);
        let logits = net.fc2.forward(f.clone());
        let read = |t: Tensor<2>| t.into_data().try_into_vec::<f32>().map_err(|e| Error(format!("cannot read features: {e:?}")));
        let logits = read(logits)?;
        classes.extend(logits.chunks(10).map(|row| (0..10).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap()));
        features.extend(read(f)?.chunks(FEATURES).map(|row| row.iter().map(|&v| v as f64).collect()));
    }
    Ok((classes, features))
}
