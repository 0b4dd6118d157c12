//! The `/` filter prompt: the text being typed (it opens empty), a walk
//! through this session's earlier filters with Up and Down (newest first,
//! each once), and the reason the last Enter was refused, drawn in the
//! error style on the line above the input while the prompt stays open.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::tui::panes::prompt;
use crate::tui::theme::Theme;

/// Filters applied this session, newest first, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterHistory(Vec<String>);

impl FilterHistory {
    pub fn remember(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.0.retain(|t| t != text);
        self.0.insert(0, text.to_string());
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        self.0.get(i).map(String::as_str)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterLine {
    pub text: String,
    /// Why the last Enter was refused (the term and its column).
    pub error: Option<String>,
    /// Which history entry is shown (0 = newest), while walking.
    walk: Option<usize>,
    /// What was typed before the walk began; Down past the newest entry
    /// brings it back.
    typed: String,
}

/// What a key asks of the app.
pub enum Outcome {
    Stay,
    Apply(String),
    Cancel,
}

impl FilterLine {
    pub fn key(&mut self, key: KeyEvent, history: &FilterHistory) -> Outcome {
        match key.code {
            KeyCode::Esc => return Outcome::Cancel,
            KeyCode::Enter => return Outcome::Apply(self.text.clone()),
            KeyCode::Up => {
                let next = self.walk.map_or(0, |i| i + 1);
                if let Some(text) = history.get(next) {
                    if self.walk.is_none() {
                        self.typed = std::mem::take(&mut self.text);
                    }
                    self.walk = Some(next);
                    self.text = text.to_string();
                    self.error = None;
                }
            }
            KeyCode::Down => match self.walk {
                Some(0) => {
                    self.walk = None;
                    self.text = std::mem::take(&mut self.typed);
                    self.error = None;
                }
                Some(i) => {
                    self.walk = Some(i - 1);
                    self.text = history.get(i - 1).unwrap_or_default().to_string();
                    self.error = None;
                }
                None => {}
            },
            _ => {
                prompt::edit_line(&mut self.text, key);
                self.walk = None;
            }
        }
        Outcome::Stay
    }

    /// The input on the bottom row with its keys, the refusal (wrapped,
    /// at most three rows) right above it.
    pub fn draw(&self, frame: &mut Frame, theme: &Theme) {
        let area = frame.area();
        if area.height == 0 {
            return;
        }
        let input = Rect {
            x: area.x,
            y: area.bottom() - 1,
            width: area.width,
            height: 1,
        };
        frame.render_widget(Clear, input);
        let typed = self.text.chars().count() + 2;
        let keys = KEYS
            .iter()
            .find(|k| typed + k.chars().count() + 2 <= area.width as usize)
            .map_or(String::new(), |k| format!("  {k}"));
        let line = Line::from(vec![
            Span::styled("/", theme.title()),
            Span::raw(self.text.clone()),
            Span::raw("▏"),
            Span::styled(keys, theme.dim()),
        ]);
        frame.render_widget(Paragraph::new(line), input);
        let Some(error) = &self.error else { return };
        let lines = wrap(error, area.width.max(1) as usize);
        let rows = (lines.len().min(3) as u16).min(area.height - 1);
        let above = Rect {
            x: area.x,
            y: input.y - rows,
            width: area.width,
            height: rows,
        };
        frame.render_widget(Clear, above);
        let lines: Vec<Line> = lines
            .into_iter()
            .take(rows as usize)
            .map(Line::from)
            .collect();
        frame.render_widget(Paragraph::new(lines).style(theme.error()), above);
    }
}

/// The prompt's keys, longest first; the first that fits is shown.
const KEYS: [&str; 2] = [
    "Enter applies · Esc cancels · ↑↓ earlier filters",
    "Enter · Esc · ↑↓",
];

/// Greedy word wrap at `width` characters (a word longer than a row is
/// cut into rows).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if needed > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.chars().count() > width {
            let head: String = line.chars().take(width).collect();
            line = line.chars().skip(width).collect();
            lines.push(head);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("ab cd ef", 5), vec!["ab cd", "ef"]);
        assert_eq!(wrap("abcdefg h", 3), vec!["abc", "def", "g h"]);
        assert_eq!(wrap("", 3), Vec::<String>::new());
    }

    #[test]
    fn history_is_newest_first_and_each_once() {
        let mut h = FilterHistory::default();
        for t in ["a", "b", " a ", ""] {
            h.remember(t);
        }
        assert_eq!((h.get(0), h.get(1), h.get(2)), (Some("a"), Some("b"), None));
    }
}
