//! `leadscout campaign ...`

use color_eyre::eyre::Result;

use super::args::CampaignCommand;
use super::output::{Out, when};
use crate::domain::CampaignStatus;
use crate::service::{Api, CampaignSummary, Client};

pub async fn run(command: CampaignCommand, service: &Client, out: &Out) -> Result<()> {
    match command {
        CampaignCommand::Create { name, slug } => {
            let c = service.create_campaign(name.clone(), slug.clone()).await?;
            if out.json {
                return out.json(&c);
            }
            out.say(format!("Created campaign `{}` ({}).", c.slug, c.name));
            out.say(format!(
                "Next: leadscout import leads.csv --campaign {}",
                c.slug
            ));
        }
        CampaignCommand::List => {
            let campaigns = service.list_campaigns().await?;
            if out.json {
                return out.json(&campaigns);
            }
            if campaigns.is_empty() {
                out.say(
                    "No campaigns yet. Create one: leadscout campaign create \"Dentists Berlin\"",
                );
                return Ok(());
            }
            out.table(
                &["slug", "name", "status", "leads", "by status", "created"],
                campaigns.iter().map(|c| {
                    vec![
                        c.slug.clone(),
                        c.name.clone(),
                        c.status.to_string(),
                        c.leads.to_string(),
                        counts_line(c),
                        when(&c.created_at),
                    ]
                }),
            )?;
        }
        CampaignCommand::Show { slug } => {
            let c = service.campaign(slug.clone()).await?;
            let dashboard = service.campaign_dashboard(slug.clone()).await?;
            let sequence = service.sequence_show(slug.clone()).await?;
            if out.json {
                let mut value = serde_json::to_value(&c)?;
                value["dashboard"] = serde_json::to_value(&dashboard)?;
                value["sequence"] = serde_json::to_value(&sequence)?;
                return out.json(&value);
            }
            show(&c, out)?;
            show_dashboard(&dashboard, out);
            if sequence.sequence.steps.len() > 1 || dashboard.count("sent") > 0 {
                super::sequence::print_steps(&sequence, out)?;
            }
        }
        CampaignCommand::Archive { slug } => {
            set_status(service, out, &slug, CampaignStatus::Archived).await?
        }
        CampaignCommand::Pause { slug } => {
            set_status(service, out, &slug, CampaignStatus::Paused).await?
        }
        CampaignCommand::Activate { slug } => {
            set_status(service, out, &slug, CampaignStatus::Active).await?
        }
    }
    Ok(())
}

async fn set_status(service: &Client, out: &Out, slug: &str, status: CampaignStatus) -> Result<()> {
    let c = service
        .set_campaign_status(slug.to_string(), status)
        .await?;
    if out.json {
        return out.json(&c);
    }
    out.say(format!("Campaign `{}` is now {}.", c.slug, c.status));
    Ok(())
}

fn show(c: &CampaignSummary, out: &Out) -> Result<()> {
    out.fields(&[
        ("slug", c.slug.clone()),
        ("name", c.name.clone()),
        ("id", c.id.to_string()),
        ("status", c.status.to_string()),
        ("leads", c.leads.to_string()),
        ("by status", counts_line(c)),
        ("created", when(&c.created_at)),
        ("updated", when(&c.updated_at)),
    ])
}

fn counts_line(c: &CampaignSummary) -> String {
    c.counts
        .iter()
        .map(|(status, n)| format!("{status} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn show_dashboard(d: &crate::service::dashboard::Dashboard, out: &Out) {
    if d.count("leads") == 0 {
        return;
    }
    let funnel: Vec<String> = d
        .funnel
        .iter()
        .map(|s| {
            if s.step == "leads" {
                format!("{} {}", s.count, s.step)
            } else {
                format!("{} {} ({:.0}%)", s.count, s.step, s.rate)
            }
        })
        .collect();
    out.say(format!("Funnel: {}", funnel.join(" → ")));
    if !d.problems.is_empty() {
        out.say(format!(
            "Most common problems (in {} audits):",
            d.problems_sampled
        ));
        for p in d.problems.iter().take(5) {
            out.say(format!("  {:>6}  {}", p.leads, p.title));
        }
    }
}
