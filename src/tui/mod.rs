//! The full-screen terminal UI. With no host running for the data dir it
//! starts one (workers, page server, control socket, re-audits) and is its
//! face: other commands and TUIs attach to it while it is open, and
//! quitting asks first when they do. Otherwise it attaches to the host.
//! Keys become commands (keymap), commands and events become actions,
//! `App::update` turns actions into state and effects, effects run as
//! tasks and answer with actions. Drawing happens when something changed
//! and on a 250 ms tick, never in a busy loop.
//!
//! Talks to `service` only.

pub mod action;
pub mod app;
mod effects;
pub mod filter;
pub mod keymap;
pub mod panes;
#[cfg(test)]
mod tests;
pub mod theme;
mod undo;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, bail};
use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::broadcast::error::RecvError;

use action::Action;
use app::{App, Mode};
use theme::Theme;

use crate::domain::event::Event;
use crate::service::{Api, Client, Face, HostOptions, Hosted, Opener};

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Opens the TUI on this terminal and runs until the operator quits:
/// attached to the host of this data dir when one runs, else as the host
/// (then other commands and TUIs attach to this one).
pub async fn run(opener: &dyn Opener) -> Result<ExitCode> {
    need_terminal()?;
    let options = HostOptions {
        pages_required: false,
    };
    match crate::service::attach_or_host(opener, "tui", options).await? {
        Face::Attached(client) => run_on(client).await,
        Face::Hosting(hosted) => run_hosted(hosted).await,
    }
}

fn need_terminal() -> Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!(
            "the TUI needs a terminal; for scripts use the subcommands (leadscout --help), for servers `leadscout serve`"
        );
    }
    Ok(())
}

/// Opens the TUI attached to another process's host (which keeps running
/// after the TUI quits).
pub async fn run_on(service: Client) -> Result<ExitCode> {
    need_terminal()?;
    let web_url = Some(service.info().pages_url);
    face(&service, web_url, None).await
}

/// Opens the TUI as the face of the host in this process; quitting stops
/// the host (after asking, when others are attached to it).
pub async fn run_hosted(hosted: Hosted) -> Result<ExitCode> {
    if let Err(e) = need_terminal() {
        hosted.stop().await;
        return Err(e);
    }
    let service = hosted.client().clone();
    let info = service.info();
    // Links point at the public address when there is one, else at the
    // page server this process runs.
    let web_url = match hosted.addrs().pages {
        Some(addr) if !info.public_links => Some(format!("http://{addr}")),
        Some(_) => Some(info.pages_url),
        None => None,
    };
    let outcome = face(&service, web_url, Some(&hosted)).await;
    hosted.stop().await;
    outcome
}

/// Runs the screen until the operator quits; the terminal is restored
/// whatever happens.
async fn face(
    service: &Client,
    web_url: Option<String>,
    host: Option<&Hosted>,
) -> Result<ExitCode> {
    // The terminal is restored before any panic report is printed.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        hook(info);
    }));
    enable_raw_mode().wrap_err("cannot switch the terminal to raw mode")?;
    execute!(std::io::stdout(), EnterAlternateScreen)
        .wrap_err("cannot open the alternate screen")?;
    let outcome = event_loop(service, web_url, host).await;
    restore_terminal();
    outcome.map(|()| ExitCode::SUCCESS)
}

