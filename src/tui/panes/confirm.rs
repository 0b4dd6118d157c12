//! A yes/no question before a change that is big or hard to take back (a
//! run over a whole campaign, a bulk rejection): the question, what `y`
//! runs, and what to say when the answer is no.

use ratatui::Frame;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::action::Effect;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub question: String,
    /// Run on `y`.
    pub effects: Vec<Effect>,
    /// Whether `y` uses the marks up (they stay on `n`).
    pub clears_marks: bool,
    /// Said on any other key.
    pub declined: String,
}

impl Confirm {
    pub fn draw(&self, frame: &mut Frame, theme: &Theme) {
        let area = frame.area();
        let width = area.width.saturating_sub(4).min(64);
        let text = format!("{}\n\ny  yes · n  no", self.question);
        let inner = width.saturating_sub(2).max(1) as usize;
        let rows: usize = text
            .lines()
            .map(|l| l.chars().count().div_ceil(inner).max(1))
            .sum();
        let height = (rows as u16 + 2).min(area.height);
        let rect = ratatui::layout::Rect {
            x: area.x + area.width.saturating_sub(width) / 2,
            y: area.y + area.height.saturating_sub(height) / 2,
            width,
            height,
        };
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: false }).block(
                Block::bordered()
                    .title(" confirm ")
                    .border_style(theme.error()),
            ),
            rect,
        );
    }
}
