//! The TUI's state and `App::update`, which changes state only and returns
//! the effects for the loop to run. No terminal and no service here, so
//! every key can be tested as a plain function call.

use std::collections::{HashMap, HashSet};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use super::action::{Action, Command, Detail, Effect};
use super::filter::Filter;
use crate::domain::event::QueueStats;
use crate::domain::{JobStatus, LeadId, Stage, Timestamp};
use crate::service::jobs::JobView;
use crate::service::views::{CampaignSummary, LeadView};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Campaigns,
    Leads,
    Detail,
    RunLog,
}

const PANES: [Pane; 4] = [Pane::Campaigns, Pane::Leads, Pane::Detail, Pane::RunLog];

pub const TABS: [&str; 5] = ["Audit", "Screenshot", "Draft", "Contacts", "History"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Added,
    Status,
    Score,
    Business,
    Domain,
}

const SORTS: [SortKey; 5] = [
    SortKey::Added,
    SortKey::Status,
    SortKey::Score,
    SortKey::Business,
    SortKey::Domain,
];

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Status => "status",
            Self::Score => "score",
            Self::Business => "business",
            Self::Domain => "domain",
        }
    }
}

/// A one-line question at the bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// Which to blacklist for the marked leads: their emails or domains.
    BlacklistWhich(Vec<LeadId>),
    /// Which stage(s) to re-run.
    RerunStage(Vec<LeadId>),
    ImportPath,
    AddLead,
    Palette,
}

impl Ask {
    pub fn question(&self) -> &'static str {
        match self {
            Self::BlacklistWhich(_) => "blacklist their (e)mail or (d)omain? ",
            Self::RerunStage(_) => "re-run stage(s), e.g. fetch,audit: ",
            Self::ImportPath => "import file: ",
            Self::AddLead => "website of the new lead: ",
            Self::Palette => ":",
        }
    }
}

/// The email being edited: its lead and the version the text was opened
/// at (a save over a newer version is refused, so no edit is lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Editing {
    pub lead: LeadId,
    pub version: u32,
}

pub enum Mode {
    Normal,
    Help,
    Filter(String),
    Ask(Ask, String),
    Editor(Editing, Box<TextArea<'static>>, bool),
    ConfirmQuit,
    /// A long text (a whole error) over everything; Esc closes it.
    Message(String),
    /// The open campaign at a glance.
    Dashboard,
    /// Who changed what, newest last.
    ActionLog,
}

pub const PALETTE_COMMANDS: &[&str] = &[
    "run ",
    "send",
    "stop-send",
    "blacklist ",
    "campaign new ",
    "retry",
    "import ",
];

pub struct App {
    pub mode: Mode,
    pub focus: Pane,
    pub campaigns: Vec<CampaignSummary>,
    pub campaign_cursor: usize,
    /// The open campaign's slug.
    pub campaign: Option<String>,
    pub leads: Vec<LeadView>,
    /// Lead id → index into `leads`.
    pub index: HashMap<LeadId, usize>,
    /// Indices into `leads` that pass the filter, in sort order.
    pub visible: Vec<usize>,
    pub cursor: usize,
    pub offset: usize,
    pub marks: HashSet<LeadId>,
    pub range_anchor: Option<usize>,
    pub filter: Filter,
    pub sort: SortKey,
    pub reverse: bool,
    pub last_jobs: HashMap<LeadId, (Stage, JobStatus)>,
    pub detail: Option<Detail>,
    pub tab: usize,
    pub runlog: Vec<JobView>,
    pub runlog_cursor: usize,
    pub stats: QueueStats,
    pub web_url: Option<String>,
    pub notice: Option<(String, bool)>,
    pub loading: bool,
    pub now: Timestamp,
    pub quit: bool,
    /// Rows the leads table shows; set by the view.
    pub page: usize,
    /// The run log needs a reload (throttled to the tick).
    pub runlog_stale: bool,
    /// `e` was pressed before the lead's detail arrived.
    pub pending_edit: Option<LeadId>,
    /// Embedded, attached to a server, or waiting for it to come back.
    pub link: crate::service::Link,
    /// Browse only: changes are refused and their keys hidden.
    pub read_only: bool,
    /// The last dashboard figures (drawn from here, never recomputed per
    /// frame) and whether jobs changed them since.
    pub dashboard: Option<crate::service::dashboard::Dashboard>,
    pub dashboard_stale: bool,
    pub dashboard_ticks: u32,
    pub action_log: Vec<crate::domain::action_log::ActionRecord>,
    /// How many records the log view is scrolled back from the newest.
    pub log_back: usize,
}

impl App {
    pub fn new(now: Timestamp, web_url: Option<String>) -> Self {
        Self {
            mode: Mode::Normal,
            focus: Pane::Leads,
            campaigns: Vec::new(),
            campaign_cursor: 0,
            campaign: None,
            leads: Vec::new(),
            index: HashMap::new(),
            visible: Vec::new(),
            cursor: 0,
            offset: 0,
            marks: HashSet::new(),
            range_anchor: None,
            filter: Filter::default(),
            sort: SortKey::Added,
            reverse: false,
            last_jobs: HashMap::new(),
            detail: None,
            tab: 0,
            runlog: Vec::new(),
            runlog_cursor: 0,
            stats: QueueStats::default(),
            web_url,
            notice: None,
            loading: true,
            now,
            quit: false,
            page: 20,
            runlog_stale: false,
            pending_edit: None,
            link: crate::service::Link::Embedded,
            read_only: false,
            dashboard: None,
            dashboard_stale: false,
            dashboard_ticks: 0,
            action_log: Vec::new(),
            log_back: 0,
        }
    }

