//! The audit tab's metrics: the phone estimate (Lighthouse mobile, each
//! figure with its mark) and what was measured here, as lines for the
//! detail pane's scrolling text. The words and figures come from
//! [`MetricsSummary`], the same the report page and `audit show` use.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use crate::domain::metrics::AuditMetrics;
use crate::domain::metrics_summary::{MetricsSummary, clip_url};
use crate::tui::theme::Theme;

/// Room left of the values.
const INDENT: &str = "  ";

pub fn lines(
    metrics: &AuditMetrics,
    speed: Option<u8>,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let Some(s) = MetricsSummary::of(metrics, speed) else {
        return Vec::new();
    };
    let label_width = s
        .estimate
        .iter()
        .flat_map(|e| e.rows.iter().map(|r| r.label.width()))
        .chain(s.measured.iter().map(|r| r.label.width()))
        .chain(["Render-blocking".width(), "Largest images".width()])
        .max()
        .unwrap_or(0);
    let label = |text: &str| format!("{INDENT}{text:<label_width$}  ");
    // URLs on their own lines, cut to the pane so each stays one line.
    let url_room = width.saturating_sub(INDENT.len() * 2).max(20);
    let mut out = Vec::new();
    match &s.estimate {
        Some(e) => {
            let mut head = vec![
                Span::styled(
                    format!(
                        "Phone estimate (Lighthouse {} mobile) ",
                        e.lighthouse_version
                    ),
                    theme.title(),
                ),
                Span::styled(
                    format!("{}/100", e.performance),
                    theme.score(Some(e.performance)),
                ),
            ];
            if e.is_speed_score {
                head.push(Span::styled(" = Speed", theme.dim()));
            }
            out.push(Line::from(head));
            wrapped(
                &mut out,
                INDENT,
                &format!("slow 4G: {}", e.conditions),
                width,
                theme.dim(),
            );
            let value_width = e.rows.iter().map(|r| r.value.width()).max().unwrap_or(0);
            for r in &e.rows {
                out.push(Line::from(vec![
                    Span::raw(label(r.label)),
                    Span::raw(format!("{:>value_width$}  ", r.value)),
                    Span::styled(r.rating, mark(theme, r.class)),
                ]));
            }
        }
        None => {
            out.push(Line::styled("Phone estimate", theme.title()));
            if let Some(why) = s.no_estimate {
                wrapped(&mut out, INDENT, why, width, theme.dim());
            }
        }
    }
    out.push(Line::styled("Measured here", theme.title()));
    wrapped(&mut out, INDENT, s.measured_how, width, theme.dim());
    for r in &s.measured {
        wrapped(&mut out, &label(&r.label), &r.value, width, Style::new());
    }
    if let Some(b) = &s.render_blocking {
        out.push(Line::raw(format!(
            "{}{}",
            label("Render-blocking"),
            b.count
        )));
        for url in &b.urls {
            out.push(Line::styled(
                format!("{INDENT}{INDENT}{}", clip_url(url, url_room)),
                theme.dim(),
            ));
        }
        if b.more > 0 {
            out.push(Line::styled(format!("{INDENT}{INDENT}…"), theme.dim()));
        }
    }
    if !s.largest_images.is_empty() {
        out.push(Line::raw(label("Largest images").trim_end().to_string()));
        let size_width = s
            .largest_images
            .iter()
            .map(|i| i.value.width())
            .max()
            .unwrap_or(0);
        let room = url_room.saturating_sub(size_width + 2).max(20);
        for i in &s.largest_images {
            out.push(Line::from(vec![
                Span::raw(format!("{INDENT}{INDENT}{:>size_width$}  ", i.value)),
                Span::styled(clip_url(&i.label, room), theme.dim()),
            ]));
        }
    }
    if let Some(note) = s.needs_browser {
        wrapped(&mut out, INDENT, note, width, theme.dim());
    }
    out
}

/// `text` after `first` (a label or an indent), wrapped at word breaks to
/// `width` with the continuation lines under the text, not at the margin.
fn wrapped(out: &mut Vec<Line<'static>>, first: &str, text: &str, width: usize, style: Style) {
    let hang = " ".repeat(first.width());
    let room = width.saturating_sub(hang.len()).max(20);
    let mut line = String::new();
    let mut lead = first.to_string();
    for word in text.split(' ') {
        if !line.is_empty() && line.width() + 1 + word.width() > room {
            out.push(Line::styled(format!("{lead}{line}"), style));
            lead.clone_from(&hang);
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(Line::styled(format!("{lead}{line}"), style));
}

fn mark(theme: &Theme, class: &str) -> Style {
    theme.score(Some(match class {
        "good" => 100,
        "fair" => 70,
        _ => 0,
    }))
}
