//! `leadscout audit show|diff LEAD`

use color_eyre::eyre::Result;

use super::args::AuditCommand;
use super::output::{Out, when};
use crate::domain::audit::Category;
use crate::domain::metrics_summary::MetricsSummary;
use crate::service::audits::AuditView;
use crate::service::{Api, Client};

pub async fn run(command: AuditCommand, service: &Client, out: &Out) -> Result<()> {
    match command {
        AuditCommand::Show { lead } => {
            let a = service.audit_show(lead.clone()).await?;
            if out.json {
                return out.json(&a);
            }
            let t = &a.timings;
            out.fields(&[
                ("business", a.business_name.clone()),
                (
                    "website",
                    crate::domain::idn::unicode_url(&a.website).into_owned(),
                ),
                (
                    "final url",
                    format!("{} (HTTP {}, {})", a.final_url, a.status, a.http_version),
                ),
                (
                    "audited",
                    format!("{} ({} audit(s) in total)", when(&a.audited_at), a.audits),
                ),
                (
                    "timings",
                    format!(
                        "dns {} ms, connect {} ms, first byte {} ms, total {} ms",
                        t.dns_ms, t.connect_ms, t.ttfb_ms, t.total_ms
                    ),
                ),
                (
                    "size",
                    format!(
                        "{} bytes on the wire, {} decoded",
                        a.bytes_wire, a.bytes_decoded
                    ),
                ),
                ("overall score", a.scores.overall.to_string()),
                (
                    "by category",
                    Category::ALL
                        .iter()
                        .filter_map(|c| {
                            a.scores
                                .categories
                                .get(c)
                                .map(|s| format!("{} {s}", c.as_str()))
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                (
                    "emails",
                    a.contacts
                        .emails
                        .iter()
                        .map(|e| format!("{} ({})", e.value, e.source))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                (
                    "phones",
                    a.contacts
                        .phones
                        .iter()
                        .map(|p| p.value.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                (
                    "social",
                    a.contacts
                        .socials
                        .iter()
                        .map(|(n, _)| n.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                ("passed checks", a.passed.len().to_string()),
            ])?;
            metrics(out, &a)?;
            if a.findings.is_empty() {
                out.say("\nNo problems found.");
                return Ok(());
            }
            println!();
            out.table(
                &["severity", "category", "check", "evidence"],
                a.findings.iter().map(|f| {
                    vec![
                        f.severity.to_string(),
                        f.category.to_string(),
                        f.title.clone(),
                        f.evidence.clone(),
                    ]
                }),
            )?;
        }
        AuditCommand::Diff { lead } => {
            let d = service.audit_diff(lead.clone()).await?;
            if out.json {
                return out.json(&d);
            }
            out.say(format!(
                "Score {} → {} ({:+}) between {} and {}.",
                d.overall_before,
                d.overall_now,
                d.diff.overall_delta,
                when(&d.previous_at),
                when(&d.current_at)
            ));
            for (category, delta) in d
                .diff
                .category_deltas
                .iter()
                .filter(|(_, delta)| **delta != 0)
            {
                out.say(format!("  {category}: {delta:+}"));
            }
            let list = |label: &str, ids: &[String]| {
                if !ids.is_empty() {
                    out.say(format!("{label} ({}):", ids.len()));
                    for id in ids {
                        out.say(format!("  {id}"));
                    }
                }
            };
            list("New problems", &d.diff.new);
            list("Fixed", &d.diff.fixed);
            list("Unchanged problems", &d.diff.unchanged);
        }
    }
    Ok(())
}

/// The phone estimate and what was measured here, in the words and
/// figures of the report page.
fn metrics(out: &Out, a: &AuditView) -> Result<()> {
    let speed = a.scores.categories.get(&Category::Performance).copied();
    let Some(s) = MetricsSummary::of(&a.metrics, speed) else {
        return Ok(());
    };
    let fields = |rows: Vec<(String, String)>| {
        let rows: Vec<(&str, String)> = rows.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        out.fields(&rows)
    };
    out.say("");
    match &s.estimate {
        Some(e) => {
            out.say(format!(
                "Phone estimate (Lighthouse {} mobile): performance {}{}",
                e.lighthouse_version,
                e.performance,
                if e.is_speed_score {
                    ", the speed score"
                } else {
                    ""
                }
            ));
            out.say(format!("  slow 4G: {}", e.conditions));
            fields(
                e.rows
                    .iter()
                    .map(|r| {
                        (
                            format!("  {}", r.label.to_lowercase()),
                            format!("{} ({})", r.value, r.rating),
                        )
                    })
                    .collect(),
            )?;
        }
        None => out.say(format!(
            "Phone estimate: none. {}",
            s.no_estimate.unwrap_or("")
        )),
    }
    out.say(format!("Measured here: {}", s.measured_how));
    let mut rows: Vec<(String, String)> = s
        .measured
        .iter()
        .map(|r| (format!("  {}", r.label.to_lowercase()), r.value.clone()))
        .collect();
    if let Some(b) = &s.render_blocking {
        let mut urls = b.urls.join(", ");
        if b.more > 0 {
            urls.push_str(", …");
        }
        rows.push(("  render-blocking".into(), format!("{}: {urls}", b.count)));
    }
    if !s.largest_images.is_empty() {
        let images: Vec<String> = s
            .largest_images
            .iter()
            .map(|i| format!("{} {}", i.value, i.label))
            .collect();
        rows.push(("  largest images".into(), images.join("; ")));
    }
    fields(rows)?;
    if let Some(note) = s.needs_browser {
        out.say(format!("  {note}"));
    }
    Ok(())
}
