//! IMAP IDLE (RFC 2177) on a connection of its own: the server tells the
//! watcher when mail arrives, so replies are read within seconds instead of
//! at the next poll. This connection only waits; reading happens on a
//! separate one (`Mailbox::open` per sync), so a long sync never delays
//! the IDLE renewal and mail arriving during a sync is announced on the
//! next wait.

use std::time::Duration;

use async_imap::extensions::idle::{Handle, IdleResponse};
use async_imap::imap_proto::{MailboxDatum, Response};

use super::imap::{ImapError, Mailbox, Stream};

/// Why a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The server announced new mail (EXISTS or RECENT).
    NewMail,
    /// Nothing arrived within the time asked for.
    Quiet,
}

/// A selected mailbox in IDLE.
pub struct Idling {
    handle: Handle<Stream>,
    server: String,
    mailbox: String,
    timeout: Duration,
}

impl std::fmt::Debug for Idling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idling")
            .field("server", &self.server)
            .finish()
    }
}

impl Idling {
    /// Puts a freshly opened mailbox in IDLE.
    pub async fn start(mailbox: Mailbox) -> Result<Self, ImapError> {
        let Mailbox {
            session,
            server,
            mailbox,
            timeout,
        } = mailbox;
        let mut handle = session.idle();
        let failed = |e: String| {
            ImapError(format!(
                "starting IDLE in mailbox `{mailbox}` on {server} failed: {e}"
            ))
        };
        tokio::time::timeout(timeout, handle.init())
            .await
            .map_err(|_| failed("no answer within imap.timeout".into()))?
            .map_err(|e| failed(e.to_string()))?;
        Ok(Self {
            handle,
            server,
            mailbox,
            timeout,
        })
    }

    fn lost(&self, why: impl std::fmt::Display) -> ImapError {
        ImapError(format!(
            "the IDLE connection to mailbox `{}` on {} was lost: {why}",
            self.mailbox, self.server
        ))
    }

    /// Waits up to `max` for the server to announce new mail. Other news
    /// (flags, expunges, "still here") is not mail and keeps it waiting.
    pub async fn wait(&mut self, max: Duration) -> Result<Wake, ImapError> {
        let deadline = tokio::time::Instant::now() + max;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Ok(Wake::Quiet);
            }
            // The stop source must outlive the wait: dropping it ends the
            // wait as if interrupted.
            let (wait, _stop) = self.handle.wait_with_timeout(left);
            let answer = wait.await;
            let data = match answer {
                Ok(IdleResponse::Timeout) => return Ok(Wake::Quiet),
                // Nothing here interrupts by hand: the stream ended, so the
                // server closed the connection.
                Ok(IdleResponse::ManualInterrupt) => {
                    return Err(self.lost("the server closed the connection"));
                }
                Ok(IdleResponse::NewData(data)) => data,
                Err(e) => return Err(self.lost(e)),
            };
            if matches!(
                data.parsed(),
                Response::MailboxData(MailboxDatum::Exists(_) | MailboxDatum::Recent(_))
            ) {
                return Ok(Wake::NewMail);
            }
        }
    }

    /// Ends IDLE and starts it again, so the server does not drop a quiet
    /// connection (and a dead one shows up as an error here).
    pub async fn renew(self) -> Result<Self, ImapError> {
        let Self {
            handle,
            server,
            mailbox,
            timeout,
        } = self;
        let session = tokio::time::timeout(timeout, handle.done())
            .await
            .map_err(|_| {
                ImapError(format!(
                    "ending IDLE in mailbox `{mailbox}` on {server}: no answer within imap.timeout"
                ))
            })?
            .map_err(|e| {
                ImapError(format!(
                    "ending IDLE in mailbox `{mailbox}` on {server} failed: {e}"
                ))
            })?;
        Self::start(Mailbox {
            session,
            server,
            mailbox,
            timeout,
        })
        .await
    }
}
