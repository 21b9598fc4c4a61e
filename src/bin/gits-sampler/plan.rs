//! `plan`: compile a solver over a schedule to plan JSON; and the solver/schedule flags that
//! `sample`, `export` and `eval` share.

use crate::common::{Range, read, write};
use clap::Args;
use gits_sampler::gits::{GitsFile, ModelRef};
use gits_sampler::model::Model;
use gits_sampler::model_sigmas::ModelSigmas;
use gits_sampler::plan::{Plan, Thresholding};
use gits_sampler::schedule::validate_sigmas;
use gits_sampler::solver::{CompileOptions, SamplingSpec, Solver};
use gits_sampler::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct PlanCommand {
    #[command(flatten)]
    spec: PlanArgs,
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(a: PlanCommand) -> Result<()> {
    write(a.out.as_deref(), &a.spec.plan(None)?.to_json())
}

#[derive(Args)]
pub struct PlanArgs {
    /// A solver name; `gits-sampler solvers` lists them with their options
    #[arg(long)]
    pub solver: Option<Solver>,
    /// A schedule family (polynomial[:rho], logsnr, uniform, ...) or gits:FILE (a GITS schedule file).
    #[arg(long, default_value = "polynomial:7")]
    schedule: String,
    /// With gits:FILE, which gamma's schedules to use (default: the file's first).
    #[arg(long)]
    gamma: Option<f64>,
    /// Denoiser evaluations; the number of steps follows from the solver.
    #[arg(long, default_value_t = 10)]
    nfe: u32,
    /// Append sigma = 0 with a final first-order step x = D(x; sigma_last).
    #[arg(long)]
    to_zero: bool,
    /// Analytic first step: the first derivative without a denoiser call (multistep solvers).
    /// With gits:FILE the default is the file's: AFS where its search chose AFS for the solver.
    #[arg(long, conflicts_with = "no_afs")]
    afs: bool,
    /// Without the analytic first step, also where a GITS file chose it for the solver.
    #[arg(long)]
    no_afs: bool,
    /// DPM-Solver++ dynamic thresholding at this quantile of |x0| (e.g. 0.995); f64 backend.
    #[arg(long)]
    thresholding: Option<f64>,
    /// Step noise of stochastic solvers: fresh (a draw per step from each sample's seed) or
    /// brownian (increments of each sample's Brownian path: the same path at any step count).
    /// Default: k-diffusion's, brownian for the *_sde solvers, fresh for the others.
    #[arg(long)]
    step_noise: Option<gits_sampler::noise::NoiseSource>,
    /// The thresholding floor: s = max(quantile, this).
    #[arg(long, default_value_t = 1.0, requires = "thresholding")]
    threshold_max: f64,
    /// A JSON list of sigmas to use instead of --schedule/--nfe.
    #[arg(long)]
    pub sigmas: Option<PathBuf>,
    #[command(flatten)]
    range: Range,
    /// The sigma range of the model sampled, where there is one (the flags' default).
    #[arg(skip)]
    model_range: Option<(f64, f64)>,
    /// The training sigmas of the model sampled (ComfyUI's table schedules pick from them).
    #[arg(skip)]
    model_sigmas: Option<ModelSigmas>,
}

impl PlanArgs {
    /// Plain settings for a solver on a named schedule at an NFE. `gits:FILE@GAMMA` picks one
    /// gamma of a GITS file; a `+afs` suffix samples with the analytic first step, `+no-afs`
    /// without it (default: the GITS file's choice for the solver, else without).
    pub fn for_eval(solver: Solver, schedule: &str, nfe: u32) -> Result<Self> {
        let (schedule, afs) = match (schedule.strip_suffix("+afs"), schedule.strip_suffix("+no-afs")) {
            (Some(s), _) => (s, Some(true)),
            (_, Some(s)) => (s, Some(false)),
            _ => (schedule, None),
        };
        let (schedule, gamma) = match schedule.strip_prefix("gits:").and_then(|s| s.rsplit_once('@')) {
            Some((file, g)) => (format!("gits:{file}"), Some(g.parse::<f64>().map_err(|_| Error(format!("bad gamma '{g}' in schedule '{schedule}'")))?)),
            None => (schedule.to_string(), None),
        };
        Ok(PlanArgs {
            solver: Some(solver),
            schedule,
            gamma,
            nfe,
            to_zero: false,
            afs: afs == Some(true),
            no_afs: afs == Some(false),
            thresholding: None,
            threshold_max: 1.0,
            step_noise: None,
            sigmas: None,
            range: Range { sigma_min: None, sigma_max: None },
            model_range: None,
            model_sigmas: None,
        })
    }

    /// These settings on a model with sigma range `range` (the default of --sigma-min/max).
    pub fn on_model(self, model: &Model) -> Self {
        PlanArgs { model_range: Some(model.sigma_range()), model_sigmas: Some(model.model_sigmas()), ..self }
    }

    /// --afs / --no-afs; None: the GITS file's choice (without AFS for other schedules).
    fn afs_choice(&self) -> Option<bool> {
        if self.afs { Some(true) } else if self.no_afs { Some(false) } else { None }
    }

    /// The solver, the sigmas it runs on and whether with AFS. `model`: the denoiser a GITS
    /// file must have been searched for.
    pub fn sigmas(&self, model: Option<&ModelRef>) -> Result<(Solver, Vec<f64>, bool)> {
        let solver = self.solver.ok_or_else(|| Error("give --solver (or --plan)".into()))?;
        if let Some(path) = self.schedule.strip_prefix("gits:") {
            let file = GitsFile::load(&read(Path::new(path))?, model).map_err(|e| Error(format!("{path}: {e}")))?;
            let (sigmas, afs) = file.sigmas_for(&solver, self.nfe, self.to_zero, self.afs_choice(), self.gamma).map_err(|e| Error(format!("{path}: {e}")))?;
            return Ok((solver, sigmas, afs));
        }
        let afs = self.afs_choice().unwrap_or(false);
        let sigmas = if let Some(path) = &self.sigmas {
            read_sigmas(path)?
        } else {
            let (sigma_min, sigma_max) = self.range.or(self.model_range);
            let spec = SamplingSpec {
                solver,
                schedule: self.schedule.parse().map_err(Error)?,
                nfe: self.nfe,
                sigma_min,
                sigma_max,
                to_zero: self.to_zero,
                afs,
            };
            // Training sigmas clamped into the range sampled (the flags may narrow it).
            let table = self.model_sigmas.as_ref().map(|m| ModelSigmas::trained(&m.table, sigma_min, sigma_max, m.flow));
            spec.sigmas_on(table.as_ref())?
        };
        Ok((solver, sigmas, afs))
    }

    /// The sigmas alone: a --sigmas list needs no solver. `model`: as for [`Self::sigmas`].
    pub fn schedule_sigmas(&self, model: Option<&ModelRef>) -> Result<Vec<f64>> {
        match (&self.sigmas, self.solver) {
            (Some(path), None) => read_sigmas(path),
            _ => Ok(self.sigmas(model)?.1),
        }
    }

    pub fn plan(&self, model: Option<&ModelRef>) -> Result<Plan> {
        let (solver, sigmas, afs) = self.sigmas(model)?;
        let thresholding = self.thresholding.map(|ratio| Thresholding { ratio, max: self.threshold_max });
        solver.compile(&sigmas, &CompileOptions { afs, thresholding, noise: self.step_noise })
    }
}

/// A JSON sigma list (ours: what `import` and `export --format json` write), checked.
fn read_sigmas(path: &Path) -> Result<Vec<f64>> {
    let sigmas: Vec<f64> = serde_json::from_str(&read(path)?).map_err(|e| Error(format!("{}: {e}", path.display())))?;
    validate_sigmas(&sigmas).map_err(|e| Error(format!("{}: {e}", path.display())))?;
    Ok(sigmas)
}
