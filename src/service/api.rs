//! The use cases as one trait, [`Api`], implemented in this process by
//! [`Service`] (store + jobs) and across the control socket by [`Remote`]
//! (a running `serve`). The list below names each call once; the macro
//! writes the trait, both implementations, the [`Client`] that picks one,
//! and [`dispatch`], which the socket server uses to answer a call. So the
//! two sides cannot drift apart.
//!
//! Arguments are owned and every argument and result is serde: a call is
//! a JSON array of its arguments, the answer the JSON of its result.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;

use super::admin::Check;
use super::audits::{AuditDiffView, AuditView};
use super::blacklist::{BlacklistAdded, BlacklistImport};
use super::control::Remote;
use super::control::streams;
use super::dashboard::Dashboard;
use super::discover::{DiscoverReport, DiscoverRequest};
use super::export::ExportFormat;
use super::import::ImportRequest;
use super::jobs::{JobQuery, JobView, RunRequest, RunView};
use super::leads::{LeadQuery, NewLead};
use super::outreach::{ApproveSummary, Mark, OutreachView};
use super::outreach::{SendRequest, SendSummary};
use super::sending::RunningSend;
use super::sequence::FollowupPass;
use super::settings::SettingView;
use super::site_export::ExportSummary;
use super::{
    CampaignSummary, Client, ImportOutcome, LeadDetail, LeadView, Result, Service, ServiceError,
};
use crate::domain::action_log::ActionRecord;
use crate::domain::followup::{LeadSequence, SequenceView};
use crate::domain::inbox::{InboxStatus, InboxSyncReport, Thread};
use crate::domain::outreach::OutreachStatus;
use crate::domain::report::ReportLink;
use crate::domain::{
    Attempt, BlacklistEntry, BlacklistReason, CampaignStatus, GcReport, Lead, Manifest, Stage,
    StageCounts,
};

/// The read-only guard of one call: `write` calls check, `read` calls do
/// not, and any other word does not compile.
macro_rules! guard {
    (read, $service:expr, $name:ident) => {};
    (write, $service:expr, $name:ident) => {
        $service.refuse_if_read_only(stringify!($name))?;
    };
    (upload, $service:expr, $name:ident) => {
        $service.refuse_if_read_only(stringify!($name))?;
    };
}

/// Whether a call only reads or changes something; the control socket
/// refuses a `Write` from a read-only client before reading its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMode {
    Read,
    Write,
}

macro_rules! mode {
    (read) => {
        CallMode::Read
    };
    (write) => {
        CallMode::Write
    };
    (upload) => {
        CallMode::Write
    };
}

/// Whether a call carries a file (`upload`): the control socket lets its
/// body grow to `import.max_file_mb`, every other call's to 1 MiB.
macro_rules! upload {
    (upload) => {
        true
    };
    ($other:ident) => {
        false
    };
}

