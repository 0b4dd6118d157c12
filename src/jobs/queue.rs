//! The queue state the backend (which claims jobs) and the acknowledger
//! (which settles them) share: the stage wakers, the jobs in flight and the
//! queue's own error. Here so that neither of the two imports the other's
//! internals: the backend only names the acknowledger as its layer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::task::AtomicWaker;

use crate::domain::{JobId, Stage};

/// Wakes the worker of a stage when a job becomes due there.
#[derive(Debug, Default)]
pub struct Wakers {
    by_stage: Mutex<HashMap<Stage, Arc<AtomicWaker>>>,
}

impl Wakers {
    pub fn of(&self, stage: &Stage) -> Arc<AtomicWaker> {
        let mut map = self.by_stage.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(stage.clone()).or_default().clone()
    }

    pub fn wake(&self, stage: &Stage) {
        self.of(stage).wake();
    }

    pub fn wake_all(&self) {
        let map = self.by_stage.lock().unwrap_or_else(|e| e.into_inner());
        map.values().for_each(|w| w.wake());
    }
}

/// Jobs this process is running right now; their leases are renewed.
#[derive(Debug, Default)]
pub struct InFlight(Mutex<std::collections::HashSet<JobId>>);

impl InFlight {
    pub fn add(&self, id: JobId) {
        self.lock().insert(id);
    }

    pub fn remove(&self, id: JobId) {
        self.lock().remove(&id);
    }

    pub fn ids(&self) -> Vec<JobId> {
        self.lock().iter().copied().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<JobId>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Error of the backend itself (the store failing).
#[derive(Debug, thiserror::Error)]
#[error("job queue: {0}")]
pub struct QueueError(String);

impl QueueError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