    /// The effects to run when the TUI opens.
    pub fn start(&self) -> Vec<Effect> {
        vec![Effect::LoadCampaigns, Effect::LoadRunLog]
    }

    pub fn lead_name(&self, id: LeadId) -> Option<&str> {
        self.index
            .get(&id)
            .map(|&i| self.leads[i].business_name.as_str())
    }

    pub fn selected(&self) -> Option<&LeadView> {
        self.visible
            .get(self.cursor)
            .and_then(|&i| self.leads.get(i))
    }

    /// The marked leads, or the cursor's when none is marked.
    pub fn targets(&self) -> Vec<LeadId> {
        if self.marks.is_empty() {
            self.selected().map(|l| vec![l.id]).unwrap_or_default()
        } else {
            self.visible
                .iter()
                .map(|&i| self.leads[i].id)
                .filter(|id| self.marks.contains(id))
                .collect()
        }
    }

    fn note(&mut self, text: impl Into<String>) {
        self.notice = Some((text.into(), false));
    }

    fn error(&mut self, text: impl Into<String>) {
        self.notice = Some((text.into(), true));
    }

    /// Rebuilds `visible` from the filter and sort, keeping the cursor on
    /// the same lead when it is still there.
    fn refresh_visible(&mut self) {
        let keep = self.selected().map(|l| l.id);
        let mut visible: Vec<usize> = (0..self.leads.len())
            .filter(|&i| self.filter.matches(&self.leads[i]))
            .collect();
        let leads = &self.leads;
        match self.sort {
            SortKey::Added => {}
            SortKey::Status => visible.sort_by_key(|&i| leads[i].status),
            SortKey::Score => visible.sort_by_key(|&i| leads[i].score.map(i16::from).unwrap_or(-1)),
            SortKey::Business => {
                visible.sort_by_cached_key(|&i| leads[i].business_name.to_lowercase())
            }
            SortKey::Domain => visible.sort_by(|&a, &b| leads[a].domain.cmp(&leads[b].domain)),
        }
        if self.reverse {
            visible.reverse();
        }
        self.visible = visible;
        self.cursor = keep
            .and_then(|id| self.visible.iter().position(|&i| self.leads[i].id == id))
            .unwrap_or(0)
            .min(self.visible.len().saturating_sub(1));
        self.scroll_to_cursor();
    }

    fn scroll_to_cursor(&mut self) {
        let page = self.page.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + page {
            self.offset = self.cursor + 1 - page;
        }
    }

    fn move_cursor(&mut self, to: usize) -> Vec<Effect> {
        match self.focus {
            Pane::Campaigns => {
                self.campaign_cursor = to.min(self.campaigns.len().saturating_sub(1));
                Vec::new()
            }
            Pane::RunLog => {
                self.runlog_cursor = to.min(self.runlog.len().saturating_sub(1));
                Vec::new()
            }
            Pane::Leads | Pane::Detail => {
                let before = self.selected().map(|l| l.id);
                self.cursor = to.min(self.visible.len().saturating_sub(1));
                self.scroll_to_cursor();
                match self.selected().map(|l| l.id) {
                    Some(id) if Some(id) != before => vec![Effect::LoadDetail(id)],
                    _ => Vec::new(),
                }
            }
        }
    }

