//! Follow-up sequences as use cases: a campaign's steps (`sequence
//! show|set`), one lead's progress and its stop (`sequence stop`, and
//! [`Service::halt_sequence`], which every path that ends a sequence
//! calls: a reply, a bounce, an unsubscribe, the blacklist, `outreach
//! mark`), the scheduler pass the host runs every minute
//! ([`Service::draft_due_followups`]); the funnel by step is
//! `sequence_funnel`.
//!
//! The lead's outreach record is the email in hand: when step N+1 is
//! drafted, step N moves into its `earlier` list in the same transaction,
//! so approval, sending and at-most-once work on every step unchanged.

use serde::{Deserialize, Serialize};

use super::{Result, Service, ServiceError};
use crate::domain::event::Event;
use crate::domain::followup::{LeadSequence, NextStep, SequenceView};
use crate::domain::inbox::EntryKind;
use crate::domain::outreach::{Outreach, OutreachStatus};
use crate::domain::sending::Limits;
use crate::domain::sequence::{Sequence, Step, StepDelay, after_return};
use crate::domain::{Campaign, CampaignStatus, LeadId};
use crate::jobs::followup::{FollowupInput, check_template, compose};

/// What one pass of the follow-up scheduler did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowupPass {
    /// Follow-ups drafted (approved ones included).
    pub drafted: u64,
    /// Of those, approved with the first email.
    pub approved: u64,
    /// Sequences found closed (blacklisted or closed leads) and stopped.
    pub stopped: u64,
    /// Follow-ups that could not be drafted, each with its lead and why.
    pub failed: Vec<String>,
}

impl Service {
    /// The limits a campaign sends under (its zone and weekdays count the
    /// business days of a delay).
    fn sequence_limits(&self, campaign: &Campaign) -> Result<Limits> {
        let sending = self
            .config()
            .effective_sending(self.store(), Some(campaign.id))?;
        sending.limits().map_err(|(key, why)| {
            ServiceError::Invalid(format!(
                "the sending settings of {} are not valid: {key}: {why}",
                campaign.slug
            ))
        })
    }

    /// A campaign's steps and its funnel by step.
    pub async fn sequence_show(&self, campaign: &str) -> Result<SequenceView> {
        let campaign = self.campaign_by_slug(campaign)?;
        self.sequence_view(&campaign)
    }

