//! The apalis backend over the sled job queue: each poll claims the
//! earliest due job of one stage under a lease; finished attempts come back
//! through the acknowledgement layer (`ack.rs`). Retries, backoff, attempts
//! and leases live in the store, so they survive a crash; apalis runs the
//! handlers (concurrency, panics, events).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis_core::backend::finalize::Ephemeral;
use apalis_core::backend::{Backend, BackendConfig};
use apalis_core::task::Task;
use apalis_core::task::builder::TaskBuilder;
use apalis_core::task::task_id::TaskId;
use apalis_core::worker::context::WorkerContext;
use apalis_core::worker::ext::ack::AcknowledgeLayer;
use futures::task::AtomicWaker;

use super::ack::Acker;
use super::events::EventBus;
use super::queue::{InFlight, QueueError};
use crate::domain::{Clock, Job, JobId, Stage};
use crate::store::Store;
use crate::store::jobs::Claim;

/// What a worker's handler receives: the claimed job.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub job: Job,
}

/// Longest sleep between two looks at an idle queue; a safety net, since
/// pushes and retries wake the worker directly.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Wait after a store error before trying again, so errors do not spin.
const ERROR_BACKOFF: Duration = Duration::from_millis(500);

pub struct SledBackend {
    pub(super) store: Arc<Store>,
    pub(super) stage: Stage,
    pub(super) owner: String,
    pub(super) lease: jiff::SignedDuration,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) waker: Arc<AtomicWaker>,
    pub(super) in_flight: Arc<InFlight>,
    pub(super) bus: Arc<EventBus>,
    pub(super) acker: Acker,
    pub(super) sleep: Pin<Box<tokio::time::Sleep>>,
}

impl SledBackend {
    fn sleep_until(&mut self, cx: &mut Context<'_>, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait.min(IDLE_POLL);
        self.sleep.as_mut().reset(deadline);
        // Polling registers the timer with this task's waker.
        let _ = self.sleep.as_mut().poll(cx);
    }
}

impl Backend for SledBackend {
    type Task = Task<Ticket>;
    type Error = QueueError;

    fn poll_ready(
        &mut self,
        _cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Result<(), QueueError>> {
        Poll::Ready(Ok(()))
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        worker: &WorkerContext,
    ) -> Poll<Option<Result<Task<Ticket>, QueueError>>> {
        if worker.is_shutting_down() {
            return Poll::Pending;
        }
        // Register first, so a push between the claim and the return wakes us.
        self.waker.register(cx.waker());
        let now = self.clock.now();
        match self
            .store
            .claim_job(&self.stage, now, &self.owner, self.lease)
        {
            Ok(Claim::Job(job)) => {
                self.in_flight.add(job.id);
                self.bus.started();
                let task = TaskBuilder::new(Ticket {
                    job: (*job).clone(),
                })
                .task_id(TaskId::from_string(job.id.to_string()))
                .build();
                Poll::Ready(Some(Ok(task)))
            }
            Ok(Claim::Empty { next_due }) => {
                let wait = next_due
                    .map(|due| due.duration_since(now).unsigned_abs())
                    .unwrap_or(IDLE_POLL);
                self.sleep_until(cx, wait);
                Poll::Pending
            }
            Err(e) => {
                tracing::error!(stage = %self.stage, error = %e, "cannot read the job queue; trying again shortly");
                self.sleep_until(cx, ERROR_BACKOFF);
                Poll::Pending
            }
        }
    }

    fn poll_close(
        &mut self,
        _cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Result<(), QueueError>> {
        Poll::Ready(Ok(()))
    }
}

impl BackendConfig for SledBackend {
    type Args = Ticket;
    type Id = JobId;
    /// apalis' "use the backend as it is" mode: tasks are decoded here, from
    /// the store, so a bad record is skipped instead of stopping the worker.
    /// Durability comes from sled, not from this marker.
    type Kind = Ephemeral;
    type Config = ();
    type Layer = AcknowledgeLayer<Acker>;

    fn config(&self) -> &() {
        &()
    }

    fn middleware(&mut self, _worker: &mut WorkerContext) -> Self::Layer {
        AcknowledgeLayer::new(self.acker.clone())
    }
}
