//! Group commit: job state changes are made durable together. Each change
//! takes a ticket; one flusher task flushes sled for every ticket taken so
//! far and then releases them all, so a burst of a hundred completions costs
//! one flush, and no completion is reported before it is on disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Notify, watch};

use crate::store::Store;

#[derive(Debug)]
pub struct Durability {
    requested: AtomicU64,
    flushed: watch::Sender<u64>,
    wake_flusher: Notify,
    stop: Notify,
}

impl Durability {
    pub fn new() -> Self {
        Self {
            requested: AtomicU64::new(0),
            flushed: watch::channel(0).0,
            wake_flusher: Notify::new(),
            stop: Notify::new(),
        }
    }

    /// A ticket for every write made so far.
    pub fn request(&self) -> u64 {
        let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        self.wake_flusher.notify_one();
        ticket
    }

    /// Returns once everything up to `ticket` is on disk.
    pub async fn wait(&self, ticket: u64) {
        let mut flushed = self.flushed.subscribe();
        // An error means the flusher is gone (shutting down); the final
        // flush of the shutdown covers this ticket.
        let _ = flushed.wait_for(|done| *done >= ticket).await;
    }

    /// Ends the flusher after one last flush.
    pub fn notify_stop(&self) {
        self.stop.notify_one();
    }

    /// The flusher: runs until `notify_stop`, then flushes once more.
    pub async fn run(self: Arc<Self>, store: Arc<Store>) {
        loop {
            let stopping = tokio::select! {
                _ = self.wake_flusher.notified() => false,
                _ = self.stop.notified() => true,
            };
            let target = self.requested.load(Ordering::SeqCst);
            if target > *self.flushed.borrow() || stopping {
                if let Err(e) = store.flush().await {
                    tracing::error!(error = %e, "cannot flush the store; job states will be retried at the next flush");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    self.wake_flusher.notify_one();
                    continue;
                }
                self.flushed.send_replace(target);
            }
            if stopping {
                return;
            }
        }
    }
}

impl Default for Durability {
    fn default() -> Self {
        Self::new()
    }
}
