//! `leadscout sequence show|set|stop|status`: a campaign's follow-ups and a
//! lead's place in them.

use color_eyre::eyre::Result;

use super::args::SequenceCommand;
use super::output::{Out, when};
use crate::domain::followup::{LeadSequence, SequenceView};
use crate::service::{Api, Client};

pub async fn run(command: SequenceCommand, service: &Client, out: &Out) -> Result<()> {
    match command {
        SequenceCommand::Show { campaign } => {
            let view = service.sequence_show(campaign).await?;
            if out.json {
                return out.json(&view);
            }
            print_steps(&view, out)?;
        }
        SequenceCommand::Set {
            campaign,
            steps,
            clear,
            auto_approve_followups,
        } => {
            // Template paths are kept absolute: the host that drafts the
            // follow-ups may run in another directory.
            let steps = steps.iter().map(|s| absolute_file(s)).collect();
            let view = service
                .sequence_set(campaign, steps, clear, auto_approve_followups)
                .await?;
            if out.json {
                return out.json(&view);
            }
            print_steps(&view, out)?;
        }
        SequenceCommand::Stop { lead, reason } => {
            let progress = service.sequence_stop(lead, reason).await?;
            if out.json {
                return out.json(&progress);
            }
            print_lead(&progress, out);
        }
        SequenceCommand::Status { lead } => {
            let progress = service.lead_sequence(lead).await?;
            if out.json {
                return out.json(&progress);
            }
            print_lead(&progress, out);
        }
    }
    Ok(())
}

/// `FILE:DELAY` with FILE made absolute when it exists here.
fn absolute_file(spec: &str) -> String {
    match spec.rsplit_once(':') {
        Some((file, delay)) => match std::fs::canonicalize(file.trim()) {
            Ok(path) => format!("{}:{delay}", path.display()),
            Err(_) => spec.to_string(),
        },
        None => spec.to_string(),
    }
}

/// The steps with their delays and what each did.
pub fn print_steps(view: &SequenceView, out: &Out) -> Result<()> {
    out.say(format!(
        "Sequence of {}: {} step(s); follow-ups {}.",
        view.campaign,
        view.sequence.steps.len(),
        if view.sequence.auto_approve_followups {
            "are approved with the first email"
        } else {
            "need approval"
        }
    ));
    out.table(
        &["step", "template", "after", "waiting", "sent", "replied"],
        view.steps.iter().map(|s| {
            vec![
                s.step.to_string(),
                if s.template.is_empty() {
                    "(the campaign's email template)".to_string()
                } else {
                    s.template.clone()
                },
                s.after.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
                s.pending.to_string(),
                s.sent.to_string(),
                s.replied.to_string(),
            ]
        }),
    )?;
    if view.stopped > 0 {
        out.say(format!("{} lead(s) stopped for good.", view.stopped));
    }
    Ok(())
}

/// A lead's steps sent, the next one due, or why it stopped.
pub fn print_lead(p: &LeadSequence, out: &Out) {
    let sent: Vec<String> = p
        .sent
        .iter()
        .map(|s| format!("step {} on {}", s.step, when(&s.sent_at)))
        .collect();
    let mut line = format!(
        "Sequence ({} of {} step(s) sent){}",
        p.sent.len(),
        p.steps_total,
        if sent.is_empty() {
            String::new()
        } else {
            format!(": {}", sent.join(", "))
        }
    );
    if let (Some(step), Some(status)) = (p.current_step, p.current_status)
        && !p.sent.iter().any(|s| s.step == step)
    {
        line.push_str(&format!("; step {step} is {status}"));
    }
    out.say(line);
    if let Some(stop) = &p.stop {
        out.say(format!("Stopped: {} ({})", stop.reason, when(&stop.at)));
    } else if let Some(next) = &p.next {
        out.say(format!(
            "Next: step {} due {}{}{}",
            next.step,
            when(&next.due_at),
            if next.needs_approval {
                ", needs approval"
            } else {
                ", approved with the first email"
            },
            next.after_return
                .map(|d| format!(" (after an out-of-office until {d})"))
                .unwrap_or_default()
        ));
    }
}
