//! The detail pane: the selected lead in five tabs (audit, screenshot,
//! draft, contacts, history).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs, Wrap};

use super::{fit, pane_block};
use crate::domain::audit::Category;
use crate::tui::action::Detail;
use crate::tui::app::{App, Pane, TABS};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let focused = app.focus == Pane::Detail;
    let title = app
        .detail
        .as_ref()
        .map(|d| format!(" {} ", d.lead.lead.business_name))
        .unwrap_or_else(|| " Detail ".into());
    let block = pane_block(Line::from(title), focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [tabs, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    let titles: Vec<String> = TABS
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{} {t}", i + 1))
        .collect();
    frame.render_widget(
        Tabs::new(titles)
            .select(app.tab)
            .highlight_style(theme.selected())
            .divider("|"),
        tabs,
    );
    let Some(detail) = &app.detail else {
        frame.render_widget(Paragraph::new("Select a lead.").style(theme.dim()), body);
        return;
    };
    let width = body.width as usize;
    let lines = match app.tab {
        0 => audit(detail, theme, width),
        1 => return picture(frame, body, detail, theme),
        2 => draft(detail, theme),
        3 => contacts(detail, theme),
        _ => history(detail, theme, width),
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
}

fn bar(score: u8, width: usize) -> String {
    let filled = (score as usize * width).div_ceil(100).min(width);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

fn audit<'a>(d: &'a Detail, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let Some(a) = &d.audit else {
        return vec![Line::styled(
            "Not audited yet: `r` runs fetch,audit for it.",
            theme.dim(),
        )];
    };
    let bar_width = width.saturating_sub(22).clamp(5, 30);
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("overall {:>3} ", a.scores.overall), theme.title()),
        Span::styled(
            bar(a.scores.overall, bar_width),
            theme.score(Some(a.scores.overall)),
        ),
    ])];
    for c in Category::ALL {
        if let Some(s) = a.scores.categories.get(&c) {
            lines.push(Line::from(vec![
                Span::raw(format!("{:<13}{s:>3} ", fit(c.label(), 12))),
                Span::styled(bar(*s, bar_width), theme.score(Some(*s))),
            ]));
        }
    }
    lines.push(Line::raw(""));
    for c in Category::ALL {
        let found: Vec<_> = a.findings.iter().filter(|f| f.category == c).collect();
        if found.is_empty() {
            continue;
        }
        lines.push(Line::styled(
            format!("{} ({})", c.label(), found.len()),
            theme.title(),
        ));
        for f in found {
            lines.push(Line::from(vec![
                Span::styled(format!(" {:<8} ", f.severity.as_str()), theme.error()),
                Span::raw(f.title.clone()),
            ]));
            if !f.evidence.is_empty() {
                lines.push(Line::styled(
                    format!("          {}", f.evidence),
                    theme.dim(),
                ));
            }
        }
    }
    if let Some(diff) = &d.diff {
        let delta = i16::from(diff.overall_now) - i16::from(diff.overall_before);
        lines.push(Line::styled(
            format!(
                "since {}: overall {delta:+}",
                diff.previous_at.strftime("%Y-%m-%d")
            ),
            theme.title(),
        ));
        if !diff.diff.fixed.is_empty() {
            lines.push(Line::raw(format!(
                "  fixed: {}",
                diff.diff.fixed.join(", ")
            )));
        }
        if !diff.diff.new.is_empty() {
            lines.push(Line::styled(
                format!("  new: {}", diff.diff.new.join(", ")),
                theme.error(),
            ));
        }
    }
    lines.push(Line::styled(
        format!(
            "{} checks passed · audited {} · {} audit(s)",
            a.passed.len(),
            a.audited_at.strftime("%Y-%m-%d %H:%M"),
            a.audits
        ),
        theme.dim(),
    ));
    lines
}

