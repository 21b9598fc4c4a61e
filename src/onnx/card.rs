//! The model card: which graph input holds the noisy sample, the noise level and the class, what
//! the output means and the noise schedule the model was trained with. It is a JSON file beside
//! the model, the same keys in the ONNX `metadata_props`, or, for a diffusers export (inputs
//! `sample` and `timestep`, output `out_sample`), nothing but its `scheduler_config.json`.
//! Format and meaning: docs/own-model.md.

use crate::model_sigmas::ModelSigmas;
use crate::vp_discrete::DiscreteVp;
use crate::{Error, Result, bail, limits};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most classes (and the largest null label) a class input may have.
pub const MAX_CLASSES: usize = 1 << 16;

/// A card as written (every key but `schedule` has a diffusers default).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub sample: SampleInput,
    #[serde(default)]
    pub noise: NoiseInput,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<ClassInput>,
    #[serde(default)]
    pub output: Output,
    /// `{"kind": "edm" | "vp" | "flow", ...}` or a diffusers scheduler config as it is.
    pub schedule: Value,
    /// EDM's sigma_data, for `v` on an `edm` schedule (k-diffusion's VDenoiser); 1 elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma_data: Option<f64>,
    /// The data's value range (for drawing samples); [-1, 1] by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_range: Option<[f64; 2]>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleInput {
    pub input: String,
    /// One sample's shape, e.g. [3, 32, 32] or [2]; from the graph when it declares it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Vec<usize>>,
}

impl Default for SampleInput {
    fn default() -> Self {
        SampleInput { input: "sample".into(), shape: None }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseInput {
    pub input: String,
    #[serde(rename = "as")]
    pub kind: NoiseAs,
    /// Round timesteps to the nearest integer one (default: when the input is an integer type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantize: Option<bool>,
}

impl Default for NoiseInput {
    fn default() -> Self {
        NoiseInput { input: "timestep".into(), kind: NoiseAs::Timestep, quantize: None }
    }
}

/// What the noise-level input holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseAs {
    /// EDM's sigma itself.
    Sigma,
    /// Flow matching's time t = sigma / (1 + sigma), in [0, 1].
    T,
    /// A discrete VP timestep (fractional by ln-sigma interpolation); for flow, t x T.
    Timestep,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassInput {
    pub input: String,
    pub classes: usize,
    #[serde(default)]
    pub encoding: ClassEncoding,
    /// The label meaning "no class" (classifier-free guidance needs one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub null: Option<usize>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassEncoding {
    #[default]
    Index,
    OneHot,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    pub name: String,
    /// Default: the scheduler config's prediction_type, or velocity for flow matching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameterization: Option<Parameterization>,
}

impl Default for Output {
    fn default() -> Self {
        Output { name: "out_sample".into(), parameterization: None }
    }
}

/// What the network's output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parameterization {
    /// The clean sample: EDM's D(x; sigma), diffusers' "sample".
    Denoised,
    /// The noise eps of x = x0 + sigma eps.
    Epsilon,
    /// diffusers' v_prediction: alpha eps - sigma_vp x0.
    V,
    /// Flow matching's velocity eps - x0 of x_t = (1 - t) x0 + t eps.
    Velocity,
}

/// The card's own word for a value (its serde name).
fn card_word<T: Serialize>(v: &T, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str(serde_json::to_value(v).ok().as_ref().and_then(Value::as_str).unwrap_or("?"))
}

impl std::fmt::Display for Parameterization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        card_word(self, f)
    }
}

impl std::fmt::Display for NoiseAs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        card_word(self, f)
    }
}

impl Parameterization {
    /// diffusers' `prediction_type`.
    fn from_prediction_type(p: &str) -> Result<Self> {
        Ok(match p {
            "epsilon" => Parameterization::Epsilon,
            "v_prediction" => Parameterization::V,
            "sample" => Parameterization::Denoised,
            "flow_prediction" => Parameterization::Velocity,
            other => bail!("prediction_type \"{other}\" is not supported (epsilon, v_prediction, sample, flow_prediction)"),
        })
    }
}

/// The noise schedule the model was trained with, and the sigma range sampling runs over.
#[derive(Clone, Debug, PartialEq)]
pub enum Family {
    /// Variance exploding (EDM): the graph sees x = x0 + sigma eps.
    Edm,
    /// Discrete variance preserving (DDPM): the graph sees x / sqrt(1 + sigma^2) and a timestep.
    Vp(DiscreteVp),
    /// Flow matching: the graph sees (1 - t) x0 + t eps = x / (1 + sigma) and t (x T as a
    /// timestep); `shift` moves its default sigma range as in SD3's schedules.
    Flow { shift: f64, timesteps: usize },
}

