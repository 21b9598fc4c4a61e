//! UniPC (Zhao et al. 2023) in data prediction: the UniP predictor and the UniC corrector, with
//! B(h) = h (bh1) or expm1(h) (bh2). The corrector refines x_i with the denoiser output already
//! computed at the predicted x_i, so it costs no evaluation; the last step has no corrector.
//! 1 NFE per step. Orders 1..3 (the corrector adds one order of accuracy).

use super::builder::{Lin, PlanBuilder};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    Bh1,
    Bh2,
}

/// Coefficients shared by UniP and UniC for one step of size h (in lambda = -ln sigma).
struct Coefs {
    h_phi_1: f64,
    b_h: f64,
    r: Vec<Vec<f64>>, // R[i][k] = rks[k]^i
    b: Vec<f64>,
}

fn coefs(variant: Variant, h: f64, rks: &[f64], order: usize) -> Coefs {
    let hh = -h;
    let h_phi_1 = hh.exp_m1();
    let b_h = match variant {
        Variant::Bh1 => hh,
        Variant::Bh2 => hh.exp_m1(),
    };
    let (mut h_phi_k, mut factorial) = (h_phi_1 / hh - 1.0, 1.0);
    let (mut r, mut b) = (Vec::new(), Vec::new());
    for i in 1..=order {
        r.push(rks.iter().map(|rk| rk.powi(i as i32 - 1)).collect());
        b.push(h_phi_k * factorial / b_h);
        factorial *= (i + 1) as f64;
        h_phi_k = h_phi_k / hh - 1.0 / factorial;
    }
    Coefs { h_phi_1, b_h, r, b }
}

/// Solves the small dense system a x = y by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut y: Vec<f64>) -> Vec<f64> {
    let n = y.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap();
        a.swap(c, p);
        y.swap(c, p);
        for i in c + 1..n {
            let f = a[i][c] / a[c][c];
            for k in c..n {
                a[i][k] -= f * a[c][k];
            }
            y[i] -= f * y[c];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        x[i] = (y[i] - (i + 1..n).map(|k| a[i][k] * x[k]).sum::<f64>()) / a[i][i];
    }
    x
}

pub struct UniPc {
    order: usize,
    variant: Variant,
    corrector: bool,
    lower_order_final: bool,
    denoised: Vec<Lin>, // newest first
    at: Vec<f64>,       // their sigmas, newest first
}

impl UniPc {
    pub fn new(order: usize, variant: Variant, corrector: bool, lower_order_final: bool) -> Self {
        UniPc { order, variant, corrector, lower_order_final, denoised: Vec::new(), at: Vec::new() }
    }

    /// rks and the divided differences D1s of the history against m0 = denoised[0].
    fn history(&self, order: usize, h: f64) -> (Vec<f64>, Vec<Lin>) {
        let lambda0 = -self.at[0].ln();
        let (mut rks, mut d1s) = (Vec::new(), Vec::new());
        for k in 1..order {
            let rk = (-self.at[k].ln() - lambda0) / h;
            rks.push(rk);
            d1s.push((self.denoised[k].clone() - self.denoised[0].clone()) * (1.0 / rk));
        }
        rks.push(1.0);
        (rks, d1s)
    }

    /// UniP: x at `t` from x at the newest history point.
    fn predict(&self, x: Lin, t: f64, order: usize) -> Lin {
        let s0 = self.at[0];
        let h = (s0 / t).ln();
        let (rks, d1s) = self.history(order, h);
        let c = coefs(self.variant, h, &rks, order);
        let rhos: Vec<f64> = match order {
            1 => vec![],
            2 => vec![0.5],
            _ => solve(c.r[..order - 1].iter().map(|row| row[..order - 1].to_vec()).collect(), c.b[..order - 1].to_vec()),
        };
        let res = rhos.iter().zip(&d1s).fold(Lin::default(), |acc, (r, d)| acc + d.clone() * *r);
        x * (t / s0) - self.denoised[0].clone() * c.h_phi_1 - res * c.b_h
    }

    /// UniC: corrects the step from x (at the newest history point) to `t`, given D at the
    /// predicted point there.
    fn correct(&self, x: Lin, t: f64, model_t: &Lin, order: usize) -> Lin {
        let s0 = self.at[0];
        let h = (s0 / t).ln();
        let (rks, d1s) = self.history(order, h);
        let c = coefs(self.variant, h, &rks, order);
        let rhos = if order == 1 { vec![0.5] } else { solve(c.r.clone(), c.b.clone()) };
        let d1_t = model_t.clone() - self.denoised[0].clone();
        let res = rhos.iter().zip(&d1s).fold(Lin::default(), |acc, (r, d)| acc + d.clone() * *r) + d1_t * rhos[order - 1];
        x * (t / s0) - self.denoised[0].clone() * c.h_phi_1 - res * c.b_h
    }

    /// The whole plan body: UniPC needs its evaluation before it can emit the corrected x_i.
    pub fn run(&mut self, b: &mut PlanBuilder, sigmas: &[f64]) {
        let n = sigmas.len() - 1;
        let x0 = b.start();
        let mut x = b.emit(&x0, 0); // x_i as the next step starts from it (corrected)
        let mut x_pred = x.clone();
        let mut last_order = 0;
        for i in 0..n {
            let m = b.denoise(&x_pred, sigmas[i]);
            if i > 0 {
                if self.corrector {
                    x = self.correct(x, sigmas[i], &m, last_order);
                } else {
                    x = x_pred;
                }
                x = b.emit(&x, i);
            }
            self.denoised.insert(0, m.clone());
            self.at.insert(0, sigmas[i]);
            self.denoised.truncate(self.order);
            self.at.truncate(self.order);
            if sigmas[i + 1] == 0.0 {
                // The final step to sigma = 0 is DDIM's: x = D, here the evaluation just made.
                x_pred = m;
                break;
            }
            let mut order = self.order.min(i + 1);
            if self.lower_order_final {
                order = order.min(n - i);
            }
            x_pred = self.predict(x.clone(), sigmas[i + 1], order);
            last_order = order;
        }
        b.emit(&x_pred, n);
    }
}
