//! Diffusion models exported to ONNX: the card that says what a graph's inputs and output mean,
//! its binding to the graph's declared interface, the adapter that makes every parameterization
//! D(x; sigma), and natively the tract runtime. Solvers, schedules and GITS see only D.

pub mod adapter;
pub mod binding;
pub mod card;
pub mod external;
pub mod graph;
pub mod proto;
#[cfg(not(target_arch = "wasm32"))]
pub mod runtime;

pub use adapter::Adapter;
pub use binding::{Binding, Signature};
pub use card::{Card, Family, Parameterization};
pub use graph::{Feed, Graph};
#[cfg(not(target_arch = "wasm32"))]
pub use runtime::{OnnxDenoiser, OnnxModel};

/// The ONNX models a [`crate::model::Model`] holds: run by tract (native), or by a runtime
/// outside the crate (onnxruntime-web in the page).
pub enum Runtime {
    #[cfg(not(target_arch = "wasm32"))]
    Tract(OnnxModel),
    External(external::External),
}

impl Runtime {
    /// Where the card came from, for messages.
    pub fn card_source(&self) -> &str {
        match self {
            #[cfg(not(target_arch = "wasm32"))]
            Runtime::Tract(m) => &m.card_source,
            Runtime::External(m) => &m.card_source,
        }
    }

    /// The tract model, natively.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn tract(&self) -> Option<&OnnxModel> {
        match self {
            Runtime::Tract(m) => Some(m),
            Runtime::External(_) => None,
        }
    }
}

impl Graph for Runtime {
    fn binding(&self) -> &Binding {
        match self {
            #[cfg(not(target_arch = "wasm32"))]
            Runtime::Tract(m) => m.binding(),
            Runtime::External(m) => m.binding(),
        }
    }

    fn card(&self) -> &Card {
        match self {
            #[cfg(not(target_arch = "wasm32"))]
            Runtime::Tract(m) => m.card(),
            Runtime::External(m) => m.card(),
        }
    }

    async fn run(&self, rows: usize, feeds: Vec<Feed>) -> crate::Result<Vec<f64>> {
        match self {
            #[cfg(not(target_arch = "wasm32"))]
            Runtime::Tract(m) => m.run(rows, feeds).await,
            Runtime::External(m) => m.run(rows, feeds).await,
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl From<OnnxModel> for Runtime {
    fn from(m: OnnxModel) -> Runtime {
        Runtime::Tract(m)
    }
}

impl From<external::External> for Runtime {
    fn from(m: external::External) -> Runtime {
        Runtime::External(m)
    }
}
