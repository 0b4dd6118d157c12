//! The campaign dashboard over the panes: funnel, score histogram, common
//! problems, jobs and emails per hour, all with ratatui's own widgets.
//! It draws from figures the app already holds; nothing is read per frame.
//! (The action log view is in `action_log`.)

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Clear, Paragraph, Row, Sparkline, Table};

use super::fit;
use crate::domain::followup::StepFunnel;
use crate::tui::app::App;
use crate::tui::theme::Theme;

/// The dashboard's state: the last figures (drawn from here, never
/// recomputed per frame) and whether jobs changed them since.
#[derive(Default)]
pub struct DashboardView {
    pub figures: Option<crate::service::dashboard::Dashboard>,
    pub stale: bool,
    pub ticks: u32,
}

impl DashboardView {
    /// A tick while open: whether to reload (jobs changed the figures,
    /// at most every 5 s, 20 ticks).
    pub fn tick(&mut self, open: bool) -> bool {
        self.ticks = self.ticks.saturating_add(1);
        if open && self.stale && self.ticks >= 20 {
            self.stale = false;
            self.ticks = 0;
            return true;
        }
        false
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

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = body(frame);
    frame.render_widget(Clear, area);
    let title = format!(
        " Dashboard — {} · Esc closes ",
        app.campaigns.open.as_deref().unwrap_or("")
    );
    let block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .border_style(theme.border(true));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(d) = &app.dashboard.figures else {
        frame.render_widget(Paragraph::new("Counting…").style(theme.dim()), inner);
        return;
    };
    let [top, bottom] = Layout::vertical([Constraint::Length(9), Constraint::Fill(1)]).areas(inner);
    let [funnel_area, histogram_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    let [problems_area, spark_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);

    // The funnel: a bar per step, scaled to the first.
    let first = d.funnel.first().map_or(0, |s| s.count).max(1);
    let bar_width = (funnel_area.width as usize).saturating_sub(27).max(4);
    let mut lines = vec![Line::from(Span::styled("Funnel", theme.title()))];
    for step in &d.funnel {
        let filled = (step.count as usize * bar_width)
            .div_ceil(first as usize)
            .min(bar_width);
        let rate = if step.step == "leads" {
            String::new()
        } else {
            format!("{:>5.1}%", step.rate)
        };
        lines.push(Line::from(vec![
            Span::raw(format!("{:<9}{:>7} ", step.step, step.count)),
            Span::styled("█".repeat(filled), theme.selected()),
            Span::raw(" ".repeat(bar_width - filled)),
            Span::styled(format!(" {rate}"), theme.dim()),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), funnel_area);

    // Scores: one bar per band of ten; counts written on the bars only
    // where they fit.
    let gap = if histogram_area.width >= 60 { 1 } else { 0 };
    let width = (histogram_area.width.saturating_sub(2) / 10)
        .saturating_sub(gap)
        .max(1);
    let bars: Vec<Bar> = d
        .scores
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let bar = Bar::default()
                .value(n)
                .label(Line::from(format!("{}", i * 10)))
                .style(theme.score(Some((i * 10) as u8)));
            if (width as usize) > n.to_string().len() {
                bar
            } else {
                bar.text_value(String::new())
            }
        })
        .collect();
    let chart = BarChart::default()
        .block(Block::default().title(Span::styled("Overall scores", theme.title())))
        .data(BarGroup::default().bars(&bars))
        .bar_width(width)
        .bar_gap(gap)
        .value_style(theme.dim());
    frame.render_widget(chart, histogram_area);

    // Replies by step, above the problems, when the campaign has
    // follow-ups.
    let problems_area = if d.by_step.len() > 1 {
        let height = d.by_step.len() as u16 + 2;
        let [steps_area, rest] =
            Layout::vertical([Constraint::Length(height), Constraint::Fill(1)])
                .areas(problems_area);
        frame.render_widget(by_step(&d.by_step, theme), steps_area);
        rest
    } else {
        problems_area
    };

    // The most common problems.
    let rows: Vec<Row> = d
        .problems
        .iter()
        .map(|p| {
            Row::new(vec![
                p.leads.to_string(),
                fit(&p.title, problems_area.width.saturating_sub(9) as usize),
            ])
        })
        .collect();
    let table = Table::new(rows, [Constraint::Length(7), Constraint::Fill(1)]).block(
        Block::default().title(Span::styled(
            format!("Common problems ({} audits)", d.problems_sampled),
            theme.title(),
        )),
    );
    frame.render_widget(table, problems_area);

    // Throughput over the last 24 hours.
    let [jobs_area, sent_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(spark_area);
    let jobs_total: u64 = d.jobs_per_hour.iter().sum();
    let sent_total: u64 = d.sent_per_hour.iter().sum();
    frame.render_widget(
        Sparkline::default()
            .block(Block::default().title(Span::styled(
                format!("Jobs per hour, 24 h ({jobs_total})"),
                theme.title(),
            )))
            .data(&d.jobs_per_hour)
            .style(theme.selected()),
        jobs_area,
    );
    frame.render_widget(
        Sparkline::default()
            .block(Block::default().title(Span::styled(
                format!("Emails sent per hour, 24 h ({sent_total})"),
                theme.title(),
            )))
            .data(&d.sent_per_hour)
            .style(theme.marked()),
        sent_area,
    );
}

/// Sent, replied and waiting per step of the sequence.
fn by_step<'a>(steps: &[StepFunnel], theme: &Theme) -> Table<'a> {
    let rows: Vec<Row> = steps
        .iter()
        .map(|s| {
            let rate = if s.sent == 0 {
                String::new()
            } else {
                format!("{:.0}%", s.replied as f64 * 100.0 / s.sent as f64)
            };
            Row::new(vec![
                format!("step {}", s.step),
                s.sent.to_string(),
                s.replied.to_string(),
                rate,
                s.pending.to_string(),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Length(8),
    ];
    Table::new(rows, widths)
        .header(Row::new(vec!["", "sent", "replied", "rate", "waiting"]).style(theme.dim()))
        .block(Block::default().title(Span::styled("Replies by step", theme.title())))
}
