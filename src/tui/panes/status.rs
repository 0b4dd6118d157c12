//! The status bar: the queue, the page server, embedded or attached, the
//! mode, and the keys for the focused pane (or the latest notice).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::service::Link;
use crate::tui::app::{App, Mode, Pane};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
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
    let (link, link_style) = match &app.link {
        Link::Embedded => ("embedded ".to_string(), theme.dim()),
        Link::Attached { pid, host, .. } => {
            (format!("attached to {host} (pid {pid}) "), theme.dim())
        }
        Link::Disconnected { .. } => ("disconnected, retrying ".to_string(), theme.error()),
    };
    let hint = match (&app.notice, app.focus) {
        (Some((text, _)), _) => text.clone(),
        (None, _) if app.read_only => {
            "READ-ONLY · / filter · Enter open · Tab next pane · ? help · q quit".into()
        }
        (None, Pane::Campaigns) => "Enter open · Tab next pane · ? help".into(),
        (None, Pane::RunLog) => "Enter whole error · R retry failed · ? help".into(),
        (None, _) => {
            "/ filter · Space mark · a approve · e edit · : command · ? help · q quit".into()
        }
    };
    let hint_style = match &app.notice {
        Some((_, true)) => theme.error(),
        _ => theme.dim(),
    };
    let line = Line::from(vec![
        Span::styled(queue, theme.selected()),
        Span::styled(server, theme.dim()),
        Span::styled("│ ", theme.dim()),
        Span::styled(link, link_style),
        Span::raw(" "),
        Span::styled(hint, hint_style),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}
