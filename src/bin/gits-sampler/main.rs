//! The native command line: one module per subcommand, what they share in `common`.

mod bench;
mod common;
mod eval;
mod export;
mod import;
mod inspect;
mod gits;
mod kde;
mod pack;
mod plan;
mod sample;
mod schedule;
mod train;
mod train_classifier;

use clap::{Parser, Subcommand};
use gits_sampler::Result;
use gits_sampler::solver::SOLVERS;

#[derive(Parser)]
#[command(name = "gits-sampler", version, about = "Diffusion sampling with solver plans and GITS time schedules")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print or save a sigma schedule as a JSON list.
    Schedule(schedule::ScheduleArgs),
    /// Compile a solver over a schedule to plan JSON.
    Plan(plan::PlanCommand),
    /// Run a plan on a denoiser; write the samples and the trajectory as JSON.
    Sample(sample::SampleArgs),
    /// Write the sigmas a solver would run on (e.g. a GITS schedule) in another tool's form.
    Export(export::ExportArgs),
    /// Read a sigma list as ComfyUI, diffusers or k-diffusion write it; write it as our JSON
    /// list (for --sigmas) or another export format.
    Import(import::ImportArgs),
    /// Show an ONNX model's inputs and outputs and what its card makes of them.
    Inspect(inspect::InspectArgs),
    /// Search GITS schedules for a model: warmup trajectories, cost matrix, dynamic programming.
    Gits(gits::GitsArgs),
    /// Time sampling per solver and the GITS stages on this machine's CPU.
    Bench(bench::BenchArgs),
    /// Train a denoiser on the CPU (EDM loss, Adam, EMA); resumes from --checkpoint.
    Train(train::TrainArgs),
    /// Judge an MNIST model: FD of classifier features vs the held-out digits, class accuracy,
    /// L2 to a 60-NFE teacher, for every solver x schedule x NFE given.
    Eval(eval::EvalArgs),
    /// Train the LeNet judge used by `eval` on the MNIST training split.
    TrainClassifier(train_classifier::TrainClassifierArgs),
    /// Write a training checkpoint's EMA weights, or an existing weights file's, as a weights
    /// file (f32 or int8).
    Pack(pack::PackArgs),
    /// List the solvers, their options and how NFE maps to steps.
    Solvers,
    /// Write N points of a 2-D toy set as a KDE denoiser (the exact denoiser of those points).
    Kde(kde::KdeArgs),
}

fn main_result() -> Result<()> {
    match Cli::parse().command {
        Command::Schedule(a) => schedule::run(a),
        Command::Plan(a) => plan::run(a),
        Command::Sample(a) => sample::run(a),
        Command::Export(a) => export::run(a),
        Command::Import(a) => import::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Gits(a) => gits::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Train(a) => train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::TrainClassifier(a) => train_classifier::run(a),
        Command::Pack(a) => pack::run(a),
        Command::Solvers => {
            for (name, what) in SOLVERS {
                println!("{name:<22} {what}");
            }
            Ok(())
        }
        Command::Kde(a) => kde::run(a),
    }
}

fn main() {
    if let Err(e) = main_result() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
