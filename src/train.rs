//! Training (native only): the EDM loss with log-normal sigmas, Adam, EMA weights, seeded and
//! resumable from checkpoints.
//!
//! Each step draws its randomness from a generator seeded by (seed, step), so a run resumed
//! from a checkpoint continues exactly as the uninterrupted run would.

use crate::data::Dataset;
use crate::denoiser::network::{Architecture, Network};
use crate::denoiser::precond::one_hot;
use crate::{Error, Result};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Everything that defines a training run; saved with each checkpoint and checked on resume.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// "mnist" or "toy:<name>".
    pub data: String,
    pub architecture: Architecture,
    pub steps: u64,
    pub batch: usize,
    pub lr: f64,
    /// Linear learning-rate warmup, in steps.
    pub warmup: u64,
    pub seed: u64,
    /// EMA decay per step (ramped up as (1 + t) / (10 + t) early on).
    pub ema: f64,
    /// Probability of replacing the class label by the null class (for guidance).
    pub p_uncond: f64,
    /// ln sigma ~ N(p_mean, p_std^2) (EDM).
    pub p_mean: f64,
    pub p_std: f64,
    pub sigma_data: f64,
    /// Share of each batch whose sigma is drawn log-uniformly on [sigma_min, sigma_max] instead
    /// (the log-normal barely reaches the sampler's sigma_max = 80: P(sigma > 5) is 1%).
    #[serde(default)]
    pub p_high: f64,
    #[serde(default = "default_high_range")]
    pub high_range: (f64, f64),
    /// sha256 of the weights file the run started from (none: a fresh initialisation).
    #[serde(default)]
    pub init: Option<String>,
}

fn default_high_range() -> (f64, f64) {
    (crate::schedule::SIGMA_MIN, crate::schedule::SIGMA_MAX)
}

/// What a checkpoint directory holds besides the weights.
#[derive(Serialize, Deserialize)]
struct State {
    config: TrainConfig,
    step: u64,
}

/// Progress of one step, for a progress bar.
pub struct StepReport {
    pub step: u64,
    pub loss: f64,
    /// Mean loss since the last report.
    pub mean_loss: f64,
}

pub struct Trainer {
    pub config: TrainConfig,
    pub step: u64,
    model: Network,
    ema: Network,
    optim: burn::optim::ModuleOptimizer,
    device: Device,
    /// Threads a step's batch is split over (rounding differs with the count, nothing else).
    pub threads: usize,
}

impl Trainer {
    /// A fresh run (from `init`'s weights when given; its sha256 must be `config.init`), or the
    /// run in `checkpoint` if it holds one (whose config must match).
    pub fn new(config: TrainConfig, checkpoint: &Path, init: Option<&crate::denoiser::weights::Weights>) -> Result<Self> {
        config.architecture.validate()?;
        let device = Device::flex().autodiff();
        let state_path = checkpoint.join("state.json");
        if state_path.exists() {
            let text = std::fs::read_to_string(&state_path).map_err(|e| Error(format!("cannot read {}: {e}", state_path.display())))?;
            let state: State = serde_json::from_str(&text).map_err(|e| Error(format!("{}: {e}", state_path.display())))?;
            if state.config != config {
                crate::bail!(
                    "checkpoint {} was made with other settings ({}); pass the same options or another --checkpoint directory",
                    checkpoint.display(),
                    serde_json::to_string(&state.config).unwrap_or_default()
                );
            }
            let load = |name: &str, m: Network| -> Result<Network> {
                m.try_load_file(checkpoint.join(name)).map_err(|e| Error(format!("cannot load checkpoint {name}: {e:?}")))
            };
            let model = load("model.bpk", config.architecture.init(&device))?;
            let ema = load("ema.bpk", config.architecture.init(&device).valid())?;
            let bytes = std::fs::read(checkpoint.join("optim.bpk")).map_err(|e| Error(format!("cannot read optimizer state: {e}")))?;
            let optim = AdamConfig::new()
                .init()
                .from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
                .map_err(|e| Error(format!("cannot load optimizer state: {e:?}")))?;
            return Ok(Trainer { config, step: state.step, model, ema, optim, device, threads: default_threads() });
        }
        let model = match init {
            None => seeded_init(&config.architecture, &device, config.seed),
            Some(weights) => {
                if config.init.as_deref() != Some(weights.sha256.as_str()) || weights.manifest.model.architecture != config.architecture {
                    crate::bail!("the initial weights do not match the training settings (architecture or sha256)");
                }
                // Through a burnpack file: the one loading path that yields trainable parameters.
                std::fs::create_dir_all(checkpoint).map_err(|e| Error(format!("cannot create {}: {e}", checkpoint.display())))?;
                let path = checkpoint.join("init.bpk");
                weights.to_network(&Device::flex())?.save_file(&path).map_err(|e| Error(format!("cannot write {}: {e:?}", path.display())))?;
                config.architecture.init(&device).try_load_file(&path).map_err(|e| Error(format!("cannot load {}: {e:?}", path.display())))?
            }
        };
        let ema = model.valid();
        Ok(Trainer { config, step: 0, model, ema, optim: AdamConfig::new().init(), device, threads: default_threads() })
    }

