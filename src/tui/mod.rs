//! The full-screen terminal UI. It runs the workers and the page server in
//! this process while it is open and shuts them down gracefully on quit.
//! Keys become commands (keymap), commands and events become actions,
//! `App::update` turns actions into state and effects, effects run as
//! tasks and answer with actions. Drawing happens when something changed
//! and on a 250 ms tick, never in a busy loop.
//!
//! Talks to `service` and `web` only.

pub mod action;
pub mod app;
mod effects;
pub mod filter;
pub mod keymap;
pub mod panes;
#[cfg(test)]
mod tests;
pub mod theme;

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
use crate::service::{Client, Opener};

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Opens the TUI on this terminal and runs until the operator quits.
pub async fn run(opener: &dyn Opener) -> Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!(
            "the TUI needs a terminal; for scripts use the subcommands (leadscout --help), for servers `leadscout serve`"
        );
    }
    let client = crate::service::connect_with_workers(opener, "tui").await?;
    run_on(client).await
}

/// Opens the TUI over a client: embedded (this process runs the workers
/// and the page server while the TUI is open) or attached to `serve`
/// (which keeps running them after the TUI quits).
pub async fn run_on(service: Client) -> Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!(
            "the TUI needs a terminal; for scripts use the subcommands (leadscout --help), for servers `leadscout serve`"
        );
    }
    let web = match service.as_local() {
        Some(local) => match crate::web::WebServer::start(local.clone()).await {
            Ok(web) => Some(web),
            Err(e) => {
                tracing::warn!(error = %e, "the page server is not running");
                None
            }
        },
        None => None,
    };
    service.start_workers();
    let info = service.info();
    // Links point at the public address when there is one, else at the
    // page server this process (or the attached server) runs.
    let web_url = match &web {
        Some(web) if !info.public_links => Some(format!("http://{}", web.addr())),
        None if !service.is_remote() => None,
        _ => Some(info.pages_url),
    };

    // The terminal is restored before any panic report is printed.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        hook(info);
    }));
    enable_raw_mode().wrap_err("cannot switch the terminal to raw mode")?;
    execute!(std::io::stdout(), EnterAlternateScreen)
        .wrap_err("cannot open the alternate screen")?;
    let outcome = event_loop(&service, web_url).await;
    restore_terminal();
    if let Some(web) = web {
        web.stop().await;
    }
    service.shutdown().await;
    outcome.map(|()| ExitCode::SUCCESS)
}

async fn event_loop(service: &Client, web_url: Option<String>) -> Result<()> {
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
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Action>();
    for effect in app.start() {
        effects::spawn(service, effect, &tx);
    }
    let mut keys = EventStream::new();
    let mut events = service.subscribe();
    let mut stats = service.queue_stats();
    let mut link = service.link();
    app.link = link.borrow_and_update().clone();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    terminal.draw(|f| panes::draw(f, &mut app, &theme))?;
    loop {
        let action = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(key))) if key.kind != KeyEventKind::Release => {
                    if matches!(app.mode, Mode::Normal) {
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
            _ = terminate.recv() => break,
            _ = hangup.recv() => break,
        };
        for effect in app.update(action) {
            effects::spawn(service, effect, &tx);
        }
        if app.quit {
            break;
        }
        // Drain what else is waiting before drawing once.
        while let Ok(action) = rx.try_recv() {
            for effect in app.update(action) {
                effects::spawn(service, effect, &tx);
            }
        }
        terminal.draw(|f| panes::draw(f, &mut app, &theme))?;
    }
    Ok(())
}
