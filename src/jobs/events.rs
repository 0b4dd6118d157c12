//! The event bus: small notifications on a broadcast channel, and the queue
//! stats as a watch value. Listeners re-read what changed from the store.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};

use crate::domain::event::{Event, QueueStats};

#[derive(Debug)]
pub struct EventBus {
    events: broadcast::Sender<Event>,
    stats: watch::Sender<QueueStats>,
    counters: Mutex<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    queued: i64,
    running: i64,
    failed: u64,
    finished_at: VecDeque<Instant>,
}

impl EventBus {
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(4096);
        let (stats, _) = watch::channel(QueueStats::default());
        Self {
            events,
            stats,
            counters: Mutex::new(Counters::default()),
        }
    }

    /// A receiver of every event from now on. A receiver that falls behind
    /// gets `Lagged` and should reload everything.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub fn stats(&self) -> watch::Receiver<QueueStats> {
        self.stats.subscribe()
    }

    pub fn current_stats(&self) -> QueueStats {
        *self.stats.borrow()
    }

    pub fn publish(&self, event: Event) {
        // No receivers is fine: nobody is watching.
        let _ = self.events.send(event);
    }

    pub(crate) fn set_queued(&self, queued: u64, running: u64) {
        let mut c = self.lock();
        c.queued = queued as i64;
        c.running = running as i64;
    }

    pub(crate) fn queued(&self, delta: i64) {
        self.lock().queued += delta;
    }

    pub(crate) fn started(&self) {
        let mut c = self.lock();
        c.queued -= 1;
        c.running += 1;
    }

    /// One attempt ended; `requeued` when it goes back to the queue.
    pub(crate) fn ended(&self, requeued: bool, failed: bool) {
        let mut c = self.lock();
        c.running -= 1;
        if requeued {
            c.queued += 1;
        } else {
            c.finished_at.push_back(Instant::now());
        }
        if failed {
            c.failed += 1;
        }
    }

    /// Publishes the stats if they changed.
    pub(crate) fn refresh_stats(&self) {
        let stats = {
            let mut c = self.lock();
            let minute_ago = Instant::now().checked_sub(Duration::from_secs(60));
            while c.finished_at.front().is_some_and(|t| Some(*t) < minute_ago) {
                c.finished_at.pop_front();
            }
            QueueStats {
                queued: c.queued.max(0) as u64,
                running: c.running.max(0) as u64,
                failed: c.failed,
                done_per_minute: c.finished_at.len() as u64,
            }
        };
        self.stats.send_if_modified(|current| {
            let changed = *current != stats;
            *current = stats;
            changed
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}
