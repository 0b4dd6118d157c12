//! What each command does: routed to the focused component (moves,
//! marks, sorting) or opening a prompt, the editor or an overlay.

use super::{App, Mode, PANES, Pane};
use crate::domain::LeadId;
use crate::tui::action::{Command, Effect};
use crate::tui::panes::confirm::Confirm;
use crate::tui::panes::detail::TABS;
use crate::tui::panes::editor::Editor;
use crate::tui::panes::prompt::Ask;

impl App {
    pub(super) fn position(&self) -> usize {
        match self.focus {
            Pane::Campaigns => self.campaigns.cursor,
            Pane::RunLog => self.runlog.cursor,
            _ => self.leads.cursor,
        }
    }

    /// Moves the focused list's cursor; a new lead row asks for its detail.
    pub(super) fn move_cursor(&mut self, to: usize) -> Vec<Effect> {
        match self.focus {
            Pane::Campaigns => self.campaigns.move_to(to),
            Pane::RunLog => self.runlog.move_to(to),
            // The detail scrolls with these keys (see `command`); a move
            // that reaches here with it focused (a mark) moves the leads.
            Pane::Leads | Pane::Detail => {
                if let Some(id) = self.leads.move_to(to) {
                    return self.detail.want(id);
                }
            }
        }
        Vec::new()
    }

    pub(super) fn command(&mut self, command: Command) -> Vec<Effect> {
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
            Command::Help => {
                self.mode = Mode::Help;
                self.help.scroll = 0;
            }
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
            Command::Messages => self.mode = self.open_history(),
            // With the detail focused, the movement keys scroll its text
            // and the lead stays the same.
            Command::Up
            | Command::Down
            | Command::Top
            | Command::Bottom
            | Command::PageDown
            | Command::PageUp
                if self.focus == Pane::Detail =>
            {
                self.detail.scroll_by(command);
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
            Command::Back => return self.back(),
            // Opens empty; Up brings back earlier filters.
            Command::Filter => self.mode = Mode::Filter(Default::default()),
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
            Command::Reject if self.leads.targets().len() > 1 => {
                let targets = self.leads.targets();
                self.mode = Mode::Confirm(Box::new(Confirm {
                    question: format!(
                        "Reject the drafts of {} marked leads ({})? u undoes it afterwards.",
                        targets.len(),
                        crate::tui::undo::names(
                            &targets
                                .iter()
                                .map(|id| self.lead_name(*id).unwrap_or("?").to_string())
                                .collect::<Vec<_>>()
                        )
                    ),
                    declined: format!("nothing rejected; {} still marked", targets.len()),
                    effects: vec![Effect::Reject(targets)],
                    clears_marks: true,
                }));
            }
            Command::Undo => match self.undo.take() {
                Some(undo) => return vec![undo.effect()],
                None => self.note("nothing to undo: u takes back the last reject or blacklist"),
            },
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

    /// Esc: back from the detail to the list; on the list, clears the
    /// marks and the filter, saying what it cleared.
    fn back(&mut self) -> Vec<Effect> {
        let marks = self.leads.marks.len();
        self.leads.marks.clear();
        self.leads.range_anchor = None;
        let mut cleared = Vec::new();
        if marks > 0 {
            cleared.push(format!("{marks} mark{}", if marks == 1 { "" } else { "s" }));
        }
        let mut effects = Vec::new();
        if self.focus == Pane::Detail {
            self.focus = Pane::Leads;
        } else if !self.leads.filter.is_empty() {
            cleared.push(format!("the filter /{}", self.leads.filter.text()));
            let before = self.leads.selected_id();
            self.leads.set_filter(Default::default());
            if let Some(id) = self.leads.selected_id().filter(|id| Some(*id) != before) {
                effects = self.detail.want(id);
            }
        }
        if !cleared.is_empty() {
            let shown = if self.leads.filter.is_empty() {
                format!("; all {} leads shown", self.leads.visible.len())
            } else {
                String::new()
            };
            self.note(format!("cleared {}{shown}", cleared.join(" and ")));
        }
        effects
    }

    pub(super) fn edit(&mut self) {
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

    pub(super) fn open_editor(&mut self) {
        let Some(detail) = &self.detail.shown else {
            return;
        };
        match Editor::open(detail) {
            Ok(editor) => self.mode = Mode::Editor(Box::new(editor)),
            Err(why) => self.error(why),
        }
    }

    pub(super) fn ask(&mut self, ask: Ask) {
        if self.campaign().is_none() && !matches!(ask, Ask::Palette) {
            self.error("no campaign yet: `:campaign new NAME` makes one");
            return;
        }
        self.mode = Mode::Ask(ask, String::new());
    }

    pub(super) fn ask_about_targets(&mut self, ask: fn(Vec<LeadId>) -> Ask) {
        let targets = self.leads.targets();
        if !targets.is_empty() {
            self.ask(ask(targets));
        }
    }
}
