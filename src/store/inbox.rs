//! What the inbox watcher keeps: where the reading of each mailbox stands
//! (UIDVALIDITY, last UID), the messages already applied (by Message-ID,
//! so a re-read mailbox applies nothing twice), the index from the
//! Message-IDs leadscout sent to their lead, each lead's conversation,
//! temporary-failure counts per address, the watcher's status and the
//! recorded sequence stops.

use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::codec::{decode, encode};
use super::{Result, Store};
use crate::domain::inbox::{
    ConversationEntry, InboxStatus, MailboxCursor, SequenceStop, normalize_message_id,
};
use crate::domain::{LeadId, Timestamp};

const STATUS: &[u8] = b"status";
const INDEX_FILLED: &[u8] = b"message_ids_filled";

fn cursor_key(mailbox: &str) -> Vec<u8> {
    format!("cursor:{mailbox}").into_bytes()
}

pub(crate) fn stop_key(lead: LeadId) -> Vec<u8> {
    let mut key = b"sequence_stop:".to_vec();
    key.extend_from_slice(&lead.to_bytes());
    key
}

/// What one applied message leaves in the store, written at once.
#[derive(Debug, Clone)]
pub struct InboxRecord<'a> {
    /// Message-ID, or a hash of the raw message when it has none.
    pub seen_key: &'a str,
    pub lead: Option<LeadId>,
    pub entry: Option<&'a ConversationEntry>,
    /// An address whose temporary failures are counted.
    pub soft_bounce: Option<&'a str>,
}

impl Store {
    pub fn mailbox_cursor(&self, mailbox: &str) -> Result<Option<MailboxCursor>> {
        let key = cursor_key(mailbox);
        self.trees
            .inbox
            .get(&key)?
            .map(|v| decode("inbox", &key, &v))
            .transpose()
    }

    pub fn set_mailbox_cursor(&self, mailbox: &str, cursor: MailboxCursor) -> Result<()> {
        self.trees
            .inbox
            .insert(cursor_key(mailbox), encode(&cursor))?;
        Ok(())
    }

    pub fn inbox_status(&self) -> Result<InboxStatus> {
        Ok(self
            .trees
            .inbox
            .get(STATUS)?
            .map(|v| decode("inbox", STATUS, &v))
            .transpose()?
            .unwrap_or_default())
    }

    pub fn set_inbox_status(&self, status: &InboxStatus) -> Result<()> {
        self.trees.inbox.insert(STATUS, encode(status))?;
        Ok(())
    }

    /// Whether a message with this key was applied already.
    pub fn inbox_seen(&self, seen_key: &str) -> Result<bool> {
        Ok(self.trees.inbox_seen.contains_key(seen_key.as_bytes())?)
    }

    /// Records one applied message: its seen mark, its conversation entry
    /// and its temporary-failure count, in one transaction. Returns `None`
    /// when it was recorded before (nothing changes), else the address's
    /// temporary-failure count after this one (0 when not counted).
    pub fn record_inbox_message(&self, record: &InboxRecord<'_>) -> Result<Option<u64>> {
        let t = &self.trees;
        let entry_key = record.lead.map(|lead| {
            let mut key = lead.to_bytes().to_vec();
            let at = record.entry.map_or(0, |e| e.at.as_millisecond());
            key.extend_from_slice(&at.to_be_bytes());
            key.extend_from_slice(record.seen_key.as_bytes());
            key
        });
        let seen_value = record
            .lead
            .map(|l| l.to_bytes().to_vec())
            .unwrap_or_default();
        let out = (&t.inbox_seen, &t.conversations, &t.soft_bounces).transaction(
            |(seen, conversations, soft)| {
                if seen.get(record.seen_key.as_bytes())?.is_some() {
                    return Ok(None);
                }
                seen.insert(record.seen_key.as_bytes(), seen_value.as_slice())?;
                if let (Some(key), Some(entry)) = (&entry_key, record.entry) {
                    conversations.insert(key.as_slice(), encode(entry))?;
                }
                let mut count = 0;
                if let Some(address) = record.soft_bounce {
                    count = soft
                        .get(address.as_bytes())?
                        .map(|v| super::counter_value(&v))
                        .unwrap_or(0)
                        + 1;
                    soft.insert(address.as_bytes(), &count.to_be_bytes())?;
                }
                Ok::<_, ConflictableTransactionError<super::StoreError>>(Some(count))
            },
        )?;
        Ok(out)
    }

    /// A lead's conversation entries, oldest first.
    pub fn conversation(&self, lead: LeadId) -> Result<Vec<ConversationEntry>> {
        self.trees
            .conversations
            .scan_prefix(lead.to_bytes())
            .map(|item| {
                let (k, v) = item?;
                decode("conversations", &k, &v)
            })
            .collect()
    }

    /// Temporary failures counted for an address so far.
    pub fn soft_bounce_count(&self, address: &str) -> Result<u64> {
        Ok(self
            .trees
            .soft_bounces
            .get(address.as_bytes())?
            .map(|v| super::counter_value(&v))
            .unwrap_or(0))
    }

    /// Notes that `message_id` (as sent) belongs to `lead`.
    pub fn index_message_id(&self, message_id: &str, lead: LeadId) -> Result<()> {
        let id = normalize_message_id(message_id);
        if !id.is_empty() {
            self.trees
                .message_ids
                .insert(id.as_bytes(), &lead.to_bytes())?;
        }
        Ok(())
    }

    /// The lead a Message-ID leadscout sent belongs to.
    pub fn lead_by_message_id(&self, message_id: &str) -> Result<Option<LeadId>> {
        let id = normalize_message_id(message_id);
        Ok(self
            .trees
            .message_ids
            .get(id.as_bytes())?
            .and_then(|v| LeadId::from_slice(&v)))
    }

    /// Fills the Message-ID index from every email already sent, once per
    /// store (emails sent before the index existed). Returns how many were
    /// indexed; 0 when done before.
    pub fn backfill_message_ids(&self) -> Result<u64> {
        if self.trees.inbox.contains_key(INDEX_FILLED)? {
            return Ok(0);
        }
        let mut n = 0;
        for item in self.trees.outreach.iter() {
            let (k, v) = item?;
            let o: crate::domain::outreach::Outreach = decode("outreach", &k, &v)?;
            if let Some(id) = &o.message_id {
                self.index_message_id(id, o.lead)?;
                n += 1;
            }
        }
        self.trees.inbox.insert(INDEX_FILLED, &[1u8])?;
        Ok(n)
    }

    /// Records why a lead's sequence stopped; the first reason stays.
    pub fn record_sequence_stop(&self, lead: LeadId, reason: &str, at: Timestamp) -> Result<()> {
        let stop = SequenceStop {
            reason: reason.to_string(),
            at,
        };
        // An `Err` inside means a reason is there already: it stays.
        let _first_stays = self.trees.inbox.compare_and_swap(
            stop_key(lead),
            None::<&[u8]>,
            Some(encode(&stop)),
        )?;
        Ok(())
    }

    pub fn sequence_stop(&self, lead: LeadId) -> Result<Option<SequenceStop>> {
        let key = stop_key(lead);
        self.trees
            .inbox
            .get(&key)?
            .map(|v| decode("inbox", &key, &v))
            .transpose()
    }
}
