//! Sigma lists in other tools' notations: read them, saying which notation was found and where
//! anything is wrong, and write them. `import(&export(s, f)?, FinalSigma::Keep)` gives back
//! exactly the sigmas `export` wrote, for every format `f`.

use crate::limits::MAX_SIGMA;
use crate::schedule::validate_sigmas;
use crate::vp_discrete::DiscreteVp;
use crate::{Error, Result, bail};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// The forms `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Our own: a JSON list of the sigmas as they are (what `--sigmas` reads).
    Json,
    /// k-diffusion: a list ending in 0 (its samplers step to sigma = 0 last).
    Kdiffusion,
    /// diffusers `set_timesteps(sigmas=...)`: without a final 0 (the scheduler appends its own
    /// final sigma, per `final_sigmas_type`).
    Diffusers,
    /// ComfyUI: comma-separated, ending in 0, as a ManualSigmas node takes it.
    Comfyui,
}

pub const FORMATS: [Format; 4] = [Format::Json, Format::Kdiffusion, Format::Diffusers, Format::Comfyui];

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "json",
            Format::Kdiffusion => "kdiffusion",
            Format::Diffusers => "diffusers",
            Format::Comfyui => "comfyui",
        })
    }
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        FORMATS.into_iter().find(|f| f.to_string() == s).ok_or_else(|| Error(format!("unknown format '{s}' (expected json, kdiffusion, diffusers or comfyui)")))
    }
}

/// `sigmas` (checked) in `format`. Numbers are written in their shortest exact form.
pub fn export(sigmas: &[f64], format: Format) -> Result<String> {
    validate_sigmas(sigmas).map_err(Error)?;
    let positive = || sigmas.iter().copied().filter(|&s| s > 0.0);
    let with_zero: Vec<f64> = positive().chain([0.0]).collect();
    Ok(match format {
        Format::Json => serde_json::to_string(sigmas)?,
        Format::Kdiffusion => serde_json::to_string(&with_zero)?,
        Format::Diffusers => serde_json::to_string(&positive().collect::<Vec<_>>())?,
        Format::Comfyui => with_zero.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
    })
}

/// What becomes of a list's final sigma 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FinalSigma {
    /// Kept: the plan ends with a step to sigma = 0 (x = D(x; sigma_last)).
    Keep,
    /// Replaced by this sigma_min (dropped where the list already ends at or below it).
    SigmaMin(f64),
}

/// A sigma list read from text, with what was read and how its end was mapped.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Imported {
    pub sigmas: Vec<f64>,
    /// The notation found, in words.
    pub notation: String,
    /// What the list's last sigma means here, in words.
    pub last: String,
}

/// The notations `import` recognises.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Notation {
    List,
    Tensor,
    DiffusersSigmas,
    DiffusersTimesteps,
    Plain,
}

impl Notation {
    fn words(self) -> &'static str {
        match self {
            Notation::List => "a list [...] (our JSON; k-diffusion's and diffusers' exports; a Python list)",
            Notation::Tensor => "a PyTorch tensor printout (k-diffusion's get_sigmas_*, ComfyUI's SIGMAS)",
            Notation::DiffusersSigmas => "diffusers' sigmas=[...]",
            Notation::DiffusersTimesteps => {
                "diffusers' timesteps=[...] of DDPM's 1000 linear-beta steps (beta 1e-4..0.02), each mapped to sigma = sqrt((1 - alpha_bar) / alpha_bar), then a last step to sigma 0 (final alpha_bar 1, as diffusers' DDIM takes it)"
            }
            Notation::Plain => "numbers separated by commas or spaces (ComfyUI's ManualSigmas)",
        }
    }
}