    /// One optimisation step on a batch drawn from `data`; returns the loss.
    pub fn step(&mut self, data: &Dataset) -> f64 {
        let c = &self.config;
        let mut rng = StdRng::seed_from_u64(c.seed ^ self.step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (batch, dim, classes) = (c.batch, data.dim, c.architecture.classes());
        let mut x0 = Vec::with_capacity(batch * dim);
        let mut labels = Vec::with_capacity(batch);
        let mut sigmas = Vec::with_capacity(batch);
        for _ in 0..batch {
            let i = rng.random_range(0..data.len());
            x0.extend_from_slice(data.sample(i));
            labels.push(if classes == 0 || rng.random::<f64>() < c.p_uncond { classes } else { data.labels[i] });
            let z: f64 = StandardNormal.sample(&mut rng);
            // Only runs with p_high > 0 draw the extra number, so older runs replay unchanged.
            let ln_sigma = if c.p_high > 0.0 && rng.random::<f64>() < c.p_high {
                let (lo, hi) = (c.high_range.0.ln(), c.high_range.1.ln());
                lo + (hi - lo) * rng.random::<f64>()
            } else {
                c.p_mean + c.p_std * z
            };
            sigmas.push(ln_sigma.exp() as f32);
        }
        let noise: Vec<f32> = (0..batch * dim).map(|_| StandardNormal.sample(&mut rng)).collect();
        // The batch is split into contiguous parts, one thread each (flex runs most of a step's
        // kernels on one core); the parts' losses and gradients add up to the whole batch's.
        let parts = self.threads.clamp(1, batch);
        let results: Vec<(f64, GradientsParams)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..parts)
                .map(|p| {
                    let (lo, hi) = (p * batch / parts, (p + 1) * batch / parts);
                    let part = Part { x0: &x0[lo * dim..hi * dim], noise: &noise[lo * dim..hi * dim], sigmas: &sigmas[lo..hi], labels: &labels[lo..hi] };
                    let model = if parts == 1 { self.model.clone() } else { self.model.clone().fork(&self.device) };
                    let (dev, sigma_data) = (&self.device, c.sigma_data);
                    scope.spawn(move || part.loss_and_grads(model, batch * dim, classes, sigma_data, dev))
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("a training thread panicked")).collect()
        });
        let value = results.iter().map(|(loss, _)| loss).sum();
        let grads = sum_grads(&self.model, results.into_iter().map(|(_, g)| g).collect());
        let lr = c.lr * ((self.step + 1) as f64 / c.warmup.max(1) as f64).min(1.0);
        self.model = self.optim.step(lr, self.model.clone(), grads);
        self.step += 1;
        let decay = c.ema.min((1.0 + self.step as f64) / (10.0 + self.step as f64));
        self.ema = ema_update(self.ema.clone(), &self.model.valid(), decay);
        value
    }

    /// Runs to `config.steps`, checkpointing every `every` steps and at the end.
    pub fn run(&mut self, data: &Dataset, checkpoint: &Path, every: u64, mut report: impl FnMut(StepReport)) -> Result<()> {
        let (mut sum, mut count) = (0.0, 0);
        while self.step < self.config.steps {
            let loss = self.step(data);
            if !loss.is_finite() {
                crate::bail!("loss became {loss} at step {}; lower --lr", self.step);
            }
            sum += loss;
            count += 1;
            if self.step % 10 == 0 || self.step == self.config.steps {
                report(StepReport { step: self.step, loss, mean_loss: sum / count as f64 });
                (sum, count) = (0.0, 0);
            }
            if self.step % every == 0 || self.step == self.config.steps {
                self.save(checkpoint)?;
            }
        }
        Ok(())
    }

    /// Writes the checkpoint atomically enough: files first, the state (step) last.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error(format!("cannot create {}: {e}", dir.display())))?;
        let io = |e: &dyn std::fmt::Debug| Error(format!("cannot write checkpoint in {}: {e:?}", dir.display()));
        let tmp = |name: &str| -> PathBuf { dir.join(format!("{name}.tmp")) };
        self.model.clone().save_file(tmp("model.bpk")).map_err(|e| io(&e))?;
        self.ema.clone().save_file(tmp("ema.bpk")).map_err(|e| io(&e))?;
        let optim = self.optim.into_bytes().map_err(|e| io(&e))?;
        std::fs::write(tmp("optim.bpk"), &optim[..]).map_err(|e| io(&e))?;
        let state = State { config: self.config.clone(), step: self.step };
        std::fs::write(tmp("state.json"), serde_json::to_string_pretty(&state).unwrap()).map_err(|e| io(&e))?;
        for name in ["model.bpk", "ema.bpk", "optim.bpk", "state.json"] {
            std::fs::rename(tmp(name), dir.join(name)).map_err(|e| io(&e))?;
        }
        Ok(())
    }

    pub fn parameters(&self) -> usize {
        self.model.num_params()
    }

    /// The EMA weights, the ones to ship.
    pub fn ema(&self) -> &Network {
        &self.ema
    }
}

