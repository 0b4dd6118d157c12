//! `leadscout audit show|diff LEAD`

use color_eyre::eyre::Result;

use super::args::AuditCommand;
use super::output::{Out, when};
use crate::domain::audit::Category;
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