impl Family {
    /// The family in words.
    pub fn describe(&self) -> String {
        match self {
            Family::Edm => "edm (variance exploding)".to_string(),
            Family::Vp(vp) => format!("discrete vp, {} timesteps", vp.len()),
            Family::Flow { shift, timesteps } => format!("flow matching, shift {shift}, {timesteps} timesteps"),
        }
    }
}

/// A schedule as the card's `schedule` key says, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub family: Family,
    pub sigma_min: f64,
    pub sigma_max: f64,
    /// The scheduler config's prediction_type, where it has one.
    pub prediction: Option<Parameterization>,
}

impl Schedule {
    /// The training sigmas ComfyUI's table schedules pick from (its `model_sampling.sigmas`):
    /// the discrete VP schedule's; flow matching's T shifted times (the last, t = 1, is
    /// sigma = infinity and is clamped to sigma_max); 1000 log-linear for EDM.
    pub fn model_sigmas(&self) -> ModelSigmas {
        let (lo, hi) = (self.sigma_min, self.sigma_max);
        match &self.family {
            Family::Edm => ModelSigmas::continuous(lo, hi),
            Family::Vp(vp) => ModelSigmas::trained(vp.sigmas(), lo, hi, false),
            Family::Flow { shift, timesteps } => {
                let t = |i: usize| shift * (i as f64 / *timesteps as f64) / (1.0 + (shift - 1.0) * (i as f64 / *timesteps as f64));
                let sigmas: Vec<f64> = (1..=*timesteps).map(|i| if i == *timesteps { f64::INFINITY } else { t(i) / (1.0 - t(i)) }).collect();
                ModelSigmas::trained(&sigmas, lo, hi, true)
            }
        }
    }

