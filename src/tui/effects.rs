//! Running effects: each reads or changes something through the service
//! and answers with an action. They run as tasks, so the loop never waits
//! on the store, the network or the SMTP server.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc::UnboundedSender;

use super::action::{Action, Detail, Effect};
use crate::domain::BlacklistReason;
use crate::service::jobs::{JobQuery, RunRequest};
use crate::service::leads::{LeadQuery, NewLead};
use crate::service::{Api, Client};

/// Rows sent ahead of a full load: more than any screen shows.
const FIRST_SCREENFUL: usize = 200;

/// The terminal draws pictures at full resolution (kitty, sixel, iTerm2):
/// the detail loads the full phone screenshot rather than its thumbnail.
/// Set once, when the terminal has been asked, before any detail loads.
static FULL_PICTURES: AtomicBool = AtomicBool::new(false);

pub fn load_full_pictures(full: bool) {
    FULL_PICTURES.store(full, Ordering::Relaxed);
}

pub fn spawn(service: &Client, effect: Effect, tx: &UnboundedSender<Action>) {
    if effect == Effect::Quit {
        return;
    }
    let service = service.clone();
    let tx = tx.clone();
    tokio::spawn(async move {
        if let Effect::LoadLeads(campaign) = &effect
            && let Ok(rows) = service
                .list_leads(LeadQuery {
                    campaign: campaign.clone(),
                    status: None,
                    limit: Some(FIRST_SCREENFUL),
                })
                .await
            && rows.len() == FIRST_SCREENFUL
        {
            let _ = tx.send(Action::LeadsLoaded {
                campaign: campaign.clone(),
                rows,
                complete: false,
            });
        }
        let action = run(&service, effect).await.unwrap_or_else(Action::Failed);
        let _ = tx.send(action);
    });
}

