//! The end of an attempt: decide its outcome (done, skipped, retry with
//! backoff, failed, dead), record it with the next stage's job in one store
//! transaction, wait for the group commit to make it durable, then tell the
//! event bus.

use std::sync::{Arc, Mutex};

use apalis_core::error::{AbortError, BoxDynError};
use apalis_core::task::ExecutionContext;
use apalis_core::worker::ext::ack::Acknowledge;
use futures::future::BoxFuture;
use rand::Rng;
use rand::rngs::StdRng;

use super::durability::Durability;
use super::events::EventBus;
use super::queue::{InFlight, QueueError, Wakers};
use super::stage::{ErrorKind, StageError, StageOutcome};
use crate::config::Config;
use crate::domain::event::Event;
use crate::domain::job::backoff;
use crate::domain::{Clock, IdGen, Job, JobId, JobStatus, LeadStatus};
use crate::store::Store;
use crate::store::jobs::{Finish, Outcome};

#[derive(Clone)]
pub struct Acker {
    inner: Arc<AckInner>,
}

pub(super) struct AckInner {
    pub store: Arc<Store>,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<IdGen>,
    pub bus: Arc<EventBus>,
    pub wakers: Arc<Wakers>,
    pub in_flight: Arc<InFlight>,
    pub durability: Arc<Durability>,
    pub rng: Mutex<StdRng>,
}

impl Acker {
    pub(super) fn new(inner: AckInner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }
}

impl Acknowledge<StageOutcome> for Acker {
    type Error = QueueError;
    type Future = BoxFuture<'static, Result<(), QueueError>>;

    fn ack(
        &mut self,
        result: &Result<StageOutcome, BoxDynError>,
        ctx: &ExecutionContext,
    ) -> Self::Future {
        let recorded = self.inner.record(result, ctx);
        let inner = self.inner.clone();
        Box::pin(async move {
            let (events, ticket) = recorded?;
            // The attempt counts as done once its state is on disk.
            inner.durability.wait(ticket).await;
            for event in events {
                inner.bus.publish(event);
            }
            Ok(())
        })
    }
}

impl AckInner {
    fn record(
        &self,
        result: &Result<StageOutcome, BoxDynError>,
        ctx: &ExecutionContext,
    ) -> Result<(Vec<Event>, u64), QueueError> {
        let id = ctx
            .task_id()
            .and_then(|t| t.to_string().parse::<JobId>().ok())
            .ok_or_else(|| QueueError::new("an attempt ended without a job id"))?;
        self.in_flight.remove(id);
        let job = self
            .store
            .job(id)
            .map_err(|e| QueueError::new(e.to_string()))?
            .ok_or_else(|| QueueError::new(format!("job {id} vanished while it ran")))?;
        let now = self.clock.now();
        let outcome = self.outcome(&job, result, now);
        let chain_goes_on = matches!(outcome, Outcome::Succeeded | Outcome::Skipped { .. });
        let next = if chain_goes_on {
            self.next_job(&job, now)?
        } else {
            None
        };
        let lead_status = matches!(outcome, Outcome::Failed { .. } | Outcome::Dead { .. })
            .then_some(LeadStatus::Failed);
        let finish = Finish {
            job: id,
            outcome,
            now,
            next: next.clone(),
            lead_status,
        };
        let Some(stored) = self
            .store
            .finish_job(&finish)
            .map_err(|e| QueueError::new(e.to_string()))?
        else {
            // Recovered or finished by someone else (a lease that ran out).
            return Ok((Vec::new(), self.durability.request()));
        };
        let requeued = stored.status == JobStatus::Retrying;
        self.bus.ended(requeued, stored.status.is_failure());
        if requeued {
            self.wakers.wake(&stored.stage);
        }
        let mut events = vec![
            Event::JobChanged {
                job: stored.id,
                run: stored.run,
                lead: stored.lead,
                stage: stored.stage.clone(),
                status: stored.status,
            },
            Event::LeadChanged { lead: stored.lead },
            Event::RunChanged { run: stored.run },
        ];
        if let (Some(next), true) = (next, chain_goes_on) {
            self.bus.queued(1);
            self.wakers.wake(&next.stage);
            events.push(Event::JobChanged {
                job: next.id,
                run: next.run,
                lead: next.lead,
                stage: next.stage.clone(),
                status: next.status,
            });
        }
        match stored.status {
            JobStatus::Failed | JobStatus::Dead => tracing::warn!(
                job = %stored.id, lead = %stored.lead, stage = %stored.stage, attempt = stored.attempts,
                status = %stored.status, error = stored.last_error.as_deref().unwrap_or(""), "job ended"
            ),
            JobStatus::Retrying => tracing::info!(
                job = %stored.id, stage = %stored.stage, attempt = stored.attempts,
                error = stored.last_error.as_deref().unwrap_or(""), "attempt failed; will retry"
            ),
            status => {
                tracing::debug!(job = %stored.id, stage = %stored.stage, %status, "job ended")
            }
        }
        Ok((events, self.durability.request()))
    }