/// The phone screenshot in Unicode half blocks: each cell shows two
/// pixels, the upper as foreground and the lower as background colour.
fn picture(frame: &mut Frame, area: Rect, d: &Detail, theme: &Theme) {
    let Some(img) = &d.picture else {
        let text = if d.audit.is_some() {
            "No screenshot: the screenshot stage has not run (or no browser was found; see `leadscout doctor`)."
        } else {
            "Not audited yet."
        };
        frame.render_widget(
            Paragraph::new(text)
                .style(theme.dim())
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    if !theme.color {
        frame.render_widget(
            Paragraph::new("Pictures need colour (NO_COLOR is set).").style(theme.dim()),
            area,
        );
        return;
    }
    let (w, h) = (img.width().max(1), img.height().max(1));
    // Fit the picture: one cell is one pixel wide and two pixels tall.
    let scale = (area.width as f64 / w as f64).min((area.height as f64 * 2.0) / h as f64);
    let cols = ((w as f64 * scale) as u16).max(1).min(area.width);
    let rows = ((h as f64 * scale / 2.0) as u16).max(1).min(area.height);
    let buf = frame.buffer_mut();
    for row in 0..rows {
        for col in 0..cols {
            let px = |y: u32| {
                let x = ((col as f64 / scale) as u32).min(w - 1);
                let p = img.get_pixel(x, y.min(h - 1)).0;
                Color::Rgb(p[0], p[1], p[2])
            };
            let top = px(((row as f64 * 2.0) / scale) as u32);
            let bottom = px((((row as f64 * 2.0) + 1.0) / scale) as u32);
            if let Some(cell) = buf.cell_mut((area.x + col, area.y + row)) {
                cell.set_symbol("▀")
                    .set_style(Style::new().fg(top).bg(bottom));
            }
        }
    }
}

fn draft<'a>(d: &'a Detail, theme: &Theme) -> Vec<Line<'a>> {
    let Some(o) = &d.outreach else {
        return vec![Line::styled(
            "No draft yet: the draft stage writes one after the audit.",
            theme.dim(),
        )];
    };
    let o = &o.outreach;
    let mut lines = vec![
        Line::from(vec![
            Span::styled("status  ", theme.dim()),
            Span::raw(o.status.to_string()),
        ]),
        Line::from(vec![
            Span::styled("to      ", theme.dim()),
            Span::raw(o.to.to_string()),
        ]),
        Line::from(vec![
            Span::styled("subject ", theme.dim()),
            Span::styled(o.subject.clone(), theme.title()),
        ]),
    ];
    if let Some(note) = o.note.as_ref().or(o.model_note.as_ref()) {
        lines.push(Line::styled(format!("note    {note}"), theme.error()));
    }
    lines.push(Line::raw(""));
    lines.extend(o.body.lines().map(|l| Line::raw(l.to_string())));
    lines.push(Line::styled("a approve · x reject · e edit", theme.dim()));
    lines
}

fn contacts<'a>(d: &'a Detail, theme: &Theme) -> Vec<Line<'a>> {
    let l = &d.lead;
    let mut lines = vec![
        Line::raw(format!("website  {}", l.lead.website)),
        Line::raw(format!(
            "email    {}{}",
            l.lead.email.as_deref().unwrap_or("–"),
            l.email_source
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        )),
        Line::raw(format!(
            "phone    {}",
            l.lead.phone.as_deref().unwrap_or("–")
        )),
        Line::raw(format!(
            "city     {}",
            l.lead.city.as_deref().unwrap_or("–")
        )),
        Line::raw(format!(
            "category {}",
            l.lead.category.as_deref().unwrap_or("–")
        )),
    ];
    if let Some(why) = &l.blacklisted {
        lines.push(Line::styled(format!("blacklisted: {why}"), theme.error()));
    }
    if let Some(a) = &d.audit {
        lines.push(Line::raw(""));
        lines.push(Line::styled("found on the site", theme.title()));
        for e in &a.contacts.emails {
            lines.push(Line::raw(format!("  {} ({})", e.value, e.source)));
        }
        for p in &a.contacts.phones {
            lines.push(Line::raw(format!("  {}", p.value)));
        }
        for (network, url) in &a.contacts.socials {
            lines.push(Line::raw(format!("  {network}: {url}")));
        }
    }
    for (k, v) in &l.attributes {
        lines.push(Line::styled(format!("{k}: {v}"), theme.dim()));
    }
    lines
}

fn history<'a>(d: &'a Detail, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    if d.jobs.is_empty() {
        return vec![Line::styled("No jobs for this lead yet.", theme.dim())];
    }
    d.jobs
        .iter()
        .flat_map(|j| {
            let mut lines = vec![Line::from(vec![
                Span::raw(format!("{:<11}", j.stage.to_string())),
                Span::styled(
                    format!("{:<13}", j.status.to_string()),
                    theme.job_status(j.status),
                ),
                Span::styled(
                    format!(
                        "{} attempt(s) {}",
                        j.attempts,
                        j.finished_at
                            .or(j.started_at)
                            .map(|t| t.strftime("%m-%d %H:%M").to_string())
                            .unwrap_or_default()
                    ),
                    theme.dim(),
                ),
            ])];
            if let Some(e) = &j.last_error {
                lines.push(Line::styled(
                    format!(
                        "  {}",
                        fit(e.lines().next().unwrap_or(""), width.saturating_sub(2))
                    ),
                    theme.error(),
                ));
            }
            lines
        })
        .collect()
}
