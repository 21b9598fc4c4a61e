//! GITS (Chen et al., ICML 2024, Sec. 5 and Alg. 1): warmup teacher trajectories on a fine grid,
//! a cost matrix of Euler jumps between grid points, and dynamic programming for the cheapest
//! path of K steps from sigma_max to sigma_min; our propagated cost and student refinement
//! (docs/gits.md); the versioned schedule file.
//!
//! - [`warmup`]      the teacher's trajectories
//! - [`cost`]        the cost matrix (l2, l1 or the reference code's `dev`)
//! - [`propagation`] the measured propagation gains and the propagated cost
//! - [`dp`]          the dynamic programming
//! - [`search`]      the whole search as resumable steps, with its configuration
//! - [`file`]        the schedule file, its loader and validator

pub mod cost;
pub mod dp;
pub mod file;
pub mod optimal_steps;
pub mod propagation;
pub mod search;
pub mod warmup;

pub use cost::cost_matrix;
pub use dp::dynamic_programming;
pub use crate::model::ModelRef;
pub use file::{CostMap, Found, GitsFile, Metric, Timing, cost_rows};
pub use optimal_steps::{OptimalSteps, optimal_steps};
pub use propagation::{Gains, Propagation, propagation_gains};
pub use search::{Refine, Search, SearchConfig, parse_grid};
pub use warmup::{Warmup, warmup};
