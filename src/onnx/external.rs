//! An ONNX model run by a runtime outside the crate (onnxruntime-web in the page): the file's
//! interface read here, its card bound to it, and runs handed to a callback that answers later.

use super::binding::{Binding, Signature};
use super::card::Card;
use super::graph::{Feed, Graph};
use crate::{Error, Result};
use std::future::Future;
use std::pin::Pin;

/// What a run resolves to: the bound output's values.
pub type RunFuture = Pin<Box<dyn Future<Output = Result<Vec<f64>>>>>;

/// Runs the graph on named inputs, giving the named output.
pub type RunFn = Box<dyn Fn(Vec<Feed>, &str) -> RunFuture>;

pub struct External {
    pub signature: Signature,
    pub binding: Binding,
    pub card: Card,
    /// Where the card came from, for messages.
    pub card_source: String,
    run: RunFn,
}

impl External {
    /// An ONNX file's bytes with a card chosen as [`Card::pick`] does, run by `run`.
    pub fn new(bytes: &[u8], card: Option<(Card, String)>, fallback: Option<Result<(Card, String)>>, run: RunFn) -> Result<External> {
        let (signature, metadata) = super::proto::read_interface(bytes)?;
        let (card, card_source) = Card::pick(card, &metadata, fallback)?;
        let binding = Binding::new(&card, &signature).map_err(|e| Error(format!("{e} (card: {card_source})")))?;
        Ok(External { signature, binding, card, card_source, run })
    }
}

impl Graph for External {
    fn binding(&self) -> &Binding {
        &self.binding
    }

    fn card(&self) -> &Card {
        &self.card
    }

    async fn run(&self, _rows: usize, feeds: Vec<Feed>) -> Result<Vec<f64>> {
        (self.run)(feeds, &self.binding.output).await
    }
}
