//! Messages whole: the history of everything the TUI said this session
//! (notes and errors, with their time; `M` or `:messages` opens it, newest
//! last), the band that shows a message too long for the status bar
//! wrapped above it, and the word wrapping both (and the action log's
//! expanded row) use.

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::domain::Timestamp;
use crate::tui::theme::Theme;

/// The most messages kept; the oldest go first. A day of triage says a
/// few thousand things at most.
const KEPT: usize = 5000;

/// One thing said: when, what, and whether it was an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub at: Timestamp,
    pub text: String,
    pub error: bool,
}

/// Everything said this session, oldest first, and how far the view is
/// scrolled back (in messages, from the newest).
#[derive(Debug, Default)]
pub struct MessageHistory {
    pub said: Vec<Said>,
    pub back: usize,
}

impl MessageHistory {
    pub fn push(&mut self, at: Timestamp, text: &str, error: bool) {
        if self.said.len() >= KEPT {
            self.said.remove(0);
        }
        self.said.push(Said {
            at,
            text: text.to_string(),
            error,
        });
    }

    pub fn errors(&self) -> usize {
        self.said.iter().filter(|s| s.error).count()
    }

    /// Opens at the newest.
    pub fn open(&mut self) {
        self.back = 0;
    }

    /// A scrolling key; false for any other (the caller decides whether
    /// it closes the view).
    pub fn key(&mut self, code: KeyCode) -> bool {
        let oldest = self.said.len().saturating_sub(1);
        self.back = match code {
            KeyCode::Char('k') | KeyCode::Up => (self.back + 1).min(oldest),
            KeyCode::Char('j') | KeyCode::Down => self.back.saturating_sub(1),
            KeyCode::PageUp => (self.back + 10).min(oldest),
            KeyCode::PageDown => self.back.saturating_sub(10),
            KeyCode::Char('g') | KeyCode::Home => oldest,
            KeyCode::Char('G') | KeyCode::End => 0,
            _ => return false,
        };
        true
    }
}

/// `text` in lines of at most `width` characters: broken between words,
/// at its own line breaks, and inside a word only when the word alone is
/// longer than a line (a long URL).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut len = 0;
        for word in paragraph.split(' ') {
            let mut word: Vec<char> = word.chars().collect();
            let gap = usize::from(len > 0);
            if len + gap + word.len() > width && len > 0 {
                lines.push(std::mem::take(&mut line));
                len = 0;
            } else if gap == 1 {
                line.push(' ');
                len += 1;
            }
            while word.len() > width - len {
                let rest = word.split_off(width - len);
                line.extend(word);
                lines.push(std::mem::take(&mut line));
                len = 0;
                word = rest;
            }
            len += word.len();
            line.extend(word);
        }
        lines.push(line);
    }
    lines
}

/// Fits on one line of `width` characters.
pub fn fits(text: &str, width: usize) -> bool {
    !text.contains('\n') && text.chars().count() <= width
}

/// The whole message history over everything but the status bar; the
/// newest at the bottom.
pub fn draw_history(frame: &mut Frame, history: &MessageHistory, theme: &Theme) {
    let full = frame.area();
    let area = Rect {
        height: full.height.saturating_sub(1),
        ..full
    };
    frame.render_widget(Clear, area);
    let title = format!(
        " Messages — {} said, {} error(s) · newest last · Esc closes ",
        history.said.len(),
        history.errors()
    );
    let block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .border_style(theme.border(true));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if history.said.is_empty() {
        frame.render_widget(
            Paragraph::new("Nothing said yet: notes and errors show here as they come.")
                .style(theme.dim()),
            inner,
        );
        return;
    }
    // "12:04:31 error " before each message; its lines hang under the text.
    const PREFIX: usize = 15;
    let text_width = (inner.width as usize).saturating_sub(PREFIX).max(10);
    let end = history.said.len().saturating_sub(history.back);
    let mut blocks: Vec<Vec<Line>> = Vec::new();
    let mut used = 0;
    for said in history.said[..end].iter().rev() {
        let style = if said.error {
            theme.error()
        } else {
            ratatui::style::Style::default()
        };
        let label = if said.error { "error" } else { "note " };
        let lines: Vec<Line> = wrap(&said.text, text_width)
            .into_iter()
            .enumerate()
            .map(|(i, text)| {
                let head = if i == 0 {
                    format!("{} {label} ", said.at.strftime("%H:%M:%S"))
                } else {
                    " ".repeat(PREFIX)
                };
                Line::from(vec![
                    Span::styled(head, theme.dim()),
                    Span::styled(text, style),
                ])
            })
            .collect();
        // The newest shown message always shows, from its first line.
        if used > 0 && used + lines.len() > inner.height as usize {
            break;
        }
        used += lines.len();
        blocks.push(lines);
    }
    let lines: Vec<Line> = blocks.into_iter().rev().flatten().collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A message too long for the status bar, wrapped over the rows above
/// it (at most a third of the screen; the history has the rest).
/// `status` is the status bar's row.
pub fn draw_band(frame: &mut Frame, status: Rect, text: &str, error: bool, theme: &Theme) {
    let width = status.width as usize;
    let mut lines = wrap(text, width);
    let most = (frame.area().height / 3).max(3) as usize;
    if lines.len() > most {
        lines.truncate(most - 1);
        lines.push("… the rest: M opens the message history".to_string());
    }
    let height = (lines.len() as u16 + 1).min(status.y);
    let rect = Rect {
        x: status.x,
        y: status.y.saturating_sub(height),
        width: status.width,
        height,
    };
    let style = if error {
        theme.error()
    } else {
        ratatui::style::Style::default()
    };
    let title = if error {
        " error · M: all messages "
    } else {
        " message · M: all messages "
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines.into_iter().map(Line::from).collect::<Vec<_>>())
            .style(style)
            .block(
                Block::new()
                    .borders(Borders::TOP)
                    .title(Span::styled(title, theme.dim()))
                    .border_style(theme.dim()),
            ),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_and_breaks_only_long_words() {
        let text = "report: http://127.0.0.1:8080/r/4732cafe0123456789 copied";
        let lines = wrap(text, 20);
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
        assert_eq!(wrap("a b\nc", 80), vec!["a b", "c"]);
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(wrap("abcdefghij", 5), vec!["abcde", "fghij"]);
    }

    #[test]
    fn scrolling_stops_at_the_oldest_and_the_newest() {
        let mut h = MessageHistory::default();
        for i in 0..3 {
            h.push(Timestamp::UNIX_EPOCH, &format!("m{i}"), i == 1);
        }
        assert_eq!(h.errors(), 1);
        assert!(h.key(KeyCode::Char('g')));
        assert_eq!(h.back, 2);
        h.key(KeyCode::Char('k'));
        assert_eq!(h.back, 2, "no further than the oldest");
        h.key(KeyCode::Char('G'));
        assert_eq!(h.back, 0);
        assert!(!h.key(KeyCode::Esc));
    }
}
