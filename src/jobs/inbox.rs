//! One pass over the inbox: open the mailbox (`pipeline::inbox`), read the
//! UIDs above the stored cursor in batches, classify each message, skip
//! those applied before (by Message-ID), hand the rest to the caller's
//! `apply`, and move the cursor after each batch. A restart therefore
//! neither misses a message (the cursor moves only past applied ones) nor
//! repeats one (the seen marks); a new UIDVALIDITY re-reads the mailbox
//! from the start and the seen marks keep it from applying anything twice.
//! Also the host watcher's IDLE connection ([`start_idle`]), a connection
//! of its own that only waits for the server to announce mail.

use sha2::{Digest, Sha256};

use crate::config::ImapConfig;
use crate::domain::inbox::{InboxMessage, MailboxCursor};
use crate::domain::{Secret, Timestamp};
pub use crate::pipeline::inbox::{Idling, Wake};
use crate::pipeline::inbox::{ImapError, Mailbox, classify};
use crate::store::{Store, StoreError};

/// Messages fetched per IMAP command and per cursor step.
pub const BATCH: usize = 250;

#[derive(Debug, thiserror::Error)]
pub enum SyncError<E: std::fmt::Display> {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Apply(E),
}

/// What a pass read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassOutcome {
    /// Messages handed to `apply`.
    pub new_messages: u64,
    /// Messages read again (after a UIDVALIDITY change) but applied before.
    pub already_applied: u64,
    /// The mailbox's UIDVALIDITY changed since the last pass.
    pub revalidated: bool,
    pub cursor: MailboxCursor,
}

/// The key a message is remembered by: its Message-ID, or the hash of its
/// bytes when it has none (the same message read again has the same bytes).
pub fn seen_key(message: &InboxMessage, raw: &[u8]) -> String {
    match &message.message_id {
        Some(id) => id.clone(),
        None => format!("sha256:{}", hex::encode(Sha256::digest(raw))),
    }
}

/// Reads what is new in the configured mailbox and hands each message not
/// applied before to `apply` with its seen key. `apply` must record the
/// message as seen (`Store::record_inbox_message`).
pub async fn read_new<E: std::fmt::Display>(
    store: &Store,
    config: &ImapConfig,
    password: &Secret,
    now: impl Fn() -> Timestamp,
    mut apply: impl FnMut(&str, InboxMessage) -> Result<(), E>,
) -> Result<PassOutcome, SyncError<E>> {
    store.backfill_message_ids()?;
    let (mut mailbox, selected) = Mailbox::open(config, password).await?;
    let stored = store.mailbox_cursor(&config.mailbox)?;
    let mut out = PassOutcome::default();
    let mut cursor = match stored {
        Some(c) if c.uid_validity == selected.uid_validity => c,
        other => {
            if other.is_some() {
                tracing::info!(
                    mailbox = %config.mailbox,
                    uid_validity = selected.uid_validity,
                    "the mailbox's UIDVALIDITY changed; reading it again from the start"
                );
                out.revalidated = true;
            }
            MailboxCursor {
                uid_validity: selected.uid_validity,
                last_uid: 0,
            }
        }
    };
    let uids = mailbox.uids_after(cursor.last_uid).await?;
    for chunk in uids.chunks(BATCH) {
        for fetched in mailbox.fetch(chunk).await? {
            let message = classify(&fetched.raw, now());
            let key = seen_key(&message, &fetched.raw);
            if store.inbox_seen(&key)? {
                out.already_applied += 1;
                continue;
            }
            out.new_messages += 1;
            apply(&key, message).map_err(SyncError::Apply)?;
        }
        if let Some(last) = chunk.last() {
            cursor.last_uid = *last;
        }
        store.set_mailbox_cursor(&config.mailbox, cursor)?;
        store.flush().await?;
    }
    if stored != Some(cursor) {
        store.set_mailbox_cursor(&config.mailbox, cursor)?;
        store.flush().await?;
    }
    mailbox.close().await;
    out.cursor = cursor;
    Ok(out)
}

/// A second connection to the configured mailbox, put in IDLE, for the
/// host's watcher; `None` when the server does not offer IDLE (the watcher
/// then polls).
pub async fn start_idle(
    config: &ImapConfig,
    password: &Secret,
) -> Result<Option<Idling>, ImapError> {
    let (mut mailbox, _) = Mailbox::open(config, password).await?;
    if !mailbox.supports_idle().await? {
        mailbox.close().await;
        return Ok(None);
    }
    Idling::start(mailbox).await.map(Some)
}
