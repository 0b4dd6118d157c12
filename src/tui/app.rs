//! The TUI's state as a composition of components (campaigns, leads
//! table, detail, run log, editor, prompt, dashboard, action log; each in
//! `panes/` with its own state, update and drawing) and `App::update`,
//! which routes actions to them and returns the effects for the loop to
//! run. No terminal and no service here, so every key can be tested as a
//! plain function call.

mod commands;
mod keys;

use super::action::{Action, Effect};
use super::panes::action_log::ActionLogView;
use super::panes::campaigns::CampaignList;
use super::panes::confirm::Confirm;
use super::panes::dashboard::DashboardView;
use super::panes::detail::DetailPane;
use super::panes::editor::Editor;
use super::panes::filter_line::{FilterHistory, FilterLine};
use super::panes::help::HelpView;
use super::panes::leads::LeadsTable;
use super::panes::messages::MessageHistory;
use super::panes::prompt::Ask;
use super::panes::runlog::RunLog;
use crate::domain::event::QueueStats;
use crate::domain::{LeadId, LeadStatus, Timestamp};
use crate::service::views::LeadView;

pub use super::panes::leads::SortKey;

/// The detail tab that shows the conversation (`6`).
pub const CONVERSATION: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Campaigns,
    Leads,
    Detail,
    RunLog,
}

const PANES: [Pane; 4] = [Pane::Campaigns, Pane::Leads, Pane::Detail, Pane::RunLog];

pub enum Mode {
    Normal,
    Help,
    Filter(FilterLine),
    Ask(Ask, String),
    Editor(Box<Editor>),
    ConfirmQuit,
    /// A yes/no question before a big change.
    Confirm(Box<Confirm>),
    /// A long text (a whole error) over everything; Esc closes it.
    Message(String),
    /// The open campaign at a glance.
    Dashboard,
    /// Who changed what, newest last.
    ActionLog,
    /// Everything said this session, newest last.
    History,
}

pub struct App {
    pub mode: Mode,
    pub focus: Pane,
    pub campaigns: CampaignList,
    pub leads: LeadsTable,
    pub detail: DetailPane,
    pub runlog: RunLog,
    pub dashboard: DashboardView,
    pub action_log: ActionLogView,
    /// The `?` overlay's scroll position.
    pub help: HelpView,
    pub stats: QueueStats,
    /// The inbox watcher's state, when `[imap]` is set up.
    pub inbox: Option<crate::domain::inbox::InboxStatus>,
    pub web_url: Option<String>,
    /// A line for the operator; an error when `true`. Drawn whole: on the
    /// status bar when it fits, wrapped above it when not.
    pub notice: Option<(String, bool)>,
    /// Every notice of this session, kept when the next replaces it.
    pub messages: MessageHistory,
    /// Counts `note` and `error` calls, so the same text said twice is
    /// kept twice.
    said: u64,
    pub now: Timestamp,
    pub quit: bool,
    /// Embedded, attached to a server, or waiting for it to come back.
    pub link: crate::service::Link,
    /// Browse only: changes are refused and their keys hidden.
    pub read_only: bool,
    /// Filters applied this session, for Up in the filter prompt.
    pub filter_history: FilterHistory,
    /// The last reject or blacklist, for `u`.
    pub undo: Option<super::undo::Undo>,
    /// Leads marked replied by hand whose row has not been read again
    /// yet: their notice says so instead of "reply from".
    pub marked_replied: std::collections::HashSet<LeadId>,
}

impl App {
    pub fn new(now: Timestamp, web_url: Option<String>) -> Self {
        Self {
            mode: Mode::Normal,
            focus: Pane::Leads,
            campaigns: CampaignList::default(),
            leads: LeadsTable::default(),
            detail: DetailPane::default(),
            runlog: RunLog::default(),
            dashboard: DashboardView::default(),
            action_log: ActionLogView::default(),
            help: HelpView::default(),
            stats: QueueStats::default(),
            inbox: None,
            web_url,
            notice: None,
            messages: MessageHistory::default(),
            said: 0,
            now,
            quit: false,
            link: crate::service::Link::Embedded,
            read_only: false,
            filter_history: FilterHistory::default(),
            undo: None,
            marked_replied: Default::default(),
        }
    }

    /// The effects to run when the TUI opens.
    pub fn start(&self) -> Vec<Effect> {
        vec![Effect::LoadCampaigns, Effect::LoadRunLog]
    }

