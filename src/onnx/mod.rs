//! Diffusion models exported to ONNX: the card that says what a graph's inputs and output mean,
//! its binding to the graph's declared interface, the adapter that makes every parameterization
//! D(x; sigma), and natively the tract runtime. Solvers, schedules and GITS see only D.

pub mod adapter;
pub mod binding;
pub mod card;
#[cfg(not(target_arch = "wasm32"))]
pub mod runtime;

pub use adapter::Adapter;
pub use binding::{Binding, Signature};
pub use card::{Card, Family, Parameterization};
#[cfg(not(target_arch = "wasm32"))]
pub use runtime::{OnnxDenoiser, OnnxModel};