async fn run(service: &Client, effect: Effect) -> Result<Action, String> {
    let e = |err: crate::service::ServiceError| err.to_string();
    Ok(match effect {
        Effect::Quit => Action::Tick,
        Effect::LoadDashboard(campaign) => Action::DashboardLoaded(Box::new(
            service.campaign_dashboard(campaign).await.map_err(e)?,
        )),
        Effect::LoadActionLog(campaign) => {
            Action::ActionLogLoaded(service.action_log(campaign, 500).await.map_err(e)?)
        }
        Effect::LoadCampaigns => {
            Action::CampaignsLoaded(service.list_campaigns().await.map_err(e)?)
        }
        Effect::LoadLeads(campaign) => {
            let rows = service
                .list_leads(LeadQuery {
                    campaign: campaign.clone(),
                    status: None,
                    limit: None,
                })
                .await
                .map_err(e)?;
            Action::LeadsLoaded {
                campaign,
                rows,
                complete: true,
            }
        }
        Effect::ReloadLead(id) => Action::LeadReloaded(Box::new(
            service.lead(id.to_string()).await.map_err(e)?.lead,
        )),
        Effect::LoadDetail(id) => match load_detail(service, &id.to_string()).await {
            Ok(detail) => Action::DetailLoaded(Box::new(detail)),
            // The detail component waits for this answer before it loads
            // the next lead, so a failure must say whose it was.
            Err(why) => Action::DetailFailed(id, why),
        },
        Effect::LoadRunLog => Action::RunLogLoaded(service.recent_jobs(50).await.map_err(e)?),
        Effect::Approve(ids) => {
            let refs: Vec<String> = ids.iter().map(ToString::to_string).collect();
            let s = service.approve_outreach(refs, None).await.map_err(e)?;
            // Every skipped lead with its reason: the message is drawn
            // whole and kept in the history.
            let skipped = if s.skipped.is_empty() {
                String::new()
            } else {
                format!("; skipped {}: {}", s.skipped.len(), s.skipped.join("; "))
            };
            Action::Notice(format!(
                "approved {}, suppressed {}{skipped}",
                s.approved, s.suppressed
            ))
        }
        Effect::Reject(ids) => {
            let refs: Vec<String> = ids.iter().map(ToString::to_string).collect();
            service.reject_outreach(refs).await.map_err(e)?;
            Action::Rejected(ids)
        }
        Effect::Restore(ids) => {
            let refs: Vec<String> = ids.iter().map(ToString::to_string).collect();
            let names = service.restore_outreach(refs).await.map_err(e)?;
            Action::Notice(format!(
                "undone: {} back to draft",
                crate::tui::undo::names(&names)
            ))
        }
        Effect::Blacklist(values) => {
            let mut results = Vec::new();
            for value in &values {
                results.push(
                    service
                        .blacklist_add(value.clone(), BlacklistReason::Manual, "tui".into())
                        .await
                        .map_err(e)?,
                );
            }
            Action::Blacklisted(results)
        }
        // Each value on its own: one not listed does not keep the others.
        Effect::Unblacklist(values) => {
            let mut removed = Vec::new();
            let mut refused = Vec::new();
            for value in &values {
                match service.blacklist_remove(value.clone()).await {
                    Ok(entry) => removed.push(entry.value),
                    Err(err) => refused.push(err.to_string()),
                }
            }
            let mut said = Vec::new();
            if !removed.is_empty() {
                said.push(format!(
                    "removed {} from the blacklist; any lead it held back has its earlier status again",
                    crate::tui::undo::names(&removed)
                ));
            }
            said.extend(refused.iter().cloned());
            let text = said.join("; ");
            if removed.is_empty() {
                return Err(text);
            }
            Action::Notice(text)
        }
        Effect::Rerun {
            campaign,
            stages,
            leads,
        } => {
            let run = service
                .start_run(RunRequest {
                    campaign,
                    stages,
                    leads: leads.iter().map(ToString::to_string).collect(),
                    status: None,
                })
                .await
                .map_err(e)?;
            Action::Notice(format!(
                "run {} started: {} lead(s) × {}",
                run.id,
                run.leads,
                run.stages.len()
            ))
        }
        Effect::RetryFailed { leads, .. } => {
            let mut retried = 0;
            if leads.is_empty() {
                retried = service
                    .retry_failed(JobQuery::default())
                    .await
                    .map_err(e)?
                    .len();
            }
            for lead in leads {
                let query = JobQuery {
                    lead: Some(lead.to_string()),
                    ..Default::default()
                };
                retried += service.retry_failed(query).await.map_err(e)?.len();
            }
            Action::Notice(format!("{retried} failed job(s) queued again"))
        }
        Effect::SaveDraft {
            lead,
            version,
            subject,
            body,
        } => match service
            .edit_outreach(lead.to_string(), subject, body, Some(version))
            .await
        {
            Ok(v) => Action::DraftSaved(
                format!(
                    "draft saved (version {}, {})",
                    v.outreach.version(),
                    v.outreach.status
                ),
                Some(Box::new(v)),
            ),
            Err(err) => Action::DraftNotSaved(err.to_string()),
        },
        Effect::ReportUrl(lead) => {
            let (_, url) = service.report_link(lead.to_string()).await.map_err(e)?;
            copy_to_clipboard(&url);
            // The URL alone on its line, so it reads (and selects) whole.
            Action::Notice(format!(
                "report page (copied where the terminal allows):\n{url}"
            ))
        }
        Effect::Import { campaign, path } => {
            let report = service
                .import_file(crate::service::import::ImportRequest::new(
                    path.into(),
                    campaign,
                    false,
                ))
                .await
                .map_err(e)?;
            Action::Notice(import_summary(&report))
        }
        Effect::AddLead { campaign, website } => {
            let lead = service
                .add_lead(NewLead {
                    campaign,
                    website,
                    ..Default::default()
                })
                .await
                .map_err(e)?;
            Action::Notice(format!(
                "added {} ({})",
                lead.lead.business_name, lead.lead.domain
            ))
        }
        Effect::CreateCampaign(name) => {
            let c = service.create_campaign(name, None).await.map_err(e)?;
            Action::Notice(format!("campaign {} created", c.slug))
        }
        Effect::StopSends => {
            let stopped = service.stop_sends(None).await.map_err(e)?;
            Action::Notice(if stopped.is_empty() {
                "no send is running".to_string()
            } else {
                format!(
                    "stopping {} send(s) after the message in hand: {}",
                    stopped.len(),
                    crate::service::sending::RunningSend::describe(&stopped)
                )
            })
        }
        Effect::Send { campaign } => {
            // The preflight first (a dry run): whatever would stop the
            // send is said whole, before anything goes.
            let mut request = crate::service::outreach::SendRequest {
                campaign,
                dry_run: true,
                wait: false,
                detach: false,
            };
            let stop = std::sync::Arc::new(tokio::sync::watch::channel(false).0);
            let preflight = service
                .send_outreach(request.clone(), stop.clone(), |_| {})
                .await
                .map_err(e)?;
            if !preflight.would_stop.is_empty() {
                return Err(format!(
                    "nothing sent; the send would stop: {}",
                    preflight.would_stop.join("; ")
                ));
            }
            request.dry_run = false;
            let s = service
                .send_outreach(request, stop, |_| {})
                .await
                .map_err(e)?;
            Action::Notice(format!(
                "sent {}, deferred {}, suppressed {}, failed {}{}{}",
                s.sent,
                s.deferred,
                s.suppressed,
                s.failed,
                if s.stopped { " — stopped early" } else { "" },
                s.next_reason.map(|r| format!(" — {r}")).unwrap_or_default()
            ))
        }
    })
}