/// A fresh network whose weights depend on `seed` only. burn draws them from one global generator
/// when each parameter is first read, so the seed, the init and the first reads happen under a lock.
fn seeded_init(arch: &Architecture, device: &Device, seed: u64) -> Network {
    struct Touch;
    impl ModuleVisitor for Touch {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
    }
    static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = INIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    device.seed(seed);
    let net = arch.init(device);
    net.visit(&mut Touch);
    net
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One thread's rows of a training batch.
struct Part<'a> {
    x0: &'a [f32],
    noise: &'a [f32],
    sigmas: &'a [f32],
    labels: &'a [usize],
}

impl Part<'_> {
    /// This part's share of the batch loss (its squared errors over the whole batch's element
    /// count, so the parts sum to the batch mean) and its gradients.
    fn loss_and_grads(self, model: Network, batch_elements: usize, classes: usize, sigma_data: f64, dev: &Device) -> (f64, GradientsParams) {
        let rows = self.sigmas.len();
        let dim = self.x0.len() / rows;
        let x0 = Tensor::<2>::from_data(TensorData::new(self.x0.to_vec(), [rows, dim]), dev);
        let sigma = Tensor::<2>::from_data(TensorData::new(self.sigmas.to_vec(), [rows, 1]), dev);
        let noisy = x0.clone() + Tensor::<2>::from_data(TensorData::new(self.noise.to_vec(), [rows, dim]), dev) * sigma.clone();
        let denoised = model.denoise(noisy, sigma.clone(), one_hot(self.labels, classes, dev), sigma_data);
        // EDM weight lambda = (sigma^2 + sd^2) / (sigma sd)^2 makes the loss the plain squared
        // error of the raw network output against its effective target.
        let sd2 = sigma_data * sigma_data;
        let weight = sigma.clone().powf_scalar(2.0).add_scalar(sd2) / sigma.powf_scalar(2.0).mul_scalar(sd2);
        let loss = ((denoised - x0).powf_scalar(2.0) * weight).sum().div_scalar(batch_elements as f64);
        let value = loss.clone().into_scalar::<f32>() as f64;
        (value, GradientsParams::from_grads(loss.backward(), &model))
    }
}

/// The parts' gradients added parameter by parameter (in part order, so a step is deterministic).
fn sum_grads(model: &Network, mut parts: Vec<GradientsParams>) -> GradientsParams {
    struct Sum(Vec<GradientsParams>, GradientsParams);
    impl ModuleVisitor for Sum {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let mut total: Option<Tensor<D>> = None;
            for part in &mut self.0 {
                if let Some(g) = part.remove::<D>(param.id) {
                    total = Some(match total {
                        None => g,
                        Some(t) => t + g,
                    });
                }
            }
            if let Some(t) = total {
                self.1.register(param.id, t);
            }
        }
    }
    if parts.len() == 1 {
        return parts.pop().expect("one part");
    }
    let mut sum = Sum(parts, GradientsParams::new());
    model.visit(&mut sum);
    sum.1
}

/// Loads only the EMA weights of a checkpoint (for export).
pub fn load_ema(checkpoint: &Path) -> Result<(TrainConfig, u64, Network)> {
    let state_path = checkpoint.join("state.json");
    let text = std::fs::read_to_string(&state_path).map_err(|e| Error(format!("cannot read {}: {e}", state_path.display())))?;
    let state: State = serde_json::from_str(&text).map_err(|e| Error(format!("{}: {e}", state_path.display())))?;
    let net = state
        .config
        .architecture
        .init(&Device::flex())
        .try_load_file(checkpoint.join("ema.bpk"))
        .map_err(|e| Error(format!("cannot load {}: {e:?}", checkpoint.join("ema.bpk").display())))?;
    Ok((state.config, state.step, net))
}

/// ema <- decay * ema + (1 - decay) * current, parameter by parameter.
fn ema_update(ema: Network, current: &Network, decay: f64) -> Network {
    struct Collect(Vec<Tensor<1>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val();
            let n = t.shape().num_elements();
            self.0.push(t.reshape([n]));
        }
    }
    struct Blend(std::vec::IntoIter<Tensor<1>>, f64);
    impl ModuleMapper for Blend {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let current = self.0.next().expect("EMA and model have the same parameters");
            let decay = self.1;
            param.map(|t| {
                let shape = t.shape();
                t.mul_scalar(decay) + current.reshape(shape).mul_scalar(1.0 - decay)
            })
        }
    }
    let mut collect = Collect(Vec::new());
    current.visit(&mut collect);
    ema.map(&mut Blend(collect.0.into_iter(), decay))
}
