//! What can happen to the TUI (`Action`: a key's command, data that
//! arrived, a tick) and what it asks the loop to do (`Effect`: read or
//! change something through the service).

use crossterm::event::KeyEvent;

use crate::domain::event::QueueStats;
use crate::domain::{JobStatus, LeadId, Stage};
use crate::service::audits::{AuditDiffView, AuditView};
use crate::service::jobs::JobView;
use crate::service::outreach::OutreachView;
use crate::service::views::{CampaignSummary, LeadDetail, LeadView};

/// What a key means, independent of which key it is (see `keymap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Quit,
    Help,
    Up,
    Down,
    Top,
    Bottom,
    PageDown,
    PageUp,
    FocusNext,
    FocusPrev,
    ShowTab(usize),
    Open,
    Back,
    Filter,
    NextMatch,
    PrevMatch,
    Sort,
    SortReverse,
    Mark,
    RangeMark,
    MarkAll,
    Approve,
    Reject,
    Blacklist,
    Rerun,
    RetryFailed,
    Edit,
    ReportUrl,
    Import,
    AddLead,
    Palette,
    Dashboard,
    ActionLog,
    Messages,
    /// Takes back the last reject or blacklist of this session.
    Undo,
}

impl Command {
    /// Whether the command changes data (refused, and not shown, when
    /// read-only).
    pub fn changes_data(self) -> bool {
        matches!(
            self,
            Self::Approve
                | Self::Reject
                | Self::Blacklist
                | Self::Rerun
                | Self::RetryFailed
                | Self::Edit
                | Self::Import
                | Self::AddLead
                | Self::Undo
        )
    }
}

/// Everything the selected lead's detail pane shows.
#[derive(Debug, Clone)]
pub struct Detail {
    pub lead: LeadDetail,
    pub audit: Option<AuditView>,
    /// What changed since the audit before, when there was one.
    pub diff: Option<AuditDiffView>,
    pub outreach: Option<OutreachView>,
    pub jobs: Vec<JobView>,
    /// The conversation (sent emails, replies, auto-replies, bounces);
    /// `None` when the host could not say (one older than this TUI).
    pub thread: Option<crate::domain::inbox::Thread>,
    /// The phone screenshot's thumbnail, decoded.
    pub picture: Option<image::RgbImage>,
}

#[derive(Debug, Clone)]
pub enum Action {
    Command(Command),
    /// A key while typing (filter, prompt, editor).
    Key(KeyEvent),
    Tick,
    CampaignsLoaded(Vec<CampaignSummary>),
    /// `complete` is false for the first screenful, sent ahead of the
    /// rest so a large campaign shows at once.
    LeadsLoaded {
        campaign: String,
        rows: Vec<LeadView>,
        complete: bool,
    },
    LeadReloaded(Box<LeadView>),
    DetailLoaded(Box<Detail>),
    /// The detail of this lead could not be read (why).
    DetailFailed(LeadId, String),
    RunLogLoaded(Vec<JobView>),
    JobChanged {
        lead: LeadId,
        stage: Stage,
        status: JobStatus,
    },
    Stats(QueueStats),
    /// The inbox watcher's state, for the status bar.
    Inbox(Box<crate::domain::inbox::InboxStatus>),
    /// Events were missed: reload everything.
    Lagged,
    /// A lead changed outside a job (a report view, say).
    LeadChanged(LeadId),
    /// A lead was marked replied: read from the inbox or by hand.
    LeadReplied(LeadId, crate::domain::event::ReplySource),
    DashboardLoaded(Box<crate::service::dashboard::Dashboard>),
    ActionLogLoaded(Vec<crate::domain::action_log::ActionRecord>),
    /// The connection to the server changed (attached TUIs only).
    Link(crate::service::Link),
    /// The editor's text was stored (as it now is); the editor closes.
    DraftSaved(String, Option<Box<OutreachView>>),
    /// Saving failed; the editor stays open with the text in it.
    DraftNotSaved(String),
    /// These leads' emails were rejected (the undo can restore them).
    Rejected(Vec<LeadId>),
    /// What each blacklist value did (the undo removes those added).
    Blacklisted(Vec<crate::service::blacklist::BlacklistAdded>),
    Notice(String),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    LoadCampaigns,
    LoadDashboard(String),
    /// The action log, of the open campaign when there is one.
    LoadActionLog(Option<String>),
    LoadLeads(String),
    ReloadLead(LeadId),
    LoadDetail(LeadId),
    LoadRunLog,
    Approve(Vec<LeadId>),
    Reject(Vec<LeadId>),
    /// Rejected emails back to draft (the undo of a reject).
    Restore(Vec<LeadId>),
    Blacklist(Vec<String>),
    /// Blacklist entries removed (`:unblacklist`, the undo of a blacklist).
    Unblacklist(Vec<String>),
    Rerun {
        campaign: String,
        stages: Vec<String>,
        leads: Vec<LeadId>,
    },
    /// Failed jobs of these leads, or of every lead when empty.
    RetryFailed {
        campaign: String,
        leads: Vec<LeadId>,
    },
    SaveDraft {
        lead: LeadId,
        /// The version the text was opened at.
        version: u32,
        subject: String,
        body: String,
    },
    ReportUrl(LeadId),
    Import {
        campaign: String,
        path: String,
    },
    AddLead {
        campaign: String,
        website: String,
    },
    CreateCampaign(String),
    Send {
        campaign: String,
    },
    /// Stops every running send after the message in hand.
    StopSends,
    Quit,
}

impl Effect {
    /// Whether the effect changes data.
    pub fn changes_data(&self) -> bool {
        matches!(
            self,
            Self::Approve(_)
                | Self::Reject(_)
                | Self::Restore(_)
                | Self::Blacklist(_)
                | Self::Unblacklist(_)
                | Self::Rerun { .. }
                | Self::RetryFailed { .. }
                | Self::SaveDraft { .. }
                | Self::Import { .. }
                | Self::AddLead { .. }
                | Self::CreateCampaign(_)
                | Self::Send { .. }
                | Self::StopSends
        )
    }
}
