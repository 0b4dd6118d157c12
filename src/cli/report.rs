//! `leadscout report url|revoke|export`

use color_eyre::eyre::Result;

use super::args::ReportCommand;
use super::output::Out;
use crate::service::{Api, Client};

pub async fn run(command: ReportCommand, service: &Client, out: &Out) -> Result<()> {
    match command {
        ReportCommand::Url { lead } => {
            let (link, url) = service.report_link(lead.clone()).await?;
            if out.json {
                return out.json(&serde_json::json!({
                    "lead": link.lead,
                    "url": url,
                    "created_at": link.created_at,
                    "expires_at": link.expires_at,
                }));
            }
            println!("{url}");
            if !service.info().public_links {
                out.note("server.public_base_url is not set, so this link only works on this machine; set it to the address people reach the page server at.");
            }
        }
        ReportCommand::Revoke { lead } => {
            let revoked = service.revoke_report(lead.clone()).await?;
            if out.json {
                return out.json(&serde_json::json!({ "revoked": revoked }));
            }
            out.say(if revoked {
                "Revoked: the link answers 404 from now on. `leadscout report url` makes a new one."
            } else {
                "The lead had no report link; nothing to revoke."
            });
        }
        ReportCommand::Export { campaign, out: dir } => {
            // The host writes the files, so the path must name the same
            // place for it.
            let dir = if service.is_remote() {
                std::path::absolute(&dir)?
            } else {
                dir
            };
            let summary = service.report_export(campaign, dir).await?;
            if out.json {
                return out.json(&summary);
            }
            out.say(format!(
                "Wrote {} report page(s) and {} screenshot(s) to {}{}. Pages are at r/TOKEN/ under wherever you host it.",
                summary.pages,
                summary.screenshots,
                summary.dir.display(),
                if summary.skipped > 0 {
                    format!(" ({} published lead(s) had no audit to show)", summary.skipped)
                } else {
                    String::new()
                }
            ));
        }
    }
    Ok(())
}
