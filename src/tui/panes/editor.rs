//! The draft editor component: the text being edited, the version it was
//! opened at, and what its keys do. Saving is an effect; the editor stays
//! open until the save is confirmed, so a failed save loses nothing.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Clear;
use ratatui_textarea::TextArea;

use crate::domain::LeadId;
use crate::tui::action::{Detail, Effect};

/// The email being edited: its lead and the version the text was opened
/// at (a save over a newer version is refused, so no edit is lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Editing {
    pub lead: LeadId,
    pub version: u32,
}

pub struct Editor {
    pub editing: Editing,
    pub area: TextArea<'static>,
    /// Esc was pressed once: the next Esc discards.
    pub confirm_discard: bool,
    /// The text as opened: Esc closes at once while nothing differs.
    opened: Vec<String>,
}

/// What a key did to the editor.
pub enum Outcome {
    Stay,
    /// Stay, and tell the operator (an error when `true`).
    Say(String, bool),
    Save(Effect),
    Close,
}

impl Editor {
    /// The editor over the lead's draft, or why there is none.
    pub fn open(detail: &Detail) -> Result<Self, String> {
        let Some(o) = &detail.outreach else {
            return Err(match &detail.lead.no_draft_reason {
                Some(why) => format!("no draft for this lead: {why}"),
                None => "no draft yet for this lead (the draft stage makes one)".into(),
            });
        };
        let text = format!(
            "Subject: {}\n\n{}",
            o.outreach.subject,
            o.outreach.body.trim_end()
        );
        let opened: Vec<String> = text.lines().map(String::from).collect();
        let mut area = TextArea::new(opened.clone());
        area.set_block(
            ratatui::widgets::Block::bordered().title(" edit draft — Ctrl-S save, Esc close "),
        );
        Ok(Self {
            editing: Editing {
                lead: detail.lead.lead.id,
                version: o.outreach.version(),
            },
            area,
            confirm_discard: false,
            opened,
        })
    }

    pub fn key(&mut self, key: KeyEvent) -> Outcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let confirm = std::mem::take(&mut self.confirm_discard);
        match key.code {
            KeyCode::Char('s') if ctrl => {
                let text = self.area.lines().join("\n");
                match text.split_once('\n') {
                    Some((first, body)) if first.starts_with("Subject:") => {
                        Outcome::Save(Effect::SaveDraft {
                            lead: self.editing.lead,
                            version: self.editing.version,
                            subject: first.trim_start_matches("Subject:").trim().to_string(),
                            body: body.trim_start_matches('\n').to_string(),
                        })
                    }
                    _ => Outcome::Say("the first line must be `Subject: ...`".into(), true),
                }
            }
            KeyCode::Esc if confirm || self.area.lines() == self.opened.as_slice() => {
                Outcome::Close
            }
            KeyCode::Esc => {
                self.confirm_discard = true;
                Outcome::Say("Esc again discards your changes; Ctrl-S saves".into(), true)
            }
            _ => {
                self.area.input(key);
                Outcome::Stay
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        frame.render_widget(Clear, area);
        frame.render_widget(&self.area, area);
    }
}
