//! What a stage is to the engine: a handler that takes one job's context and
//! ends in an outcome or a typed error, and the ordered set of stages a run
//! goes through.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::config::Config;
use crate::domain::job::EffectState;
use crate::domain::{Clock, Job, Stage};
use crate::store::Store;

pub type StageFuture<'a> =
    Pin<Box<dyn Future<Output = Result<StageOutcome, StageError>> + Send + 'a>>;

/// One pipeline stage. Stages must be safe to run twice, except through
/// [`StageContext::side_effect`], which runs its effect at most once.
pub trait StageHandler: Send + Sync + 'static {
    fn run(&self, ctx: StageContext) -> StageFuture<'_>;

    /// Releases what the stage holds (browsers, child processes) when the
    /// engine stops.
    fn stop(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async {})
    }
}

/// How a stage ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageOutcome {
    Done,
    /// Nothing to do, with the reason (e.g. no WebDriver available). The
    /// lead's chain goes on.
    Skipped(String),
}

/// Whether trying again could help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Timeouts, resets, 5xx: retried with backoff.
    Transient,
    /// Bad input, refused by policy: never retried.
    Permanent,
}

/// A stage's error: its kind and the message with its causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageError {
    pub kind: ErrorKind,
    /// The message first, then its causes.
    pub chain: Vec<String>,
}

impl StageError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Transient,
            chain: vec![message.into()],
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Permanent,
            chain: vec![message.into()],
        }
    }

    /// An error and its `source()` chain.
    pub fn from_error(kind: ErrorKind, err: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = vec![err.to_string()];
        let mut source = err.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !chain.last().is_some_and(|last| last.contains(&text)) {
                chain.push(text);
            }
            source = cause.source();
        }
        Self { kind, chain }
    }

    /// Adds context in front of the message.
    pub fn context(mut self, message: impl Into<String>) -> Self {
        self.chain.insert(0, message.into());
        self
    }
}

impl std::fmt::Display for StageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.chain.join(": "))
    }
}

impl std::error::Error for StageError {}

/// What a stage handler gets: its job and the shared parts it may use.
#[derive(Clone)]
pub struct StageContext {
    pub job: Job,
    pub store: Arc<Store>,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
}

impl StageContext {
    /// The attempt number, 1 for the first.
    pub fn attempt(&self) -> u32 {
        self.job.attempts
    }

    /// Runs a side effect at most once: the job is durably marked "effect in
    /// progress" before `effect` starts, and "done" after. If leadscout dies
    /// in between, the job becomes `needs_review` instead of running again;
    /// if it dies after "done" was recorded, the job runs again but the
    /// effect does not (`AlreadyDone`).
    pub async fn side_effect<F>(&self, effect: F) -> Result<Effect, StageError>
    where
        F: Future<Output = Result<(), StageError>>,
    {
        if self.job.effect == EffectState::Done {
            return Ok(Effect::AlreadyDone);
        }
        let store_error =
            |e: crate::store::StoreError| StageError::from_error(ErrorKind::Transient, &e);
        self.store
            .set_job_effect(self.job.id, EffectState::InProgress)
            .map_err(store_error)?;
        self.store.flush().await.map_err(store_error)?;
        let result = effect.await;
        // An effect that failed did not happen, so the job may be retried.
        let state = if result.is_ok() {
            EffectState::Done
        } else {
            EffectState::None
        };
        self.store
            .set_job_effect(self.job.id, state)
            .map_err(store_error)?;
        self.store.flush().await.map_err(store_error)?;
        result.map(|()| Effect::Performed)
    }
}

/// Whether [`StageContext::side_effect`] ran the effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Performed,
    /// An earlier attempt already did it (it finished, then leadscout died
    /// before the job's end was recorded).
    AlreadyDone,
}

/// The stages a run can go through, in pipeline order.
#[derive(Clone, Default)]
pub struct StageSet {
    stages: Vec<(Stage, Arc<dyn StageHandler>)>,
}

impl StageSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a stage after the ones already added.
    pub fn with(mut self, name: &str, handler: impl StageHandler) -> Self {
        let stage =
            Stage::new(name).unwrap_or_else(|e| panic!("stage names are fixed in code: {e}"));
        self.stages.push((stage, Arc::new(handler)));
        self
    }

    pub fn names(&self) -> Vec<Stage> {
        self.stages.iter().map(|(s, _)| s.clone()).collect()
    }

    pub fn handler(&self, stage: &Stage) -> Option<Arc<dyn StageHandler>> {
        self.stages
            .iter()
            .find(|(s, _)| s == stage)
            .map(|(_, h)| h.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &(Stage, Arc<dyn StageHandler>)> {
        self.stages.iter()
    }
}
