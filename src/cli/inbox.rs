//! `leadscout inbox sync|status` and `leadscout outreach thread LEAD`.

use color_eyre::eyre::Result;

use super::args::InboxCommand;
use super::output::{Out, printable, when};
use crate::domain::inbox::{EntryKind, InboxStatus, Thread, WatchMode};
use crate::service::{Api, Client};

pub async fn run(command: InboxCommand, service: &Client, out: &Out) -> Result<()> {
    match command {
        InboxCommand::Sync => {
            let report = service.inbox_sync().await?;
            if out.json {
                return out.json(&report);
            }
            let c = &report.counts;
            out.fields(&[
                ("mailbox", report.server.clone()),
                ("new messages", c.new_messages.to_string()),
                ("replies", c.replies.to_string()),
                ("auto-replies", c.auto_replies.to_string()),
                (
                    "bounces",
                    format!("{} hard, {} soft", c.bounces_hard, c.bounces_soft),
                ),
                ("suppressed", c.suppressed.to_string()),
                ("unrelated", c.unrelated.to_string()),
                ("unmatched", c.unmatched.to_string()),
            ])?;
            if report.revalidated {
                out.note(format!(
                    "The mailbox's UIDVALIDITY changed, so it was read again from the start; {} message(s) seen before were not applied again.",
                    c.already_applied
                ));
            }
        }
        InboxCommand::Status => {
            let status = service.inbox_status().await?;
            if out.json {
                return out.json(&status);
            }
            if !status.enabled {
                out.say("The inbox is not watched: set [imap] host, username and password_env in config.toml.");
                return Ok(());
            }
            out.fields(&[
                ("mailbox", status.server.clone()),
                ("state", state(&status)),
                (
                    "last sync",
                    status.last_sync.as_ref().map(when).unwrap_or_default(),
                ),
                ("last error", status.last_error.clone().unwrap_or_default()),
            ])?;
        }
    }
    Ok(())
}

/// What the watcher is doing, in a few words.
fn state(status: &InboxStatus) -> String {
    let link = if status.connected {
        "connected"
    } else {
        "not connected"
    };
    match status.watch {
        WatchMode::Off => format!("{link} (no host is watching; `inbox sync` reads once)"),
        WatchMode::Starting => "connecting".into(),
        WatchMode::Idle => "connected, idle (IMAP IDLE: new mail is read as it arrives)".into(),
        WatchMode::Polling => format!("{link}, polling (the server has no IDLE)"),
        WatchMode::Reconnecting => match &status.retry_at {
            Some(at) => format!("reconnecting (next try {})", when(at)),
            None => "reconnecting".into(),
        },
    }
}

/// `outreach thread LEAD`.
pub async fn thread(lead: String, service: &Client, out: &Out) -> Result<()> {
    let thread = service.outreach_thread(lead).await?;
    if out.json {
        return out.json(&thread);
    }
    print_thread(&thread);
    Ok(())
}

fn print_thread(t: &Thread) {
    println!(
        "{} <{}>: {}",
        printable(&t.business_name, false),
        t.email.as_deref().unwrap_or("no address"),
        t.status
    );
    if t.entries.is_empty() {
        println!("\nNothing sent or received yet.");
    }
    for e in &t.entries {
        let what = match e.kind {
            EntryKind::Sent => "sent".to_string(),
            EntryKind::Reply => "reply".to_string(),
            EntryKind::AutoReply => match &e.returns_on {
                Some(day) => format!("auto-reply (back {day})"),
                None => "auto-reply".to_string(),
            },
            EntryKind::Bounce | EntryKind::SoftBounce => {
                let b = e.bounce.as_ref();
                format!(
                    "{} bounce {}",
                    if e.kind == EntryKind::Bounce {
                        "hard"
                    } else {
                        "soft"
                    },
                    b.and_then(|b| b.status.as_deref()).unwrap_or("")
                )
            }
        };
        println!(
            "\n{}  {}  {}\n  Subject: {}",
            when(&e.at),
            what.trim_end(),
            printable(&e.from, false),
            printable(&e.subject, false)
        );
        for line in e.excerpt.lines() {
            println!("  | {}", printable(line, false));
        }
    }
    if let Some(stop) = &t.sequence_stop {
        println!("\nNo further mail: {} ({})", stop.reason, when(&stop.at));
    }
}
