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
pub mod dashboard;
pub mod detail;
pub mod editor;
pub mod filter_line;
pub mod leads;
pub mod messages;
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
        let [l, d] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(rest);
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
            .draw(frame, area, app.focus == Pane::Detail, theme);
    }
    runlog::draw(frame, a.runlog, app, theme);
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

/// At most `width` characters, with an ellipsis when cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}
