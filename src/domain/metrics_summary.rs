//! An audit's metrics as people read them, in one shape for the report
//! page, the TUI's audit tab and `audit show`: the phone estimate (what a
//! Lighthouse mobile run would most likely measure, each figure marked by
//! its Lighthouse score) and what was measured here, unthrottled. Only
//! figures that are in the audit's `metrics` appear, formatted by
//! [`Figure::display`]; page URLs are cut to a length that cannot break a
//! layout (they stay text: the faces escape them and never link them).
//!
//! Pure, like the rest of `domain`.

use serde::Serialize;

use super::metrics::{AuditMetrics, EstimatedFigure, Figure, MobileEstimate, Unit, count, show};

/// Render-blocking URLs shown; the rest are counted.
const BLOCKING_SHOWN: usize = 3;
/// Longest page URL shown, in characters.
pub const URL_MAX: usize = 90;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricsSummary {
    pub estimate: Option<EstimateSummary>,
    /// Why there is no phone estimate, when there is none.
    pub no_estimate: Option<&'static str>,
    /// How the "measured here" figures were taken (a sentence).
    pub measured_how: &'static str,
    pub measured: Vec<Row>,
    pub render_blocking: Option<UrlList>,
    /// Heaviest first: the URL as `label`, the size as `value`.
    pub largest_images: Vec<Row>,
    /// What only a browser load measures, said when this audit had none.
    pub needs_browser: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EstimateSummary {
    /// Lighthouse's performance score, 0..=100.
    pub performance: u8,
    /// The gauge's colour name: good, fair or poor.
    pub grade: &'static str,
    pub lighthouse_version: String,
    /// The simulated network and phone, e.g. `150 ms round trip, ...`.
    pub conditions: String,
    /// The audit's speed score is this estimate (set by the caller, which
    /// knows the scores).
    pub is_speed_score: bool,
    pub rows: Vec<RatedRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub label: String,
    pub value: String,
}

/// An estimated figure with its mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RatedRow {
    pub label: &'static str,
    /// What PageSpeed Insights calls it, so an owner can compare.
    pub lighthouse_name: &'static str,
    pub value: String,
    /// `good`, `needs work` or `poor`.
    pub rating: &'static str,
    /// The colour name for the rating: good, fair or poor.
    pub class: &'static str,
    /// False for layout shift, which is observed, not simulated.
    pub estimated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrlList {
    pub count: u64,
    pub urls: Vec<String>,
    /// How many of `count` are not listed.
    pub more: u64,
}

impl MetricsSummary {
    /// `None` when the audit measured nothing (it predates metrics).
    pub fn of(m: &AuditMetrics, speed_score: Option<u8>) -> Option<Self> {
        let any = m.ttfb.is_some()
            || m.transfer_bytes.is_some()
            || m.fcp.is_some()
            || m.mobile_estimate.is_some();
        if m.source.is_empty() && !any {
            return None;
        }
        let browser = m.source == "browser";
        let estimate = m
            .mobile_estimate
            .as_ref()
            .map(|e| estimate(e, speed_score == Some(e.performance)));
        let no_estimate = match (&estimate, browser) {
            (Some(_), _) => None,
            (None, true) => Some("No phone estimate could be made from this load of the page."),
            (None, false) => Some(
                "A phone estimate needs the page loaded in a browser (the screenshot stage); this audit only fetched the HTML.",
            ),
        };
        Some(Self {
            estimate,
            no_estimate,
            measured_how: if browser {
                "Unthrottled, on this machine, in a phone-sized browser."
            } else {
                "The HTML document alone, fetched without a browser."
            },
            measured: measured(m, browser),
            render_blocking: m.render_blocking.as_ref().filter(|r| r.count > 0).map(|r| {
                let urls: Vec<String> = r
                    .urls
                    .iter()
                    .take(BLOCKING_SHOWN)
                    .map(|u| clip_url(u, URL_MAX))
                    .collect();
                UrlList {
                    count: r.count,
                    more: r.count.saturating_sub(urls.len() as u64),
                    urls,
                }
            }),
            largest_images: m
                .largest_images
                .iter()
                .map(|i| Row {
                    label: clip_url(&i.url, URL_MAX),
                    value: show(i.transfer_bytes as f64, Unit::Bytes),
                })
                .collect(),
            needs_browser: (!browser).then_some(
                "Paint times, layout shift, blocking time and the weight of everything the page loads need the browser.",
            ),
        })
    }
}

fn estimate(e: &MobileEstimate, is_speed_score: bool) -> EstimateSummary {
    let row = |label, lighthouse_name, f: &EstimatedFigure| {
        let rating = f.rating();
        RatedRow {
            label,
            lighthouse_name,
            value: f.display(),
            rating: rating.as_str(),
            class: rating.class(),
            estimated: f.estimated,
        }
    };
    EstimateSummary {
        performance: e.performance,
        grade: match e.performance {
            90.. => "good",
            50..=89 => "fair",
            _ => "poor",
        },
        lighthouse_version: e.lighthouse_version.clone(),
        conditions: e.conditions.describe(),
        is_speed_score,
        rows: vec![
            row("First content", "First Contentful Paint", &e.fcp),
            row("Largest content", "Largest Contentful Paint", &e.lcp),
            row("Blocking time", "Total Blocking Time", &e.tbt),
            row("Layout shift", "Cumulative Layout Shift", &e.cls),
            row("Speed index", "Speed Index", &e.speed_index),
        ],
    }
}

fn measured(m: &AuditMetrics, browser: bool) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut push = |label: &str, value: Option<String>| {
        if let Some(value) = value {
            rows.push(Row {
                label: label.to_string(),
                value,
            });
        }
    };
    let shown = |f: &Option<Figure>| f.as_ref().map(figure);
    push("Server response", shown(&m.ttfb));
    push("First content", shown(&m.fcp));
    push("Largest content", shown(&m.lcp));
    push("Layout shift", shown(&m.cls));
    push(
        "Blocking time",
        m.tbt.as_ref().map(|tbt| {
            let mut text = figure(tbt);
            let tasks = m.long_tasks.map(|n| n.value.round() as u64);
            match (tasks, &m.longest_task) {
                (Some(n), Some(longest)) if n > 0 => text.push_str(&format!(
                    " ({} long task{}, longest {})",
                    count(n),
                    if n == 1 { "" } else { "s" },
                    figure(longest)
                )),
                _ => {}
            }
            text
        }),
    );
    let weight = match (&m.transfer_bytes, &m.decoded_bytes) {
        (Some(t), Some(d)) => Some(format!("{} transferred, {} decoded", figure(t), figure(d))),
        (Some(t), None) => Some(format!("{} transferred", figure(t))),
        (None, Some(d)) => Some(format!("{} decoded", figure(d))),
        (None, None) => None,
    };
    push(
        if browser {
            "Page weight"
        } else {
            "HTML weight"
        },
        weight,
    );
    push(
        "Requests",
        m.requests.as_ref().map(|r| {
            let n = r.value.round() as u64;
            let mut text = format!(
                "{}{}",
                count(n),
                if r.measured { "" } else { " (estimated)" }
            );
            let mut by_type: Vec<(&String, &u64)> =
                m.requests_by_type.iter().filter(|(_, n)| **n > 0).collect();
            // Most first; ties in name order (the map's), so output is stable.
            by_type.sort_by(|a, b| b.1.cmp(a.1));
            if !by_type.is_empty() {
                let parts: Vec<String> = by_type
                    .iter()
                    .map(|(kind, n)| format!("{} {}", count(**n), kind_name(kind, **n)))
                    .collect();
                text.push_str(&format!(": {}", parts.join(", ")));
            }
            text
        }),
    );
    push(
        "Page elements",
        m.dom_size
            .as_ref()
            .map(|d| format!("{} in the DOM", figure(d))),
    );
    rows
}

/// A figure, marked when it was estimated rather than measured.
fn figure(f: &Figure) -> String {
    if f.measured {
        f.display()
    } else {
        format!("{} (estimated)", f.display())
    }
}

fn kind_name(kind: &str, n: u64) -> String {
    let one = n == 1;
    match kind {
        "document" | "stylesheet" | "script" | "font" | "image" => {
            format!("{kind}{}", if one { "" } else { "s" })
        }
        "fetch" => if one { "fetch" } else { "fetches" }.to_string(),
        "media" => "media".to_string(),
        "other" => "other".to_string(),
        // An unexpected type from the page's own load: shown as text.
        other => super::text::cap(&super::text::single_line(other), 20),
    }
}

/// At most `max` characters of a URL: the start (scheme and host) and the
/// end (the file name) survive, the middle becomes `…`.
pub fn clip_url(url: &str, max: usize) -> String {
    let url = super::text::single_line(url);
    let chars: Vec<char> = url.chars().collect();
    if chars.len() <= max || max < 5 {
        return super::text::cap(&url, max);
    }
    let tail = (max - 1) / 3;
    let head = max - 1 - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
#[path = "metrics_summary_tests.rs"]
pub(crate) mod tests;
