//! `leadscout leads ...`

use std::io::Write;

use color_eyre::eyre::{Result, WrapErr};

use super::args::LeadsCommand;
use super::output::{Out, clip, opt, when};
use crate::domain::LeadStatus;
use crate::service::leads::{LeadQuery, NewLead};
use crate::service::{LeadDetail, Service};

pub async fn run(command: LeadsCommand, service: &Service, out: &Out) -> Result<()> {
    match command {
        LeadsCommand::List {
            campaign,
            status,
            limit,
        } => {
            let status = status.map(|s| s.parse::<LeadStatus>()).transpose()?;
            let leads = service
                .list_leads(&LeadQuery {
                    campaign: campaign.clone(),
                    status,
                    limit,
                })
                .await?;
            if out.json {
                // Streamed line by line: 100,000 leads must not build one
                // huge pretty-printed string.
                let stdout = std::io::stdout();
                let mut w = std::io::BufWriter::new(stdout.lock());
                w.write_all(b"[").wrap_err("cannot write to stdout")?;
                for (i, lead) in leads.iter().enumerate() {
                    if i > 0 {
                        w.write_all(b",").wrap_err("cannot write to stdout")?;
                    }
                    w.write_all(b"\n  ").wrap_err("cannot write to stdout")?;
                    serde_json::to_writer(&mut w, lead).wrap_err("cannot write JSON")?;
                }
                w.write_all(if leads.is_empty() { b"]\n" } else { b"\n]\n" })
                    .wrap_err("cannot write to stdout")?;
                return w.flush().wrap_err("cannot write to stdout");
            }
            if leads.is_empty() {
                match status {
                    Some(s) => out.say(format!("No {s} leads in `{campaign}`.")),
                    None => out.say(format!("No leads in `{campaign}` yet. Import some: leadscout import leads.csv --campaign {campaign}")),
                }
                return Ok(());
            }
            out.table(
                &[
                    "id", "status", "score", "business", "domain", "email", "city",
                ],
                leads.iter().map(|l| {
                    vec![
                        l.id.to_string(),
                        l.status.to_string(),
                        opt(&l.score),
                        clip(&l.business_name, 32),
                        clip(&l.domain, 32),
                        clip(&opt(&l.email), 32),
                        clip(&opt(&l.city), 20),
                    ]
                }),
            )?;
        }
        LeadsCommand::Show { lead } => {
            let detail = service.lead(&lead).await?;
            if out.json {
                return out.json(&detail);
            }
            show(&detail, out)?;
        }
        LeadsCommand::Add {
            campaign,
            website,
            name,
            email,
            phone,
            city,
            category,
        } => {
            let detail = service
                .add_lead(&NewLead {
                    campaign,
                    website,
                    name,
                    email,
                    phone,
                    city,
                    category,
                })
                .await?;
            if out.json {
                return out.json(&detail);
            }
            out.say(format!(
                "Added {} ({}) as {}.",
                detail.lead.business_name, detail.lead.website, detail.lead.id
            ));
        }
    }
    Ok(())
}

fn show(d: &LeadDetail, out: &Out) -> Result<()> {
    let l = &d.lead;
    let mut fields = vec![
        ("id", l.id.to_string()),
        ("business", l.business_name.clone()),
        ("campaign", l.campaign.clone()),
        ("website", l.website.clone()),
        ("domain", l.domain.clone()),
        (
            "email",
            match (&l.email, &d.email_source) {
                (Some(e), Some(src)) => format!("{e} (from {src})"),
                (e, _) => opt(e),
            },
        ),
        ("phone", opt(&l.phone)),
        ("city", opt(&l.city)),
        ("category", opt(&l.category)),
        ("status", l.status.to_string()),
        (
            "score",
            l.score
                .map(|s| s.to_string())
                .unwrap_or_else(|| "not audited yet".into()),
        ),
        ("source", d.source.to_string()),
        ("created", when(&l.created_at)),
        ("updated", when(&d.updated_at)),
    ];
    if let Some(reason) = &d.blacklisted {
        fields.push(("blacklisted", reason.clone()));
    }
    if !d.tags.is_empty() {
        fields.push(("tags", d.tags.join(", ")));
    }
    if !d.notes.is_empty() {
        fields.push(("notes", d.notes.clone()));
    }
    for (key, value) in &d.attributes {
        fields.push((key.as_str(), value.clone()));
    }
    out.fields(&fields)
}
