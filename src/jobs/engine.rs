//! The running engine: one apalis worker per stage over the sled backend,
//! the group-commit flusher, and the heartbeat that renews leases and puts
//! back jobs whose lease ran out. Started by the runtime; stopped gracefully.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use apalis::layers::WorkerBuilderExt;
use apalis_core::error::BoxDynError;
use apalis_core::monitor::Monitor;
use apalis_core::task::data::Data;
use apalis_core::worker::builder::WorkerBuilder;
use rand::SeedableRng;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::ack::{AckInner, Acker};
use super::backend::{SledBackend, Ticket};
use super::durability::Durability;
use super::events::EventBus;
use super::queue::{InFlight, Wakers};
use super::stage::{StageContext, StageError, StageHandler, StageOutcome, StageSet};
use crate::config::Config;
use crate::domain::event::Event;
use crate::domain::{Clock, IdGen, Job};
use crate::store::{Store, StoreError};

/// Everything the engine needs.
pub struct EngineParts {
    pub store: Arc<Store>,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<IdGen>,
    pub stages: StageSet,
    pub bus: Arc<EventBus>,
}

/// A running engine. Dropping it does not stop the workers; call
/// [`EngineHandle::shutdown`].
pub struct EngineHandle {
    stop: Arc<Notify>,
    /// Workers wait for this before taking jobs (see `resume`).
    go: tokio::sync::watch::Sender<bool>,
    done: Mutex<Option<JoinHandle<()>>>,
    wakers: Arc<Wakers>,
    bus: Arc<EventBus>,
}

/// What a worker's handler needs to run its stage.
#[derive(Clone)]
struct StageRunner {
    handler: Arc<dyn StageHandler>,
    store: Arc<Store>,
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
}

async fn handle(ticket: Ticket, runner: Data<StageRunner>) -> Result<StageOutcome, BoxDynError> {
    let ctx = StageContext {
        job: ticket.job,
        store: runner.store.clone(),
        config: runner.config.clone(),
        clock: runner.clock.clone(),
    };
    let stage = ctx.job.stage.clone();
    match tokio::time::timeout(runner.timeout, runner.handler.run(ctx)).await {
        Ok(result) => result.map_err(|e| Box::new(e) as BoxDynError),
        Err(_) => Err(Box::new(StageError::transient(format!(
            "the {stage} stage took longer than its {} timeout",
            humantime::format_duration(runner.timeout)
        )))),
    }
}

impl EngineHandle {
    /// Starts the engine: recovers jobs left running by a process that died
    /// and readies the workers. They take jobs once [`resume`](Self::resume)
    /// is called, so a caller can read the queue's state first.
    pub fn start(parts: EngineParts) -> Result<Self, StoreError> {
        let EngineParts {
            store,
            config,
            clock,
            ids,
            stages,
            bus,
        } = parts;
        let now = clock.now();
        let recovered = store.recover_jobs(now, false)?;
        if !recovered.requeued.is_empty() || !recovered.needs_review.is_empty() {
            tracing::warn!(
                requeued = recovered.requeued.len(),
                needs_review = recovered.needs_review.len(),
                "recovered jobs left running by an earlier process"
            );
        }
        store.flush_blocking()?;
        for job in recovered.requeued.iter().chain(&recovered.needs_review) {
            bus.publish(job_changed(job));
        }
        bus.set_queued(store.queued_job_count() as u64, 0);
        bus.refresh_stats();

        let owner = format!("pid{}-{}", std::process::id(), now.as_millisecond());
        let wakers = Arc::new(Wakers::default());
        let in_flight = Arc::new(InFlight::default());
        let durability = Arc::new(Durability::new());
        let stop = Arc::new(Notify::new());
        let acker = Acker::new(AckInner {
            store: store.clone(),
            config: config.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            bus: bus.clone(),
            wakers: wakers.clone(),
            in_flight: in_flight.clone(),
            durability: durability.clone(),
            rng: Mutex::new(rand::rngs::StdRng::from_os_rng()),
        });
        let lease = jiff::SignedDuration::try_from(config.jobs.lease)
            .unwrap_or(jiff::SignedDuration::from_secs(30));

        let mut monitor = Monitor::new();
        for (stage, handler) in stages.iter() {
            let settings = config.stage(stage.as_str());
            let runner = StageRunner {
                handler: handler.clone(),
                store: store.clone(),
                config: config.clone(),
                clock: clock.clone(),
                timeout: settings.timeout,
            };
            let backend_parts = (
                store.clone(),
                stage.clone(),
                owner.clone(),
                clock.clone(),
                wakers.of(stage),
                in_flight.clone(),
                bus.clone(),
                acker.clone(),
            );
            monitor = monitor.register(move |_restarts| {
                let (store, stage, owner, clock, waker, in_flight, bus, acker) =
                    backend_parts.clone();
                let backend = SledBackend {
                    store,
                    stage: stage.clone(),
                    owner,
                    lease,
                    clock,
                    waker,
                    in_flight,
                    bus,
                    acker,
                    sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
                };
                WorkerBuilder::new(stage.as_str())
                    .backend(backend)
                    .data(runner.clone())
                    .concurrency(settings.concurrency)
                    .catch_panic()
                    .build(handle)
            });
        }
        let monitor = monitor
            .should_restart(|worker, error| {
                tracing::error!(worker = worker.name(), %error, "worker stopped; restarting it");
                true
            })
            .shutdown_timeout(config.jobs.grace);

        let flusher = tokio::spawn(durability.clone().run(store.clone()));
        let heartbeat = tokio::spawn(heartbeat(
            store.clone(),
            clock.clone(),
            in_flight.clone(),
            bus.clone(),
            wakers.clone(),
            owner.clone(),
            config.clone(),
        ));
        let signal_stop = stop.clone();
        let (go, mut go_rx) = tokio::sync::watch::channel(false);
        let done = tokio::spawn({
            let store = store.clone();
            let bus = bus.clone();
            async move {
                let stopped_early = tokio::select! {
                    _ = go_rx.wait_for(|go| *go) => false,
                    _ = signal_stop.notified() => true,
                };
                if !stopped_early {
                    let signal = async move {
                        signal_stop.notified().await;
                        Ok(())
                    };
                    if let Err(e) = monitor.run_with_signal(signal).await {
                        tracing::error!(error = %e, "the job workers stopped with an error");
                    }
                }
                heartbeat.abort();
                // Whatever still runs after the grace period goes back to the
                // queue (or to review, if its side effect was under way).
                match store.recover_jobs(clock.now(), false) {
                    Ok(released)
                        if !released.requeued.is_empty() || !released.needs_review.is_empty() =>
                    {
                        tracing::info!(
                            released = released.requeued.len(),
                            needs_review = released.needs_review.len(),
                            "released unfinished jobs back to the queue"
                        );
                        for job in released.requeued.iter().chain(&released.needs_review) {
                            bus.publish(job_changed(job));
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "cannot release unfinished jobs; they are recovered at the next start")
                    }
                }
                for (_, handler) in stages.iter() {
                    handler.stop().await;
                }
                durability.notify_stop();
                let _ = flusher.await;
                bus.refresh_stats();
            }
        });
        Ok(Self {
            stop,
            go,
            done: Mutex::new(Some(done)),
            wakers,
            bus,
        })
    }

