//! Sample-quality statistics: the Fréchet distance against a fixed reference and the paired
//! bootstrap behind every "difference ± SE" of `eval`, checked against closed forms.

use gits_sampler::distance::{l2_per_sample, mean, mean_l2};
use gits_sampler::metrics::{Frechet, frechet_distance, paired_bootstrap};
use gits_sampler::noise::{eval_seed, standard_normal};

fn rows(seed: u64, n: usize, d: usize, scale: f64, shift: f64) -> Vec<Vec<f64>> {
    standard_normal(seed, n, d).chunks(d).map(|r| r.iter().map(|v| v * scale + shift).collect()).collect()
}

/// FD between Gaussians N(m1, a^2 I) and N(m2, b^2 I) in d dimensions is |m1 - m2|^2 + d (a - b)^2.
#[test]
fn frechet_distance_matches_the_closed_form() {
    let (n, d) = (20_000, 4);
    let fd = frechet_distance(&rows(1, n, d, 2.0, 0.5), &rows(2, n, d, 1.0, 0.0));
    let exact = d as f64 * 0.25 + d as f64 * 1.0;
    assert!((fd - exact).abs() < 0.1, "FD {fd} vs {exact}");
    let same = rows(3, 500, d, 1.0, 0.0);
    assert!(frechet_distance(&same, &same).abs() < 1e-9);
}

/// Measuring picked rows equals measuring a set made of those rows (repeats included).
#[test]
fn frechet_of_picked_rows_equals_the_picked_set() {
    let reference = Frechet::new(&rows(4, 300, 5, 1.0, 0.0));
    let set = rows(5, 200, 5, 1.3, 0.2);
    let pick: Vec<usize> = (0..200).map(|i| (i * 7 + i / 3) % 200).collect();
    let picked: Vec<Vec<f64>> = pick.iter().map(|&i| set[i].clone()).collect();
    let (a, b) = (reference.distance(&set, Some(&pick)), reference.distance(&picked, None));
    assert!((a - b).abs() < 1e-10, "{a} vs {b}");
}

/// For a mean, the paired bootstrap SE of a difference approaches sd(paired differences) /
/// sqrt(n); pairing matters: two sets that share most of their noise have a small SE of the
/// difference although each mean alone is uncertain.
#[test]
fn paired_bootstrap_gives_the_standard_error_of_a_mean_difference() {
    let n = 2000;
    let common = standard_normal(6, n, 1);
    let own = standard_normal(7, n, 1);
    let a: Vec<f64> = common.iter().zip(&own).map(|(c, o)| 3.0 * c + 0.2 * o + 1.0).collect();
    let b = common.iter().map(|c| 3.0 * c).collect::<Vec<f64>>();
    let picked_mean = |v: &[f64], p: &[usize]| p.iter().map(|&i| v[i]).sum::<f64>() / p.len() as f64;
    let [se, se_alone] = paired_bootstrap(n, 400, 0, |p| [picked_mean(&a, p) - picked_mean(&b, p), picked_mean(&a, p)]);
    let exact = 0.2 / (n as f64).sqrt();
    assert!((se / exact - 1.0).abs() < 0.15, "paired SE {se} vs {exact}");
    assert!(se_alone > 10.0 * se, "unpaired SE {se_alone} should dwarf the paired one {se}");
    // Seeded: the same call gives the same numbers.
    assert_eq!(paired_bootstrap(n, 50, 9, |p| [picked_mean(&a, p)]), paired_bootstrap(n, 50, 9, |p| [picked_mean(&a, p)]));
}

#[test]
fn mean_l2_is_the_mean_of_per_sample_distances() {
    let (a, b) = ([0.0, 0.0, 1.0, 1.0], [3.0, 4.0, 1.0, 1.0]);
    assert_eq!(l2_per_sample(&a, &b, 2), vec![5.0, 0.0]);
    assert_eq!(mean_l2(&a, &b, 2), 2.5);
    assert_eq!(mean(&[1.0, 2.0, 6.0]), 3.0);
}

/// The evaluation's noise stream shares no seed, and so no noise, with the plain seeds that GITS
/// searches, sampling runs and training use.
#[test]
fn evaluation_noise_is_its_own_stream() {
    let seeds: Vec<u64> = (0..1000).map(eval_seed).collect();
    assert!(seeds.iter().all(|&s| s >= 1 << 32), "an eval seed collides with a small plain seed");
    assert_eq!(eval_seed(0), eval_seed(0));
    assert_ne!(standard_normal(eval_seed(0), 1, 8), standard_normal(0, 1, 8));
}
