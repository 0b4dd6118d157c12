//! The host's inbox watcher: IMAP IDLE where the server offers it (a sync
//! as soon as the server announces mail, the IDLE renewed every 25
//! minutes), polling every `imap.poll_secs` where it does not, and on a
//! lost server a back-off before connecting again. Its live state (idle,
//! polling, reconnecting) is kept in memory by the process that watches,
//! so a status read from a process without a watcher says `off` rather
//! than what a crashed host last wrote.
//!
//! Every read goes through [`Service::inbox_sync`], which holds the one
//! sync lock: the watcher and an attached `inbox sync` never read at once.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use super::Service;
use crate::domain::Timestamp;
use crate::domain::inbox::{InboxStatus, InboxSyncReport, WatchMode};
use crate::jobs::inbox::{Wake, start_idle};

/// The first wait after losing the server; it doubles up to the cap.
const BACKOFF_FIRST: Duration = Duration::from_secs(2);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// What the watcher of this process is doing now.
#[derive(Debug, Default)]
pub struct WatchCell(Mutex<(WatchMode, Option<Timestamp>)>, AtomicU64);

impl WatchCell {
    fn set(&self, mode: WatchMode, retry_at: Option<Timestamp>) {
        if let Ok(mut now) = self.0.lock() {
            *now = (mode, retry_at);
        }
    }

    fn get(&self) -> (WatchMode, Option<Timestamp>) {
        self.0.lock().map(|now| *now).unwrap_or_default()
    }

    fn renewed(&self) {
        self.1.fetch_add(1, Ordering::Relaxed);
    }

    fn renewals(&self) -> u64 {
        self.1.load(Ordering::Relaxed)
    }
}

impl Service {
    /// Watches the inbox until `stopped` turns true. A stop cancels a sync
    /// in the middle, which is safe: the cursor only moves past applied
    /// mail.
    pub async fn watch_inbox(&self, mut stopped: watch::Receiver<bool>) {
        let mut backoff = BACKOFF_FIRST;
        while !*stopped.borrow() {
            self.inbox_watch.set(WatchMode::Starting, None);
            let error = tokio::select! {
                error = self.watch_connected(&mut backoff) => error,
                _ = stopped.changed() => break,
            };
            let wait = backoff;
            backoff = (backoff * 2).min(BACKOFF_MAX);
            tracing::warn!(error = %error, retry_in = ?wait, "the inbox watcher lost the server");
            let retry_at = self
                .now()
                .checked_add(jiff::SignedDuration::try_from(wait).unwrap_or_default())
                .ok();
            self.inbox_watch.set(WatchMode::Reconnecting, retry_at);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stopped.changed() => break,
            }
        }
        self.inbox_watch.set(WatchMode::Off, None);
    }

    /// One connected stretch: returns why it ended (the server was lost,
    /// a sync failed). `backoff` goes back to its first value once a sync
    /// succeeded.
    async fn watch_connected(&self, backoff: &mut Duration) -> String {
        let imap = &self.config().imap;
        let Some(password) = self.config().secret(&imap.password_env) else {
            // The sync says what is missing, and notes it in the status.
            return match self.inbox_sync().await {
                Err(e) => e.to_string(),
                Ok(_) => format!(
                    "imap.password_env names {}, which is not set",
                    imap.password_env
                ),
            };
        };
        // The IDLE connection is opened before the first sync, so mail
        // that arrives during that sync is announced on it.
        let idling = match start_idle(imap, &password).await {
            Ok(idling) => idling,
            Err(e) => {
                let error = self.sync_failed(&imap.describe(), super::ServiceError::Invalid(e.0));
                return error.to_string();
            }
        };
        let Some(mut idling) = idling else {
            tracing::info!(server = %imap.describe(), every = imap.poll_secs, "the IMAP server has no IDLE; polling");
            self.inbox_watch.set(WatchMode::Polling, None);
            let every = Duration::from_secs(imap.poll_secs.max(1));
            loop {
                if let Err(e) = self.watched_sync().await {
                    return e;
                }
                *backoff = BACKOFF_FIRST;
                tokio::time::sleep(every).await;
            }
        };
        if let Err(e) = self.watched_sync().await {
            return e;
        }
        *backoff = BACKOFF_FIRST;
        self.inbox_watch.set(WatchMode::Idle, None);
        tracing::info!(server = %imap.describe(), "watching the inbox with IDLE");
        loop {
            match idling.wait(imap.idle_renew).await {
                Ok(Wake::NewMail) => {}
                Ok(Wake::Quiet) => match idling.renew().await {
                    // A sync after each renewal too: cheap, and a server
                    // that missed a notification is caught up.
                    Ok(renewed) => {
                        idling = renewed;
                        self.inbox_watch.renewed();
                    }
                    Err(e) => return self.note_lost(e.0),
                },
                Err(e) => return self.note_lost(e.0),
            }
            if let Err(e) = self.watched_sync().await {
                return e;
            }
        }
    }

    /// A sync by the watcher, logged; the sync notes its own errors in
    /// the status.
    async fn watched_sync(&self) -> Result<InboxSyncReport, String> {
        match self.inbox_sync().await {
            Ok(report) => {
                if report.counts.new_messages > 0 {
                    tracing::info!(
                        new = report.counts.new_messages,
                        replies = report.counts.replies,
                        bounces = report.counts.bounces_hard + report.counts.bounces_soft,
                        "inbox read"
                    );
                }
                Ok(report)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    fn note_lost(&self, error: String) -> String {
        let server = self.config().imap.describe();
        self.sync_failed(&server, super::ServiceError::Invalid(error))
            .to_string()
    }

    /// The stored status with the live state of this process's watcher.
    pub(crate) fn with_watch(&self, mut status: InboxStatus) -> InboxStatus {
        let (mode, retry_at) = self.inbox_watch.get();
        status.watch = mode;
        status.retry_at = retry_at;
        status.idle_renewals = self.inbox_watch.renewals();
        match mode {
            WatchMode::Idle => status.connected = true,
            WatchMode::Reconnecting => status.connected = false,
            _ => {}
        }
        status
    }
}
