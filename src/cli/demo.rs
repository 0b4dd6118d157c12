//! `leadscout demo`: the bundled websites (already served on loopback by
//! the caller) become a campaign that runs through the whole pipeline;
//! then the TUI opens on it, or, with `--headless`, a summary is printed.
//! The demo runs a host like `serve` does, so other terminals attach to it
//! while it runs. Its data dir keeps what reopening it needs: the sender
//! identity its drafts sign with (campaign settings) and, in
//! `demo-workspace.json`, its sites' addresses (see `web::demo`).

use std::fmt::Write as _;
use std::process::ExitCode;

use color_eyre::eyre::{Result, bail};
use serde::Serialize;

use super::jobs::wait_for;
use super::output::{Out, clip};
use crate::domain::StageCounts;
use crate::service::Opener;
use crate::service::import::ImportRequest;
use crate::service::jobs::RunRequest;
use crate::service::leads::LeadQuery;
use crate::web::demo::DemoSite;

const CAMPAIGN: &str = "demo";

/// Who the demo's drafts come from, unless the config names a sender.
const DEMO_SENDER: [(&str, &str); 4] = [
    ("sender.name", "Jana Beispiel"),
    ("sender.company", "Pixelwerk Webdesign"),
    ("sender.email", "jana@pixelwerk.example"),
    ("sender.postal_address", "Oranienstraße 12, 10999 Berlin"),
];

#[derive(Debug, Serialize)]
struct DemoRow {
    business: String,
    score: Option<u8>,
    top_problem: Option<String>,
    report_url: Option<String>,
}

