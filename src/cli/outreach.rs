//! `leadscout outreach list|show|edit|approve|reject|send|mark|thread|export|template`

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use color_eyre::eyre::{Result, WrapErr, bail, eyre};

use super::args::OutreachCommand;
use super::output::{Out, clip, when};
use crate::domain::outreach::OutreachStatus;
use crate::service::outreach::{Mark, SendEvent, SendRequest};
use crate::service::{Api, Client};

/// `outreach send --dry-run` exits with this when the real send would
/// stop (SMTP not set up or unreachable, sender identity, links).
const DRY_RUN_WOULD_STOP: u8 = 3;

pub async fn run(command: OutreachCommand, service: &Client, out: &Out) -> Result<ExitCode> {
    match command {
        OutreachCommand::List { campaign, status } => {
            let status = status
                .map(|s| s.parse::<OutreachStatus>())
                .transpose()
                .map_err(|e| eyre!(e))?;
            let list = service.list_outreach(campaign.clone(), status).await?;
            if out.json {
                out.json(&list)?;
            } else if list.is_empty() {
                out.say(format!(
                    "No emails{} in {campaign} yet. Drafts come from the draft stage: leadscout run --campaign {campaign} --wait",
                    status.map(|s| format!(" in status {s}")).unwrap_or_default()
                ));
            } else {
                out.table(
                    &["lead", "business", "to", "status", "subject", "note"],
                    list.iter().map(|v| {
                        vec![
                            v.outreach.lead.to_string(),
                            clip(&v.business_name, 28),
                            v.outreach.to.to_string(),
                            v.outreach.status.to_string(),
                            clip(&v.outreach.subject, 40),
                            clip(v.outreach.note.as_deref().unwrap_or(""), 50),
                        ]
                    }),
                )?;
            }
        }
        OutreachCommand::Show { lead } => {
            let v = service.show_outreach(lead.clone()).await?;
            if out.json {
                out.json(&v)?;
            } else {
                let o = &v.outreach;
                out.fields(&[
                    ("business", v.business_name.clone()),
                    ("to", o.to.to_string()),
                    ("status", o.status.to_string()),
                    ("written by", format!("{:?}", o.author).to_lowercase()),
                    ("note", o.note.clone().unwrap_or_default()),
                    (
                        "not before",
                        o.not_before.as_ref().map(when).unwrap_or_default(),
                    ),
                    ("model", o.model_note.clone().unwrap_or_default()),
                    ("blocked", o.blocked.clone().unwrap_or_default()),
                    ("report", o.report_url.clone()),
                    ("versions", (o.history.len() + 1).to_string()),
                ])?;
                println!(
                    "\nSubject: {}\n\n{}",
                    super::output::printable(&o.subject, false),
                    super::output::printable(&o.body, true)
                );
            }
        }
        OutreachCommand::Edit {
            lead,
            from_file,
            if_version,
        } => {
            let current = service.show_outreach(lead.clone()).await?;
            let text = match from_file {
                Some(path) => std::fs::read_to_string(&path)
                    .wrap_err_with(|| format!("cannot read {}", path.display()))?,
                None => edit_in_editor(&format!(
                    "Subject: {}\n\n{}",
                    current.outreach.subject, current.outreach.body
                ))?,
            };
            let (subject, body) = split_subject(&text)?;
            let v = service
                .edit_outreach(
                    lead.clone(),
                    subject.clone(),
                    body.clone(),
                    Some(if_version.unwrap_or(current.outreach.version())),
                )
                .await?;
            if out.json {
                out.json(&v)?;
            } else {
                out.say(format!(
                    "Saved (version {}, status {}). Approve it with: leadscout outreach approve {}",
                    v.outreach.version(),
                    v.outreach.status,
                    v.outreach.lead
                ));
            }
        }
        OutreachCommand::Approve {
            leads,
            all_drafted,
            campaign,
        } => {
            if leads.is_empty() && !all_drafted {
                bail!("name leads to approve, or use --all-drafted --campaign SLUG");
            }
            let summary = service
                .approve_outreach(leads, if all_drafted { campaign.clone() } else { None })
                .await?;
            if out.json {
                out.json(&summary)?;
            } else {
                out.say(format!(
                    "Approved {}, suppressed {} (blacklisted or closed).",
                    summary.approved, summary.suppressed
                ));
                for line in &summary.skipped {
                    out.say(format!("  skipped {line}"));
                }
            }
        }
        OutreachCommand::Reject { leads } => {
            let n = service.reject_outreach(leads).await?;
            if out.json {
                out.json(&serde_json::json!({ "rejected": n }))?;
            } else {
                out.say(format!("Rejected {n}."));
            }
        }
        OutreachCommand::Restore { leads } => {
            let restored = service.restore_outreach(leads).await?;
            if out.json {
                out.json(&serde_json::json!({ "restored": restored }))?;
            } else {
                out.say(format!(
                    "Back to draft: {}.",
                    if restored.is_empty() {
                        "none".to_string()
                    } else {
                        restored.join(", ")
                    }
                ));
            }
        }
        OutreachCommand::Send {
            campaign,
            wait,
            dry_run,
            detach,
        } => {
            let request = SendRequest {
                campaign: campaign.clone(),
                dry_run,
                wait,
                detach,
            };
            let json = out.json;
            // Ctrl-C ends the send after the message in hand, never in the
            // middle of a hand-over.
            let stop = Arc::new(tokio::sync::watch::channel(false).0);
            let on_interrupt = stop.clone();
            let interrupt = tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("stopping after the message in hand…");
                    on_interrupt.send_replace(true);
                }
            });
            let summary = service
                .send_outreach(request, stop, |e: &SendEvent| {
                    if !json {
                        let detail = e
                            .detail
                            .as_deref()
                            .map(|d| format!(": {d}"))
                            .unwrap_or_default();
                        println!("{:<12} {}{detail}", e.outcome, e.to);
                        let _ = std::io::stdout().flush();
                    }
                })
                .await;
            interrupt.abort();
            let summary = summary?;
            if out.json {
                out.json(&summary)?;
            } else if summary.detached {
                let pid = service.info().pid;
                out.say(format!(
                    "Sending in the background in the server (pid {pid}). Watch it with `leadscout outreach list -c {campaign}` or `leadscout log -c {campaign}`; stop it with `leadscout outreach stop -c {campaign}`."
                ));
            } else {
                out.say(format!(
                    "{} {}, deferred {}, suppressed {}, failed {}, needs review {}.{}",
                    if dry_run { "Would send" } else { "Sent" },
                    summary.sent,
                    summary.deferred,
                    summary.suppressed,
                    summary.failed,
                    summary.needs_review,
                    if summary.stopped {
                        " Stopped early; the rest stay approved."
                    } else {
                        ""
                    }
                ));
                let handled = summary.sent
                    + summary.deferred
                    + summary.suppressed
                    + summary.failed
                    + summary.needs_review;
                if handled == 0 && !summary.stopped && summary.next_at.is_none() {
                    out.say(format!(
                        "Nothing in {campaign} is approved to send. Review the drafts (`leadscout outreach list -c {campaign} --status draft`), then approve them one by one (`leadscout outreach approve LEAD…`), all at once (`leadscout outreach approve --all-drafted -c {campaign}`) or with `a` in the TUI."
                    ));
                }
                if let (Some(at), Some(reason)) = (&summary.next_at, &summary.next_reason) {
                    out.say(format!("Next possible send: {} ({reason}). Run `outreach send --wait` to keep going.", when(at)));
                }
                if !summary.would_stop.is_empty() {
                    out.say(format!(
                        "But the real send would stop before sending anything: {}.",
                        summary.would_stop.join("; ")
                    ));
                }
            }
            if dry_run && !summary.would_stop.is_empty() {
                return Ok(ExitCode::from(DRY_RUN_WOULD_STOP));
            }
            if summary.needs_review > 0 || summary.failed > 0 {
                return Ok(ExitCode::FAILURE);
            }
        }
        OutreachCommand::Stop { campaign } => {
            let stopped = service.stop_sends(campaign.clone()).await?;
            if out.json {
                out.json(&stopped)?;
            } else if stopped.is_empty() {
                out.say(format!(
                    "No send is running{}.",
                    campaign.map(|c| format!(" for {c}")).unwrap_or_default()
                ));
            } else {
                for s in &stopped {
                    out.say(format!(
                        "Stopping the send of {} ({}, {}); it ends after the message in hand.",
                        s.campaign, s.by, s.state
                    ));
                }
            }
        }
        OutreachCommand::Mark {
            lead,
            replied,
            bounced,
            won,
        } => {
            let mark = match (replied, bounced, won) {
                (true, _, _) => Mark::Replied,
                (_, true, _) => Mark::Bounced,
                (_, _, true) => Mark::Won,
                _ => bail!("say --replied, --bounced or --won"),
            };
            let lead = service.mark_outreach(lead.clone(), mark).await?;
            if out.json {
                out.json(&serde_json::json!({ "lead": lead.id, "status": lead.status }))?;
            } else {
                out.say(format!(
                    "{} is now {}; no further mail goes to it.",
                    lead.business_name, lead.status
                ));
            }
        }
        OutreachCommand::Export {
            campaign,
            format,
            out: path,
        } => {
            if format != "csv" {
                bail!("unknown format `{format}`; only csv");
            }
            let rows = match &path {
                Some(path) => {
                    let mut file = std::fs::File::create(path)
                        .wrap_err_with(|| format!("cannot create {}", path.display()))?;
                    service.export_outreach(campaign.clone(), &mut file).await?
                }
                None => {
                    service
                        .export_outreach(campaign.clone(), &mut std::io::stdout().lock())
                        .await?
                }
            };
            if let Some(path) = path {
                out.say(format!(
                    "Wrote {rows} approved email(s) to {}.",
                    path.display()
                ));
            }
        }
        OutreachCommand::Thread { lead } => super::inbox::thread(lead, service, out).await?,
        OutreachCommand::Template { campaign } => {
            let (text, origin) = service.email_template(campaign.clone()).await?;
            eprintln!("# {origin}");
            print!("{text}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `Subject: ...`, a blank line, the body.
fn split_subject(text: &str) -> Result<(String, String)> {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Some(subject) = first.trim_end().strip_prefix("Subject:") else {
        bail!("the first line must be `Subject: ...`; nothing was saved");
    };
    Ok((
        subject.trim().to_string(),
        rest.trim_start_matches(['\r', '\n']).to_string(),
    ))
}

fn edit_in_editor(text: &str) -> Result<String> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let mut file = tempfile::Builder::new()
        .suffix(".txt")
        .tempfile()
        .wrap_err("cannot make a temp file")?;
    file.write_all(text.as_bytes())
        .wrap_err("cannot write the temp file")?;
    let path = file.path().to_path_buf();
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(parts)
        .arg(&path)
        .status()
        .wrap_err_with(|| format!("cannot start the editor `{editor}` (set $EDITOR)"))?;
    if !status.success() {
        bail!("the editor exited with {status}; nothing was saved");
    }
    std::fs::read_to_string(&path).wrap_err("cannot read the edited text")
}
