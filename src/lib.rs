//! gits-sampler: fast diffusion sampling with GITS time schedules, natively and in the browser.
//!
//! Crate map:
//! - [`schedule`]  sigma grids (polynomial, logSNR, time-uniform) and their validation
//! - [`model_sigmas`] ComfyUI's schedules over a model's training sigmas (simple, sgm_uniform,
//!   normal, ddim_uniform, beta, linear_quadratic); [`special`] the Beta quantile they need
//! - [`sigma_text`] sigma lists as ComfyUI, diffusers and k-diffusion write them: import, export
//! - [`solver`]    one plan compiler per solver (Euler/DDIM, DDIM-eta, Heun, DPM-Solver-2, DPM-Solver++,
//!   iPNDM, iPNDM_v, exact Adams–Bashforth, DEIS-tAB, UniPC, RK4) and the plan builder
//! - [`plan`]      the plan register program, its validator and the one executor
//! - [`denoiser`]  denoisers: analytic Gaussian mixture and KDE, in f64 and on burn tensors;
//!   trained networks (U-Net, 2-D MLP) with EDM preconditioning and guidance, their SiLU
//! - `data`, `train` (native only) MNIST and 2-D toy data; EDM training with Adam and EMA
//! - `classifier`, `metrics` (native only) the LeNet judge; Fréchet distance, L2 to a teacher,
//!   the paired bootstrap behind `eval`'s differences
//! - [`onnx`]      models exported to ONNX: the card, its binding to the graph, the adapter from
//!   any parameterization (denoised, epsilon, v, velocity) to D(x; sigma); natively run by tract
//! - [`model`]     the one model type (analytic, network or ONNX, from a file's bytes, with its
//!   identity) and the batch interface GITS and `eval` run on
//! - [`gits`]      GITS: warmup trajectories, cost matrix (where a jump lands, or times the
//!   propagation gain of its landing point), dynamic programming, the schedule file
//! - [`distance`], [`hash`] mean L2 between batches; the sha256 that names a model
//! - [`tensor`]    burn tensors as an executor vector space
//! - [`trajectory`] the 3-D projection of a trajectory (its own axis + top-2 principal components)
//! - [`noise`]     seeded standard-normal noise: starting noise, per-sample step noise
//! - [`brownian`]  a seeded Brownian path, a pure function of time (the SDE samplers' noise)
//! - [`vp_discrete`] discrete VP (DDPM) schedules as diffusers defines them; timesteps <-> sigma
//! - [`limits`]    bounds on every size a user or a file can ask for, checked before work starts
//! - [`io`]        JSON batch and trajectory formats shared by the CLI and the browser
//! - [`output`]    output files written whole or not at all (temporary file, then rename)
//! - `web`         (wasm32 only) the whole wasm-bindgen surface; built twice, with
//!   `--features webgpu` and `--features cpu`, one module per backend
//!
//! Conventions (EDM): x at noise level sigma, PF-ODE dx/dsigma = (x - D(x; sigma)) / sigma.

#[cfg(not(target_arch = "wasm32"))]
pub mod classifier;
#[cfg(not(target_arch = "wasm32"))]
pub mod data;
pub mod brownian;
pub mod denoiser;
mod error;
pub mod distance;
pub mod gits;
pub mod hash;
pub mod io;
pub mod limits;
#[cfg(not(target_arch = "wasm32"))]
pub mod metrics;
pub mod model;
pub mod model_sigmas;
pub mod noise;
pub mod onnx;
#[cfg(not(target_arch = "wasm32"))]
pub mod output;
pub mod plan;
pub mod schedule;
pub mod sigma_text;
pub mod solver;
pub mod special;
pub mod tensor;
pub mod trajectory;
#[cfg(not(target_arch = "wasm32"))]
pub mod train;
pub mod vp_discrete;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, Result};
