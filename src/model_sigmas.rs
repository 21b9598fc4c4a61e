//! ComfyUI's schedules that pick from a model's training sigmas (`comfy/samplers.py`): simple,
//! sgm_uniform, normal, ddim_uniform, beta, and linear_quadratic. Each gives its list as ComfyUI
//! does: `steps` sigmas and a final 0 (ddim_uniform and beta may give fewer or more, as there).
//! Formulas: docs/schedules.md.

use crate::special::beta_ppf;

/// What these schedules need of a model (ComfyUI's `model_sampling`): its training sigmas,
/// ascending, in EDM units, and whether it is flow matching.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSigmas {
    /// Ascending; ComfyUI's `model_sampling.sigmas`, each clamped into the sampling range.
    pub table: Vec<f64>,
    /// Flow matching: linear_quadratic works in flow time t = sigma / (1 + sigma).
    pub flow: bool,
}

/// Entries of ComfyUI's table of a continuous (EDM) model: `ModelSamplingContinuousEDM`.
const CONTINUOUS_ENTRIES: usize = 1000;

impl ModelSigmas {
    /// A continuous model on [smin, smax]: 1000 sigmas log-linear between them, as ComfyUI's
    /// `ModelSamplingContinuousEDM` (its timestep is 0.25 ln sigma, so `normal` is log-linear).
    pub fn continuous(smin: f64, smax: f64) -> Self {
        let (a, b) = (smin.ln(), smax.ln());
        let n = CONTINUOUS_ENTRIES - 1;
        let mut table: Vec<f64> = (0..=n).map(|i| (a + (b - a) * i as f64 / n as f64).exp()).collect();
        (table[0], table[n]) = (smin, smax);
        ModelSigmas { table, flow: false }
    }

    /// A model trained on `sigmas` (ascending), sampled over [smin, smax]: entries outside are
    /// clamped to the range (flow matching's t = 1 is sigma = infinity; it becomes smax).
    pub fn trained(sigmas: &[f64], smin: f64, smax: f64, flow: bool) -> Self {
        // max/min, not clamp: a bad range must reach the range check, not panic here.
        ModelSigmas { table: sigmas.iter().map(|s| s.max(smin).min(smax)).collect(), flow }
    }

    fn max(&self) -> f64 {
        self.table[self.table.len() - 1]
    }

    /// ComfyUI's discrete `timestep(sigma)`: the index whose ln sigma is nearest (first on a tie).
    fn timestep(&self, sigma: f64) -> f64 {
        let log = sigma.ln();
        let dist = |i: usize| (self.table[i].ln() - log).abs();
        (0..self.table.len()).fold(0, |best, i| if dist(i) < dist(best) { i } else { best }) as f64
    }

    /// ComfyUI's discrete `sigma(timestep)`: ln sigma interpolated between neighbouring entries.
    fn sigma(&self, t: f64) -> f64 {
        let t = t.clamp(0.0, (self.table.len() - 1) as f64);
        let (lo, hi, w) = (t.floor() as usize, t.ceil() as usize, t.fract());
        ((1.0 - w) * self.table[lo].ln() + w * self.table[hi].ln()).exp()
    }

    /// `simple_scheduler`: every (len / steps)-th entry from the top.
    pub fn simple(&self, steps: usize) -> Vec<f64> {
        let ss = self.table.len() as f64 / steps as f64;
        let len = self.table.len();
        finish((0..steps).map(|x| self.table[len - 1 - (x as f64 * ss) as usize]).collect(), true)
    }

    /// `ddim_scheduler`: entries 1, 1 + k, 1 + 2k, ... (k = len / steps), from the top down.
    pub fn ddim_uniform(&self, steps: usize) -> Vec<f64> {
        let zero_first = self.table[1].abs() <= 1e-5;
        let steps = steps + zero_first as usize;
        let ss = (self.table.len() / steps).max(1);
        let mut sigs: Vec<f64> = (1..self.table.len()).step_by(ss).map(|x| self.table[x]).collect();
        sigs.reverse();
        finish(sigs, !zero_first)
    }

    /// `normal_scheduler`: uniform in the model's timestep, from sigma_max to sigma_min;
    /// `sgm`: `steps` points of steps + 1 (sgm_uniform), so sigma_min itself is left out.
    pub fn normal(&self, steps: usize, sgm: bool) -> Vec<f64> {
        let (start, end) = (self.timestep(self.max()), self.timestep(self.table[0]));
        let (count, points, zero) = if sgm {
            (steps, steps + 1, true)
        } else if self.sigma(end).abs() <= 1e-5 {
            (steps + 1, steps + 1, false)
        } else {
            (steps, steps, true)
        };
        let at = |i: usize| if points == 1 { start } else { start + (end - start) * i as f64 / (points - 1) as f64 };
        finish((0..count).map(|i| self.sigma(at(i))).collect(), zero)
    }

    /// `beta_scheduler` (Lee et al. 2024, arXiv:2407.12173): timesteps at the Beta(alpha, beta)
    /// quantiles 1, 1 - 1/steps, ..., rounded to entries (half to even, as numpy's rint), repeats
    /// dropped.
    pub fn beta(&self, steps: usize, alpha: f64, beta: f64) -> Vec<f64> {
        let total = (self.table.len() - 1) as f64;
        let mut sigs = Vec::with_capacity(steps + 1);
        let mut last = None;
        for i in 0..steps {
            let t = (beta_ppf(1.0 - i as f64 / steps as f64, alpha, beta) * total).round_ties_even();
            if last != Some(t) {
                sigs.push(self.table[t as usize]);
            }
            last = Some(t);
        }
        finish(sigs, true)
    }

    /// `linear_quadratic_schedule` (Mochi's): the first half of the steps linear in the noise
    /// level down to `threshold`, the rest quadratic to 0, scaled by sigma_max (in flow time
    /// for flow models, whose sigma_max is t = 1 there and the range's top here).
    pub fn linear_quadratic(&self, steps: usize, threshold: f64, linear_steps: Option<usize>) -> Vec<f64> {
        let levels: Vec<f64> = if steps == 1 {
            vec![1.0, 0.0]
        } else {
            let linear = linear_steps.unwrap_or(steps / 2);
            let (l, n) = (linear as f64, steps as f64);
            let diff = l - threshold * n;
            let q = n - l;
            let quad = diff / (l * q * q);
            let lin = threshold / l - 2.0 * diff / (q * q);
            let c = quad * l * l;
            let falls = (0..linear).map(|i| i as f64 * threshold / l).chain((linear..steps).map(|i| quad * (i * i) as f64 + lin * i as f64 + c));
            falls.chain([1.0]).map(|x| 1.0 - x).collect()
        };
        let top = self.max();
        let sigmas = if self.flow {
            let t_max = top / (1.0 + top);
            levels.iter().map(|l| if *l == 0.0 { 0.0 } else { (l * t_max) / (1.0 - l * t_max) }).collect()
        } else {
            levels.iter().map(|l| l * top).collect()
        };
        finish(sigmas, false)
    }
}

/// Appends ComfyUI's final 0 and drops repeats (entries clamped into the range can repeat).
fn finish(mut sigmas: Vec<f64>, zero: bool) -> Vec<f64> {
    sigmas.dedup();
    if zero {
        sigmas.push(0.0);
    }
    sigmas
}
