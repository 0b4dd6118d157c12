//! `leadscout leads ...`

use std::io::Write;

use color_eyre::eyre::{Result, WrapErr};

use super::args::LeadsCommand;
use super::output::{Out, clip, opt, when};
use crate::domain::LeadStatus;
use crate::domain::idn::{unicode_email, unicode_host, unicode_url};
use crate::service::leads::{LeadQuery, NewLead};
use crate::service::{Api, Client, LeadDetail};

pub async fn run(command: LeadsCommand, service: &Client, out: &Out) -> Result<()> {
    match command {
        LeadsCommand::List {
            campaign,
            status,
            limit,
        } => {
            let status = status.map(|s| s.parse::<LeadStatus>()).transpose()?;
            let query = LeadQuery {
                campaign: campaign.clone(),
                status,
                limit,
            };
            if out.json {
                return print_json_array(service, &query).await;
            }
            let leads = service.list_leads(query).await?;
            if leads.is_empty() {
                match status {
                    Some(s) => out.say(format!("No {s} leads in `{campaign}`.")),
                    None => out.say(format!(
                        "No leads in `{campaign}` yet. Import some: leadscout import leads.csv --campaign {campaign}"
                    )),
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
                        clip(&unicode_host(&l.domain), 32),
                        clip(&unicode_email(&opt(&l.email)), 32),
                        clip(&opt(&l.city), 20),
                    ]
                }),
            )?;
        }
        LeadsCommand::Show { lead } => {
            let detail = service.lead(lead.clone()).await?;
            let sequence = service.lead_sequence(lead.clone()).await?;
            if out.json {
                let mut value = serde_json::to_value(&detail)?;
                value["sequence"] = serde_json::to_value(&sequence)?;
                return out.json(&value);
            }
            show(&detail, out)?;
            if !sequence.sent.is_empty() || sequence.stop.is_some() {
                super::sequence::print_lead(&sequence, out);
            }
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
                .add_lead(NewLead {
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

/// Streams a JSON array, one lead per line: 100,000 leads are never held
/// in memory or built into one string.
async fn print_json_array(service: &Client, query: &LeadQuery) -> Result<()> {
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    w.write_all(b"[").wrap_err("cannot write to stdout")?;
    let mut first = true;
    let count = service
        .for_each_lead_json(query.clone(), |lead| {
            w.write_all(if first { b"\n  " } else { b",\n  " })?;
            first = false;
            w.write_all(lead)
        })
        .await?;
    w.write_all(if count == 0 { b"]\n" } else { b"\n]\n" })
        .wrap_err("cannot write to stdout")?;
    w.flush().wrap_err("cannot write to stdout")
}

fn show(d: &LeadDetail, out: &Out) -> Result<()> {
    let l = &d.lead;
    let mut fields = vec![
        ("id", l.id.to_string()),
        ("business", l.business_name.clone()),
        ("campaign", l.campaign.clone()),
        ("website", unicode_url(&l.website).into_owned()),
        ("domain", unicode_host(&l.domain).into_owned()),
        (
            "email",
            match (&l.email, &d.email_source) {
                (Some(e), Some(src)) => format!("{} (from {src})", unicode_email(e)),
                (e, _) => unicode_email(&opt(e)).into_owned(),
            },
        ),
    ];
    if let Some(check) = &d.address_check {
        fields.push((
            "address",
            format!("{} (checked {})", check.summary(), when(&check.checked_at)),
        ));
    }
    fields.extend([
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
    ]);
    if let Some(reason) = &d.blacklisted {
        fields.push(("blacklisted", reason.clone()));
    }
    if let Some(why) = &d.no_draft_reason {
        fields.push(("no draft", why.clone()));
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