pub async fn run(
    opener: &dyn Opener,
    sites: &[DemoSite],
    headless: bool,
    serve: bool,
    json: bool,
) -> Result<ExitCode> {
    if sites.is_empty() {
        bail!("the demo sites did not start");
    }
    let out = Out::new(json);
    // The demo hosts like `serve` does: other terminals attach to it
    // while it runs.
    let options = crate::service::HostOptions {
        pages_required: serve,
    };
    let hosted = opener.start_host("demo", options).await?;
    let Some(service) = hosted.client().as_local().cloned() else {
        hosted.stop().await;
        bail!("the demo's host did not open the store here");
    };
    out.say(format!("Demo data dir: {}", service.data_dir().display()));
    if service.campaign(CAMPAIGN).await.is_err() {
        service
            .create_campaign("Demo: Berlin small businesses", Some(CAMPAIGN))
            .await?;
        let mut csv = String::from("name,website,email,city,category\n");
        for site in sites {
            let _ = writeln!(
                csv,
                "\"{}\",{},{},Berlin,demo",
                site.name, site.url, site.email
            );
        }
        let file = service.data_dir().join("demo-leads.csv");
        std::fs::write(&file, csv)?;
        service
            .import(ImportRequest::new(file, CAMPAIGN.into(), false))
            .await?;
        service
            .settings_set(
                "report.cta_url",
                "https://pixelwerk.example/termin",
                Some(CAMPAIGN),
            )
            .await?;
        // Stored, not only in this process's config: the drafts sign with
        // it, and sending from the reopened data dir needs it too.
        if service.config().sender.postal_address.is_empty() {
            for (key, value) in DEMO_SENDER {
                service.settings_set(key, value, Some(CAMPAIGN)).await?;
            }
        }
        let run = service
            .start_run(&RunRequest {
                campaign: CAMPAIGN.into(),
                stages: Vec::new(),
                leads: Vec::new(),
                status: None,
            })
            .await?;
        service.start_workers();
        out.say(format!(
            "Auditing {} demo sites: fetch, audit, screenshots, report pages, drafts…",
            sites.len()
        ));
        let id = run.id.to_string();
        let total = run.leads * run.stages.len() as u64;
        let client = crate::service::Client::from(service.clone());
        let finished = wait_for(&client, &out, super::jobs::Total::Run(total), |svc| {
            let id = id.clone();
            async move {
                crate::service::Api::run_view(&svc, id).await.map(|v| {
                    (
                        v.counts.values().map(StageCounts::finished).sum(),
                        v.finished,
                    )
                })
            }
        })
        .await?;
        if !finished {
            hosted.stop().await;
            out.say("Stopped before the demo run finished; `leadscout --data-dir DIR work --until-idle` resumes it.");
            return Ok(ExitCode::from(130));
        }
    } else {
        service.start_workers();
        out.say("The demo campaign is already here; opening it as it is.");
    }
    if !headless {
        return crate::tui::run_hosted(hosted).await;
    }
    let mut rows = Vec::new();
    let leads = service
        .list_leads(&LeadQuery {
            campaign: CAMPAIGN.into(),
            status: None,
            limit: None,
        })
        .await?;
    for lead in &leads {
        let id = lead.id.to_string();
        let audit = service.audit_show(&id).await.ok();
        let report_url = match service.report_link(&id).await {
            Ok((_, url)) if audit.is_some() => Some(url),
            _ => None,
        };
        rows.push(DemoRow {
            business: lead.business_name.clone(),
            score: lead.score,
            top_problem: audit.and_then(|a| a.findings.first().map(|f| f.title.clone())),
            report_url,
        });
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.score));
    if json {
        out.json(&rows)?;
    } else {
        out.table(
            &["business", "score", "top problem", "report"],
            rows.iter().map(|r| {
                vec![
                    clip(&r.business, 28),
                    r.score.map(|s| s.to_string()).unwrap_or_else(|| "–".into()),
                    clip(r.top_problem.as_deref().unwrap_or("–"), 40),
                    r.report_url.clone().unwrap_or_default(),
                ]
            }),
        )?;
    }
    let missing = rows.iter().filter(|r| r.report_url.is_none()).count();
    let dir = shell_word(&service.data_dir().display().to_string());
    if serve {
        if let Some(pages) = hosted.addrs().pages {
            out.say(format!(
                "Report pages are served at http://{pages} until Ctrl-C."
            ));
        }
        if let Some(metrics) = hosted.addrs().metrics {
            out.say(format!("Metrics: http://{metrics}/metrics"));
        }
        out.say(format!(
            "While this runs, other terminals attach to it: `leadscout --data-dir {dir}` opens the TUI, `leadscout --data-dir {dir} leads list --campaign {CAMPAIGN}` lists the leads."
        ));
        hosted.signalled().await;
    } else {
        out.say(reopen_advice(&service, &dir));
    }
    hosted.stop().await;
    Ok(if missing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The closing line: what works when the data dir is opened again.
fn reopen_advice(service: &crate::service::Service, dir: &str) -> String {
    let workspace = service
        .data_dir()
        .join(crate::web::demo::WORKSPACE_FILE)
        .exists();
    let smtp = &service.config().smtp.host;
    let sending = if smtp.is_empty() {
        "Sending needs an SMTP server (smtp.host in config.toml; a local catcher will do); `leadscout --data-dir DIR outreach send -c demo --dry-run` says what a send would need."
            .replace("DIR", dir)
    } else if crate::web::demo::local_smtp(smtp) {
        format!("Sending goes to the SMTP server at {smtp} (on this machine).")
    } else {
        format!(
            "Sending refuses the demo's drafts through {smtp}: their unsubscribe links are local, fit only for an SMTP server on this machine."
        )
    };
    if workspace {
        format!(
            "Open the TUI on this data: leadscout --data-dir {dir}. While it is open it serves the report pages and the demo sites again on the same ports, so re-running stages works (if a port is taken by then, the action log says which). {sending}"
        )
    } else {
        format!(
            "Open the TUI on this data: leadscout --data-dir {dir}; the page server runs while it is open. This data dir held other data, so it is not a demo workspace: the demo sites are not served when it is reopened, and re-running their stages needs `leadscout demo` again. {sending}"
        )
    }
}

/// `word` as one shell word: quoted when it holds anything but plain path
/// characters, so the printed command works when pasted.
fn shell_word(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,".contains(c));
    if plain && !word.is_empty() {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}