    /// The open campaign's slug.
    pub fn campaign(&self) -> Option<&str> {
        self.campaigns.open.as_deref()
    }

    pub fn lead_name(&self, id: LeadId) -> Option<&str> {
        self.leads.get(&id).map(|l| l.business_name.as_str())
    }

    pub fn selected(&self) -> Option<&LeadView> {
        self.leads.selected()
    }

    fn note(&mut self, text: impl Into<String>) {
        self.notice = Some((text.into(), false));
        self.said += 1;
    }

    fn error(&mut self, text: impl Into<String>) {
        self.notice = Some((text.into(), true));
        self.said += 1;
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let (before, said) = (self.notice.clone(), self.said);
        let effects = self.apply(action);
        let effects = self.without_changes(effects);
        // Whatever set the notice (`note`, `error`, or a component's own
        // line), the history keeps it.
        if let Some((text, error)) = &self.notice
            && (self.said != said || self.notice != before)
        {
            self.messages.push(self.now, text, *error);
        }
        effects
    }

    /// Opens the message history at the newest.
    fn open_history(&mut self) -> Mode {
        self.messages.open();
        Mode::History
    }

    fn apply(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Command(command) if self.read_only && command.changes_data() => {
                self.refuse_change();
                Vec::new()
            }
            Action::Command(command) => self.command(command),
            Action::Key(key) => self.key(key),
            Action::Tick => self.tick(),
            Action::DashboardLoaded(dashboard) => {
                self.dashboard.figures = Some(*dashboard);
                Vec::new()
            }
            Action::ActionLogLoaded(records) => {
                self.action_log.loaded(records);
                Vec::new()
            }
            Action::CampaignsLoaded(campaigns) => match self.campaigns.loaded(campaigns) {
                Some(first) => self.open_campaign(first),
                None => {
                    if self.campaigns.open.is_none() {
                        self.leads.loading = false;
                    }
                    Vec::new()
                }
            },
            Action::LeadsLoaded {
                campaign,
                rows,
                complete,
            } => {
                if self.campaign() != Some(campaign.as_str()) || !self.leads.loaded(rows, complete)
                {
                    return Vec::new();
                }
                match self.leads.selected_id() {
                    Some(id) if Some(id) != self.detail.shown_id() => self.detail.want(id),
                    _ => Vec::new(),
                }
            }
            Action::LeadReloaded(lead) => self.lead_reloaded(*lead),
            Action::DetailLoaded(detail) => {
                let id = detail.lead.lead.id;
                let (shown, effects) = self.detail.loaded(*detail);
                if shown
                    && self.leads.selected_id() == Some(id)
                    && self.detail.pending_edit.take() == Some(id)
                    && matches!(self.mode, Mode::Normal)
                {
                    self.notice = None;
                    self.open_editor();
                }
                effects
            }
            Action::DetailFailed(id, text) => {
                self.error(text);
                self.detail.failed(id)
            }
            Action::RunLogLoaded(jobs) => {
                self.runlog.loaded(jobs);
                Vec::new()
            }
            Action::JobChanged {
                lead,
                stage,
                status,
            } => {
                self.leads.job_changed(lead, stage, status, self.now);
                self.runlog.stale = true;
                self.dashboard.stale = true;
                let mut effects = Vec::new();
                if status.is_terminal() && self.leads.index.contains_key(&lead) {
                    effects.push(Effect::ReloadLead(lead));
                    if self.leads.selected_id() == Some(lead) {
                        effects.extend(self.detail.refresh(lead));
                    }
                }
                effects
            }
            Action::Stats(stats) => {
                self.stats = stats;
                Vec::new()
            }
            Action::Inbox(status) => {
                self.inbox = status.enabled.then_some(*status);
                Vec::new()
            }
            Action::Lagged => self.after_change(),
            Action::LeadChanged(lead) if self.leads.index.contains_key(&lead) => {
                let mut effects = vec![Effect::ReloadLead(lead)];
                // An auto-reply or a soft bounce leaves the status as it
                // was: the open conversation is read again all the same.
                if self.leads.selected_id() == Some(lead) && self.detail.tab == CONVERSATION {
                    effects.extend(self.detail.refresh(lead));
                }
                effects
            }
            Action::LeadChanged(_) => Vec::new(),
            Action::LeadReplied(lead, by) => {
                if by == crate::domain::event::ReplySource::Manual
                    && self.leads.index.contains_key(&lead)
                {
                    self.marked_replied.insert(lead);
                }
                self.update(Action::LeadChanged(lead))
            }
            Action::Link(link) => {
                let reconnected =
                    matches!(link, crate::service::Link::Attached { .. }) && link != self.link;
                self.link = link;
                if reconnected {
                    // Whatever changed while we were away: read it again.
                    self.after_change()
                } else {
                    Vec::new()
                }
            }
            Action::DraftSaved(text, saved) => {
                if matches!(self.mode, Mode::Editor(..)) {
                    self.mode = Mode::Normal;
                }
                // The draft tab and the next `e` show what was stored, at
                // once, not after the next reload.
                if let Some(saved) = saved
                    && let Some(detail) = self.detail.shown.as_mut()
                    && detail.lead.lead.id == saved.outreach.lead
                {
                    detail.outreach = Some(*saved);
                }
                self.note(text);
                self.after_change()
            }
            Action::DraftNotSaved(text) => {
                self.error(format!(
                    "not saved: {text} — the text stays here; Ctrl-S tries again"
                ));
                Vec::new()
            }
            Action::Rejected(ids) => {
                let names: Vec<String> = ids
                    .iter()
                    .map(|id| self.lead_name(*id).unwrap_or("a lead").to_string())
                    .collect();
                self.note(super::undo::rejected(&names));
                self.undo = Some(super::undo::Undo::Reject(ids));
                self.after_change()
            }
            Action::Blacklisted(results) => {
                let added: Vec<String> = results
                    .iter()
                    .filter(|r| r.added)
                    .map(|r| r.entry.value.clone())
                    .collect();
                self.note(super::undo::blacklisted(&results));
                if !added.is_empty() {
                    self.undo = Some(super::undo::Undo::Blacklist(added));
                }
                self.after_change()
            }
            Action::Notice(text) => {
                self.note(text);
                self.after_change()
            }
            Action::Failed(text) => {
                self.error(text);
                Vec::new()
            }
        }
    }

    /// A row read again after a change. A lead that turned `replied` is
    /// raised at once: a notice names it (the row shows `↩` and the `hot`
    /// and `replied` filters find it). A status change on the lead shown
    /// reads its detail again.
    fn lead_reloaded(&mut self, lead: LeadView) -> Vec<Effect> {
        let (id, status) = (lead.id, lead.status);
        let name = lead.business_name.clone();
        let by_hand = self.marked_replied.remove(&id);
        let Some(before) = self.leads.reloaded(lead) else {
            return Vec::new();
        };
        if before == status {
            return Vec::new();
        }
        if status == LeadStatus::Replied {
            let name = crate::domain::text::single_line(&name);
            self.note(if by_hand {
                format!("marked replied: {name}; /replied lists replies")
            } else {
                format!(
                    "reply from {name} — marked replied; 6 shows the conversation, /replied lists replies"
                )
            });
        }
        if self.leads.selected_id() == Some(id) {
            return self.detail.refresh(id);
        }
        Vec::new()
    }

    fn tick(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        if std::mem::take(&mut self.runlog.stale) {
            effects.push(Effect::LoadRunLog);
        }
        // While the dashboard is open, its figures follow the jobs.
        if self.dashboard.tick(matches!(self.mode, Mode::Dashboard))
            && let Some(c) = self.campaign()
        {
            effects.push(Effect::LoadDashboard(c.to_string()));
        }
        effects
    }

    fn open_campaign(&mut self, index: usize) -> Vec<Effect> {
        match self.campaigns.open(index) {
            Some(slug) => {
                self.leads.clear();
                vec![Effect::LoadLeads(slug)]
            }
            None => Vec::new(),
        }
    }

    /// After an action changed data (or events were missed): reread what
    /// is on screen.
    fn after_change(&mut self) -> Vec<Effect> {
        let mut effects = vec![Effect::LoadCampaigns, Effect::LoadRunLog];
        if let Some(c) = self.campaign() {
            effects.push(Effect::LoadLeads(c.to_string()));
        }
        effects
    }

    fn refuse_change(&mut self) {
        self.error("read-only: changes are refused here; browse, filter and read freely");
    }

    /// In read-only mode, drops effects that would change data (a palette
    /// command, say) and says so.
    fn without_changes(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        if !self.read_only || !effects.iter().any(Effect::changes_data) {
            return effects;
        }
        self.refuse_change();
        effects.into_iter().filter(|e| !e.changes_data()).collect()
    }
}
