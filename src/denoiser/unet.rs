//! A small class-conditional U-Net for 28x28 images: residual blocks with group norm, a noise
//! embedding added per channel, stride-2 convolutions down and nearest-neighbour upsampling up.
//! It computes the raw network F of EDM; `precond` wraps it into a denoiser.

use super::activation::silu;
use super::precond::noise_features;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Shape of the U-Net; stored in the weights manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UNetConfig {
    /// Image side (square, one channel); must halve evenly `channels.len() - 1` times.
    pub size: usize,
    /// Channels per resolution level, highest resolution first.
    pub channels: Vec<usize>,
    /// Width of the noise and class embedding.
    pub embed: usize,
    /// Number of classes; index `classes` is the null class used for guidance.
    pub classes: usize,
    /// Group-norm groups (divides every channel count).
    pub groups: usize,
}

impl UNetConfig {
    pub fn mnist() -> Self {
        UNetConfig { size: 28, channels: vec![32, 64, 64], embed: 128, classes: 10, groups: 8 }
    }

    pub fn validate(&self) -> crate::Result<()> {
        let levels = self.channels.len();
        if levels == 0 || self.size == 0 || self.embed == 0 || self.groups == 0 {
            crate::bail!("U-Net config needs a size, at least one level, an embedding width and groups");
        }
        if self.channels.iter().any(|&c| c == 0 || c % self.groups != 0) {
            crate::bail!("U-Net channels {:?} must be positive multiples of groups = {}", self.channels, self.groups);
        }
        if levels > 16 || self.size % (1 << (levels - 1)) != 0 {
            crate::bail!("U-Net size {} does not halve evenly {} times", self.size, levels - 1);
        }
        let max = crate::limits::MAX_PARAMETERS;
        if self.embed > max || self.channels.iter().any(|&c| c > max) {
            crate::bail!("U-Net channels {:?} or embedding {} above the limit of {max}", self.channels, self.embed);
        }
        crate::limits::at_most("U-Net size", self.size, 1 << 8)?;
        crate::limits::at_most("U-Net classes", self.classes, crate::limits::MAX_TENSORS)?;
        let params = self.parameters();
        if params > max as u128 {
            crate::bail!("U-Net {:?} would have {params} parameters, above the limit of {max}", self.channels);
        }
        Ok(())
    }

    /// Number of parameters `init` creates, computed without building the network (u128: a
    /// manifest's sizes are untrusted; every factor is at most 2^64, every sum has few terms).
    pub fn parameters(&self) -> u128 {
        let (e, ch) = (self.embed as u128, &self.channels);
        let c = |l: usize| ch[l] as u128;
        let conv3 = |a: u128, b: u128| 9 * a * b + b;
        let block = |cin: u128, cout: u128| {
            2 * cin + conv3(cin, cout) + e * cout + cout + 2 * cout + conv3(cout, cout) + if cin != cout { cin * cout + cout } else { 0 }
        };
        let levels = ch.len();
        let f = 2 * super::precond::NOISE_FREQS as u128;
        let mut n = f * e + e + e * e + e + (self.classes as u128 + 1) * e + conv3(1, c(0));
        for l in 0..levels {
            n += block(if l == 0 { c(0) } else { c(l - 1) }, c(l));
            n += if l + 1 < levels { conv3(c(l), c(l)) } else { 0 };
            n += block(if l + 1 == levels { c(l) } else { c(l + 1) } + c(l), c(l));
        }
        n + block(c(levels - 1), c(levels - 1)) + 2 * c(0) + conv3(c(0), 1)
    }