/// Reads a sigma list as ComfyUI, diffusers or k-diffusion write it (the notation is found from
/// the text), maps a final 0 as `last` says and checks the result. Errors name the position.
pub fn import(text: &str, last: FinalSigma) -> Result<Imported> {
    crate::limits::at_most("bytes of text", text.len(), crate::limits::MAX_TEXT)?;
    let mut p = Parser { text, at: 0 };
    p.skip_space();
    let mut notation = Notation::Plain;
    if let Some(name) = p.keyword(&["timesteps", "sigmas"]) {
        p.skip_space();
        if !(p.eat('=') || p.eat(':')) {
            bail!("{}: expected '=' after '{name}'", p.here());
        }
        notation = if name == "timesteps" { Notation::DiffusersTimesteps } else { Notation::DiffusersSigmas };
    }
    p.skip_space();
    let wrapper = p.call_open();
    if wrapper.as_deref().is_some_and(|w| w.ends_with("tensor")) && notation == Notation::Plain {
        notation = Notation::Tensor;
    }
    let bracketed = p.eat('[');
    if bracketed && notation == Notation::Plain {
        notation = Notation::List;
    }
    if (wrapper.is_some() || notation != Notation::Plain) && !bracketed {
        bail!("{}: expected '['", p.here());
    }
    let numbers = p.numbers(if bracketed { Some(']') } else { None })?;
    if bracketed {
        if !p.eat(']') {
            bail!("{}: expected ']' to close the '['", p.here());
        }
        if wrapper.is_some() {
            p.call_close()?;
        }
    }
    p.skip_space();
    if let Some(c) = p.peek() {
        bail!("{}: unexpected '{c}' after the list", p.here());
    }
    let mut sigmas = if notation == Notation::DiffusersTimesteps { timestep_sigmas(text, &numbers)? } else { checked_sigmas(text, &numbers)? };
    let words = end_mapping(&mut sigmas, last);
    validate_sigmas(&sigmas).map_err(Error)?;
    Ok(Imported { sigmas, notation: notation.words().into(), last: words })
}

/// A number as written and the byte offset it starts at.
type Token<'a> = (&'a str, usize);

fn checked_sigmas(text: &str, numbers: &[Token]) -> Result<Vec<f64>> {
    let mut sigmas = Vec::with_capacity(numbers.len());
    for (i, &(word, at)) in numbers.iter().enumerate() {
        let s: f64 = word.parse().map_err(|_| Error(format!("{}: '{word}' is not a number", position(text, at))))?;
        let last = i + 1 == numbers.len();
        if !s.is_finite() || s < 0.0 || s > MAX_SIGMA || (s == 0.0 && !last) {
            bail!("{}: sigma {i} = {word} must be finite and > 0 (only the last may be 0), at most {MAX_SIGMA}", position(text, at));
        }
        if let Some(&before) = sigmas.last()
            && s >= before
        {
            bail!("{}: sigma {i} = {word} is not below sigma {} = {before}: sigmas must decrease strictly", position(text, at), i - 1);
        }
        sigmas.push(s);
    }
    Ok(sigmas)
}

fn timestep_sigmas(text: &str, numbers: &[Token]) -> Result<Vec<f64>> {
    let vp = DiscreteVp::ddpm();
    let mut sigmas = Vec::with_capacity(numbers.len() + 1);
    for (i, &(word, at)) in numbers.iter().enumerate() {
        let t: usize = word.parse().map_err(|_| Error(format!("{}: '{word}' is not a whole timestep", position(text, at))))?;
        let s = vp.sigma(t).ok_or_else(|| Error(format!("{}: timestep {t} is outside 0..{}", position(text, at), vp.len() - 1)))?;
        if let Some(&before) = sigmas.last()
            && s >= before
        {
            bail!("{}: timestep {i} = {t} is not below the one before it: timesteps must decrease strictly", position(text, at));
        }
        sigmas.push(s);
    }
    sigmas.push(0.0);
    Ok(sigmas)
}