    /// `{"kind": "edm", "sigma_min", "sigma_max"}`, `{"kind": "vp", <diffusers keys>}`,
    /// `{"kind": "flow", "shift", "num_train_timesteps"}`, or a diffusers scheduler config (a
    /// FlowMatch one is flow matching, any other a discrete VP schedule). Optional
    /// `sigma_min`/`sigma_max` narrow the range sampling runs over.
    pub fn parse(v: &Value) -> Result<Schedule> {
        let obj = v.as_object().ok_or_else(|| Error("schedule must be a JSON object".into()))?;
        let num = |key: &str| -> Result<Option<f64>> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => Ok(n.as_f64()),
                Some(other) => bail!("schedule.{key} must be a number, got {other}"),
            }
        };
        let class_name = obj.get("_class_name").and_then(Value::as_str).unwrap_or("");
        // diffusers schedulers that are not DDPM's discrete VP (or flow matching) would be read
        // as one and give wrong samples: refuse them by name.
        const NOT_VP: [&str; 5] = ["EDM", "ScoreSde", "LCM", "TCD", "Consistency"];
        if let Some(other) = NOT_VP.iter().find(|n| class_name.contains(*n)) {
            bail!("schedule: {class_name} ({other}) is not a discrete VP or flow-matching scheduler; write the card's schedule with \"kind\" (docs/own-model.md)");
        }
        if obj.get("kind").is_none() {
            if let Some(t) = obj.get("timestep_type").filter(|t| t.as_str() != Some("discrete")) {
                bail!("schedule: timestep_type {t} (continuous timesteps) is not supported; the model must take discrete timesteps");
            }
            if obj.contains_key("sigma_data") {
                bail!("schedule: a scheduler config with sigma_data is EDM-style, not discrete VP; write the card's schedule with \"kind\": \"edm\"");
            }
        }
        let kind = match obj.get("kind").map(|k| k.as_str()) {
            Some(Some(k)) => k.to_string(),
            Some(None) => bail!("schedule.kind must be a string"),
            None if class_name.contains("FlowMatch") => "flow".into(),
            None if obj.contains_key("num_train_timesteps") || obj.contains_key("beta_schedule") => "vp".into(),
            None => bail!("schedule needs \"kind\" (edm, vp or flow) or a diffusers scheduler config (num_train_timesteps, beta_schedule, ...)"),
        };
        let timesteps = match num("num_train_timesteps")? {
            None => 1000,
            Some(t) if t.fract() == 0.0 && t >= 2.0 && t <= crate::vp_discrete::MAX_TIMESTEPS as f64 => t as usize,
            Some(t) => bail!("schedule.num_train_timesteps must be an integer in 2..={}, got {t}", crate::vp_discrete::MAX_TIMESTEPS),
        };
        // A diffusers config without prediction_type means epsilon, diffusers' default.
        let diffusers_vp = obj.get("kind").is_none() && kind == "vp";
        let prediction = match obj.get("prediction_type") {
            None | Some(Value::Null) if diffusers_vp => Some(Parameterization::Epsilon),
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(Parameterization::from_prediction_type(p)?),
            Some(other) => bail!("schedule.prediction_type must be a string, got {other}"),
        };
        let (family, (lo, hi)) = match kind.as_str() {
            "edm" | "ve" => (Family::Edm, (crate::schedule::SIGMA_MIN, crate::schedule::SIGMA_MAX)),
            "vp" => {
                if obj.get("rescale_betas_zero_snr").and_then(Value::as_bool) == Some(true) {
                    bail!("schedule: rescale_betas_zero_snr makes the last sigma infinite; it is not supported");
                }
                let vp = match obj.get("trained_betas") {
                    None | Some(Value::Null) => None,
                    Some(Value::Array(betas)) => Some(betas),
                    Some(other) => bail!("schedule.trained_betas must be a list of numbers, got {other}"),
                };
                let vp = match vp {
                    Some(betas) if !betas.is_empty() => {
                        limits::at_most("schedule.trained_betas", betas.len(), crate::vp_discrete::MAX_TIMESTEPS)?;
                        let betas: Vec<f64> = betas.iter().map(|b| b.as_f64().ok_or_else(|| Error(format!("schedule.trained_betas holds {b}, not a number")))).collect::<Result<_>>()?;
                        DiscreteVp::from_betas(&betas)?
                    }
                    _ => {
                        let beta_schedule = match obj.get("beta_schedule") {
                            None | Some(Value::Null) => "linear",
                            Some(Value::String(b)) => b.as_str(),
                            Some(other) => bail!("schedule.beta_schedule must be a string, got {other}"),
                        };
                        let (start, end) = (num("beta_start")?.unwrap_or(1e-4), num("beta_end")?.unwrap_or(0.02));
                        DiscreteVp::named(beta_schedule, timesteps, start, end).map_err(|e| Error(format!("schedule: {e}")))?
                    }
                };
                let range = vp.range();
                (Family::Vp(vp), range)
            }
            "flow" => {
                if obj.get("use_dynamic_shifting").and_then(Value::as_bool) == Some(true) {
                    bail!("schedule: use_dynamic_shifting depends on the image size; give the card a fixed \"shift\" instead");
                }
                let shift = num("shift")?.unwrap_or(1.0);
                if !(shift.is_finite() && shift > 0.0 && shift <= 1e3) {
                    bail!("schedule.shift must be in (0, 1000], got {shift}");
                }
                // Flow time t in [shift(1/T), shift(1 - 1/T)] (SD3's training range less the pure-noise end).
                let shifted = |t: f64| shift * t / (1.0 + (shift - 1.0) * t);
                let ve = |t: f64| t / (1.0 - t);
                let step = 1.0 / timesteps as f64;
                (Family::Flow { shift, timesteps }, (ve(shifted(step)), ve(shifted(1.0 - step))))
            }
            other => bail!("schedule.kind \"{other}\" is not one of edm, vp, flow"),
        };
        let sigma_min = num("sigma_min")?.unwrap_or(lo);
        let sigma_max = num("sigma_max")?.unwrap_or(hi);
        if !(sigma_min > 0.0 && sigma_min < sigma_max && sigma_max <= limits::MAX_SIGMA) {
            bail!("schedule: need 0 < sigma_min < sigma_max <= {}, got {sigma_min} and {sigma_max}", limits::MAX_SIGMA);
        }
        // A discrete model knows no sigma outside its training timesteps: the range may only narrow.
        if matches!(family, Family::Vp(_)) && (sigma_min < lo || sigma_max > hi) {
            bail!("schedule: sigma_min/sigma_max [{sigma_min}, {sigma_max}] leave the training range [{lo}, {hi}] of the discrete schedule");
        }
        Ok(Schedule { family, sigma_min, sigma_max, prediction })
    }
}

/// Said when a model comes with no card.
pub const NO_CARD: &str = "no card: write one beside the model (NAME.card.json, see docs/own-model.md), pass --card, or put a diffusers scheduler_config.json beside it";

impl Card {
    /// A card from its JSON text.
    pub fn from_json(text: &str) -> Result<Card> {
        limits::at_most("card size in bytes", text.len(), limits::MAX_TEXT)?;
        serde_json::from_str(text).map_err(|e| Error(format!("invalid card: {e}")))
    }

