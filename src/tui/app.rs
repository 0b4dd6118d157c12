//! The TUI's state as a composition of components (campaigns, leads
//! table, detail, run log, editor, prompt, dashboard, action log; each in
//! `panes/` with its own state, update and drawing) and `App::update`,
//! which routes actions to them and returns the effects for the loop to
//! run. No terminal and no service here, so every key can be tested as a
//! plain function call.

use crossterm::event::{KeyCode, KeyEvent};

use super::action::{Action, Command, Effect};
use super::filter::Filter;
use super::panes::campaigns::CampaignList;
use super::panes::dashboard::{ActionLogView, DashboardView};
use super::panes::detail::{DetailPane, TABS};
use super::panes::editor::{self, Editor};
use super::panes::leads::LeadsTable;
use super::panes::prompt::{self, Ask};
use super::panes::runlog::RunLog;
use crate::domain::event::QueueStats;
use crate::domain::{LeadId, Timestamp};
use crate::service::views::LeadView;

pub use super::panes::leads::SortKey;

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
    Filter(String),
    Ask(Ask, String),
    Editor(Box<Editor>),
    ConfirmQuit,
    /// A long text (a whole error) over everything; Esc closes it.
    Message(String),
    /// The open campaign at a glance.
    Dashboard,
    /// Who changed what, newest last.
    ActionLog,
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
    pub stats: QueueStats,
    pub web_url: Option<String>,
    /// A line for the operator; an error when `true`.
    pub notice: Option<(String, bool)>,
    pub now: Timestamp,
    pub quit: bool,
    /// Embedded, attached to a server, or waiting for it to come back.
    pub link: crate::service::Link,
    /// Browse only: changes are refused and their keys hidden.
    pub read_only: bool,
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
            stats: QueueStats::default(),
            web_url,
            notice: None,
            now,
            quit: false,
            link: crate::service::Link::Embedded,
            read_only: false,
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
    }

    fn error(&mut self, text: impl Into<String>) {
        self.notice = Some((text.into(), true));
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let effects = self.apply(action);
        self.without_changes(effects)
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
            Action::LeadReloaded(lead) => {
                self.leads.reloaded(*lead);
                Vec::new()
            }
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
                self.leads.job_changed(lead, stage, status);
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
            Action::Lagged => self.after_change(),
            Action::LeadChanged(lead) if self.leads.index.contains_key(&lead) => {
                vec![Effect::ReloadLead(lead)]
            }
            Action::LeadChanged(_) => Vec::new(),
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

    fn position(&self) -> usize {
        match self.focus {
            Pane::Campaigns => self.campaigns.cursor,
            Pane::RunLog => self.runlog.cursor,
            _ => self.leads.cursor,
        }
    }

    /// Moves the focused list's cursor; a new lead row asks for its detail.
    fn move_cursor(&mut self, to: usize) -> Vec<Effect> {
        match self.focus {
            Pane::Campaigns => self.campaigns.move_to(to),
            Pane::RunLog => self.runlog.move_to(to),
            Pane::Leads | Pane::Detail => {
                if let Some(id) = self.leads.move_to(to) {
                    return self.detail.want(id);
                }
            }
        }
        Vec::new()
    }

    fn command(&mut self, command: Command) -> Vec<Effect> {
        if !matches!(self.mode, Mode::Normal) {
            return Vec::new();
        }
        self.notice = None;
        let half = (self.leads.page / 2).max(1);
        match command {
            Command::Quit if self.stats.running > 0 || self.stats.queued > 0 => {
                self.mode = Mode::ConfirmQuit;
            }
            Command::Quit => {
                self.quit = true;
                return vec![Effect::Quit];
            }
            Command::Help => self.mode = Mode::Help,
            Command::Dashboard => match self.campaign().map(String::from) {
                Some(c) => {
                    self.mode = Mode::Dashboard;
                    self.dashboard.ticks = 0;
                    return vec![Effect::LoadDashboard(c)];
                }
                None => self.error("open a campaign first (Enter on the campaigns pane)"),
            },
            Command::ActionLog => {
                self.mode = Mode::ActionLog;
                return vec![Effect::LoadActionLog(self.campaign().map(String::from))];
            }
            Command::Up => return self.move_cursor(self.position().saturating_sub(1)),
            Command::Down => return self.move_cursor(self.position() + 1),
            Command::Top => return self.move_cursor(0),
            Command::Bottom => return self.move_cursor(usize::MAX),
            Command::PageDown => return self.move_cursor(self.position() + half),
            Command::PageUp => return self.move_cursor(self.position().saturating_sub(half)),
            Command::FocusNext | Command::FocusPrev => {
                let i = PANES.iter().position(|p| *p == self.focus).unwrap_or(1);
                let n = PANES.len();
                let step = if command == Command::FocusNext {
                    1
                } else {
                    n - 1
                };
                self.focus = PANES[(i + step) % n];
            }
            Command::ShowTab(t) => self.detail.tab = t.min(TABS.len() - 1),
            Command::Open => match self.focus {
                Pane::Campaigns => return self.open_campaign(self.campaigns.cursor),
                Pane::RunLog => {
                    if let Some(text) = self.runlog.describe_selected() {
                        self.mode = Mode::Message(text);
                    }
                }
                _ => self.focus = Pane::Detail,
            },
            Command::Back => {
                self.leads.marks.clear();
                self.leads.range_anchor = None;
                if self.focus == Pane::Detail {
                    self.focus = Pane::Leads;
                }
            }
            Command::Filter => self.mode = Mode::Filter(self.leads.filter.text().to_string()),
            Command::NextMatch | Command::PrevMatch => {
                // With a filter, matches are the rows shown; n/N walk them.
                let n = self.leads.visible.len();
                if n == 0 {
                    return Vec::new();
                }
                let cursor = self.leads.cursor;
                let to = if command == Command::NextMatch {
                    (cursor + 1) % n
                } else {
                    (cursor + n - 1) % n
                };
                self.focus = Pane::Leads;
                return self.move_cursor(to);
            }
            Command::Sort => {
                let sort = self.leads.next_sort();
                self.note(format!("sorted by {}", sort.label()));
            }
            Command::SortReverse => self.leads.toggle_reverse(),
            Command::Mark => {
                self.leads.toggle_mark();
                return self.move_cursor(self.leads.cursor + 1);
            }
            Command::RangeMark => {
                let text = self.leads.range_mark();
                self.note(text);
            }
            Command::MarkAll => {
                let n = self.leads.mark_all();
                self.note(format!("{n} marked"));
            }
            Command::Approve | Command::Reject => {
                let targets = self.leads.targets();
                if targets.is_empty() {
                    return Vec::new();
                }
                self.leads.marks.clear();
                return vec![if command == Command::Approve {
                    Effect::Approve(targets)
                } else {
                    Effect::Reject(targets)
                }];
            }
            Command::Blacklist => self.ask_about_targets(Ask::BlacklistWhich),
            Command::Rerun => self.ask_about_targets(Ask::RerunStage),
            // With a filter, only the failed jobs of the leads it shows.
            Command::RetryFailed => {
                if let Some(c) = self.campaign() {
                    let leads = if self.leads.filter.is_empty() {
                        Vec::new()
                    } else {
                        self.leads.visible_ids()
                    };
                    return vec![Effect::RetryFailed {
                        campaign: c.to_string(),
                        leads,
                    }];
                }
            }
            Command::Edit => self.edit(),
            Command::ReportUrl => {
                return self
                    .leads
                    .selected_id()
                    .map(|id| vec![Effect::ReportUrl(id)])
                    .unwrap_or_default();
            }
            Command::Import => self.ask(Ask::ImportPath),
            Command::AddLead => self.ask(Ask::AddLead),
            Command::Palette => self.ask(Ask::Palette),
        }
        Vec::new()
    }

    fn edit(&mut self) {
        let Some(selected) = self.leads.selected_id() else {
            return;
        };
        // The detail of a lead just moved to may still be loading: the
        // editor opens when it arrives.
        if self.detail.shown_id() != Some(selected) {
            self.detail.pending_edit = Some(selected);
            self.note("loading the draft…");
            return;
        }
        self.open_editor();
    }

    fn open_editor(&mut self) {
        let Some(detail) = &self.detail.shown else {
            return;
        };
        match Editor::open(detail) {
            Ok(editor) => self.mode = Mode::Editor(Box::new(editor)),
            Err(why) => self.error(why),
        }
    }

    fn ask(&mut self, ask: Ask) {
        if self.campaign().is_none() && !matches!(ask, Ask::Palette) {
            self.error("no campaign yet: `:campaign new NAME` makes one");
            return;
        }
        self.mode = Mode::Ask(ask, String::new());
    }

    fn ask_about_targets(&mut self, ask: fn(Vec<LeadId>) -> Ask) {
        let targets = self.leads.targets();
        if !targets.is_empty() {
            self.ask(ask(targets));
        }
    }

    /// Keys while typing or reading an overlay: routed to the component
    /// the mode belongs to.
    fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let mode = std::mem::replace(&mut self.mode, Mode::Normal);
        let closes = |code| {
            matches!(
                code,
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q' | '?')
            )
        };
        let (mode, effects) = match mode {
            Mode::Normal => (Mode::Normal, Vec::new()),
            Mode::Help | Mode::Message(_) if closes(key.code) => (Mode::Normal, Vec::new()),
            Mode::ActionLog if self.action_log.key(key.code) => (mode, Vec::new()),
            Mode::Dashboard | Mode::ActionLog
                if closes(key.code) || matches!(key.code, KeyCode::Char('D' | 'L')) =>
            {
                (Mode::Normal, Vec::new())
            }
            Mode::Help | Mode::Message(_) | Mode::Dashboard | Mode::ActionLog => (mode, Vec::new()),
            Mode::ConfirmQuit => match key.code {
                KeyCode::Char('y' | 'q') => {
                    self.quit = true;
                    (Mode::Normal, vec![Effect::Quit])
                }
                _ => (Mode::Normal, Vec::new()),
            },
            Mode::Filter(text) => self.filter_key(text, key),
            Mode::Ask(ask, text) => self.ask_key(ask, text, key),
            Mode::Editor(mut editor) => match editor.key(key) {
                editor::Outcome::Stay => (Mode::Editor(editor), Vec::new()),
                editor::Outcome::Say(text, error) => {
                    self.notice = Some((text, error));
                    (Mode::Editor(editor), Vec::new())
                }
                // The editor closes once the save is confirmed.
                editor::Outcome::Save(effect) => {
                    self.note("saving…");
                    (Mode::Editor(editor), vec![effect])
                }
                editor::Outcome::Close => (Mode::Normal, Vec::new()),
            },
        };
        self.mode = mode;
        effects
    }

    fn filter_key(&mut self, mut text: String, key: KeyEvent) -> (Mode, Vec<Effect>) {
        match key.code {
            KeyCode::Esc => (Mode::Normal, Vec::new()),
            KeyCode::Enter => match Filter::parse(&text) {
                Ok(filter) => {
                    let shown = self.leads.set_filter(filter);
                    let effects = match self.leads.selected_id() {
                        Some(id) => self.detail.want(id),
                        None => Vec::new(),
                    };
                    self.note(format!("{shown} of {} leads match", self.leads.rows.len()));
                    (Mode::Normal, effects)
                }
                Err(e) => {
                    self.error(e);
                    (Mode::Filter(text), Vec::new())
                }
            },
            _ => {
                prompt::edit_line(&mut text, key);
                (Mode::Filter(text), Vec::new())
            }
        }
    }

    fn ask_key(&mut self, ask: Ask, mut text: String, key: KeyEvent) -> (Mode, Vec<Effect>) {
        match (key.code, &ask) {
            (KeyCode::Esc, _) => (Mode::Normal, Vec::new()),
            (KeyCode::Char(c @ ('e' | 'd')), Ask::BlacklistWhich(ids)) => {
                let values = self.blacklist_values(ids, c == 'e');
                if values.is_empty() {
                    self.error("none of them has an email address");
                    (Mode::Normal, Vec::new())
                } else {
                    self.leads.marks.clear();
                    (Mode::Normal, vec![Effect::Blacklist(values)])
                }
            }
            (_, Ask::BlacklistWhich(_)) => (Mode::Ask(ask, text), Vec::new()),
            (KeyCode::Tab, Ask::Palette) => {
                prompt::complete(&mut text);
                (Mode::Ask(ask, text), Vec::new())
            }
            (KeyCode::Enter, _) => {
                let campaign = self.campaign().unwrap_or_default().to_string();
                let marks = self.leads.marks.iter().copied().collect();
                let answer = prompt::answer(&ask, text.trim(), &campaign, marks);
                if matches!(ask, Ask::RerunStage(_)) && !answer.effects.is_empty() {
                    self.leads.marks.clear();
                }
                if let Some(say) = answer.say {
                    self.notice = Some(say);
                }
                (Mode::Normal, answer.effects)
            }
            _ => {
                prompt::edit_line(&mut text, key);
                (Mode::Ask(ask, text), Vec::new())
            }
        }
    }

    fn blacklist_values(&self, ids: &[LeadId], emails: bool) -> Vec<String> {
        ids.iter()
            .filter_map(|id| self.leads.get(id))
            .filter_map(|l| {
                if emails {
                    l.email.clone()
                } else {
                    Some(l.domain.clone())
                }
            })
            .collect()
    }
}
