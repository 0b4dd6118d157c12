//! The run log: jobs running (with elapsed time), queued, and recently
//! finished, failures with their error's first line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState};

use super::{fit, pane_block};
use crate::domain::JobStatus;
use crate::service::jobs::JobView;
use crate::tui::app::{App, Pane};
use crate::tui::theme::Theme;

/// The run log component's state: the newest jobs and the cursor.
#[derive(Default)]
pub struct RunLog {
    pub jobs: Vec<JobView>,
    pub cursor: usize,
    /// Jobs changed: reload on the next tick (throttled).
    pub stale: bool,
}

impl RunLog {
    pub fn loaded(&mut self, jobs: Vec<JobView>) {
        self.jobs = jobs;
        self.cursor = self.cursor.min(self.jobs.len().saturating_sub(1));
    }

    pub fn move_to(&mut self, to: usize) {
        self.cursor = to.min(self.jobs.len().saturating_sub(1));
    }

    /// The whole of the job under the cursor, for reading.
    pub fn describe_selected(&self) -> Option<String> {
        self.jobs.get(self.cursor).map(|job| {
            format!(
                "{} {} of lead {} — {} after {} attempt(s)\n\n{}",
                job.stage,
                job.id,
                job.lead,
                job.status,
                job.attempts,
                job.last_error.as_deref().unwrap_or("no error")
            )
        })
    }
}

const SPINNER: [&str; 4] = ["◐", "◓", "◑", "◒"];

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let focused = app.focus == Pane::RunLog;
    let block = pane_block(" Run log ", focused, theme);
    if app.runlog.jobs.is_empty() {
        frame.render_widget(
            ratatui::widgets::Paragraph::new(
                "No jobs yet. `:run` runs the pipeline over the campaign (or the marked leads).",
            )
            .style(theme.dim())
            .block(block),
            area,
        );
        return;
    }
    let width = area.width.saturating_sub(4) as usize;
    let frame_no = (app.now.as_millisecond() / 250).unsigned_abs() as usize % SPINNER.len();
    let items: Vec<ListItem> = app
        .runlog
        .jobs
        .iter()
        .map(|j| {
            let when = match (j.status, j.started_at, j.finished_at) {
                (JobStatus::Running, Some(start), _) => {
                    format!(
                        "{} {}s",
                        SPINNER[frame_no],
                        app.now.duration_since(start).as_secs().max(0)
                    )
                }
                (_, _, Some(end)) => end.strftime("%H:%M:%S").to_string(),
                _ => String::new(),
            };
            let error = j
                .last_error
                .as_deref()
                .and_then(|e| e.lines().next())
                .unwrap_or("");
            let line = Line::from(vec![
                Span::styled(
                    format!("{:<13}", j.status.to_string()),
                    theme.job_status(j.status),
                ),
                Span::raw(format!("{:<11}", j.stage.to_string())),
                Span::styled(format!("{:<10} ", when), theme.dim()),
                Span::raw(format!(
                    "{:<26} ",
                    fit(
                        &app.lead_name(j.lead)
                            .map(String::from)
                            .unwrap_or_else(|| j.lead.to_string()),
                        26
                    )
                )),
                Span::styled(fit(error, width.saturating_sub(62)), theme.error()),
            ]);
            ListItem::new(line)
        })
        .collect();
    let mut state = ListState::default().with_selected(focused.then_some(app.runlog.cursor));
    frame.render_stateful_widget(
        List::new(items)
            .block(block)
            .highlight_style(theme.selected()),
        area,
        &mut state,
    );
}
