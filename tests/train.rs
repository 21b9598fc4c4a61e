//! Training: a step split over threads equals the one-thread step up to rounding, and a run
//! resumed from its checkpoint continues exactly as the uninterrupted run.

use burn::prelude::{Device, Tensor, TensorData};
use gits_sampler::data::Dataset;
use gits_sampler::denoiser::network::{Architecture, Network};
use gits_sampler::denoiser::precond::one_hot;
use gits_sampler::denoiser::unet::UNetConfig;
use gits_sampler::train::{TrainConfig, Trainer};

/// A tiny class-conditional U-Net on 8x8 images (exercises group norm, skips, class embedding).
fn tiny() -> (Dataset, TrainConfig) {
    let arch = Architecture::Unet(UNetConfig { size: 8, channels: vec![8, 8], embed: 16, classes: 3, groups: 4 });
    let (n, dim) = (24, 64);
    let x = (0..n * dim).map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0).collect();
    let labels = (0..n).map(|i| i % 3).collect();
    let config = TrainConfig {
        data: "test".into(),
        architecture: arch,
        steps: 6,
        batch: 10,
        lr: 2e-3,
        warmup: 2,
        seed: 7,
        ema: 0.9,
        p_uncond: 0.2,
        p_mean: -1.2,
        p_std: 1.2,
        sigma_data: 0.5,
        p_high: 0.2,
        high_range: (0.002, 80.0),
        init: None,
    };
    (Dataset { dim, x, labels }, config)
}

/// The EMA network's denoised output on a fixed input: a fingerprint of all its weights.
fn probe(net: &Network) -> Vec<f32> {
    let dev = Device::flex();
    let rows = 4;
    let x = Tensor::<2>::from_data(TensorData::new((0..rows * 64).map(|i| (i as f32 * 0.37).sin()).collect(), [rows, 64]), &dev);
    let sigma = Tensor::<2>::from_data(TensorData::new(vec![0.1f32, 1.0, 5.0, 40.0], [rows, 1]), &dev);
    net.denoise(x, sigma, one_hot(&[0, 1, 2, 3], 3, &dev), 0.5).into_data().try_to_vec::<f32>().unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn a_step_split_over_threads_equals_the_one_thread_step() {
    let (data, config) = tiny();
    let run = |threads: usize| {
        let dir = fresh_dir(&format!("split-{threads}"));
        let mut t = Trainer::new(config.clone(), &dir, None).unwrap();
        t.threads = threads;
        let losses: Vec<f64> = (0..4).map(|_| t.step(&data)).collect();
        (losses, probe(t.ema()))
    };
    let (l1, p1) = run(1);
    for threads in [2, 3] {
        let (l, p) = run(threads);
        for (a, b) in l1.iter().zip(&l) {
            assert!((a - b).abs() <= 1e-5 * a.abs(), "{threads} threads: loss {b} vs one thread's {a}");
        }
        let scale = p1.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(max_diff(&p1, &p) <= 1e-4 * scale, "{threads} threads: EMA output differs by {}", max_diff(&p1, &p));
    }
    // The fingerprint can tell: training moves it.
    let fresh = probe(&config.architecture.init(&Device::flex()));
    assert!(max_diff(&p1, &fresh) > 1e-3);
}

#[test]
fn a_resumed_run_continues_as_the_uninterrupted_one() {
    let (data, config) = tiny();
    let whole = fresh_dir("whole");
    let mut t = Trainer::new(config.clone(), &whole, None).unwrap();
    t.threads = 2;
    t.run(&data, &whole, 100, |_| {}).unwrap();
    let expected = probe(t.ema());

    // Stopped after three steps (the last checkpoint), then started again with the same options.
    let cut = fresh_dir("cut");
    let mut t = Trainer::new(config.clone(), &cut, None).unwrap();
    t.threads = 2;
    for _ in 0..3 {
        t.step(&data);
    }
    t.save(&cut).unwrap();
    let err = Trainer::new(TrainConfig { lr: 1e-3, ..config.clone() }, &cut, None).err().expect("other settings refused");
    assert!(err.to_string().contains("other settings"), "{err}");
    let mut t = Trainer::new(config, &cut, None).unwrap();
    assert_eq!(t.step, 3);
    t.threads = 2;
    t.run(&data, &cut, 100, |_| {}).unwrap();
    assert_eq!(probe(t.ema()), expected);
}

/// An empty checkpoint directory of this test process.
fn fresh_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gits-train-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
