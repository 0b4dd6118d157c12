//! The inbox as leads see it: what a message read from the operator's
//! mailbox turned out to be (a person's reply, an auto-reply, a bounce or
//! unrelated mail), the conversation entries kept per lead, the counts of
//! one sync and the watcher's status.
//!
//! Uses no other module of the crate (domain rule); parsing the mail
//! itself is the pipeline's job.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::Timestamp;

/// What one message is, as classified from its headers and body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageKind {
    /// Written by a person.
    Reply,
    /// Sent by a machine on the person's behalf (out of office, vacation).
    AutoReply {
        /// The day the person says they are back, when stated simply.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        returns_on: Option<Date>,
    },
    /// A delivery failure report.
    Bounce(Bounce),
    /// Mail that is none of the above (newsletters, notifications).
    Unrelated,
}

impl MessageKind {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Reply => "reply",
            Self::AutoReply { .. } => "auto_reply",
            Self::Bounce(b) if b.permanent => "bounce",
            Self::Bounce(_) => "soft_bounce",
            Self::Unrelated => "unrelated",
        }
    }
}

/// What a delivery failure report says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounce {
    /// A 5.x.x status (or a 5xx reply code): the address will not work.
    /// Otherwise temporary (4.x.x): mailbox full, server busy.
    pub permanent: bool,
    /// The enhanced status code (`5.1.1`), or the SMTP reply code when
    /// that is all the report gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The address that failed, lower case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The Message-ID of the message that failed, when the report quotes
    /// it, without angle brackets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_message_id: Option<String>,
    /// The receiving server's own words, one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostic: Option<String>,
}

/// One message as read from the mailbox, parsed and classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxMessage {
    /// The Message-ID without angle brackets, lower case; `None` when the
    /// message has none.
    pub message_id: Option<String>,
    /// The sender's address, lower case.
    pub from: Option<String>,
    /// The sender's display name, cleaned.
    pub from_name: Option<String>,
    /// Cleaned to one line.
    pub subject: String,
    /// The Date header, when it parses.
    pub date: Option<Timestamp>,
    /// In-Reply-To, then References (newest first), without brackets.
    pub refers_to: Vec<String>,
    /// The first lines a person wrote (quoted text and signatures off),
    /// each cleaned as hostile text.
    pub excerpt: String,
    pub kind: MessageKind,
}

/// A Message-ID as it is compared: no angle brackets, no surrounding
/// space, lower case (the local part is case-sensitive in theory; mail
/// programs keep it as sent, and ours are lower-case ULIDs anyway).
pub fn normalize_message_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_ascii_lowercase()
}

/// What a conversation entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// An email leadscout sent (shown from the outreach record).
    Sent,
    Reply,
    AutoReply,
    Bounce,
    SoftBounce,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Reply => "reply",
            Self::AutoReply => "auto_reply",
            Self::Bounce => "bounce",
            Self::SoftBounce => "soft_bounce",
        }
    }
}

/// One item of a lead's conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationEntry {
    pub kind: EntryKind,
    /// When it was written (the Date header), else when it was read.
    pub at: Timestamp,
    pub from: String,
    pub subject: String,
    /// First lines, cleaned; empty for a sent email's listing.
    pub excerpt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// An auto-reply's stated return date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns_on: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounce: Option<Bounce>,
    /// When leadscout read it.
    pub recorded_at: Timestamp,
}

/// What one sync found. `matched` kinds count messages applied to a lead;
/// `unmatched` counts replies, auto-replies and bounces no lead owns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxCounts {
    /// Messages read for the first time.
    pub new_messages: u64,
    pub replies: u64,
    pub auto_replies: u64,
    pub bounces_hard: u64,
    pub bounces_soft: u64,
    pub unrelated: u64,
    pub unmatched: u64,
    /// Read again (a new UIDVALIDITY) but already applied before.
    pub already_applied: u64,
    /// Addresses suppressed because their temporary failures reached
    /// `imap.soft_bounce_limit`.
    pub suppressed: u64,
}

impl InboxCounts {
    pub fn add(&mut self, other: &InboxCounts) {
        self.new_messages += other.new_messages;
        self.replies += other.replies;
        self.auto_replies += other.auto_replies;
        self.bounces_hard += other.bounces_hard;
        self.bounces_soft += other.bounces_soft;
        self.unrelated += other.unrelated;
        self.unmatched += other.unmatched;
        self.already_applied += other.already_applied;
        self.suppressed += other.suppressed;
    }
}

/// Where the reading of one mailbox stands: UIDs above `last_uid` are new
/// while the mailbox keeps its UIDVALIDITY.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxCursor {
    pub uid_validity: u32,
    pub last_uid: u32,
}

/// The watcher's state, for status bars and `inbox sync`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxStatus {
    /// `[imap] host` is set.
    pub enabled: bool,
    /// `host:port/mailbox`, for messages.
    #[serde(default)]
    pub server: String,
    /// The last sync reached the server and finished.
    pub connected: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_at: Option<Timestamp>,
    #[serde(default)]
    pub last_counts: InboxCounts,
    /// What the host's watcher is doing now; `off` when no host watches
    /// (the stored status is then what the last sync left).
    #[serde(default)]
    pub watch: WatchMode,
    /// When the watcher tries again after losing the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<Timestamp>,
    /// IDLEs this process's watcher ended and renewed (`imap.idle_renew`)
    /// on a connection that stayed up.
    #[serde(default)]
    pub idle_renewals: u64,
}

/// How the host watches the mailbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchMode {
    /// No host is watching (or it has not started yet).
    #[default]
    Off,
    /// Connecting and reading what arrived while no one watched.
    Starting,
    /// Connected in IMAP IDLE: the server says when mail arrives.
    Idle,
    /// The server has no IDLE: read every `imap.poll_secs`.
    Polling,
    /// The server was lost; waiting before connecting again.
    Reconnecting,
}

impl WatchMode {
    /// One word, for status bars.
    pub fn label(self) -> &'static str {
        match self {
            WatchMode::Off => "off",
            WatchMode::Starting => "starting",
            WatchMode::Idle => "idle",
            WatchMode::Polling => "polling",
            WatchMode::Reconnecting => "reconnecting",
        }
    }
}

/// Why a lead's follow-up sequence stopped (a reply, a bounce), as the
/// inbox recorded it; the first reason stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceStop {
    pub reason: String,
    pub at: Timestamp,
}

/// What one `inbox sync` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxSyncReport {
    /// `host:port/mailbox`.
    pub server: String,
    #[serde(flatten)]
    pub counts: InboxCounts,
    /// The mailbox's UIDVALIDITY changed since the last sync, so it was
    /// read again from the start (nothing was applied twice).
    pub revalidated: bool,
    pub uid_validity: u32,
    pub last_uid: u32,
}

/// A lead's conversation, for `outreach thread` and the TUI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub lead: super::LeadId,
    pub business_name: String,
    pub email: Option<String>,
    pub status: super::LeadStatus,
    /// Sent emails and everything read back, oldest first.
    pub entries: Vec<ConversationEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_stop: Option<SequenceStop>,
    /// The follow-up due next, while the sequence runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_step: Option<super::followup::NextStep>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_compare_without_brackets_and_case() {
        assert_eq!(
            normalize_message_id(" <01ABC.02DEF@Agency.Example> "),
            "01abc.02def@agency.example"
        );
        assert_eq!(normalize_message_id("x@y"), "x@y");
    }
}
