//! The components and the layout. Each component module owns its state,
//! what changes it and how it draws (campaigns, leads table, detail,
//! run log, editor, prompt/palette, dashboard, action log and message
//! history); `App`
//! composes them and routes actions. Views build only what is on screen
//! (the leads table builds its visible rows only, so 100,000 leads draw
//! as fast as 100).

pub mod action_log;
pub mod campaigns;
mod columns;
pub mod confirm;
pub mod conversation;
pub mod dashboard;
pub mod detail;
pub mod editor;
pub mod filter_line;
pub mod help;
pub mod leads;
pub mod messages;
mod metrics;
mod overlays;
pub mod picture;
pub mod prompt;
pub mod runlog;
mod status;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Block;

use super::app::{App, Pane};
use super::theme::Theme;

/// Which panes fit: narrow terminals drop the campaigns pane, then show
/// the detail in place of the leads while it has the focus.
pub struct Areas {
    pub campaigns: Option<Rect>,
    pub leads: Option<Rect>,
    pub detail: Option<Rect>,
    pub runlog: Rect,
    pub status: Rect,
}

pub fn areas(app: &App, size: Rect) -> Areas {
    let runlog_height = if size.height >= 40 { 10 } else { 6 };
    let [main, runlog, status] = Layout::vertical([
        Constraint::Min(5),
        Constraint::Length(runlog_height),
        Constraint::Length(1),
    ])
    .areas(size);
    let (campaigns, rest) = if size.width >= 120 {
        let [c, r] = Layout::horizontal([Constraint::Length(24), Constraint::Min(40)]).areas(main);
        (Some(c), r)
    } else {
        (None, main)
    };
    // The detail goes beside the leads only when both have room: below
    // 120 columns a table beside it would cut the domains short.
    let (leads, detail) = if rest.width >= 120 {
        // The table takes 55 %, or more when its content wants more and
        // the detail keeps 60 columns (at 200 columns and up).
        let share = rest.width * 55 / 100;
        let wanted = app.leads.wanted_width().saturating_add(2);
        let width = wanted.min(rest.width.saturating_sub(60)).max(share);
        let [l, d] =
            Layout::horizontal([Constraint::Length(width), Constraint::Min(40)]).areas(rest);
        (Some(l), Some(d))
    } else if app.focus == Pane::Detail {
        (None, Some(rest))
    } else {
        (Some(rest), None)
    };
    Areas {
        campaigns,
        leads,
        detail,
        runlog,
        status,
    }
}

pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme) {
    let a = areas(app, frame.area());
    if let Some(area) = a.campaigns {
        campaigns::draw(frame, area, app, theme);
    }
    if let Some(area) = a.leads {
        let campaign = app.campaigns.open.as_deref();
        app.leads
            .draw(frame, area, campaign, app.focus == Pane::Leads, theme);
    }
    if let Some(area) = a.detail {
        app.detail
            .draw(frame, area, app.focus == Pane::Detail, app.now, theme);
    }
    runlog::draw(frame, a.runlog, app, theme);
    help::measure(app, frame.area());
    status::draw(frame, a.status, app, theme);
    overlays::draw(frame, app, theme);
    status::draw_band(frame, a.status, app, theme);
}

pub fn pane_block<'a>(
    title: impl Into<ratatui::text::Line<'a>>,
    focused: bool,
    theme: &Theme,
) -> Block<'a> {
    Block::bordered()
        .title(title)
        .border_style(theme.border(focused))
}

/// At most `width` terminal cells (wide characters take two), with an
/// ellipsis when cut.
pub fn fit(text: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// `text` broken at spaces into lines of at most `width` cells; a word
/// longer than a line is cut into pieces.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let sep = usize::from(!line.is_empty());
        if line.width() + sep + word.width() <= width {
            if sep == 1 {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            if line.width() + c.width().unwrap_or(0) > width {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}