    pub fn init(&self, device: &Device) -> UNet {
        let ch = &self.channels;
        let levels = ch.len();
        let conv3 = |cin, cout| Conv2dConfig::new([cin, cout], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1));
        let block = |cin, cout| ResBlock::new(cin, cout, self.embed, self.groups, device);
        let down = (0..levels).map(|l| block(if l == 0 { ch[0] } else { ch[l - 1] }, ch[l])).collect();
        let downsample = (0..levels - 1).map(|l| conv3(ch[l], ch[l]).with_stride([2, 2]).init(device)).collect();
        let up = (0..levels).map(|l| block(if l + 1 == levels { ch[l] } else { ch[l + 1] } + ch[l], ch[l])).collect();
        UNet {
            noise1: LinearConfig::new(2 * super::precond::NOISE_FREQS, self.embed).init(device),
            noise2: LinearConfig::new(self.embed, self.embed).init(device),
            class_embed: LinearConfig::new(self.classes + 1, self.embed).with_bias(false).init(device),
            input: conv3(1, ch[0]).init(device),
            down,
            downsample,
            mid: block(ch[levels - 1], ch[levels - 1]),
            up,
            out_norm: GroupNormConfig::new(self.groups, ch[0]).init(device),
            out: conv3(ch[0], 1).init(device),
        }
    }
}

#[derive(Module, Debug)]
pub struct ResBlock {
    norm1: GroupNorm,
    conv1: Conv2d,
    embed: Linear,
    norm2: GroupNorm,
    conv2: Conv2d,
    skip: Option<Conv2d>,
}

impl ResBlock {
    fn new(cin: usize, cout: usize, embed: usize, groups: usize, device: &Device) -> Self {
        let conv3 = |a, b| Conv2dConfig::new([a, b], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device);
        ResBlock {
            norm1: GroupNormConfig::new(groups, cin).init(device),
            conv1: conv3(cin, cout),
            embed: LinearConfig::new(embed, cout).init(device),
            norm2: GroupNormConfig::new(groups, cout).init(device),
            conv2: conv3(cout, cout),
            skip: (cin != cout).then(|| Conv2dConfig::new([cin, cout], [1, 1]).init(device)),
        }
    }

    fn forward(&self, x: Tensor<4>, emb: Tensor<2>) -> Tensor<4> {
        let [b, c] = [x.dims()[0], self.conv1.weight.dims()[0]];
        let h = self.conv1.forward(silu(self.norm1.forward(x.clone())));
        let h = h + self.embed.forward(emb).reshape([b, c, 1, 1]);
        let h = self.conv2.forward(silu(self.norm2.forward(h)));
        let skip = match &self.skip {
            Some(conv) => conv.forward(x),
            None => x,
        };
        h + skip
    }
}

#[derive(Module, Debug)]
pub struct UNet {
    noise1: Linear,
    noise2: Linear,
    class_embed: Linear,
    input: Conv2d,
    down: Vec<ResBlock>,
    downsample: Vec<Conv2d>,
    mid: ResBlock,
    up: Vec<ResBlock>,
    out_norm: GroupNorm,
    out: Conv2d,
}

impl UNet {
    /// F(x_in; c_noise, class): x_in [batch, size*size] (already scaled by c_in), c_noise [batch, 1],
    /// class one-hot [batch, classes + 1] -> [batch, size*size].
    pub fn forward(&self, x: Tensor<2>, c_noise: Tensor<2>, class: Tensor<2>) -> Tensor<2> {
        let [batch, dim] = x.dims();
        let size = (dim as f64).sqrt() as usize;
        let emb = silu(self.noise1.forward(noise_features(c_noise)));
        let emb = silu(self.noise2.forward(emb) + self.class_embed.forward(class));
        let mut h = self.input.forward(x.reshape([batch, 1, size, size]));
        let mut skips = Vec::with_capacity(self.down.len());
        for (l, block) in self.down.iter().enumerate() {
            h = block.forward(h, emb.clone());
            skips.push(h.clone());
            if let Some(down) = self.downsample.get(l) {
                h = down.forward(h);
            }
        }
        h = self.mid.forward(h, emb.clone());
        for (l, block) in self.up.iter().enumerate().rev() {
            h = block.forward(Tensor::cat(vec![h, skips[l].clone()], 1), emb.clone());
            if l > 0 {
                h = upsample2(h);
            }
        }
        self.out.forward(silu(self.out_norm.forward(h))).reshape([batch, dim])
    }
}

/// Nearest-neighbour 2x upsampling by broadcasting (works on every backend and under autodiff).
fn upsample2(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h, 1, w, 1]).expand([b, c, h, 2, w, 2]).reshape([b, c, 2 * h, 2 * w])
}