    fn position(&self) -> usize {
        match self.focus {
            Pane::Campaigns => self.campaign_cursor,
            Pane::RunLog => self.runlog_cursor,
            _ => self.cursor,
        }
    }

    fn open_campaign(&mut self, index: usize) -> Vec<Effect> {
        let Some(c) = self.campaigns.get(index) else {
            return Vec::new();
        };
        self.campaign_cursor = index;
        self.campaign = Some(c.slug.clone());
        self.loading = true;
        self.marks.clear();
        vec![Effect::LoadLeads(c.slug.clone())]
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
            Action::Tick => {
                let mut effects = Vec::new();
                if self.runlog_stale {
                    self.runlog_stale = false;
                    effects.push(Effect::LoadRunLog);
                }
                // While the dashboard is open, its figures follow the jobs,
                // at most every 5 s (20 ticks).
                self.dashboard_ticks = self.dashboard_ticks.saturating_add(1);
                if matches!(self.mode, Mode::Dashboard)
                    && self.dashboard_stale
                    && self.dashboard_ticks >= 20
                    && let Some(c) = &self.campaign
                {
                    self.dashboard_stale = false;
                    self.dashboard_ticks = 0;
                    effects.push(Effect::LoadDashboard(c.clone()));
                }
                effects
            }
            Action::DashboardLoaded(dashboard) => {
                self.dashboard = Some(*dashboard);
                Vec::new()
            }
            Action::ActionLogLoaded(records) => {
                self.action_log = records;
                self.log_back = 0;
                Vec::new()
            }
            Action::CampaignsLoaded(campaigns) => {
                self.campaigns = campaigns;
                match &self.campaign {
                    Some(slug) => {
                        if let Some(i) = self.campaigns.iter().position(|c| &c.slug == slug) {
                            self.campaign_cursor = i;
                        }
                        Vec::new()
                    }
                    None if !self.campaigns.is_empty() => self.open_campaign(0),
                    None => {
                        self.loading = false;
                        Vec::new()
                    }
                }
            }
            Action::LeadsLoaded {
                campaign,
                rows,
                complete,
            } => {
                if self.campaign.as_deref() != Some(campaign.as_str()) {
                    return Vec::new();
                }
                // The first screenful is replaced when the rest arrives; a
                // late first screenful never replaces the whole list.
                if !complete && self.leads.len() > rows.len() {
                    return Vec::new();
                }
                self.leads = rows;
                self.index = self
                    .leads
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.id, i))
                    .collect();
                self.loading = !complete;
                self.refresh_visible();
                let shown = self.detail.as_ref().map(|d| d.lead.lead.id);
                match self.selected().map(|l| l.id) {
                    Some(id) if Some(id) != shown => vec![Effect::LoadDetail(id)],
                    _ => Vec::new(),
                }
            }
            Action::LeadReloaded(lead) => {
                if let Some(&i) = self.index.get(&lead.id) {
                    self.leads[i] = *lead;
                    self.refresh_visible();
                }
                Vec::new()
            }
            Action::DetailLoaded(detail) => {
                let id = detail.lead.lead.id;
                if self.selected().map(|l| l.id) == Some(id) {
                    self.detail = Some(*detail);
                    if self.pending_edit.take() == Some(id) && matches!(self.mode, Mode::Normal) {
                        self.notice = None;
                        self.open_editor();
                    }
                }
                Vec::new()
            }
            Action::RunLogLoaded(jobs) => {
                self.runlog = jobs;
                self.runlog_cursor = self.runlog_cursor.min(self.runlog.len().saturating_sub(1));
                Vec::new()
            }
            Action::JobChanged {
                lead,
                stage,
                status,
            } => {
                self.last_jobs.insert(lead, (stage, status));
                self.runlog_stale = true;
                self.dashboard_stale = true;
                let mut effects = Vec::new();
                if status.is_terminal() && self.index.contains_key(&lead) {
                    effects.push(Effect::ReloadLead(lead));
                    if self.selected().map(|l| l.id) == Some(lead) {
                        effects.push(Effect::LoadDetail(lead));
                    }
                }
                effects
            }
            Action::Stats(stats) => {
                self.stats = stats;
                Vec::new()
            }
            Action::Lagged => {
                let mut effects = vec![Effect::LoadCampaigns, Effect::LoadRunLog];
                if let Some(c) = &self.campaign {
                    effects.push(Effect::LoadLeads(c.clone()));
                }
                effects
            }
            Action::LeadChanged(lead) => {
                if self.index.contains_key(&lead) {
                    vec![Effect::ReloadLead(lead)]
                } else {
                    Vec::new()
                }
            }
            Action::Link(link) => {
                let reconnected =
                    matches!(link, crate::service::Link::Attached { .. }) && link != self.link;
                self.link = link;
                if reconnected {
                    // Whatever changed while we were away: read it again.
                    self.update(Action::Lagged)
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
                    && let Some(detail) = self.detail.as_mut()
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

    /// After an action changed data: reread what is on screen.
    fn after_change(&mut self) -> Vec<Effect> {
        let mut effects = vec![Effect::LoadCampaigns, Effect::LoadRunLog];
        if let Some(c) = &self.campaign {
            effects.push(Effect::LoadLeads(c.clone()));
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

    fn command(&mut self, command: Command) -> Vec<Effect> {
        if !matches!(self.mode, Mode::Normal) {
            return Vec::new();
        }
        self.notice = None;
        let half = (self.page / 2).max(1);
        match command {
            Command::Quit => {
                if self.stats.running > 0 || self.stats.queued > 0 {
                    self.mode = Mode::ConfirmQuit;
                    Vec::new()
                } else {
                    self.quit = true;
                    vec![Effect::Quit]
                }
            }
            Command::Help => {
                self.mode = Mode::Help;
                Vec::new()
            }
            Command::Dashboard => match &self.campaign {
                Some(c) => {
                    self.mode = Mode::Dashboard;
                    self.dashboard_ticks = 0;
                    vec![Effect::LoadDashboard(c.clone())]
                }
                None => {
                    self.error("open a campaign first (Enter on the campaigns pane)");
                    Vec::new()
                }
            },
            Command::ActionLog => {
                self.mode = Mode::ActionLog;
                vec![Effect::LoadActionLog(self.campaign.clone())]
            }
            Command::Up => self.move_cursor(self.position().saturating_sub(1)),
            Command::Down => self.move_cursor(self.position() + 1),
            Command::Top => self.move_cursor(0),
            Command::Bottom => self.move_cursor(usize::MAX),
            Command::PageDown => self.move_cursor(self.position() + half),
            Command::PageUp => self.move_cursor(self.position().saturating_sub(half)),
            Command::FocusNext | Command::FocusPrev => {
                let i = PANES.iter().position(|p| *p == self.focus).unwrap_or(1);
                let n = PANES.len();
                let next = if command == Command::FocusNext {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.focus = PANES[next];
                Vec::new()
            }
            Command::ShowTab(t) => {
                self.tab = t.min(TABS.len() - 1);
                Vec::new()
            }
            Command::Open => match self.focus {
                Pane::Campaigns => self.open_campaign(self.campaign_cursor),
                Pane::RunLog => {
                    if let Some(job) = self.runlog.get(self.runlog_cursor) {
                        self.mode = Mode::Message(format!(
                            "{} {} of lead {} — {} after {} attempt(s)\n\n{}",
                            job.stage,
                            job.id,
                            job.lead,
                            job.status,
                            job.attempts,
                            job.last_error.as_deref().unwrap_or("no error")
                        ));
                    }
                    Vec::new()
                }
                _ => {
                    self.focus = Pane::Detail;
                    Vec::new()
                }
            },
            Command::Back => {
                self.marks.clear();
                self.range_anchor = None;
                if self.focus == Pane::Detail {
                    self.focus = Pane::Leads;
                }
                Vec::new()
            }
            Command::Filter => {
                self.mode = Mode::Filter(self.filter.text().to_string());
                Vec::new()
            }
            Command::NextMatch | Command::PrevMatch => {
                // With a filter, matches are the rows shown; n/N walk them.
                if self.visible.is_empty() {
                    return Vec::new();
                }
                let n = self.visible.len();
                let to = if command == Command::NextMatch {
                    (self.cursor + 1) % n
                } else {
                    (self.cursor + n - 1) % n
                };
                self.focus = Pane::Leads;
                self.move_cursor(to)
            }
            Command::Sort => {
                let i = SORTS.iter().position(|s| *s == self.sort).unwrap_or(0);
                self.sort = SORTS[(i + 1) % SORTS.len()];
                self.refresh_visible();
                self.note(format!("sorted by {}", self.sort.label()));
                Vec::new()
            }
            Command::SortReverse => {
                self.reverse = !self.reverse;
                self.refresh_visible();
                Vec::new()
            }
            Command::Mark => {
                if let Some(id) = self.selected().map(|l| l.id)
                    && !self.marks.remove(&id)
                {
                    self.marks.insert(id);
                }
                self.move_cursor(self.cursor + 1)
            }
            Command::RangeMark => {
                match self.range_anchor.take() {
                    None => {
                        self.range_anchor = Some(self.cursor);
                        self.note("range started: move, then press v again");
                    }
                    Some(anchor) => {
                        let (a, b) = (anchor.min(self.cursor), anchor.max(self.cursor));
                        for &i in &self.visible[a..=b.min(self.visible.len().saturating_sub(1))] {
                            self.marks.insert(self.leads[i].id);
                        }
                        self.note(format!("{} marked", self.marks.len()));
                    }
                }
                Vec::new()
            }
            Command::MarkAll => {
                for &i in &self.visible {
                    self.marks.insert(self.leads[i].id);
                }
                self.note(format!("{} marked", self.marks.len()));
                Vec::new()
            }
            Command::Approve | Command::Reject => {
                let targets = self.targets();
                if targets.is_empty() {
                    return Vec::new();
                }
                self.marks.clear();
                vec![if command == Command::Approve {
                    Effect::Approve(targets)
                } else {
                    Effect::Reject(targets)
                }]
            }
            Command::Blacklist => self.ask_about_targets(Ask::BlacklistWhich),
            Command::Rerun => self.ask_about_targets(Ask::RerunStage),
            // With a filter, only the failed jobs of the leads it shows.
            Command::RetryFailed => match &self.campaign {
                Some(c) => vec![Effect::RetryFailed {
                    campaign: c.clone(),
                    leads: if self.filter.is_empty() {
                        Vec::new()
                    } else {
                        self.visible.iter().map(|&i| self.leads[i].id).collect()
                    },
                }],
                None => Vec::new(),
            },
            Command::Edit => {
                let Some(selected) = self.selected().map(|l| l.id) else {
                    return Vec::new();
                };
                // The detail of a lead just moved to may still be loading:
                // the editor opens when it arrives.
                if self.detail.as_ref().map(|d| d.lead.lead.id) != Some(selected) {
                    self.pending_edit = Some(selected);
                    self.note("loading the draft…");
                    return Vec::new();
                }
                self.open_editor();
                Vec::new()
            }
            Command::ReportUrl => self
                .selected()
                .map(|l| vec![Effect::ReportUrl(l.id)])
                .unwrap_or_default(),
            Command::Import => self.ask(Ask::ImportPath),
            Command::AddLead => self.ask(Ask::AddLead),
            Command::Palette => self.ask(Ask::Palette),
        }
    }

    fn open_editor(&mut self) {
        let Some(detail) = &self.detail else { return };
        let Some(o) = &detail.outreach else {
            self.error("no draft yet for this lead (the draft stage makes one)");
            return;
        };
        let text = format!(
            "Subject: {}\n\n{}",
            o.outreach.subject,
            o.outreach.body.trim_end()
        );
        let mut area = TextArea::new(text.lines().map(String::from).collect());
        area.set_block(
            ratatui::widgets::Block::bordered().title(" edit draft — Ctrl-S save, Esc close "),
        );
        let editing = Editing {
            lead: detail.lead.lead.id,
            version: o.outreach.version(),
        };
        self.mode = Mode::Editor(editing, Box::new(area), false);
    }

    fn ask(&mut self, ask: Ask) -> Vec<Effect> {
        if self.campaign.is_none() && !matches!(ask, Ask::Palette) {
            self.error("no campaign yet: `:campaign new NAME` makes one");
            return Vec::new();
        }
        self.mode = Mode::Ask(ask, String::new());
        Vec::new()
    }

    fn ask_about_targets(&mut self, ask: fn(Vec<LeadId>) -> Ask) -> Vec<Effect> {
        let targets = self.targets();
        if targets.is_empty() {
            return Vec::new();
        }
        self.ask(ask(targets))
    }

    /// Keys while typing.
    fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let mode = std::mem::replace(&mut self.mode, Mode::Normal);
        let (mode, effects) = match mode {
            Mode::Normal => (Mode::Normal, Vec::new()),
            Mode::Help | Mode::Message(_) => match key.code {
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') | KeyCode::Char('?') => {
                    (Mode::Normal, Vec::new())
                }
                _ => (mode, Vec::new()),
            },
            Mode::ActionLog
                if matches!(
                    key.code,
                    KeyCode::Char('j' | 'k' | 'g' | 'G') | KeyCode::Up | KeyCode::Down
                ) =>
            {
                let oldest = self.action_log.len().saturating_sub(1);
                self.log_back = match key.code {
                    KeyCode::Char('k') | KeyCode::Up => (self.log_back + 1).min(oldest),
                    KeyCode::Char('j') | KeyCode::Down => self.log_back.saturating_sub(1),
                    KeyCode::Char('g') => oldest,
                    _ => 0,
                };
                (mode, Vec::new())
            }
            Mode::Dashboard | Mode::ActionLog => match key.code {
                KeyCode::Esc
                | KeyCode::Enter
                | KeyCode::Char('q')
                | KeyCode::Char('D')
                | KeyCode::Char('L') => (Mode::Normal, Vec::new()),
                _ => (mode, Vec::new()),
            },
            Mode::ConfirmQuit => match key.code {
                KeyCode::Char('y') | KeyCode::Char('q') => {
                    self.quit = true;
                    (Mode::Normal, vec![Effect::Quit])
                }
                _ => (Mode::Normal, Vec::new()),
            },
            Mode::Filter(mut text) => match key.code {
                KeyCode::Esc => (Mode::Normal, Vec::new()),
                KeyCode::Enter => match Filter::parse(&text) {
                    Ok(filter) => {
                        self.filter = filter;
                        self.refresh_visible();
                        let effects = self
                            .selected()
                            .map(|l| vec![Effect::LoadDetail(l.id)])
                            .unwrap_or_default();
                        self.note(format!(
                            "{} of {} leads match",
                            self.visible.len(),
                            self.leads.len()
                        ));
                        (Mode::Normal, effects)
                    }
                    Err(e) => {
                        self.error(e);
                        (Mode::Filter(text), Vec::new())
                    }
                },
                _ => {
                    edit_line(&mut text, key);
                    (Mode::Filter(text), Vec::new())
                }
            },
            Mode::Ask(ask, mut text) => match key.code {
                KeyCode::Esc => (Mode::Normal, Vec::new()),
                KeyCode::Char(c @ ('e' | 'd')) if matches!(ask, Ask::BlacklistWhich(_)) => {
                    let Ask::BlacklistWhich(ids) = &ask else {
                        unreachable!()
                    };
                    let values = self.blacklist_values(ids, c == 'e');
                    if values.is_empty() {
                        self.error("none of them has an email address");
                        (Mode::Normal, Vec::new())
                    } else {
                        self.marks.clear();
                        (Mode::Normal, vec![Effect::Blacklist(values)])
                    }
                }
                KeyCode::Tab if matches!(ask, Ask::Palette) => {
                    if let Some(done) = PALETTE_COMMANDS
                        .iter()
                        .find(|c| c.starts_with(text.as_str()) && !text.is_empty())
                    {
                        text = done.to_string();
                    }
                    (Mode::Ask(ask, text), Vec::new())
                }
                KeyCode::Enter => {
                    let effects = self.answer(&ask, text.trim());
                    (Mode::Normal, effects)
                }
                _ if matches!(ask, Ask::BlacklistWhich(_)) => (Mode::Ask(ask, text), Vec::new()),
                _ => {
                    edit_line(&mut text, key);
                    (Mode::Ask(ask, text), Vec::new())
                }
            },
            Mode::Editor(editing, mut area, confirm_discard) => {
                let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
                match key.code {
                    KeyCode::Char('s') if ctrl => {
                        let text = area.lines().join("\n");
                        match text.split_once('\n') {
                            Some((first, body)) if first.starts_with("Subject:") => {
                                let subject =
                                    first.trim_start_matches("Subject:").trim().to_string();
                                let body = body.trim_start_matches('\n').to_string();
                                // The editor closes once the save is
                                // confirmed, so a failed save loses nothing.
                                self.note("saving…");
                                (
                                    Mode::Editor(editing, area, false),
                                    vec![Effect::SaveDraft {
                                        lead: editing.lead,
                                        version: editing.version,
                                        subject,
                                        body,
                                    }],
                                )
                            }
                            _ => {
                                self.error("the first line must be `Subject: ...`");
                                (Mode::Editor(editing, area, false), Vec::new())
                            }
                        }
                    }
                    KeyCode::Esc if confirm_discard => (Mode::Normal, Vec::new()),
                    KeyCode::Esc => {
                        self.error("Esc again discards your changes; Ctrl-S saves");
                        (Mode::Editor(editing, area, true), Vec::new())
                    }
                    _ => {
                        area.input(key);
                        (Mode::Editor(editing, area, false), Vec::new())
                    }
                }
            }
        };
        self.mode = mode;
        effects
    }

    fn blacklist_values(&self, ids: &[LeadId], emails: bool) -> Vec<String> {
        ids.iter()
            .filter_map(|id| self.index.get(id).map(|&i| &self.leads[i]))
            .filter_map(|l| {
                if emails {
                    l.email.clone()
                } else {
                    Some(l.domain.clone())
                }
            })
            .collect()
    }

    fn answer(&mut self, ask: &Ask, text: &str) -> Vec<Effect> {
        let campaign = self.campaign.clone().unwrap_or_default();
        match ask {
            Ask::BlacklistWhich(_) => Vec::new(),
            Ask::RerunStage(ids) if !text.is_empty() => {
                self.marks.clear();
                vec![Effect::Rerun {
                    campaign,
                    stages: split_list(text),
                    leads: ids.clone(),
                }]
            }
            Ask::ImportPath if !text.is_empty() => vec![Effect::Import {
                campaign,
                path: text.to_string(),
            }],
            Ask::AddLead if !text.is_empty() => vec![Effect::AddLead {
                campaign,
                website: text.to_string(),
            }],
            Ask::Palette => self.palette(text, campaign),
            _ => Vec::new(),
        }
    }

    /// `:run fetch,audit`, `:send`, `:stop-send`, `:retry`, `:blacklist VALUE...`,
    /// `:campaign new NAME`, `:import PATH`.
    fn palette(&mut self, text: &str, campaign: String) -> Vec<Effect> {
        let (head, rest) = text.split_once(' ').unwrap_or((text, ""));
        let rest = rest.trim();
        let needs_campaign = |app: &mut Self| {
            if campaign.is_empty() {
                app.error("no campaign yet: `:campaign new NAME` makes one");
                true
            } else {
                false
            }
        };
        match head {
            "run" => {
                if needs_campaign(self) {
                    return Vec::new();
                }
                vec![Effect::Rerun {
                    campaign,
                    stages: split_list(rest),
                    leads: self.marks.iter().copied().collect(),
                }]
            }
            "send" if !needs_campaign(self) => {
                self.note("sending… (`:stop-send` stops after the message in hand)");
                vec![Effect::Send { campaign }]
            }
            "stop-send" => vec![Effect::StopSends],
            "retry" if !needs_campaign(self) => vec![Effect::RetryFailed {
                campaign,
                leads: Vec::new(),
            }],
            "blacklist" if !rest.is_empty() => vec![Effect::Blacklist(
                rest.split_whitespace().map(String::from).collect(),
            )],
            "import" if !rest.is_empty() && !needs_campaign(self) => vec![Effect::Import {
                campaign,
                path: rest.into(),
            }],
            "campaign" => match rest.split_once(' ') {
                Some(("new", name)) if !name.trim().is_empty() => {
                    vec![Effect::CreateCampaign(name.trim().into())]
                }
                _ => {
                    self.error("usage: :campaign new NAME");
                    Vec::new()
                }
            },
            "" => Vec::new(),
            other => {
                self.error(format!("unknown command `{other}`; try run, send, stop-send, retry, blacklist, import, campaign new"));
                Vec::new()
            }
        }
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Typing into a one-line input.
fn edit_line(text: &mut String, key: KeyEvent) {
    match key.code {
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => text.clear(),
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => text.push(c),
        _ => {}
    }
}
