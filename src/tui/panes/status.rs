//! The status bar: the queue, the page server, embedded or attached, the
//! inbox watcher (when set up), the mode, and the keys of the mode and focused pane, or the latest notice
//! when it fits; a longer notice is drawn whole above the bar (see
//! `messages::draw_band`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::domain::inbox::WatchMode;
use crate::service::Link;
use crate::tui::app::{App, Mode, Pane};
use crate::tui::theme::Theme;

/// The bar's fixed parts: the mode and queue, the page server, the link.
fn parts(area: Rect, app: &App, theme: &Theme) -> (String, String, (String, Style)) {
    let s = &app.stats;
    let mode = match &app.mode {
        Mode::Normal => "NORMAL",
        Mode::Help => "HELP",
        Mode::Filter(_) => "FILTER",
        Mode::Ask(..) => "ASK",
        Mode::Editor(..) => "EDIT",
        Mode::ConfirmQuit => "QUIT?",
        Mode::Confirm(_) => "CONFIRM",
        Mode::Message(_) => "ERROR",
        Mode::Dashboard => "DASHBOARD",
        Mode::ActionLog => "LOG",
        Mode::History => "MESSAGES",
    };
    let queue = format!(
        " {mode} │ queued {} running {} failed {} │ {}/min ",
        s.queued, s.running, s.failed, s.done_per_minute
    );
    // At 80 columns the page server's address gives way to the keys; the
    // report URL command still shows it.
    let server = app
        .web_url
        .as_deref()
        .filter(|_| area.width >= 120)
        .map(|u| format!("│ {u} "))
        .unwrap_or_default();
    let link = match &app.link {
        Link::Embedded => ("embedded ".to_string(), theme.dim()),
        Link::Attached { pid, host, .. } => {
            (format!("attached to {host} (pid {pid}) "), theme.dim())
        }
        Link::Disconnected { .. } => ("disconnected, retrying ".to_string(), theme.error()),
    };
    (queue, server, link)
}

/// The inbox watcher on the bar, when it is set up: how the host watches
/// (idle, polling, reconnecting) and the time of the last sync, or that
/// the last one failed (`inbox status` says why).
fn inbox(app: &App, theme: &Theme) -> (String, Style) {
    let Some(status) = &app.inbox else {
        return (String::new(), theme.dim());
    };
    if status.watch == WatchMode::Reconnecting {
        return ("│ inbox: reconnecting ".into(), theme.error());
    }
    if status.last_error.is_some() && !status.connected {
        return ("│ inbox: error ".into(), theme.error());
    }
    // Idle is the healthy steady state and says nothing new; polling is
    // worth knowing (replies arrive up to poll_secs late).
    let mode = match status.watch {
        WatchMode::Polling => "polling, ",
        _ => "",
    };
    match &status.last_sync {
        Some(at) => (
            format!(
                "│ inbox: {mode}synced {} ",
                at.to_zoned_datetime(jiff::tz::TimeZone::system())
                    .strftime("%H:%M")
            ),
            theme.dim(),
        ),
        None => ("│ inbox: waiting ".into(), theme.dim()),
    }
}

/// Characters left on the bar for the keys or the notice.
fn room(area: Rect, app: &App, theme: &Theme) -> usize {
    let (queue, server, (link, _)) = parts(area, app, theme);
    let (inbox, _) = inbox(app, theme);
    let fixed = queue.chars().count()
        + server.chars().count()
        + link.chars().count()
        + inbox.chars().count()
        + 3;
    (area.width as usize).saturating_sub(fixed)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let room = room(area, app, theme);
    let (queue, server, (link, link_style)) = parts(area, app, theme);
    let (inbox, inbox_style) = inbox(app, theme);
    let (hint, hint_style) = match &app.notice {
        Some((text, error)) if super::messages::fits(text, room) => (
            text.clone(),
            if *error { theme.error() } else { theme.dim() },
        ),
        // Too long for here: drawn whole above the bar.
        _ => (keys(app), theme.dim()),
    };
    let line = Line::from(vec![
        Span::styled(queue, theme.selected()),
        Span::styled(server, theme.dim()),
        Span::styled("│ ", theme.dim()),
        Span::styled(link, link_style),
        Span::styled(inbox, inbox_style),
        Span::raw(" "),
        Span::styled(hint, hint_style),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// The keys that matter in the current mode (and pane).
fn keys(app: &App) -> String {
    match &app.mode {
        Mode::Editor(..) => "Ctrl-S save · Esc close (asks first when changed)".into(),
        Mode::Dashboard => "Esc/q/D close · ? help".into(),
        Mode::ActionLog => "Enter expand · j/k move · g/G oldest/newest · Esc/q/L close".into(),
        Mode::History => "j/k scroll · g/G oldest/newest · Esc/q/M close".into(),
        Mode::Help | Mode::Message(_) => "Esc close".into(),
        Mode::ConfirmQuit => "y quit · n stay".into(),
        Mode::Confirm(_) => "y go ahead · n or Esc leave it".into(),
        Mode::Filter(_) | Mode::Ask(..) => "Enter answer · Esc cancel".into(),
        Mode::Normal if app.read_only => {
            "READ-ONLY · / filter · Enter open · Tab next pane · M messages · ? help · q quit"
                .into()
        }
        Mode::Normal => match app.focus {
            Pane::Campaigns => "Enter open · Tab next pane · M messages · ? help".into(),
            Pane::RunLog => "Enter whole error · R retry failed · ? help".into(),
            _ => "/ filter · Space mark · a approve · e edit · : command · ? help · q quit".into(),
        },
    }
}

/// The notice, whole, above the bar when the bar has no room for it.
/// Drawn last, over any view, except where it would hide what the
/// operator opened to read (help, a whole error, the history itself).
pub fn draw_band(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if matches!(
        app.mode,
        Mode::Help | Mode::Message(_) | Mode::History | Mode::ConfirmQuit | Mode::Confirm(_)
    ) {
        return;
    }
    let Some((text, error)) = &app.notice else {
        return;
    };
    // Shown on the bar already.
    if super::messages::fits(text, room(area, app, theme)) {
        return;
    }
    super::messages::draw_band(frame, area, text, *error, theme);
}
