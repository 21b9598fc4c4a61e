//! `train-classifier`: train the LeNet judge that `eval` uses, on the MNIST training split.

use clap::Args;
use gits_sampler::{Error, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

#[derive(Args)]
pub struct TrainClassifierArgs {
    #[arg(long, default_value = "models/mnist-lenet.bpk")]
    out: PathBuf,
    #[arg(long, default_value_t = 4)]
    epochs: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value = gits_sampler::data::mnist::DEFAULT_DIR)]
    mnist_dir: PathBuf,
}

pub fn run(a: TrainClassifierArgs) -> Result<()> {
    use burn::module::Module;
    use gits_sampler::classifier::{classify, train};
    let data = gits_sampler::data::mnist::load(&a.mnist_dir)?;
    let steps = a.epochs * data.train.len().div_ceil(64);
    let bar = ProgressBar::new(steps as u64).with_style(ProgressStyle::with_template("classifier {bar:30} {pos}/{len} steps  {msg}").expect("valid template"));
    let net = train(&data.train, a.epochs, a.seed, |step, loss| {
        bar.set_position(step as u64);
        bar.set_message(format!("loss {loss:.3}"));
    });
    bar.finish_and_clear();
    let device = burn::prelude::Device::flex();
    let (classes, _) = classify(&net, &data.held_out.x, &device)?;
    let correct = classes.iter().zip(&data.held_out.labels).filter(|(c, l)| c == l).count();
    eprintln!("classifier: held-out accuracy {:.4} ({correct}/{})", correct as f64 / data.held_out.len() as f64, data.held_out.len());
    let out = &a.out;
    gits_sampler::output::replace_with(out, |tmp| net.save_file(tmp).map_err(|e| Error(format!("cannot write {}: {e:?}", out.display()))))
}
