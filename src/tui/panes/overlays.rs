//! What opens over the panes: help (`help.rs`), the filter and
//! question line, the draft editor, the quit confirmation, a whole error,
//! the message history.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::app::{App, Mode};
use crate::tui::theme::Theme;

pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [_, v, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(height.min(area.height)),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, h, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(width.min(area.width)),
        Constraint::Fill(1),
    ])
    .areas(v);
    h
}

fn input_line(frame: &mut Frame, prompt: &str, text: &str, theme: &Theme) {
    let area = frame.area();
    let row = Rect {
        x: area.x,
        y: area.bottom().saturating_sub(1),
        width: area.width,
        height: 1,
    };
    frame.render_widget(Clear, row);
    let line = Line::from(vec![
        Span::styled(prompt.to_string(), theme.title()),
        Span::raw(text.to_string()),
        Span::raw("▏"),
    ]);
    frame.render_widget(Paragraph::new(line), row);
}

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    match &app.mode {
        Mode::Normal => {}
        Mode::Dashboard => super::dashboard::draw(frame, app, theme),
        Mode::ActionLog => super::action_log::draw(frame, app, theme),
        Mode::History => super::messages::draw_history(frame, &app.messages, theme),
        Mode::Help => super::help::draw(frame, app, theme),
        Mode::Filter(line) => line.draw(frame, theme),
        Mode::Confirm(confirm) => confirm.draw(frame, theme),
        Mode::Ask(ask, text) => input_line(frame, ask.question(), text, theme),
        Mode::Editor(editor) => {
            let rect = centered(
                area,
                area.width.saturating_sub(4).min(100),
                area.height.saturating_sub(2),
            );
            editor.draw(frame, rect);
        }
        Mode::ConfirmQuit => {
            let rect = centered(area, 60, 5);
            frame.render_widget(Clear, rect);
            let text = format!(
                "{} job(s) running, {} queued.\nQuit anyway? Running jobs get their grace period,\nthe rest wait in the queue.  y / n",
                app.stats.running, app.stats.queued
            );
            frame.render_widget(
                Paragraph::new(text).block(Block::bordered().border_style(theme.error())),
                rect,
            );
        }
        Mode::Message(text) => {
            let rect = centered(
                area,
                area.width.saturating_sub(6).min(110),
                area.height.saturating_sub(4).min(20),
            );
            frame.render_widget(Clear, rect);
            frame.render_widget(
                Paragraph::new(text.as_str())
                    .wrap(Wrap { trim: false })
                    .block(
                        Block::bordered()
                            .title(" Esc closes ")
                            .border_style(theme.border(true)),
                    ),
                rect,
            );
        }
    }
}
