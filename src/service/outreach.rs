//! Outreach use cases: list, show, edit, approve, reject, mark, export,
//! and sending within the limits, at most once per lead.

use serde::{Deserialize, Serialize};

use super::{Result, Service, ServiceError};
use crate::domain::blacklist::BlacklistValue;
use crate::domain::event::{Event, ReplySource};
use crate::domain::outreach::{Author, Outreach, OutreachStatus};
use crate::domain::{BlacklistReason, Email, Lead, LeadStatus, Timestamp};
use crate::jobs::sender::{Outbox, SendFailure};
pub use crate::jobs::sender::{SendEvent, SendRequest, SendSummary};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutreachView {
    // The lead's id comes from `outreach.lead` (one `lead` key in JSON).
    pub business_name: String,
    pub website: String,
    #[serde(flatten)]
    pub outreach: Outreach,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mark {
    Replied,
    Bounced,
    Won,
}

impl Service {
    fn outreach_view(&self, o: Outreach) -> Result<OutreachView> {
        let lead = self.store().lead(o.lead)?;
        Ok(OutreachView {
            business_name: lead
                .as_ref()
                .map(|l| l.business_name.clone())
                .unwrap_or_default(),
            website: lead
                .as_ref()
                .map(|l| l.website.to_string())
                .unwrap_or_default(),
            outreach: o,
        })
    }

    pub async fn list_outreach(
        &self,
        campaign: &str,
        status: Option<OutreachStatus>,
    ) -> Result<Vec<OutreachView>> {
        let campaign = self.campaign_by_slug(campaign)?;
        self.store()
            .campaign_outreach(campaign.id, status)?
            .into_iter()
            .map(|o| self.outreach_view(o))
            .collect()
    }

    fn outreach_of(&self, reference: &str) -> Result<(Lead, Outreach)> {
        let lead = self.resolve_lead(reference)?;
        let outreach = self.store().outreach(lead.id)?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "{} has no email yet; the draft stage makes one (leadscout run --campaign SLUG --stages draft)",
                lead.business_name
            ))
        })?;
        Ok((lead, outreach))
    }

    pub async fn show_outreach(&self, reference: &str) -> Result<OutreachView> {
        let (_, o) = self.outreach_of(reference)?;
        self.outreach_view(o)
    }

    /// Replaces the text with the operator's, keeping the old one. An
    /// approved email goes back to draft: what was approved is not what
    /// would be sent any more. With `base_version` (the version the
    /// operator started from), a save over a text that changed since is
    /// refused and nothing is replaced. A body without the compliance
    /// footer gets it back: it is not the operator's to delete.
    pub async fn edit_outreach(
        &self,
        reference: &str,
        subject: &str,
        body: &str,
        base_version: Option<u32>,
    ) -> Result<OutreachView> {
        let (lead, current) = self.outreach_of(reference)?;
        let subject = crate::domain::outreach::single_line(subject);
        if subject.is_empty() || body.trim().is_empty() {
            return Err(ServiceError::Invalid(
                "the subject and the body must not be empty".into(),
            ));
        }
        let now = self.now();
        let sender = self
            .store()
            .campaign(lead.campaign)?
            .map(|campaign| self.outbox().sender_identity(&campaign));
        // Links and hosts do not change with the text; reading them here
        // keeps the transaction free of other reads.
        let hosts = match &sender {
            Some(sender) => self.outbox().allowed_hosts(&lead, &current, sender)?,
            None => Vec::new(),
        };
        let refused: std::cell::RefCell<Option<String>> = std::cell::RefCell::new(None);
        let footer_added = std::cell::Cell::new(false);
        let updated = self
            .store()
            .modify_outreach(
                lead.id,
                |o| {
                    *refused.borrow_mut() = None;
                    footer_added.set(false);
                    if !matches!(
                        o.status,
                        OutreachStatus::Draft | OutreachStatus::Approved | OutreachStatus::Rejected
                    ) {
                        *refused.borrow_mut() = Some(format!(
                            "the email to {} is {}; only drafts, approved and rejected emails can be edited",
                            lead.business_name, o.status
                        ));
                        return false;
                    }
                    if let Some(base) = base_version
                        && base != o.version()
                    {
                        *refused.borrow_mut() = Some(format!(
                            "the email to {} changed since you opened it (you edited version {base}, it is now version {}, {}); nothing was replaced — copy your text, reopen the email and apply it again",
                            lead.business_name,
                            o.version(),
                            o.status
                        ));
                        return false;
                    }
                    let mut body = format!("{}\n", body.trim_end());
                    if let Some(sender) = &sender {
                        let who = [sender.company.as_str(), sender.name.as_str()]
                            .into_iter()
                            .find(|s| !s.is_empty())
                            .unwrap_or("");
                        let full = crate::domain::outreach::with_footer(
                            &body,
                            who,
                            &sender.postal_address,
                            &o.unsubscribe_url,
                        );
                        footer_added.set(full != body);
                        body = full;
                    }
                    o.revise(subject.clone(), body, Author::Operator, now);
                    o.blocked = crate::domain::text::email_block_reason(&o.subject, &o.body, &hosts);
                    if o.status == OutreachStatus::Approved {
                        o.status = OutreachStatus::Draft;
                        o.approved_at = None;
                    }
                    true
                },
                |_| None,
            )?
            .ok_or_else(|| ServiceError::NotFound("the email disappeared".into()))?;
        if let Some(why) = refused.into_inner() {
            return Err(ServiceError::Conflict(why));
        }
        let campaign = self.campaign_slug(lead.campaign)?;
        self.log_action(
            "edit_draft",
            Some(&campaign),
            lead.id.to_string(),
            format!(
                "new text (version {}, subject \"{}\"){}; now {}",
                updated.version(),
                updated.subject,
                if footer_added.get() {
                    "; the compliance footer was added back"
                } else {
                    ""
                },
                updated.status
            ),
        )?;
        self.store().flush().await?;
        self.outreach_view(updated)
    }

    /// Approves drafts; a blacklisted recipient's draft is suppressed
    /// instead. Returns (approved, suppressed, skipped with reasons).
    pub async fn approve_outreach(
        &self,
        references: &[String],
        all_drafted_in: Option<&str>,
    ) -> Result<ApproveSummary> {
        let mut leads = Vec::new();
        for r in references {
            leads.push(self.resolve_lead(r)?.id);
        }
        if let Some(slug) = all_drafted_in {
            let campaign = self.campaign_by_slug(slug)?;
            leads.extend(
                self.store()
                    .campaign_outreach(campaign.id, Some(OutreachStatus::Draft))?
                    .into_iter()
                    .map(|o| o.lead),
            );
        }
        let now = self.now();
        let mut summary = ApproveSummary::default();
        let mut approved_names = Vec::new();
        let campaign = match (all_drafted_in, leads.first()) {
            (Some(slug), _) => Some(slug.to_string()),
            (None, Some(&id)) => self.campaign_slug_of_lead(id)?,
            (None, None) => None,
        };
        let target = if references.is_empty() {
            format!("all drafts of {}", all_drafted_in.unwrap_or(""))
        } else {
            references.join(",")
        };
        for id in leads {
            let Some(lead) = self.store().lead(id)? else {
                continue;
            };
            let blocked = self
                .store()
                .blocking_entry(&lead.domain, lead.email.as_ref())?;
            let Some(o) = self.store().outreach(id)? else {
                summary
                    .skipped
                    .push(format!("{}: no email yet", lead.business_name));
                continue;
            };
            if o.status != OutreachStatus::Draft {
                summary.skipped.push(format!(
                    "{}: the email is {}, not a draft",
                    lead.business_name, o.status
                ));
                continue;
            }
            if blocked.is_some() || lead.status.is_closed() {
                if self.suppress(&o, "the recipient is on the blacklist or closed", now)? {
                    summary.suppressed += 1;
                }
                continue;
            }
            let sender = self
                .store()
                .campaign(lead.campaign)?
                .map(|c| self.outbox().sender_identity(&c));
            let postal = sender
                .as_ref()
                .map(|s| s.postal_address.clone())
                .unwrap_or_default();
            let blocked = match &sender {
                Some(sender) => self.outbox().foreign_link_block(&lead, &o, sender)?,
                None => None,
            };
            if let Some(why) = blocked {
                summary
                    .skipped
                    .push(format!("{}: {why}", lead.business_name));
                continue;
            }
            let missing = o.missing_footer(&postal);
            if !missing.is_empty() {
                summary.skipped.push(format!(
                    "{}: the email lacks {}; open it and save it (leadscout adds the footer back)",
                    lead.business_name,
                    missing.join(" and ")
                ));
                continue;
            }
            let latest = self.store().audits_of(id, 1)?;
            if let Some(why) = o.written_from_older_audit(latest.first()) {
                summary
                    .skipped
                    .push(format!("{}: {why}", lead.business_name));
                continue;
            }
            self.store().modify_outreach(
                id,
                |o| {
                    if o.status != OutreachStatus::Draft {
                        return false;
                    }
                    o.status = OutreachStatus::Approved;
                    o.approved_at = Some(now);
                    o.updated_at = now;
                    true
                },
                |o| (o.status == OutreachStatus::Approved).then_some(LeadStatus::Approved),
            )?;
            summary.approved += 1;
            approved_names.push(lead.business_name.clone());
        }
        // The log names the leads approved: an id alone does not say who.
        let named = if approved_names.is_empty() {
            String::new()
        } else {
            format!(" ({})", approved_names.join(", "))
        };
        self.log_action(
            "approve",
            campaign.as_deref(),
            target,
            format!(
                "approved {}{named}, suppressed {}, skipped {}",
                summary.approved,
                summary.suppressed,
                summary.skipped.len()
            ),
        )?;
        self.store().flush().await?;
        Ok(summary)
    }

    pub async fn reject_outreach(&self, references: &[String]) -> Result<u64> {
        let now = self.now();
        let mut rejected = 0;
        // The log names the leads: an id alone does not say who.
        let mut names = Vec::new();
        for r in references {
            let (lead, o) = self.outreach_of(r)?;
            if !matches!(o.status, OutreachStatus::Draft | OutreachStatus::Approved) {
                return Err(ServiceError::Conflict(format!(
                    "the email to {} is {}; only drafts and approved emails can be rejected",
                    lead.business_name, o.status
                )));
            }
            self.store().modify_outreach(
                lead.id,
                |o| {
                    o.status = OutreachStatus::Rejected;
                    o.approved_at = None;
                    o.updated_at = now;
                    true
                },
                |_| None,
            )?;
            self.store().modify_lead(lead.id, |l| {
                if l.status.may_move_to(LeadStatus::Rejected) {
                    l.status = LeadStatus::Rejected;
                    l.updated_at = now;
                }
            })?;
            rejected += 1;
            names.push(lead.business_name.clone());
        }
        let campaign = match references.first() {
            Some(r) => self.campaign_slug_of_lead(self.resolve_lead(r)?.id)?,
            None => None,
        };
        self.log_action(
            "reject",
            campaign.as_deref(),
            references.join(","),
            format!("rejected {rejected}: {}", names.join(", ")),
        )?;
        self.store().flush().await?;
        Ok(rejected)
    }

    /// Records what the operator learned outside leadscout. Replied,
    /// bounced and won leads get no further mail; an approved email to
    /// them is suppressed.
    pub async fn mark_outreach(&self, reference: &str, mark: Mark) -> Result<Lead> {
        let lead = self.resolve_lead(reference)?;
        let updated = self.mark_lead(&lead, mark)?;
        if mark == Mark::Replied && updated.status == LeadStatus::Replied {
            self.bus.publish(Event::LeadReplied {
                lead: lead.id,
                by: ReplySource::Manual,
            });
        }
        let what = match mark {
            Mark::Replied => "replied",
            Mark::Bounced => "bounced",
            Mark::Won => "won",
        };
        self.stop_sequence(lead.id, &format!("marked {what} (outreach mark)"))?;
        self.store().flush().await?;
        Ok(updated)
    }

    /// What `outreach mark` does, without the flush (the inbox marks many
    /// leads and flushes once per batch).
    pub(crate) fn mark_lead(&self, lead: &Lead, mark: Mark) -> Result<Lead> {
        let now = self.now();
        let status = match mark {
            Mark::Replied => LeadStatus::Replied,
            Mark::Bounced => LeadStatus::Bounced,
            Mark::Won => LeadStatus::Won,
        };
        let updated = self
            .store()
            .modify_lead(lead.id, |l| {
                if l.status != LeadStatus::Blacklisted {
                    l.status = status;
                    l.updated_at = now;
                }
            })?
            .ok_or_else(|| ServiceError::NotFound("the lead disappeared".into()))?;
        if let Some(o) = self.store().outreach(lead.id)?
            && matches!(o.status, OutreachStatus::Draft | OutreachStatus::Approved)
        {
            self.suppress(&o, &format!("the lead is marked {status}"), now)?;
        }
        Ok(updated)
    }

    /// Whether the email moved (see `jobs::sender::suppress`).
    fn suppress(&self, o: &Outreach, why: &str, now: Timestamp) -> Result<bool> {
        Ok(crate::jobs::sender::suppress(self.store(), o, why, now)?)
    }

    /// Approved emails as CSV for other sending tools: email, first line,
    /// subject, body, report URL.
    pub async fn export_outreach(
        &self,
        campaign: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<u64> {
        self.export_outreach_blocking(campaign, out)
    }

    /// The export without a runtime, for a blocking thread.
    pub(crate) fn export_outreach_blocking(
        &self,
        campaign: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<u64> {
        let campaign = self.campaign_by_slug(campaign)?;
        let mut writer = csv::Writer::from_writer(out);
        let io = |e: csv::Error| ServiceError::Invalid(format!("cannot write the CSV: {e}"));
        writer
            .write_record(["email", "first_line", "subject", "body", "report_url"])
            .map_err(io)?;
        let mut rows = 0;
        for o in self
            .store()
            .campaign_outreach(campaign.id, Some(OutreachStatus::Approved))?
        {
            let first_line = o
                .body
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .to_string();
            writer
                .write_record([
                    o.to.as_str(),
                    &first_line,
                    &o.subject,
                    &o.body,
                    &o.report_url,
                ])
                .map_err(io)?;
            rows += 1;
        }
        writer
            .flush()
            .map_err(|e| ServiceError::io("cannot write the CSV", e))?;
        Ok(rows)
    }

    /// Emails left in `sending` by a process that died mid-send: they may
    /// or may not have gone, so they wait for a person, never a resend.
    pub async fn recover_interrupted_sends(&self) -> Result<u64> {
        let found = self.outbox().recover_interrupted()?;
        if found > 0 {
            self.store().flush().await?;
        }
        Ok(found)
    }

    /// Sends the campaign's approved emails within the limits (see
    /// `jobs::sender`), one send at a time in this process (see
    /// `sending`). Recipients the server calls unknown are added to the
    /// blacklist as bounces.
    pub async fn send_outreach(
        &self,
        request: &SendRequest,
        progress: impl FnMut(&SendEvent),
    ) -> Result<SendSummary> {
        let stop = std::sync::Arc::new(tokio::sync::watch::channel(false).0);
        self.send_outreach_until(request, stop, progress).await
    }

    /// One send, now: the caller holds the turn (or it is a dry run).
    pub(super) async fn send_now(
        &self,
        request: &SendRequest,
        stop: tokio::sync::watch::Receiver<bool>,
        progress: impl FnMut(&SendEvent),
    ) -> Result<SendSummary> {
        let campaign = self.campaign_by_slug(&request.campaign)?;
        let outcome = self.outbox().send(&campaign, request, stop, progress).await;
        if !request.dry_run {
            let change = match &outcome {
                Ok(s) => format!(
                    "sent {}, deferred {}, suppressed {}, failed {}, needs review {}{}",
                    s.sent,
                    s.deferred,
                    s.suppressed,
                    s.failed,
                    s.needs_review,
                    if s.stopped {
                        "; stopped early (its client left or `outreach stop` asked)"
                    } else {
                        ""
                    }
                ),
                Err(SendFailure::Stopped(message, s)) => {
                    format!("sent {}, then stopped: {message}", s.sent)
                }
                Err(SendFailure::Setup(message)) => format!("nothing sent: {message}"),
                Err(SendFailure::Store(e)) => format!("stopped: {e}"),
            };
            self.log_action("send", Some(&request.campaign), "approved emails", change)?;
            self.store().flush().await?;
        }
        let summary = match outcome {
            Ok(summary) => summary,
            Err(SendFailure::Store(e)) => return Err(e.into()),
            Err(SendFailure::Stopped(message, summary)) => {
                self.blacklist_bounces(&summary)?;
                return Err(ServiceError::Invalid(message));
            }
            Err(SendFailure::Setup(message)) => return Err(ServiceError::Invalid(message)),
        };
        self.blacklist_bounces(&summary)?;
        Ok(summary)
    }

    fn blacklist_bounces(&self, summary: &SendSummary) -> Result<()> {
        for email in &summary.bounced {
            if let Ok(email) = Email::parse(email) {
                self.blacklist_add_value(
                    &BlacklistValue::Email(email),
                    BlacklistReason::Bounce,
                    "SMTP server: unknown recipient",
                )?;
            }
        }
        Ok(())
    }

    /// The slug of a lead's campaign, for the action log.
    fn campaign_slug_of_lead(&self, lead: crate::domain::LeadId) -> Result<Option<String>> {
        match self.store().lead(lead)? {
            Some(lead) => Ok(Some(self.campaign_slug(lead.campaign)?)),
            None => Ok(None),
        }
    }

    /// The email template a campaign (or, without one, every campaign)
    /// uses and where it comes from: the effective `email.template_file`,
    /// else the built-in one.
    pub async fn email_template(&self, campaign: Option<&str>) -> Result<(String, String)> {
        let campaign = campaign
            .map(|slug| self.campaign_by_slug(slug).map(|c| c.id))
            .transpose()?;
        crate::jobs::stages::draft::template_source(self.store(), self.config(), campaign)
            .map_err(ServiceError::Invalid)
    }

    fn outbox(&self) -> Outbox<'_> {
        Outbox {
            store: self.store(),
            config: self.config(),
            clock: self.clock(),
            instance: self.send_desk_instance(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApproveSummary {
    pub approved: u64,
    pub suppressed: u64,
    pub skipped: Vec<String>,
}