    /// Replaces the follow-ups (`steps`, each `FILE:AFTER`; with `clear`,
    /// none) and/or sets `auto_approve_followups`. Every template must
    /// read and render and every delay parse; nothing changes otherwise,
    /// and the error names the step.
    pub async fn sequence_set(
        &self,
        campaign: &str,
        steps: &[String],
        clear: bool,
        auto_approve: Option<bool>,
    ) -> Result<SequenceView> {
        let mut campaign = self.campaign_by_slug(campaign)?;
        let mut sequence = campaign.sequence();
        if clear && !steps.is_empty() {
            return Err(ServiceError::Invalid(
                "give either --step ... or --clear, not both".into(),
            ));
        }
        if clear || !steps.is_empty() {
            sequence.steps.truncate(1);
        }
        for (i, spec) in steps.iter().enumerate() {
            let number = i + 2;
            let (file, after) = spec.rsplit_once(':').ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "step {number} `{spec}`: write it as FILE:DELAY, e.g. followup1.txt:\"3 business days\""
                ))
            })?;
            let after: StepDelay = after
                .parse()
                .map_err(|e| ServiceError::Invalid(format!("step {number} (`{spec}`): {e}")))?;
            let file = file.trim();
            check_template(
                self.store(),
                self.config(),
                campaign.id,
                number as u32,
                file,
            )
            .map_err(|e| ServiceError::Invalid(format!("step {number} ({file}): {e}")))?;
            sequence.steps.push(Step {
                template: file.to_string(),
                after: Some(after),
            });
        }
        if let Some(auto) = auto_approve {
            sequence.auto_approve_followups = auto;
        }
        sequence
            .check()
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let describe = describe(&sequence);
        campaign.sequence = Some(sequence);
        campaign.updated_at = self.now();
        self.store().update_campaign(&campaign)?;
        self.log_action(
            "sequence_set",
            Some(campaign.slug.as_str()),
            campaign.slug.to_string(),
            describe,
        )?;
        self.store().flush().await?;
        self.sequence_view(&campaign)
    }

    /// The operator's stop: no further follow-ups to this lead; a pending
    /// follow-up is withdrawn.
    pub async fn sequence_stop(&self, lead: &str, reason: Option<&str>) -> Result<LeadSequence> {
        let lead = self.resolve_lead(lead)?;
        let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => format!("stopped by the operator: {r}"),
            None => "stopped by the operator".to_string(),
        };
        self.halt_sequence(lead.id, &reason)?;
        self.store().flush().await?;
        self.lead_sequence_of(lead.id)
    }

    /// Where a lead stands in its sequence.
    pub async fn lead_sequence(&self, lead: &str) -> Result<LeadSequence> {
        let lead = self.resolve_lead(lead)?;
        self.lead_sequence_of(lead.id)
    }

    /// Stops a lead's sequence for good with a reason people can read
    /// (the first reason stays), and withdraws a follow-up that is drafted
    /// or approved but not claimed for sending. The caller flushes.
    pub(crate) fn halt_sequence(&self, lead: LeadId, reason: &str) -> Result<()> {
        let first = self.store().sequence_stop(lead)?.is_none();
        self.store()
            .record_sequence_stop(lead, reason, self.now())?;
        let outreach = self.store().outreach(lead)?;
        // Only a lead that got mail has a sequence worth a log line (a
        // blacklist import can stop thousands that never did).
        let contacted = outreach
            .as_ref()
            .is_some_and(|o| o.first_sent_at().is_some());
        if let Some(o) = outreach
            && o.step > 1
            && matches!(o.status, OutreachStatus::Draft | OutreachStatus::Approved)
        {
            crate::jobs::sender::suppress(
                self.store(),
                &o,
                &format!("withdrawn: the sequence stopped ({reason})"),
                self.now(),
            )?;
        }
        if first && contacted {
            tracing::info!(%lead, reason, "sequence stopped");
            let campaign = match self.store().lead(lead)? {
                Some(l) => Some(self.campaign_slug(l.campaign)?),
                None => None,
            };
            self.log_action(
                "sequence_stop",
                campaign.as_deref(),
                lead.to_string(),
                reason,
            )?;
        }
        self.bus.publish(Event::LeadChanged { lead });
        Ok(())
    }

    pub(crate) fn lead_sequence_of(&self, lead: LeadId) -> Result<LeadSequence> {
        let l = self
            .store()
            .lead(lead)?
            .ok_or_else(|| ServiceError::NotFound(format!("no lead with id {lead}")))?;
        let campaign = self
            .store()
            .campaign(l.campaign)?
            .ok_or_else(|| ServiceError::NotFound("the lead's campaign is gone".into()))?;
        let sequence = campaign.sequence();
        let stop = self.store().sequence_stop(lead)?;
        let o = self.store().outreach(lead)?;
        let mut sent = Vec::new();
        let mut next = None;
        if let Some(o) = &o {
            sent = o.earlier.clone();
            if let (Some(at), Some(id)) = (o.sent_at, &o.message_id) {
                sent.push(crate::domain::outreach::SentStep {
                    step: o.step,
                    subject: o.subject.clone(),
                    excerpt: crate::store::outreach::excerpt(&o.body),
                    message_id: id.clone(),
                    sent_at: at,
                });
            }
            if stop.is_none() && !l.status.is_closed() {
                // Bad sending settings say so where they are used (the
                // scheduler, the sender); here there is just no next step.
                next = match self.sequence_limits(&campaign) {
                    Ok(limits) => self.next_step(&sequence, &limits, o)?,
                    Err(_) => None,
                };
            }
        }
        Ok(LeadSequence {
            lead,
            campaign: campaign.slug.to_string(),
            steps_total: sequence.steps.len() as u32,
            sent,
            current_step: o.as_ref().map(|o| o.step),
            current_status: o.as_ref().map(|o| o.status),
            next,
            stop,
        })
    }

    /// The follow-up after the email in hand, when that one was sent and
    /// the sequence has more steps: due its delay after the send, counted
    /// in the campaign's zone and weekdays, and never before the day after
    /// an out-of-office return date read since the first email.
    pub(crate) fn next_step(
        &self,
        sequence: &Sequence,
        limits: &Limits,
        o: &Outreach,
    ) -> Result<Option<NextStep>> {
        let (OutreachStatus::Sent, Some(sent_at)) = (o.status, o.sent_at) else {
            return Ok(None);
        };
        let Some((step, due)) =
            sequence.next_due(o.step as usize, sent_at, &limits.weekdays, &limits.timezone)
        else {
            return Ok(None);
        };
        let since = o.first_sent_at().unwrap_or(sent_at);
        let returns_on = self
            .store()
            .conversation(o.lead)?
            .into_iter()
            .filter(|e| e.kind == EntryKind::AutoReply && e.at >= since)
            .filter_map(|e| e.returns_on)
            .max();
        let due_at = match returns_on {
            Some(day) => after_return(due, day, &limits.timezone),
            None => due,
        };
        Ok(Some(NextStep {
            step: step as u32,
            due_at,
            template: sequence.steps[step - 1].template.clone(),
            needs_approval: !sequence.auto_approve_followups,
            after_return: returns_on.filter(|_| due_at != due),
        }))
    }

    /// One pass of the follow-up scheduler: every active campaign's leads
    /// whose last step was sent, whose sequence runs and whose next step
    /// is due get that step drafted (approved, when the campaign says
    /// so). Safe to repeat: a step is drafted only over the sent step
    /// before it, in one transaction.
    pub async fn draft_due_followups(&self) -> Result<FollowupPass> {
        let now = self.now();
        let mut pass = FollowupPass::default();
        for campaign in self.store().campaigns()? {
            let sequence = campaign.sequence();
            if campaign.status != CampaignStatus::Active || sequence.steps.len() < 2 {
                continue;
            }
            let limits = match self.sequence_limits(&campaign) {
                Ok(limits) => limits,
                Err(e) => {
                    pass.failed.push(format!("{}: {e}", campaign.slug));
                    continue;
                }
            };
            for o in self
                .store()
                .campaign_outreach(campaign.id, Some(OutreachStatus::Sent))?
            {
                if o.step as usize >= sequence.steps.len()
                    || self.store().sequence_stop(o.lead)?.is_some()
                {
                    continue;
                }
                let Some(lead) = self.store().lead(o.lead)? else {
                    continue;
                };
                let blocked = self
                    .store()
                    .blocking_entry(&lead.domain, lead.email.as_ref())?;
                if let Some(entry) = blocked {
                    let why = format!("blacklisted: {} ({})", entry.value, entry.reason);
                    self.halt_sequence(lead.id, &why)?;
                    pass.stopped += 1;
                    continue;
                }
                if lead.status.is_closed() {
                    self.halt_sequence(lead.id, &format!("the lead is {}", lead.status))?;
                    pass.stopped += 1;
                    continue;
                }
                let Some(next) = self.next_step(&sequence, &limits, &o)? else {
                    continue;
                };
                if next.due_at > now {
                    continue;
                }
                let first_sent_on = o
                    .first_sent_at()
                    .map(|t| {
                        t.to_zoned_datetime(limits.timezone.clone())
                            .date()
                            .to_string()
                    })
                    .unwrap_or_default();
                let input = FollowupInput {
                    lead: &lead,
                    sent: &o,
                    step: next.step,
                    template_path: &next.template,
                    auto_approve: sequence.auto_approve_followups,
                    first_sent_on,
                    now,
                };
                let drafted = match compose(self.store(), self.config(), &input) {
                    Ok(drafted) => drafted,
                    Err(why) => {
                        tracing::warn!(lead = %lead.id, %why, "follow-up not drafted");
                        pass.failed.push(format!("{}: {why}", lead.business_name));
                        continue;
                    }
                };
                let approved = drafted.status == OutreachStatus::Approved;
                if !self
                    .store()
                    .advance_sequence(lead.id, o.step, |_| drafted.clone())?
                {
                    continue;
                }
                pass.drafted += 1;
                pass.approved += u64::from(approved);
                self.log_action(
                    "followup_draft",
                    Some(campaign.slug.as_str()),
                    lead.business_name.clone(),
                    format!(
                        "step {} drafted{}",
                        next.step,
                        if approved {
                            ", approved with the first email"
                        } else {
                            "; it needs approval"
                        }
                    ),
                )?;
                self.bus.publish(Event::LeadChanged { lead: lead.id });
            }
        }
        if pass.drafted > 0 || pass.stopped > 0 {
            self.store().flush().await?;
        }
        Ok(pass)
    }
}

/// One line for the action log.
fn describe(sequence: &Sequence) -> String {
    let steps: Vec<String> = sequence
        .steps
        .iter()
        .skip(1)
        .map(|s| {
            format!(
                "{} after {}",
                s.template,
                s.after.map(|a| a.to_string()).unwrap_or_default()
            )
        })
        .collect();
    format!(
        "first email{}{}; follow-ups {}",
        if steps.is_empty() { "" } else { ", then " },
        steps.join(", then "),
        if sequence.auto_approve_followups {
            "approved with the first email"
        } else {
            "need approval"
        }
    )
}
