//! A campaign's funnel by step: for each step of its sequence, the emails
//! drafted and waiting, sent, and replied to (a reply counts for the
//! latest step sent before it). `sequence show`, `campaign show` and the
//! dashboard read it.

use super::{Result, Service};
use crate::domain::followup::{SequenceView, StepFunnel, step_replied_to};
use crate::domain::inbox::EntryKind;
use crate::domain::outreach::{Outreach, OutreachStatus};
use crate::domain::{Campaign, LeadStatus};

impl Service {
    /// The campaign's steps with what each one did: drafted and waiting,
    /// sent, and replied (a reply counts for the latest step sent before
    /// it; a lead marked replied without a read reply, for its last step).
    pub(crate) fn sequence_view(&self, campaign: &Campaign) -> Result<SequenceView> {
        let emails = self.store().campaign_outreach(campaign.id, None)?;
        self.sequence_view_of(campaign, &emails)
    }

    /// The same over the campaign's emails read already (the dashboard
    /// reads them once for its own funnel and this one).
    pub(crate) fn sequence_view_of(
        &self,
        campaign: &Campaign,
        emails: &[Outreach],
    ) -> Result<SequenceView> {
        let sequence = campaign.sequence();
        let mut steps: Vec<StepFunnel> = sequence
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| StepFunnel {
                step: i as u32 + 1,
                template: s.template.clone(),
                after: s.after,
                pending: 0,
                sent: 0,
                replied: 0,
            })
            .collect();
        let mut counts: Vec<(u32, u64, u64, u64)> = Vec::new();
        let mut stopped = 0;
        for o in emails {
            let mut sent: Vec<(u32, crate::domain::Timestamp)> =
                o.earlier.iter().map(|s| (s.step, s.sent_at)).collect();
            if let Some(t) = o.sent_at {
                sent.push((o.step, t));
            }
            if matches!(o.status, OutreachStatus::Draft | OutreachStatus::Approved) {
                counts.push((o.step, 1, 0, 0));
            }
            for (step, _) in &sent {
                counts.push((*step, 0, 1, 0));
            }
            if self.store().sequence_stop(o.lead)?.is_some() {
                stopped += 1;
            }
            if sent.is_empty() {
                continue;
            }
            let reply = self
                .store()
                .conversation(o.lead)?
                .into_iter()
                .find(|e| e.kind == EntryKind::Reply)
                .map(|e| e.at);
            let step = match reply {
                Some(at) => step_replied_to(&sent, at),
                None => match self.store().lead(o.lead)? {
                    Some(l) if matches!(l.status, LeadStatus::Replied | LeadStatus::Won) => {
                        sent.iter().map(|(s, _)| *s).max()
                    }
                    _ => None,
                },
            };
            if let Some(step) = step {
                counts.push((step, 0, 0, 1));
            }
        }
        for (step, pending, sent, replied) in counts {
            let slot = slot(&mut steps, step);
            slot.pending += pending;
            slot.sent += sent;
            slot.replied += replied;
        }
        Ok(SequenceView {
            campaign: campaign.slug.to_string(),
            sequence,
            steps,
            stopped,
        })
    }
}

/// A step's funnel entry, made when an email names a step the sequence no
/// longer has (it was shortened after sending).
fn slot(steps: &mut Vec<StepFunnel>, step: u32) -> &mut StepFunnel {
    let i = step.max(1) as usize - 1;
    while steps.len() <= i {
        let n = steps.len() as u32 + 1;
        steps.push(StepFunnel {
            step: n,
            template: String::new(),
            after: None,
            pending: 0,
            sent: 0,
            replied: 0,
        });
    }
    &mut steps[i]
}
