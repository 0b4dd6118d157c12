//! Notifications that something changed in the store. They carry ids, not
//! data: whoever listens re-reads what it shows ("notify, then pull").

use serde::{Deserialize, Serialize};

use super::{JobId, JobStatus, LeadId, RunId, Stage};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    JobChanged {
        job: JobId,
        run: RunId,
        lead: LeadId,
        stage: Stage,
        status: JobStatus,
    },
    LeadChanged {
        lead: LeadId,
    },
    /// A lead was marked replied, and how that became known. Sent before
    /// the `LeadChanged` of the same change, so a view that shows the new
    /// status knows which it was.
    LeadReplied {
        lead: LeadId,
        by: ReplySource,
    },
    RunChanged {
        run: RunId,
    },
}

/// Where a lead's reply became known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplySource {
    /// A reply read from the inbox.
    Inbox,
    /// The operator marked the lead replied (`outreach mark --replied`).
    Manual,
}

/// The queue at a glance, kept current by the job engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueStats {
    /// Waiting to run, including retries still backing off.
    pub queued: u64,
    pub running: u64,
    /// Jobs that ended failed or dead since the engine started.
    pub failed: u64,
    /// Jobs finished (any terminal status) in the last minute.
    pub done_per_minute: u64,
}
