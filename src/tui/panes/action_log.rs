//! The action log view (`L`): who changed what, newest last, in the words
//! `leadscout log` uses (`ActionRecord::describe`). A selected row, rows
//! that scroll, and Enter to read the selected one whole.

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::fit;
use super::messages::wrap;
use crate::domain::action_log::ActionRecord;
use crate::tui::app::App;
use crate::tui::theme::Theme;

/// Rows a page key moves.
const PAGE: usize = 10;

/// The action log's state: the records, which is selected (counted back
/// from the newest, so new records keep the view at the bottom) and
/// whether it is expanded.
#[derive(Default)]
pub struct ActionLogView {
    pub records: Vec<ActionRecord>,
    pub back: usize,
    pub expanded: bool,
}

impl ActionLogView {
    pub fn loaded(&mut self, records: Vec<ActionRecord>) {
        self.records = records;
        self.back = 0;
        self.expanded = false;
    }

    pub fn selected(&self) -> Option<&ActionRecord> {
        let i = self.records.len().checked_sub(1 + self.back)?;
        self.records.get(i)
    }

    /// A key the view handles (moving, expanding, collapsing); false for
    /// any other, which the caller may take to close the view.
    pub fn key(&mut self, code: KeyCode) -> bool {
        let oldest = self.records.len().saturating_sub(1);
        let back = match code {
            KeyCode::Char('k') | KeyCode::Up => (self.back + 1).min(oldest),
            KeyCode::Char('j') | KeyCode::Down => self.back.saturating_sub(1),
            KeyCode::PageUp => (self.back + PAGE).min(oldest),
            KeyCode::PageDown => self.back.saturating_sub(PAGE),
            KeyCode::Char('g') | KeyCode::Home => oldest,
            KeyCode::Char('G') | KeyCode::End => 0,
            KeyCode::Enter if !self.records.is_empty() => {
                self.expanded = !self.expanded;
                return true;
            }
            // Esc first collapses; a second Esc closes.
            KeyCode::Esc if self.expanded => {
                self.expanded = false;
                return true;
            }
            _ => return false,
        };
        self.back = back;
        true
    }
}

/// Everything but the status bar.
fn body(frame: &Frame) -> Rect {
    let area = frame.area();
    Rect {
        height: area.height.saturating_sub(1),
        ..area
    }
}

/// One record's lines: the columns, then (expanded) its whole text
/// wrapped under them.
fn record_lines<'a>(
    r: &ActionRecord,
    width: usize,
    wide: bool,
    selected: bool,
    expanded: bool,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let when = r.at.strftime("%m-%d %H:%M").to_string();
    let head = if wide {
        format!(
            "{when:<12}{:<10} {:<14} ",
            fit(&r.user, 10),
            fit(&r.via, 14)
        )
    } else {
        format!("{when:<12}{:<8} ", fit(&r.user, 8))
    };
    let what = r.describe();
    let room = width.saturating_sub(head.chars().count());
    let style = if selected {
        theme.selected()
    } else {
        ratatui::style::Style::default()
    };
    if !(selected && expanded) {
        let text = fit(&what, room);
        let pad = room.saturating_sub(text.chars().count());
        return vec![Line::from(vec![
            Span::styled(head, if selected { style } else { theme.dim() }),
            Span::styled(format!("{text}{}", " ".repeat(pad)), style),
        ])];
    }
    // Expanded: who and how in full, then the description wrapped.
    let mut lines = vec![Line::from(Span::styled(
        fit(
            &format!(
                "{} · {} via {}{}",
                r.at.strftime("%Y-%m-%d %H:%M:%S"),
                r.user,
                r.via,
                r.campaign
                    .as_deref()
                    .map(|c| format!(" · campaign {c}"))
                    .unwrap_or_default()
            ),
            width,
        ),
        style,
    ))];
    lines.extend(
        wrap(&what, width.saturating_sub(2))
            .into_iter()
            .map(|l| Line::from(format!("  {l}"))),
    );
    lines
}

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = body(frame);
    frame.render_widget(Clear, area);
    let view = &app.action_log;
    let scope = app.campaigns.open.as_deref().unwrap_or("all campaigns");
    let block = Block::bordered()
        .title(Span::styled(
            format!(" Action log — {scope} · j/k move · Enter expand · Esc closes "),
            theme.title(),
        ))
        .border_style(theme.border(true));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if view.records.is_empty() {
        frame.render_widget(
            Paragraph::new(
                "Nothing recorded yet: approvals, edits, sends, blacklist and settings changes and imports show here.",
            )
            .style(theme.dim()),
            inner,
        );
        return;
    }
    let width = inner.width as usize;
    let wide = width >= 120;
    let header = if wide {
        format!("{:<12}{:<10} {:<14} what", "when", "user", "via")
    } else {
        format!("{:<12}{:<8} what", "when", "user")
    };
    let height = inner.height.saturating_sub(1) as usize;
    let selected = view.records.len().saturating_sub(1 + view.back);
    let lines_of = |i: usize| {
        record_lines(
            &view.records[i],
            width,
            wide,
            i == selected,
            view.expanded,
            theme,
        )
    };
    // The selected record whole, then newer records below it while they
    // fit, then older ones above: the view only scrolls when the
    // selection would leave it.
    let mut shown = lines_of(selected);
    shown.truncate(height.max(1));
    let mut below = Vec::new();
    for i in selected + 1..view.records.len() {
        let lines = lines_of(i);
        if shown.len() + below.len() + lines.len() > height {
            break;
        }
        below.extend(lines);
    }
    let mut above: Vec<Line> = Vec::new();
    for i in (0..selected).rev() {
        let mut lines = lines_of(i);
        if shown.len() + below.len() + above.len() + lines.len() > height {
            break;
        }
        lines.extend(above);
        above = lines;
    }
    let mut all = vec![Line::from(Span::styled(header, theme.title()))];
    all.extend(above);
    all.extend(shown);
    all.extend(below);
    frame.render_widget(Paragraph::new(all), inner);
}
