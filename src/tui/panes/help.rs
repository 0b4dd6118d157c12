//! The `?` overlay: the keymap's lines wrapped to the screen (two columns
//! when it is wide enough), the filter syntax whole below them, and a
//! scroll position when all of it does not fit (80x24 does not).

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::overlays::centered;
use super::wrap;
use crate::tui::app::App;
use crate::tui::keymap;
use crate::tui::theme::Theme;

/// What `/` accepts, shown whole under the keys.
pub const FILTER_SYNTAX: &str = "Filter (/): words match the business, domain, email and city; \
    status:S (new, audited, drafted, approved, sent, failed…) · score:N, score:<N, score:>=N · \
    city:X · category:X · has:email|phone|score|views · hot (viewed after the email, or replied) · \
    replied · bounced · due (drafted or approved: waits on you or the sender). \
    Terms combine: all must match.";

/// Where the help is scrolled to, and how far it can go (from the last
/// draw).
#[derive(Debug, Default)]
pub struct HelpView {
    pub scroll: usize,
    max: usize,
    page: usize,
}

impl HelpView {
    /// A scroll key while the help is open; false for any other key.
    pub fn key(&mut self, code: KeyCode) -> bool {
        let half = (self.page / 2).max(1);
        self.scroll = match code {
            KeyCode::Char('j') | KeyCode::Down => self.scroll + 1,
            KeyCode::Char('k') | KeyCode::Up => self.scroll.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll + half,
            KeyCode::PageUp => self.scroll.saturating_sub(half),
            KeyCode::Char('g') | KeyCode::Home => 0,
            KeyCode::Char('G') | KeyCode::End => self.max,
            _ => return false,
        }
        .min(self.max);
        true
    }
}

/// The overlay's lines for a screen `width` cells wide, keys in `key_style`.
pub fn lines(width: u16, read_only: bool, key_style: Style) -> Vec<Line<'static>> {
    let inner = usize::from(width.saturating_sub(2));
    let mut entries: Vec<(String, String)> = Vec::new();
    for (keys, help) in keymap::help_lines(read_only) {
        // The tab keys read as one line.
        if let Some(tab) = help.strip_prefix("detail: ")
            && let Some((k, h)) = entries.last_mut()
            && h.starts_with("detail tab: ")
        {
            k.push(' ');
            k.push_str(&keys);
            h.push_str(", ");
            h.push_str(tab);
            continue;
        }
        let help = match help.strip_prefix("detail: ") {
            Some(tab) => format!("detail tab: {tab}"),
            None => help.to_string(),
        };
        entries.push((keys, help));
    }
    let key_width = entries.iter().map(|(k, _)| k.width()).max().unwrap_or(0);
    let columns = if inner >= 76 { 2 } else { 1 };
    let column_width = inner / columns;
    let text_width = column_width.saturating_sub(key_width + 2).max(8);
    let blocks: Vec<Vec<(String, String)>> = entries
        .iter()
        .map(|(keys, help)| {
            wrap(help, text_width)
                .into_iter()
                .enumerate()
                .map(|(i, line)| {
                    let k = if i == 0 { keys.as_str() } else { "" };
                    (format!("{k:>key_width$} "), line)
                })
                .collect()
        })
        .collect();
    // Columns of about equal height, entries kept whole.
    let total: usize = blocks.iter().map(Vec::len).sum();
    let mut split = blocks.len();
    if columns == 2 {
        let mut acc = 0;
        for (i, b) in blocks.iter().enumerate() {
            if acc >= total.div_ceil(2) {
                split = i;
                break;
            }
            acc += b.len();
        }
    }
    let left: Vec<(String, String)> = blocks[..split].concat();
    let right: Vec<(String, String)> = blocks[split..].concat();
    let rows = left.len().max(right.len());
    let mut out: Vec<Line<'static>> = (0..rows)
        .map(|row| {
            let mut spans = Vec::new();
            for (n, side) in [&left, &right].into_iter().enumerate() {
                if let Some((keys, text)) = side.get(row) {
                    if n == 1 {
                        // Pads the left column's text to its width.
                        let used = left.get(row).map_or(0, |(k, t)| k.width() + t.width());
                        spans.push(Span::raw(" ".repeat(column_width.saturating_sub(used))));
                    }
                    spans.push(Span::styled(keys.clone(), key_style));
                    spans.push(Span::raw(text.clone()));
                }
            }
            Line::from(spans)
        })
        .collect();
    out.push(Line::raw(""));
    out.extend(wrap(FILTER_SYNTAX, inner).into_iter().map(Line::raw));
    out
}

/// Keeps the scroll within the text as it is drawn on a screen this big.
pub fn measure(app: &mut App, area: Rect) {
    if !matches!(app.mode, crate::tui::app::Mode::Help) {
        return;
    }
    let (rect, total) = place(area, app.read_only);
    let page = usize::from(rect.height.saturating_sub(2));
    app.help.max = total.saturating_sub(page);
    app.help.page = page;
    app.help.scroll = app.help.scroll.min(app.help.max);
}

/// The overlay's rectangle and its number of lines.
fn place(area: Rect, read_only: bool) -> (Rect, usize) {
    let width = area.width.min(if area.width >= 78 { 120 } else { 78 });
    let total = lines(width, read_only, Style::new()).len();
    let height = u16::try_from(total + 2)
        .unwrap_or(u16::MAX)
        .min(area.height);
    (centered(area, width, height), total)
}

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let (rect, total) = place(frame.area(), app.read_only);
    let text = lines(rect.width, app.read_only, theme.title());
    let page = usize::from(rect.height.saturating_sub(2));
    let scroll = app.help.scroll.min(total.saturating_sub(page));
    let title = if total > page {
        format!(
            " Keys — {}–{} of {total} · ↓↑ PgDn scroll · Esc closes ",
            scroll + 1,
            (scroll + page).min(total)
        )
    } else {
        " Keys — Esc closes ".to_string()
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(text)
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
            .block(
                Block::bordered()
                    .title(title)
                    .border_style(theme.border(true)),
            ),
        rect,
    );
}
