//! Keys while typing or reading an overlay, routed to the component the
//! mode belongs to (filter line, prompt and palette, editor, action log).

use crossterm::event::{KeyCode, KeyEvent};

use super::{App, Mode};
use crate::domain::LeadId;
use crate::tui::action::Effect;
use crate::tui::filter::Filter;
use crate::tui::panes::confirm::Confirm;
use crate::tui::panes::editor;
use crate::tui::panes::filter_line::{self, FilterLine};
use crate::tui::panes::prompt::{self, Ask};

impl App {
    /// Keys while typing or reading an overlay: routed to the component
    /// the mode belongs to.
    pub(super) fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let mode = std::mem::replace(&mut self.mode, Mode::Normal);
        let closes = |code| {
            matches!(
                code,
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q' | '?')
            )
        };
        let (mode, effects) = match mode {
            Mode::Normal => (Mode::Normal, Vec::new()),
            Mode::Help if self.help.key(key.code) => (Mode::Help, Vec::new()),
            Mode::Help | Mode::Message(_) if closes(key.code) => (Mode::Normal, Vec::new()),
            Mode::ActionLog if self.action_log.key(key.code) => (mode, Vec::new()),
            Mode::History if self.messages.key(key.code) => (mode, Vec::new()),
            Mode::Dashboard | Mode::ActionLog | Mode::History
                if closes(key.code) || matches!(key.code, KeyCode::Char('D' | 'L' | 'M')) =>
            {
                (Mode::Normal, Vec::new())
            }
            Mode::Help | Mode::Message(_) | Mode::Dashboard | Mode::ActionLog | Mode::History => {
                (mode, Vec::new())
            }
            Mode::ConfirmQuit => match key.code {
                KeyCode::Char('y' | 'q') => {
                    self.quit = true;
                    (Mode::Normal, vec![Effect::Quit])
                }
                _ => (Mode::Normal, Vec::new()),
            },
            Mode::Confirm(confirm) => self.confirm_key(*confirm, key),
            Mode::Filter(line) => self.filter_key(line, key),
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

    /// The filter prompt: Enter applies (an empty filter shows all) or
    /// keeps the prompt open with the reason; Esc leaves the filter in
    /// force as it was.
    pub(super) fn filter_key(
        &mut self,
        mut line: FilterLine,
        key: KeyEvent,
    ) -> (Mode, Vec<Effect>) {
        let text = match line.key(key, &self.filter_history) {
            filter_line::Outcome::Stay => return (Mode::Filter(line), Vec::new()),
            filter_line::Outcome::Cancel => return (Mode::Normal, Vec::new()),
            filter_line::Outcome::Apply(text) => text,
        };
        match Filter::parse(&text) {
            Ok(filter) => {
                self.filter_history.remember(&text);
                let empty = filter.is_empty();
                let shown = self.leads.set_filter(filter);
                let effects = match self.leads.selected_id() {
                    Some(id) => self.detail.want(id),
                    None => Vec::new(),
                };
                let total = self.leads.rows.len();
                self.note(if empty {
                    format!("no filter: all {total} leads shown")
                } else {
                    format!("{shown} of {total} match · Esc clears")
                });
                (Mode::Normal, effects)
            }
            Err(e) => {
                line.error = Some(e.to_string());
                (Mode::Filter(line), Vec::new())
            }
        }
    }

    /// `y` runs what the question was about; any other key says nothing
    /// was done.
    fn confirm_key(&mut self, confirm: Confirm, key: KeyEvent) -> (Mode, Vec<Effect>) {
        if key.code == KeyCode::Char('y') {
            if confirm.clears_marks {
                self.leads.marks.clear();
            }
            (Mode::Normal, confirm.effects)
        } else {
            self.note(confirm.declined);
            (Mode::Normal, Vec::new())
        }
    }

    pub(super) fn ask_key(
        &mut self,
        ask: Ask,
        mut text: String,
        key: KeyEvent,
    ) -> (Mode, Vec<Effect>) {
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
            (KeyCode::Enter, Ask::Palette) if prompt::opens_history(text.trim()) => {
                (self.open_history(), Vec::new())
            }
            (KeyCode::Enter, Ask::Palette) if text.trim() == "undo" => {
                let effects = self.command(crate::tui::action::Command::Undo);
                (std::mem::replace(&mut self.mode, Mode::Normal), effects)
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
                if let Some(confirm) = self.whole_campaign_run(&answer.effects) {
                    return (Mode::Confirm(Box::new(confirm)), Vec::new());
                }
                (Mode::Normal, answer.effects)
            }
            _ => {
                prompt::edit_line(&mut text, key);
                (Mode::Ask(ask, text), Vec::new())
            }
        }
    }

    /// A run with no marked leads goes over the whole campaign: asked
    /// first, naming the campaign and how many leads it would touch.
    fn whole_campaign_run(&self, effects: &[Effect]) -> Option<Confirm> {
        let [
            Effect::Rerun {
                campaign,
                stages,
                leads,
            },
        ] = effects
        else {
            return None;
        };
        if !leads.is_empty() {
            return None;
        }
        let name = self
            .campaigns
            .items
            .iter()
            .find(|c| &c.slug == campaign)
            .map_or(campaign.as_str(), |c| c.name.as_str());
        Some(Confirm {
            question: format!(
                "Run {} over the whole campaign {name} ({} leads)? Marked leads (Space) run alone.",
                stages.join(", "),
                self.leads.rows.len()
            ),
            effects: effects.to_vec(),
            clears_marks: false,
            declined: "nothing started; mark leads with Space to run over them only".into(),
        })
    }

    pub(super) fn blacklist_values(&self, ids: &[LeadId], emails: bool) -> Vec<String> {
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