/// Applies `last` to a final 0 and says what the list's end means.
fn end_mapping(sigmas: &mut Vec<f64>, last: FinalSigma) -> String {
    match (sigmas.last().copied(), last) {
        (Some(end), _) if end > 0.0 => {
            format!("it ends at sigma {end}: sampling stops there (diffusers would append its own final sigma; k-diffusion and ComfyUI lists end in 0)")
        }
        (Some(_), FinalSigma::Keep) => "the final 0 is kept: the last step goes to sigma 0 (x = D(x; sigma))".into(),
        (Some(_), FinalSigma::SigmaMin(m)) => {
            sigmas.pop();
            if sigmas.last().is_some_and(|&s| s > m) {
                sigmas.push(m);
                format!("the final 0 is replaced by the model's sigma_min {m}")
            } else {
                format!("the final 0 is dropped (the list already ends at or below the model's sigma_min {m})")
            }
        }
        (None, _) => "the list is empty".into(),
    }
}

/// "line L, column C" of byte offset `at` (1-based, counted in characters).
fn position(text: &str, at: usize) -> String {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}")
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn here(&self) -> String {
        position(self.text, self.at)
    }

    fn skip_space(&mut self) {
        self.at = self.text.len() - self.rest().trim_start().len();
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.rest().starts_with(c);
        if hit {
            self.at += c.len_utf8();
        }
        hit
    }

    /// The identifier here (letters, digits, '_', '.'), without consuming it.
    fn ident(&self) -> &'a str {
        let rest = self.rest();
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).unwrap_or(rest.len());
        if rest.starts_with(|c: char| c.is_ascii_alphabetic()) { &rest[..end] } else { "" }
    }

    fn keyword(&mut self, names: &[&'static str]) -> Option<&'static str> {
        let word = self.ident();
        let name = names.iter().copied().find(|&n| n == word)?;
        self.at += word.len();
        Some(name)
    }

    /// `name(` such as `tensor(`, `torch.tensor(` or `np.array(`: the name.
    fn call_open(&mut self) -> Option<String> {
        let word = self.ident();
        let after = self.text[self.at + word.len()..].trim_start();
        if word.is_empty() || !after.starts_with('(') {
            return None;
        }
        self.at = self.text.len() - after.len() + 1;
        self.skip_space();
        Some(word.to_string())
    }

    /// After a call's list: `, key=value` arguments (device='cuda:0', dtype=torch.float64), then `)`.
    fn call_close(&mut self) -> Result<()> {
        loop {
            self.skip_space();
            if self.eat(')') {
                return Ok(());
            }
            if !self.eat(',') {
                bail!("{}: expected ')' or ', name=value'", self.here());
            }
            self.skip_space();
            if self.eat(')') {
                return Ok(());
            }
            let rest = self.rest();
            let end = rest.find([',', ')', '(', '[', ']']).unwrap_or(rest.len());
            if !rest[..end].contains('=') {
                bail!("{}: expected 'name=value' after ','", self.here());
            }
            self.at += end;
        }
    }

    /// Numbers separated by commas and/or white space, up to `close` (or the end of the text).
    /// One trailing comma is allowed, as Python allows it.
    fn numbers(&mut self, close: Option<char>) -> Result<Vec<Token<'a>>> {
        let mut out = Vec::new();
        let mut comma = false;
        loop {
            self.skip_space();
            let rest = self.rest();
            let Some(c) = rest.chars().next() else { break };
            if Some(c) == close {
                break;
            }
            if c == ',' {
                if comma || out.is_empty() {
                    bail!("{}: an empty entry before this ','", self.here());
                }
                comma = true;
                self.at += 1;
                continue;
            }
            let end = rest.find(|c: char| c.is_whitespace() || c == ',' || Some(c) == close).unwrap_or(rest.len());
            let word = &rest[..end];
            if word.contains(['[', ']', '(', ')']) {
                bail!("{}: expected a number, found '{word}'", self.here());
            }
            out.push((word, self.at));
            crate::limits::at_most("sigmas", out.len(), crate::limits::MAX_STEPS + 1)?;
            self.at += end;
            comma = false;
        }
        if out.is_empty() {
            bail!("{}: no numbers found", self.here());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        assert_eq!(position("ab\ncdé,x", 8), "line 2, column 5");
        assert_eq!(position("x", 0), "line 1, column 1");
    }
}