async fn event_loop(
    service: &Client,
    web_url: Option<String>,
    host: Option<&Hosted>,
) -> Result<()> {
    let mut terminal =
        Terminal::new(CrosstermBackend::new(std::io::stdout())).wrap_err("cannot start drawing")?;
    let theme = Theme::from_env();
    let clock = crate::domain::SystemClock;
    use crate::domain::Clock;
    let mut app = App::new(clock.now(), web_url);
    app.read_only = service.is_read_only();
    // Asked before anything reads the terminal's input (its answer comes
    // in on stdin); half blocks when it does not answer in time.
    app.detail.pictures = panes::picture::Pictures::detect();
    effects::load_full_pictures(app.detail.pictures.full_resolution());
    // Subscribed before the first loads: a change between a load's read
    // and the subscription would otherwise never reach the screen.
    let mut events = service.subscribe();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Action>();
    for effect in app.start() {
        effects::spawn(service, effect, &tx);
    }
    let mut keys = EventStream::new();
    let mut stats = service.queue_stats();
    let mut link = service.link();
    app.link = link.borrow_and_update().clone();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    // The inbox watcher's state for the status bar; the host writes it
    // once per sync, so a slow look is enough.
    let mut inbox_tick = tokio::time::interval(Duration::from_secs(15));
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    // SIGINT too, when this process hosts (SIGTERM and SIGHUP above).
    let host_signal = async {
        match host {
            Some(host) => host.signalled().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(host_signal);
    // The question asked before a hosting TUI quits while others use it.
    let mut leaving: Option<String> = None;
    let draw = |f: &mut ratatui::Frame, app: &mut App, leaving: &Option<String>| {
        panes::draw(f, app, &theme);
        if let Some(question) = leaving {
            draw_leaving(f, question, &theme);
        }
    };
    terminal.draw(|f| draw(f, &mut app, &leaving))?;
    loop {
        let action = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(key))) if key.kind != KeyEventKind::Release => {
                    if leaving.is_some() {
                        if matches!(key.code, crossterm::event::KeyCode::Char('y')) {
                            break;
                        }
                        leaving = None;
                        app.quit = false;
                        Action::Tick
                    } else if matches!(app.mode, Mode::Normal) {
                        match keymap::command_for(&key) {
                            Some(command) => Action::Command(command),
                            None => continue,
                        }
                    } else {
                        Action::Key(key)
                    }
                }
                Some(Ok(TermEvent::Resize(..))) => Action::Tick,
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).wrap_err("reading the terminal failed"),
                None => break,
            },
            event = events.recv() => match event {
                Ok(Event::JobChanged { lead, stage, status, .. }) => Action::JobChanged { lead, stage, status },
                Ok(Event::LeadChanged { lead }) => Action::LeadChanged(lead),
                Ok(Event::LeadReplied { lead, by }) => Action::LeadReplied(lead, by),
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => Action::Lagged,
                Err(RecvError::Closed) => break,
            },
            changed = stats.changed() => match changed {
                Ok(()) => Action::Stats(*stats.borrow_and_update()),
                Err(_) => continue,
            },
            Ok(()) = link.changed() => Action::Link(link.borrow_and_update().clone()),
            Some(action) = rx.recv() => action,
            _ = tick.tick() => {
                app.now = clock.now();
                Action::Tick
            }
            _ = inbox_tick.tick() => {
                let (service, tx) = (service.clone(), tx.clone());
                // A host too old to know the call: no inbox on the bar.
                tokio::spawn(async move {
                    if let Ok(status) = service.inbox_status().await {
                        let _ = tx.send(Action::Inbox(Box::new(status)));
                    }
                });
                continue;
            }
            _ = terminate.recv() => break,
            _ = hangup.recv() => break,
            _ = &mut host_signal => break,
        };
        for effect in app.update(action) {
            effects::spawn(service, effect, &tx);
        }
        if app.quit && leaving.is_none() {
            match host {
                Some(host) => match others_using(service, host).await {
                    Some(question) => leaving = Some(question),
                    None => break,
                },
                None => break,
            }
        }
        // Drain what else is waiting before drawing once.
        while let Ok(action) = rx.try_recv() {
            for effect in app.update(action) {
                effects::spawn(service, effect, &tx);
            }
        }
        terminal.draw(|f| draw(f, &mut app, &leaving))?;
    }
    Ok(())
}

/// The question to ask before quitting a TUI that hosts, when another
/// process is attached to it or a send runs in it; `None` when nothing
/// else would be stopped.
async fn others_using(service: &Client, host: &Hosted) -> Option<String> {
    let attached = host.attachments();
    let sends = service.running_sends().await.map_or(0, |s| s.len());
    if !attached.any() && sends == 0 {
        return None;
    }
    let mut what = Vec::new();
    if attached.clients > 0 {
        what.push(format!(
            "{} other TUI(s) or command(s) are attached to this TUI",
            attached.clients
        ));
    }
    if sends > 0 {
        what.push(format!("{sends} send(s) run here"));
    }
    Some(format!(
        "{}.\nQuitting stops them: a send stops after the message in hand,\nattached TUIs wait for a new host. Quit anyway?  y / n",
        what.join("; ")
    ))
}

fn draw_leaving(frame: &mut ratatui::Frame, question: &str, theme: &Theme) {
    use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
    let area = frame.area();
    let width = area.width.saturating_sub(4).min(72);
    let height = 6.min(area.height);
    let rect = ratatui::layout::Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(question)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().border_style(theme.error())),
        rect,
    );
}