    fn outcome(
        &self,
        job: &Job,
        result: &Result<StageOutcome, BoxDynError>,
        now: jiff::Timestamp,
    ) -> Outcome {
        let error = match result {
            Ok(StageOutcome::Done) => return Outcome::Succeeded,
            Ok(StageOutcome::Skipped(reason)) => {
                return Outcome::Skipped {
                    reason: reason.clone(),
                };
            }
            Err(e) => classify(e.as_ref()),
        };
        match error.kind {
            ErrorKind::Permanent => Outcome::Failed { error: error.chain },
            ErrorKind::Transient if job.attempts_left() == 0 => {
                Outcome::Dead { error: error.chain }
            }
            ErrorKind::Transient => {
                let settings = self.config.stage(job.stage.as_str());
                let jitter = self
                    .rng
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .random::<f64>();
                let wait_ms = backoff(
                    settings.backoff.as_millis() as u64,
                    settings.backoff_max.as_millis() as u64,
                    job.attempts.saturating_sub(job.attempt_base),
                    jitter,
                );
                let at = now
                    .checked_add(jiff::SignedDuration::from_millis(wait_ms as i64))
                    .unwrap_or(now);
                Outcome::Retry {
                    error: error.chain,
                    at,
                }
            }
        }
    }

    /// The lead's job for the stage after this one in its run, if any.
    fn next_job(&self, job: &Job, now: jiff::Timestamp) -> Result<Option<Job>, QueueError> {
        let run = self
            .store
            .run(job.run)
            .map_err(|e| QueueError::new(e.to_string()))?
            .ok_or_else(|| {
                QueueError::new(format!("run {} of job {} is missing", job.run, job.id))
            })?;
        let position = run.stages.iter().position(|s| *s == job.stage);
        let Some(stage) = position.and_then(|p| run.stages.get(p + 1)) else {
            return Ok(None);
        };
        let settings = self.config.stage(stage.as_str());
        Ok(Some(Job {
            id: JobId::from_ulid(self.ids.next(now)),
            run: job.run,
            campaign: job.campaign,
            lead: job.lead,
            stage: stage.clone(),
            status: JobStatus::Queued,
            attempts: 0,
            attempt_base: 0,
            max_attempts: settings.max_attempts,
            run_at: now,
            lease: None,
            last_error: None,
            effect: Default::default(),
            cancel_requested: false,
            created_at: now,
            started_at: None,
            finished_at: None,
        }))
    }
}

/// Reads a handler's error: our typed errors keep their kind; a caught panic
/// is permanent (a bug, not bad luck); anything else is treated as transient.
fn classify(err: &(dyn std::error::Error + Send + Sync + 'static)) -> StageError {
    if let Some(stage_error) = err.downcast_ref::<StageError>() {
        return stage_error.clone();
    }
    if let Some(abort) = err.downcast_ref::<AbortError>() {
        return StageError::from_error(ErrorKind::Permanent, abort)
            .context("the stage crashed (a bug in leadscout)");
    }
    StageError::from_error(ErrorKind::Transient, err)
}