macro_rules! api {
    ($(
        $(#[$meta:meta])*
        $mode:ident fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty = |$svc:ident| $local:expr;
    )*) => {
        /// Every use case the CLI and the TUI call, wherever the store is. Calls
/// marked `write` change data and are refused for a read-only actor.
        pub trait Api {
            $(
                $(#[$meta])*
                fn $name(&self, $($arg: $ty),*) -> impl Future<Output = Result<$ret>> + Send;
            )*
        }

        impl Api for Service {
            $(
                async fn $name(&self, $($arg: $ty),*) -> Result<$ret> {
                    guard!($mode, self, $name);
                    let $svc = self;
                    $local.await
                }
            )*
        }

        impl Api for Remote {
            $(
                async fn $name(&self, $($arg: $ty),*) -> Result<$ret> {
                    self.call(stringify!($name), &($($arg,)*)).await
                }
            )*
        }

        impl Api for Client {
            $(
                async fn $name(&self, $($arg: $ty),*) -> Result<$ret> {
                    match self {
                        Client::Local(service) => Api::$name(service, $($arg),*).await,
                        Client::Remote(remote) => Api::$name(remote, $($arg),*).await,
                    }
                }
            )*
        }

        /// Every call by name, with its mode.
        pub const CALLS: &[(&str, CallMode)] = &[$((stringify!($name), mode!($mode)),)*];

        /// The calls that carry a file.
        const UPLOADS: &[(&str, bool)] = &[$((stringify!($name), upload!($mode)),)*];

        /// The mode of a call by name; `None` when there is no such call.
        pub fn call_mode(method: &str) -> Option<CallMode> {
            CALLS.iter().find(|(name, _)| *name == method).map(|(_, mode)| *mode)
        }

        /// Whether the call carries a file in its body.
        pub fn carries_file(method: &str) -> bool {
            UPLOADS.iter().any(|(name, upload)| *name == method && *upload)
        }

        /// Answers one call that arrived on the control socket: `body` is
        /// the JSON array of arguments, the answer the JSON of the result.
        pub async fn dispatch(service: &Service, method: &str, body: &[u8]) -> Result<Vec<u8>> {
            match method {
                $(
                    stringify!($name) => {
                        let ($($arg,)*): ($($ty,)*) = decode_args(method, body)?;
                        encode(&Api::$name(service, $($arg),*).await?)
                    }
                )*
                _ => Err(ServiceError::NotFound(format!(
                    "the server has no call `{method}`; client and server must be the same version"
                ))),
            }
        }
    };
}

api! {
    /// The newest `limit` action log records (of one campaign).
    read fn action_log(campaign: Option<String>, limit: usize) -> Vec<ActionRecord> =
        |s| s.action_log(campaign.as_deref(), limit);
    read fn list_campaigns() -> Vec<CampaignSummary> = |s| s.list_campaigns();
    read fn campaign(slug: String) -> CampaignSummary = |s| s.campaign(&slug);
    read fn campaign_dashboard(slug: String) -> Dashboard = |s| s.campaign_dashboard(&slug);
    write fn create_campaign(name: String, slug: Option<String>) -> CampaignSummary =
        |s| s.create_campaign(&name, slug.as_deref());
    write fn set_campaign_status(slug: String, status: CampaignStatus) -> CampaignSummary =
        |s| s.set_campaign_status(&slug, status);

    read fn list_leads(query: LeadQuery) -> Vec<LeadView> = |s| s.list_leads(&query);
    read fn lead(reference: String) -> LeadDetail = |s| s.lead(&reference);
    write fn add_lead(new: NewLead) -> LeadDetail = |s| s.add_lead(&new);
    /// Imports a file; a remote import needs the file's bytes in the
    /// request (`Client::import_file` puts them there).
    upload fn import(request: ImportRequest) -> ImportOutcome =
        |s| async { s.import(request).await.map(ImportOutcome::from) };

    /// Asks OpenStreetMap (from where the store is) for businesses.
    write fn discover(request: DiscoverRequest) -> DiscoverReport = |s| s.discover(request);

    write fn blacklist_add(value: String, reason: BlacklistReason, source: String) -> BlacklistAdded =
        |s| s.blacklist_add(&value, reason, &source);
    read fn blacklist_list() -> Vec<BlacklistEntry> = |s| s.blacklist_list();
    write fn blacklist_remove(value: String) -> BlacklistEntry = |s| s.blacklist_remove(&value);
    /// `path` names a file where the store is.
    write fn blacklist_import(path: PathBuf, reason: BlacklistReason) -> BlacklistImport =
        |s| s.blacklist_import(&path, reason);

    read fn settings_list(campaign: Option<String>) -> Vec<SettingView> =
        |s| s.settings_list(campaign.as_deref());
    read fn settings_get(key: String, campaign: Option<String>) -> SettingView =
        |s| s.settings_get(&key, campaign.as_deref());
    write fn settings_set(key: String, value: String, campaign: Option<String>) -> SettingView =
        |s| s.settings_set(&key, &value, campaign.as_deref());
    write fn settings_unset(key: String, campaign: Option<String>) -> SettingView =
        |s| s.settings_unset(&key, campaign.as_deref());

    /// `dir` names a directory where the store is.
    write fn backup(dir: PathBuf) -> Manifest = |s| s.backup(&dir);
    write fn blobs_gc() -> GcReport = |s| s.blobs_gc();
    read fn doctor_checks() -> Vec<Check> = |s| s.doctor_checks();

    read fn audit_show(reference: String) -> AuditView = |s| s.audit_show(&reference);
    read fn audit_diff(reference: String) -> AuditDiffView = |s| s.audit_diff(&reference);

    write fn start_run(request: RunRequest) -> RunView = |s| s.start_run(&request);
    read fn run_view(reference: String) -> RunView = |s| s.run_view(&reference);
    read fn list_runs() -> Vec<RunView> = |s| s.list_runs();
    read fn list_jobs(query: JobQuery) -> Vec<JobView> = |s| s.list_jobs(&query);
    read fn recent_jobs(limit: usize) -> Vec<JobView> = |s| s.recent_jobs(limit);
    read fn job_attempts(reference: String) -> (JobView, Vec<Attempt>) = |s| s.job_attempts(&reference);
    write fn retry_job(reference: String) -> JobView = |s| s.retry_job(&reference);
    write fn retry_failed(query: JobQuery) -> Vec<JobView> = |s| s.retry_failed(&query);
    write fn cancel(job: Option<String>, run: Option<String>) -> Vec<JobView> =
        |s| s.cancel(job.as_deref(), run.as_deref());
    /// Whether the workers of the process holding the store are idle.
    read fn is_idle() -> bool = |s| async { Ok(s.is_idle().await) };
    read fn job_totals() -> BTreeMap<Stage, StageCounts> = |s| s.job_totals();

    read fn list_outreach(campaign: String, status: Option<OutreachStatus>) -> Vec<OutreachView> =
        |s| s.list_outreach(&campaign, status);
    read fn show_outreach(reference: String) -> OutreachView = |s| s.show_outreach(&reference);
    /// `base_version`: the version the text was opened at; a save over a
    /// newer one is refused.
    write fn edit_outreach(reference: String, subject: String, body: String, base_version: Option<u32>) -> OutreachView =
        |s| s.edit_outreach(&reference, &subject, &body, base_version);
    /// The sends running or waiting in the process that holds the store.
    read fn running_sends() -> Vec<RunningSend> = |s| s.running_sends();
    /// Stops the running sends (of one campaign) after the message in hand.
    write fn stop_sends(campaign: Option<String>) -> Vec<RunningSend> =
        |s| s.stop_sends(campaign.as_deref());
    write fn approve_outreach(references: Vec<String>, all_drafted_in: Option<String>) -> ApproveSummary =
        |s| s.approve_outreach(&references, all_drafted_in.as_deref());
    write fn reject_outreach(references: Vec<String>) -> u64 = |s| s.reject_outreach(&references);
    /// Rejected emails back to draft; the names of the leads restored.
    write fn restore_outreach(references: Vec<String>) -> Vec<String> =
        |s| s.restore_outreach(&references);
    write fn mark_outreach(reference: String, mark: Mark) -> Lead = |s| s.mark_outreach(&reference, mark);
    /// A lead's conversation: sent email(s), replies, auto-replies, bounces.
    read fn outreach_thread(reference: String) -> Thread = |s| s.outreach_thread(&reference);
    /// Reads the new mail in `[imap]` once and applies it to leads.
    write fn inbox_sync() -> InboxSyncReport = |s| s.inbox_sync();
    /// The inbox watcher: connected, last sync, last error.
    read fn inbox_status() -> InboxStatus = |s| s.inbox_status();
    /// A campaign's sequence and its funnel by step.
    read fn sequence_show(campaign: String) -> SequenceView = |s| s.sequence_show(&campaign);
    /// Replaces the follow-ups (`FILE:DELAY` each; `clear`: none) and/or
    /// sets `auto_approve_followups`.
    write fn sequence_set(campaign: String, steps: Vec<String>, clear: bool, auto_approve: Option<bool>) -> SequenceView =
        |s| s.sequence_set(&campaign, &steps, clear, auto_approve);
    /// Stops a lead's sequence for good (the operator's stop).
    write fn sequence_stop(lead: String, reason: Option<String>) -> LeadSequence =
        |s| s.sequence_stop(&lead, reason.as_deref());
    /// Where a lead stands in its sequence.
    read fn lead_sequence(lead: String) -> LeadSequence = |s| s.lead_sequence(&lead);
    /// Drafts the follow-ups that are due now (the host does every minute).
    write fn draft_due_followups() -> FollowupPass = |s| s.draft_due_followups();
    read fn email_template(campaign: Option<String>) -> (String, String) =
        |s| s.email_template(campaign.as_deref());

    write fn report_link(reference: String) -> (ReportLink, String) = |s| s.report_link(&reference);
    write fn revoke_report(reference: String) -> bool = |s| s.revoke_report(&reference);
    /// Writes a campaign's report pages as a static site; `dir` names a
    /// directory where the store is.
    write fn report_export(campaign: String, dir: PathBuf) -> ExportSummary =
        |s| s.report_export(&campaign, &dir);
}

/// The streaming calls: each answers item frames as it goes, then its
/// result. The macro writes the server's [`dispatch_stream`] and the
/// client's [`Streams`], so they cannot drift apart either; the read-only
/// guard and the body cap apply to them as to the plain calls.
macro_rules! streams {
    ($(
        $(#[$meta:meta])*
        $mode:ident stream $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty = |$svc:ident, $stop:ident| $start:expr;
    )*) => {
        /// Every streaming call by name, with its mode.
        pub const STREAMS: &[(&str, CallMode)] = &[$((stringify!($name), mode!($mode)),)*];

        /// The mode of a streaming call by name; `None` when there is none.
        pub fn stream_mode(method: &str) -> Option<CallMode> {
            STREAMS.iter().find(|(name, _)| *name == method).map(|(_, mode)| *mode)
        }

        /// Starts one streaming call that arrived on the control socket;
        /// `stop` turns true when the server stops.
        pub(crate) fn dispatch_stream(
            service: Service,
            method: &str,
            body: &[u8],
            stop: tokio::sync::watch::Receiver<bool>,
        ) -> Result<tokio::sync::mpsc::Receiver<bytes::Bytes>> {
            match method {
                $(
                    stringify!($name) => {
                        guard!($mode, service, $name);
                        let ($($arg,)*): ($($ty,)*) = decode_args(method, body)?;
                        let ($svc, $stop) = (service, stop);
                        Ok($start)
                    }
                )*
                _ => Err(ServiceError::NotFound(format!(
                    "the server has no stream `{method}`; client and server must be the same version"
                ))),
            }
        }

        /// The streaming calls as a client makes them: `item` gets each
        /// item's JSON as it arrives, the answer is the final result.
        pub struct Streams<'a>(pub(crate) &'a Remote);

        impl Streams<'_> {
            $(
                $(#[$meta])*
                pub async fn $name(
                    &self,
                    $($arg: $ty,)*
                    item: impl FnMut(&[u8]) -> Result<()>,
                ) -> Result<$ret> {
                    self.0.stream(stringify!($name), &($($arg,)*), item).await
                }
            )*
        }
    };
}

streams! {
    /// Each lead as one JSON object; neither side holds the whole list.
    read stream leads(query: LeadQuery) -> u64 = |s, _stop| streams::leads(s, query);
    /// A campaign's leads as CSV or JSONL, in text items.
    read stream export(campaign: String, format: ExportFormat) -> u64 =
        |s, _stop| streams::export(s, campaign, format);
    /// A campaign's emails as CSV, in text items.
    read stream export_outreach(campaign: String) -> u64 =
        |s, _stop| streams::export_outreach(s, campaign);
    /// A send with one item per message; it belongs to its client unless
    /// detached.
    write stream send_outreach(request: SendRequest) -> SendSummary =
        |s, _stop| streams::send_outreach(s, request);
    /// Events and queue stats as `wire::FeedItem`s until the server stops; it
    /// never ends by itself.
    read stream events() -> () = |s, stop| streams::events(&s, stop);
}

fn decode_args<T: serde::de::DeserializeOwned>(method: &str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| ServiceError::Invalid(format!("bad arguments for `{method}`: {e}")))
}

pub(crate) fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|e| ServiceError::Invalid(format!("cannot encode an answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_and_stream_is_declared_once_with_its_mode() {
        let mut names: Vec<&str> = CALLS.iter().chain(STREAMS).map(|(n, _)| *n).collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all, "a name is declared twice");
        assert_eq!(call_mode("report_export"), Some(CallMode::Write));
        assert_eq!(call_mode("import"), Some(CallMode::Write));
        assert_eq!(stream_mode("send_outreach"), Some(CallMode::Write));
        assert_eq!(stream_mode("leads"), Some(CallMode::Read));
        assert_eq!(stream_mode("events"), Some(CallMode::Read));
        assert_eq!(stream_mode("nosuch"), None);
    }

    #[test]
    fn only_uploads_carry_a_file() {
        assert!(carries_file("import"));
        let others: Vec<&str> = CALLS
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| carries_file(n))
            .collect();
        assert_eq!(others, ["import"]);
    }
}
