//! Plain data and the rules over it: campaigns, leads, blacklist, settings, ids,
//! time, URL and email normalisation, import row mapping.
//!
//! Must not import any other module of the crate, nor do I/O: no tokio, sled,
//! ratatui, axum or apalis here. Everything else may depend on this.

pub mod action_log;
pub mod address_check;
pub mod audit;
pub mod blacklist;
pub mod campaign;
pub mod clock;
pub mod discovery;
pub mod email;
pub mod event;
pub mod followup;
pub mod hash;
pub mod idn;
pub mod ids;
pub mod import;
pub mod inbox;
pub mod job;
pub mod lead;
pub mod maintenance;
pub mod metrics;
pub mod metrics_summary;
pub mod outreach;
pub mod report;
pub mod secret;
pub mod sending;
pub mod sequence;
pub mod settings;
pub mod text;
pub mod unsubscribe;
pub mod visits;
pub mod web;

pub use blacklist::{BlacklistEntry, BlacklistKind, BlacklistReason, BlacklistValue};
pub use campaign::{Campaign, CampaignStatus, Slug};
pub use clock::{Clock, FixedClock, IdGen, SystemClock};
pub use email::Email;
pub use hash::Hash;
pub use ids::{CampaignId, JobId, LeadId, RunId};
pub use job::{Attempt, Job, JobStatus, Run, Stage, StageCounts};
pub use lead::{Lead, LeadSource, LeadStatus};
pub use maintenance::{GcReport, IndexRebuild, Manifest};
pub use secret::Secret;
pub use web::{Domain, Website};

/// Timestamps everywhere are UTC instants; zones only matter for display and
/// for sending windows.
pub type Timestamp = jiff::Timestamp;
