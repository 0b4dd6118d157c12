//! `leadscout blacklist ...`

use color_eyre::eyre::Result;

use super::args::BlacklistCommand;
use super::output::{Out, when};
use crate::domain::BlacklistReason;
use crate::service::{Api, Client};

pub async fn run(command: BlacklistCommand, service: &Client, out: &Out) -> Result<()> {
    match command {
        BlacklistCommand::Add { value, reason } => {
            let reason: BlacklistReason = reason.parse()?;
            let result = service
                .blacklist_add(value.clone(), reason, "cli".to_string())
                .await?;
            if out.json {
                return out.json(&result);
            }
            let e = &result.entry;
            if result.added {
                out.say(format!(
                    "Blacklisted {} {} ({}).",
                    e.kind, e.value, e.reason
                ));
            } else {
                out.say(format!(
                    "{} {} was already on the blacklist.",
                    e.kind, e.value
                ));
            }
            if result.leads_blacklisted > 0 {
                out.say(format!(
                    "{} lead(s) are now blacklisted.",
                    result.leads_blacklisted
                ));
            }
        }
        BlacklistCommand::List => {
            let entries = service.blacklist_list().await?;
            if out.json {
                return out.json(&entries);
            }
            if entries.is_empty() {
                out.say("The blacklist is empty. Add to it: leadscout blacklist add someone@example.com");
                return Ok(());
            }
            out.table(
                &["kind", "value", "reason", "source", "added"],
                entries.iter().map(|e| {
                    vec![
                        e.kind.to_string(),
                        e.value.clone(),
                        e.reason.to_string(),
                        e.source.clone(),
                        when(&e.created_at),
                    ]
                }),
            )?;
        }
        BlacklistCommand::Remove { value } => {
            let removed = service.blacklist_remove(value.clone()).await?;
            if out.json {
                return out.json(&removed);
            }
            out.say(format!(
                "Removed {} {} from the blacklist.",
                removed.kind, removed.value
            ));
        }
        BlacklistCommand::Import { file, reason } => {
            let reason: BlacklistReason = reason.parse()?;
            let report = service
                .blacklist_import(std::path::absolute(&file)?, reason)
                .await?;
            if out.json {
                return out.json(&report);
            }
            out.say(format!(
                "Added {}, {} already listed, {} rejected; {} lead(s) are now blacklisted.",
                report.added,
                report.already_listed,
                report.rejected.len(),
                report.leads_blacklisted
            ));
            for r in report.rejected.iter().take(20) {
                out.say(format!("  line {}: {}", r.row, r.reason));
            }
        }
    }
    Ok(())
}
