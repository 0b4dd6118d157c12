//! The leads table. Only the rows on screen are built.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::{fit, pane_block};
use crate::tui::app::{App, Pane};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let focused = matches!(app.focus, Pane::Leads);
    let title = format!(
        " {} — {}{} leads{}{} ",
        app.campaign.as_deref().unwrap_or("no campaign"),
        if app.filter.is_empty() {
            String::new()
        } else {
            format!("{} of ", app.visible.len())
        },
        app.leads.len(),
        if app.filter.is_empty() {
            String::new()
        } else {
            format!(" /{}", app.filter.text())
        },
        if app.marks.is_empty() {
            String::new()
        } else {
            format!(", {} marked", app.marks.len())
        },
    );
    let block = pane_block(Line::from(title), focused, theme);
    if app.visible.is_empty() {
        let text = if app.loading {
            "Loading leads…".to_string()
        } else if app.campaign.is_none() {
            "No campaign yet. `:campaign new NAME` makes one, `i` imports a CSV.".to_string()
        } else if app.leads.is_empty() {
            "No leads in this campaign yet. `i` imports a CSV file, `A` adds one by hand."
                .to_string()
        } else {
            "No lead matches the filter. `/` changes it; an empty filter shows all.".to_string()
        };
        frame.render_widget(
            Paragraph::new(text)
                .style(theme.dim())
                .block(block)
                .wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let wide = area.width >= 90;
    let start = app.offset.min(app.visible.len());
    let end = (start + app.page).min(app.visible.len());
    let rows: Vec<Row> = app.visible[start..end]
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let lead = &app.leads[i];
            let marked = app.marks.contains(&lead.id);
            let job = app
                .last_jobs
                .get(&lead.id)
                .map(|(stage, status)| format!("{stage} {status}"))
                .unwrap_or_default();
            let mut cells = vec![
                Cell::from(if marked { "●" } else { " " }).style(theme.marked()),
                Cell::from(lead.status.as_str()).style(theme.lead_status(lead.status)),
                Cell::from(
                    lead.score
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "–".into()),
                )
                .style(theme.score(lead.score)),
                // Report views by people; `!` marks a hot lead (viewed
                // after its email went out).
                match (lead.views, lead.hot) {
                    (0, _) => Cell::from(""),
                    (n, true) => Cell::from(format!("{n}!")).style(theme.marked()),
                    (n, false) => Cell::from(n.to_string()),
                },
                Cell::from(lead.business_name.clone()),
                Cell::from(lead.domain.clone()),
            ];
            if wide {
                cells.push(Cell::from(lead.email.clone().unwrap_or_default()));
                cells.push(Cell::from(fit(&job, 22)).style(theme.dim()));
            }
            let row = Row::new(cells);
            if start + n == app.cursor {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(11),
        Constraint::Length(3),
        Constraint::Length(4),
        Constraint::Fill(3),
        Constraint::Fill(2),
    ];
    let mut header = vec!["", "status", "sc", "seen", "business", "domain"];
    if wide {
        widths.push(Constraint::Fill(2));
        widths.push(Constraint::Length(22));
        header.extend(["email", "last job"]);
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.title()))
        .column_spacing(1)
        .block(block);
    frame.render_widget(table, area);
}