/// What an import did, as the CLI says it: counts, then every rejected
/// row with its reason, and the importer's notes.
fn import_summary(report: &crate::service::ImportReport) -> String {
    let mut text = format!(
        "imported {}, {} duplicate(s) skipped, {} blacklisted skipped, {} row(s) rejected",
        report.imported,
        report.duplicates,
        report.blacklisted,
        report.rejected.len()
    );
    for r in &report.rejected {
        text.push_str(&format!("\nrow {}: {}", r.row, r.reason));
    }
    for note in &report.notes {
        text.push_str(&format!("\nnote: {note}"));
    }
    text
}

async fn load_detail(service: &Client, id: &str) -> Result<Detail, String> {
    let lead = service.lead(id.into()).await.map_err(|e| e.to_string())?;
    let audit = service.audit_show(id.into()).await.ok();
    let diff = match &audit {
        Some(a) if a.audits > 1 => service.audit_diff(id.into()).await.ok(),
        _ => None,
    };
    let outreach = service.show_outreach(id.into()).await.ok();
    let jobs = service
        .list_jobs(JobQuery {
            lead: Some(id.to_string()),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    // A host that predates the inbox does not know the call: the tab
    // says so rather than the whole detail failing.
    let thread = service.outreach_thread(id.into()).await.ok();
    let mut picture = None;
    let (first, second) = if FULL_PICTURES.load(Ordering::Relaxed) {
        ("mobile", "mobile_thumb")
    } else {
        ("mobile_thumb", "mobile")
    };
    if let Some(hash) = audit
        .as_ref()
        .and_then(|a| a.screenshots.get(first).or(a.screenshots.get(second)))
        && let Ok(Some(png)) = service.screenshot(&format!("{hash}.png")).await
    {
        picture = tokio::task::spawn_blocking(move || {
            image::load_from_memory(&png).ok().map(|i| i.to_rgb8())
        })
        .await
        .ok()
        .flatten();
    }
    Ok(Detail {
        lead,
        audit,
        diff,
        outreach,
        jobs,
        thread,
        picture,
    })
}

/// OSC 52: terminals that allow it put the text on the clipboard (over
/// SSH too); the others ignore it.
fn copy_to_clipboard(text: &str) {
    use base64::Engine;
    use std::io::Write;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use crate::service::{ImportReport, RejectedRow};

    #[test]
    fn an_import_names_every_rejected_row_and_why() {
        let report = ImportReport {
            imported: 1,
            duplicates: 0,
            blacklisted: 0,
            rejected: vec![
                RejectedRow {
                    row: 3,
                    reason: "the row has 2 fields, the header has 3".into(),
                },
                RejectedRow {
                    row: 4,
                    reason: "the row has 4 fields, the header has 3".into(),
                },
            ],
            notes: vec!["read as Windows-1252".into()],
        };
        assert_eq!(
            super::import_summary(&report),
            "imported 1, 0 duplicate(s) skipped, 0 blacklisted skipped, 2 row(s) rejected\n\
             row 3: the row has 2 fields, the header has 3\n\
             row 4: the row has 4 fields, the header has 3\n\
             note: read as Windows-1252"
        );
    }
}
