//! Keys while typing or reading an overlay, routed to the component the
//! mode belongs to (filter line, prompt and palette, editor, action log).

use crossterm::event::{KeyCode, KeyEvent};

use super::{App, Mode};
use crate::domain::LeadId;
use crate::tui::action::Effect;
use crate::tui::filter::Filter;
use crate::tui::panes::editor;
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

    pub(super) fn filter_key(&mut self, mut text: String, key: KeyEvent) -> (Mode, Vec<Effect>) {
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