    /// Lets the workers take jobs.
    pub fn resume(&self) {
        self.go.send_replace(true);
    }

    /// Whether the workers take jobs: resumed and not shut down.
    pub fn is_taking_jobs(&self) -> bool {
        *self.go.borrow()
            && self
                .done
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .is_some_and(|task| !task.is_finished())
    }

    /// Tells the workers about jobs just pushed to the store.
    pub fn notify_pushed(&self, jobs: &[Job]) {
        self.bus.queued(jobs.len() as i64);
        let mut stages: Vec<_> = jobs.iter().map(|j| &j.stage).collect();
        stages.dedup();
        for stage in stages {
            self.wakers.wake(stage);
        }
        for job in jobs {
            self.bus.publish(job_changed(job));
        }
        self.bus.refresh_stats();
    }

    /// Jobs were retried or re-queued outside the engine: recount and wake.
    pub fn notify_requeued(&self, jobs: &[Job], store: &Store) {
        self.bus.set_queued(
            store.queued_job_count() as u64,
            self.bus.current_stats().running,
        );
        self.wakers.wake_all();
        for job in jobs {
            self.bus.publish(job_changed(job));
        }
        self.bus.refresh_stats();
    }

    pub fn bus(&self) -> &Arc<EventBus> {
        &self.bus
    }

    /// Stops taking jobs, lets running ones finish within the grace period,
    /// puts the rest back in the queue, and flushes.
    pub async fn shutdown(&self) {
        self.stop.notify_one();
        let done = self.done.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(done) = done {
            let _ = done.await;
        }
    }
}

fn job_changed(job: &Job) -> Event {
    Event::JobChanged {
        job: job.id,
        run: job.run,
        lead: job.lead,
        stage: job.stage.clone(),
        status: job.status,
    }
}

/// Renews the leases of running jobs, puts back jobs whose lease ran out,
/// and refreshes the queue stats.
async fn heartbeat(
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    in_flight: Arc<InFlight>,
    bus: Arc<EventBus>,
    wakers: Arc<Wakers>,
    owner: String,
    config: Arc<Config>,
) {
    let lease = jiff::SignedDuration::try_from(config.jobs.lease)
        .unwrap_or(jiff::SignedDuration::from_secs(30));
    let mut beat = tokio::time::interval(config.jobs.heartbeat);
    let mut stats = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = beat.tick() => {
                let now = clock.now();
                let until = now.checked_add(lease).unwrap_or(now);
                if let Err(e) = store.renew_leases(&in_flight.ids(), &owner, until) {
                    tracing::error!(error = %e, "cannot renew job leases");
                }
                match store.recover_jobs(now, true) {
                    Ok(expired) if !expired.requeued.is_empty() || !expired.needs_review.is_empty() => {
                        tracing::warn!(
                            requeued = expired.requeued.len(),
                            needs_review = expired.needs_review.len(),
                            "jobs whose lease ran out were put back"
                        );
                        for job in expired.requeued.iter().chain(&expired.needs_review) {
                            bus.publish(job_changed(job));
                        }
                        wakers.wake_all();
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "cannot check job leases"),
                }
            }
            _ = stats.tick() => bus.refresh_stats(),
        }
    }
}