    /// The card of a diffusers export: its `scheduler_config.json` and the default names.
    pub fn diffusers(scheduler_config: &str) -> Result<Card> {
        limits::at_most("scheduler config size in bytes", scheduler_config.len(), limits::MAX_TEXT)?;
        let schedule: Value = serde_json::from_str(scheduler_config).map_err(|e| Error(format!("invalid scheduler config: {e}")))?;
        Ok(Card { name: None, sample: SampleInput::default(), noise: NoiseInput::default(), class: None, output: Output::default(), schedule, sigma_data: None, data_range: None })
    }

    /// A card from ONNX `metadata_props`: each card key an entry whose value is that key's JSON
    /// (a value that is not JSON stands for itself as a string). None without a `schedule` entry:
    /// other tools' metadata (a `name`, say) is not a card.
    pub fn from_metadata(props: &[(String, String)]) -> Result<Option<Card>> {
        if !props.iter().any(|(k, _)| k == "schedule") {
            return Ok(None);
        }
        const KEYS: [&str; 8] = ["name", "sample", "noise", "class", "output", "schedule", "sigma_data", "data_range"];
        let mut obj = serde_json::Map::new();
        for (key, value) in props.iter().filter(|(k, _)| KEYS.contains(&k.as_str())) {
            let v = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.clone()));
            obj.insert(key.clone(), v);
        }
        if obj.is_empty() {
            return Ok(None);
        }
        serde_json::from_value(Value::Object(obj)).map(Some).map_err(|e| Error(format!("invalid card in the model's metadata_props: {e}")))
    }

    /// The card a model runs with: `card` if given (with where it came from), else the card in
    /// the file's metadata_props, else `fallback` (a diffusers scheduler config's card, read or
    /// refused: its error counts only when it is used).
    pub fn pick(card: Option<(Card, String)>, metadata: &[(String, String)], fallback: Option<Result<(Card, String)>>) -> Result<(Card, String)> {
        match (card, Card::from_metadata(metadata)?, fallback) {
            (Some(c), _, _) => Ok(c),
            (None, Some(c), _) => Ok((c, "the model's metadata_props".into())),
            (None, None, Some(c)) => c,
            (None, None, None) => Err(Error(NO_CARD.into())),
        }
    }

    /// The schedule, resolved and checked, and the parameterization the card and schedule agree on.
    pub fn resolve(&self) -> Result<(Schedule, Parameterization)> {
        let schedule = Schedule::parse(&self.schedule)?;
        let default = match schedule.family {
            Family::Flow { .. } => Some(Parameterization::Velocity),
            _ => None,
        };
        let p = match (self.output.parameterization, schedule.prediction) {
            (Some(a), Some(b)) if a != b => bail!("the card says parameterization {a} but the scheduler config's prediction_type says {b}"),
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => default.ok_or_else(|| Error("the card must give output.parameterization (denoised, epsilon, v or velocity): the schedule has no prediction_type".into()))?,
        };
        if let (Family::Flow { .. }, Parameterization::V) = (&schedule.family, p) {
            bail!("parameterization v is defined on VP (and EDM) schedules; a flow-matching model predicts velocity");
        }
        match (&schedule.family, self.noise.kind) {
            (Family::Edm, NoiseAs::T | NoiseAs::Timestep) => bail!("noise.as = {} needs a vp or flow schedule; an edm model takes sigma", self.noise.kind),
            (Family::Vp(_), NoiseAs::T) => bail!("noise.as = t needs a flow schedule; a discrete VP model takes a timestep or sigma"),
            _ => {}
        }
        if let Some(sd) = self.sigma_data {
            let used = matches!(schedule.family, Family::Edm) && p == Parameterization::V;
            if !(sd.is_finite() && sd > 0.0 && sd <= 1e3) {
                bail!("sigma_data must be in (0, 1000], got {sd}");
            }
            if !used && sd != 1.0 {
                bail!("sigma_data {sd} is only used by v on an edm schedule; this model's scalings fix it at 1");
            }
        }
        if let Some(c) = &self.class {
            limits::at_most("class.classes", c.classes, MAX_CLASSES)?;
            if c.classes == 0 {
                bail!("class.classes must be at least 1");
            }
            if let Some(null) = c.null {
                limits::at_most("class.null", null, MAX_CLASSES)?;
                if null < c.classes {
                    bail!("class.null {null} is one of the {} classes; the null label must be outside 0..{}", c.classes, c.classes);
                }
            }
        }
        if let Some([lo, hi]) = self.data_range {
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                bail!("data_range must be two finite numbers, low < high, got [{lo}, {hi}]");
            }
        }
        Ok((schedule, p))
    }
}
