//! Sending: a campaign's approved emails go to the SMTP server within the
//! limits, each checked against the blacklist and its lead's state right
//! before it goes, at most once. The outbox step: an email's `sending`
//! state is on disk before the SMTP hand-over, and an email found in
//! `sending` later becomes `needs_review`, never a resend.

use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use crate::config::{Config, SendingConfig};
use crate::domain::outreach::{Claim, Outreach, OutreachStatus};
use crate::domain::sending::{Limits, SentSoFar};
use crate::domain::{Campaign, Clock, Email, Timestamp};
use crate::jobs::address_gate::{AddressGate, GateError};
use crate::pipeline::draft;
use crate::pipeline::send::{Mailer, Outgoing, SendError, build_threaded};
use crate::store::{Store, StoreError};

/// The longest a dry run waits for the SMTP server's answer.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a message the server asked to retry later waits.
const RETRY_LATER: Duration = Duration::from_secs(15 * 60);
/// Pauses for spacing up to this long happen inside a send; longer waits
/// (a closed window, a full cap) end it unless `--wait` was given.
const LONGEST_PAUSE: Duration = Duration::from_secs(15 * 60);

/// What happened to one email during a send.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SendEvent {
    pub lead: String,
    pub to: String,
    pub outcome: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct SendSummary {
    /// Recipients the server called unknown (for the blacklist).
    pub bounced: Vec<String>,
    pub sent: u64,
    pub deferred: u64,
    pub suppressed: u64,
    pub failed: u64,
    pub needs_review: u64,
    /// When the next deferred email may go, if any is waiting.
    pub next_at: Option<Timestamp>,
    pub next_reason: Option<String>,
    pub dry_run: bool,
    /// What would stop the real send (a dry run's preflight), each with
    /// what to set; empty when it would go.
    #[serde(default)]
    pub would_stop: Vec<String>,
    /// The send was asked to stop (its client left, or `outreach stop`)
    /// and ended between two messages.
    #[serde(default)]
    pub stopped: bool,
    /// The send goes on in the server without its client
    /// (`outreach send --detach`); the counts are not known yet.
    #[serde(default)]
    pub detached: bool,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SendRequest {
    pub campaign: String,
    pub dry_run: bool,
    /// Wait through closed windows and full caps instead of stopping.
    pub wait: bool,
    /// Keep sending in the server after the client leaves; without it an
    /// attached send stops when its client goes away.
    #[serde(default)]
    pub detach: bool,
}

#[derive(Debug)]
pub enum SendFailure {
    Store(StoreError),
    /// Nothing was sent: sending is not set up or the server is down.
    Setup(String),
    /// Sending stopped part-way (the connection broke mid-hand-over).
    Stopped(String, Box<SendSummary>),
}

impl From<StoreError> for SendFailure {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Marks an email suppressed: its recipient must not get it. Only a draft
/// or an approved email moves: one another sender claimed or sent since
/// it was read keeps its state. Returns whether it moved.
pub fn suppress(
    store: &Store,
    o: &Outreach,
    why: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let why = why.to_string();
    let moved = std::cell::Cell::new(false);
    store.modify_outreach(
        o.lead,
        |x| {
            moved.set(matches!(
                x.status,
                OutreachStatus::Draft | OutreachStatus::Approved
            ));
            if moved.get() {
                x.status = OutreachStatus::Suppressed;
                x.note = Some(why.clone());
                x.updated_at = now;
            }
            moved.get()
        },
        |_| None,
    )?;
    Ok(moved.get())
}

/// The sender over one open store.
pub struct Outbox<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    pub clock: &'a dyn Clock,
    /// This process's host instance: claims made under it belong to a
    /// sender that is alive, all others to a process that is gone.
    pub instance: &'a str,
}

/// An email handed to the SMTP server and not yet settled. Dropped while
/// armed (the send was cancelled or panicked mid-hand-over), it leaves the
/// email for review: it may or may not have gone.
struct InFlight<'a> {
    store: &'a Store,
    lead: crate::domain::LeadId,
    claim: Claim,
    now: Timestamp,
    armed: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let now = self.now;
        let settled = self.store.settle_claimed(self.lead, &self.claim, |x| {
            x.status = OutreachStatus::NeedsReview;
            x.note = Some(INTERRUPTED.into());
            x.updated_at = now;
        });
        if let Err(e) = settled {
            tracing::error!(lead = %self.lead, error = %e, "cannot mark an interrupted email for review");
        }
    }
}

const INTERRUPTED: &str = "leadscout stopped while handing this email to the SMTP server; it may or may not have been sent. Check the sent folder, then mark it";

/// Waits `pause`, or less when `stop` turns true; says whether it stopped.
async fn pause_or_stop(pause: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(pause) => false,
        changed = stop.wait_for(|s| *s) => changed.is_ok(),
    }
}

impl Outbox<'_> {
    /// The limits for a campaign: `[sending]` with the campaign's
    /// `sending.*` settings on top.
    fn limits_for(&self, campaign: &Campaign) -> Result<Limits, SendFailure> {
        let config: SendingConfig = self
            .config
            .effective_sending(self.store, Some(campaign.id))?;
        config.limits().map_err(|(key, why)| {
            SendFailure::Setup(format!(
                "the sending limits for {} are not valid: {key}: {why}",
                campaign.slug
            ))
        })
    }

    /// Emails left in `sending` by a process that died mid-send become
    /// `needs_review`: they may or may not have gone, so a person decides,
    /// never an automatic resend. An email claimed by this process is
    /// being sent right now by a live sender and is left alone. The caller
    /// flushes.
    pub fn recover_interrupted(&self) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let mut found = 0;
        for o in self.store.outreach_in_status(OutreachStatus::Sending)? {
            let alive = |x: &Outreach| {
                x.claimed_by
                    .as_ref()
                    .is_some_and(|c| c.instance == self.instance)
            };
            if alive(&o) {
                continue;
            }
            let recovered = std::cell::Cell::new(false);
            self.store.modify_outreach(
                o.lead,
                |x| {
                    recovered.set(false);
                    if x.status != OutreachStatus::Sending || alive(x) {
                        return false;
                    }
                    x.status = OutreachStatus::NeedsReview;
                    x.note = Some(INTERRUPTED.into());
                    x.claimed_by = None;
                    x.updated_at = now;
                    recovered.set(true);
                    true
                },
                |_| None,
            )?;
            found += u64::from(recovered.get());
        }
        if found > 0 {
            tracing::warn!(emails = found, "emails interrupted mid-send need review");
        }
        Ok(found)
    }

    /// Sends the campaign's approved emails within the limits. Every
    /// email is checked against the blacklist and the lead's state right
    /// before it goes; `sending` is on disk before the SMTP hand-over, and
    /// only the sender whose claim moved it there sends it, with the text
    /// it claimed. `stop` turning true ends the send between two messages
    /// (never in the middle of a hand-over).
    pub async fn send(
        &self,
        campaign: &Campaign,
        request: &SendRequest,
        mut stop: watch::Receiver<bool>,
        mut progress: impl FnMut(&SendEvent),
    ) -> Result<SendSummary, SendFailure> {
        let limits = self.limits_for(campaign)?;
        let config = self.config;
        let sender = self.sender_identity(campaign);
        // The preflight: everything the real send needs, each problem
        // with what to set. A dry run reports them and goes on counting;
        // a real send stops before anything goes.
        let mut stops = self.setup_problems(campaign, &sender)?;
        let reply_to = Some(sender.reply_to.as_str())
            .filter(|r| !r.is_empty())
            .and_then(|r| Email::parse(r).ok());
        let mut summary = SendSummary {
            dry_run: request.dry_run,
            ..Default::default()
        };
        let addresses = AddressGate::default();
        if !request.dry_run && self.recover_interrupted()? > 0 {
            self.store.flush().await?;
        }
        // A dry run asks the server with a short timeout: it is a check,
        // not a send that may wait for a slow server.
        let mut smtp = config.smtp.clone();
        if request.dry_run {
            smtp.timeout = smtp.timeout.min(PREFLIGHT_TIMEOUT);
        }
        let mailer = match Mailer::new(&smtp, config.secret(&config.smtp.password_env)) {
            Ok(mailer) => match mailer.check().await {
                Ok(()) => Some(mailer),
                Err(e) => {
                    stops.push(format!(
                        "{e} (check smtp.host, smtp.port and smtp.tls in config.toml)"
                    ));
                    None
                }
            },
            Err(e) => {
                stops.push(e);
                None
            }
        };
        let live = match (mailer, Email::parse(&sender.email)) {
            (Some(mailer), Ok(from)) if stops.is_empty() && !request.dry_run => {
                let sender_domain = from
                    .as_str()
                    .rsplit('@')
                    .next()
                    .unwrap_or("localhost")
                    .to_string();
                Some((mailer, from, sender_domain))
            }
            _ if request.dry_run => None,
            _ => {
                return Err(SendFailure::Setup(format!(
                    "{}; nothing was sent",
                    stops.join("; ")
                )));
            }
        };
        summary.would_stop = stops;
        let mut simulated = SentSoFar::default();
        let mut queue = self
            .store
            .campaign_outreach(campaign.id, Some(OutreachStatus::Approved))?;
        queue.sort_by_key(|o| (o.approved_at, o.lead));
        let event = |o: &Outreach, outcome: &'static str, detail: Option<String>| SendEvent {
            lead: o.lead.to_string(),
            to: o.to.to_string(),
            outcome: outcome.to_string(),
            detail,
        };
        let mut index = 0;
        while index < queue.len() {
            if !request.dry_run && *stop.borrow() {
                summary.stopped = true;
                break;
            }
            let now = self.clock.now();
            // The queue is a snapshot: the email may have been edited,
            // rejected or sent by now. Only what is approved now goes.
            let o = if request.dry_run {
                queue[index].clone()
            } else {
                match self.store.outreach(queue[index].lead)? {
                    Some(o) if o.status == OutreachStatus::Approved => o,
                    _ => {
                        index += 1;
                        continue;
                    }
                }
            };
            let Some(lead) = self.store.lead(o.lead)? else {
                index += 1;
                continue;
            };
            // The blacklist and the lead's state, right before sending.
            let blocked = self.store.blocking_entry(&lead.domain, Some(&o.to))?;
            let undeliverable = self
                .undeliverable(&addresses, &lead, &o.to, request.dry_run, now)
                .await?;
            // A follow-up whose sequence stopped (a reply came after it
            // was approved) must not go.
            let stopped = if o.step > 1 {
                self.store.sequence_stop(o.lead)?
            } else {
                None
            };
            if blocked.is_some()
                || lead.status.is_closed()
                || undeliverable.is_some()
                || stopped.is_some()
            {
                let why = match (&blocked, undeliverable, &stopped) {
                    (Some(entry), _, _) => {
                        format!("{} is on the blacklist ({})", entry.value, entry.reason)
                    }
                    (None, Some(why), _) => why,
                    (None, None, Some(stop)) => {
                        format!("the sequence stopped: {}", stop.reason)
                    }
                    (None, None, None) => format!("the lead is {}", lead.status),
                };
                // Another sender may have claimed it since it was read:
                // then it is that sender's, and not counted here.
                if !request.dry_run && !suppress(self.store, &o, &why, now)? {
                    index += 1;
                    continue;
                }
                summary.suppressed += 1;
                progress(&event(&o, "suppressed", Some(why)));
                index += 1;
                continue;
            }
            let missing = o.missing_footer(&sender.postal_address);
            let blocked = match self.foreign_link_block(&lead, &o, &sender)? {
                Some(why) => Some(why),
                // Audited again after approval: the text may cite figures
                // the report page no longer shows.
                None => o.written_from_older_audit(self.store.audits_of(o.lead, 1)?.first()),
            };
            if !missing.is_empty() || blocked.is_some() {
                let why = match blocked {
                    Some(why) => why,
                    None => format!(
                        "the email lacks {}; open it and save it again (leadscout adds the footer back), then approve it",
                        missing.join(" and ")
                    ),
                };
                if !request.dry_run {
                    self.back_to_draft(&o, &why, now)?;
                }
                summary.failed += 1;
                progress(&event(&o, "not sent", Some(why)));
                index += 1;
                continue;
            }
            if let Some(not_before) = o.not_before
                && not_before > now
                && !request.dry_run
            {
                let reason = o.note.clone().unwrap_or_else(|| "waiting".into());
                if request.wait
                    && queue[index..]
                        .iter()
                        .all(|x| x.not_before.is_some_and(|t| t > now))
                {
                    let pause = not_before.duration_since(now).unsigned_abs();
                    if pause_or_stop(pause, &mut stop).await {
                        summary.stopped = true;
                        break;
                    }
                    continue;
                }
                summary.deferred += 1;
                summary.next_at = summary
                    .next_at
                    .map(|t: Timestamp| t.min(not_before))
                    .or(Some(not_before));
                summary.next_reason.get_or_insert(reason.clone());
                progress(&event(&o, "deferred", Some(reason)));
                index += 1;
                continue;
            }
            let day = limits.day_of(now).to_string();
            let so_far = if request.dry_run {
                simulated
            } else {
                self.store.sent_so_far(campaign.id, &day)?
            };
            if let Some(wait) = limits.check(now, &so_far) {
                let pause = wait.until.duration_since(now).unsigned_abs();
                let spacing = wait.reason.starts_with("spacing");
                if !request.dry_run && (request.wait || (spacing && pause <= LONGEST_PAUSE)) {
                    // Spacing gets jitter so messages do not go out on a beat.
                    let jitter = if spacing {
                        pause.mul_f64(rand::random::<f64>() * 0.5)
                    } else {
                        Duration::ZERO
                    };
                    if pause_or_stop(pause + jitter, &mut stop).await {
                        summary.stopped = true;
                        break;
                    }
                    continue;
                }
                if request.dry_run && spacing {
                    simulated.last_sent_at = None;
                    continue;
                }
                // Everything left waits for the same reason.
                for rest in &queue[index..] {
                    if !request.dry_run {
                        self.defer(rest, &wait.reason, wait.until)?;
                    }
                    summary.deferred += 1;
                    progress(&event(
                        rest,
                        "deferred",
                        Some(format!("{} (next: {})", wait.reason, wait.until)),
                    ));
                }
                summary.next_at = Some(wait.until);
                summary.next_reason = Some(wait.reason);
                break;
            }
            let Some((mailer, from, sender_domain)) = &live else {
                // Dry run: count it as sent for the limits that follow.
                simulated.inbox_today += 1;
                simulated.campaign_today += 1;
                simulated.last_sent_at = Some(now);
                summary.sent += 1;
                progress(&event(&o, "would send", Some(o.subject.clone())));
                index += 1;
                continue;
            };
            // The outbox step: claim, and only the winner sends what it
            // claimed; `sending` is durable before the hand-over.
            let claim = Claim {
                instance: self.instance.to_string(),
                id: ulid::Ulid::new().to_string(),
            };
            let message_id = o.message_id_for(sender_domain);
            let Some(o) = self
                .store
                .claim_for_sending(o.lead, &claim, &message_id, now)?
            else {
                index += 1;
                continue;
            };
            let mut in_flight = InFlight {
                store: self.store,
                lead: o.lead,
                claim: claim.clone(),
                now,
                armed: true,
            };
            let outgoing = Outgoing {
                from_name: if sender.name.is_empty() {
                    sender.company.clone()
                } else {
                    sender.name.clone()
                },
                from: from.clone(),
                reply_to: reply_to.clone(),
                to: o.to.clone(),
                subject: o.subject.clone(),
                body: o.body.clone(),
                message_id: message_id.clone(),
                unsubscribe_url: o.unsubscribe_url.clone(),
                unsubscribe_mailto: reply_to.clone().unwrap_or_else(|| from.clone()),
            };
            // A follow-up answers the step before it, in the same thread.
            let thread = o.thread_headers();
            let thread = thread
                .as_ref()
                .map(|(previous, all)| (previous.as_str(), all.as_slice()));
            let message = match build_threaded(&outgoing, thread) {
                Ok(m) => m,
                Err(e) => {
                    in_flight.armed = false;
                    self.settle(&o, &claim, OutreachStatus::Failed, &e.to_string(), now)?;
                    self.store.flush().await?;
                    summary.failed += 1;
                    progress(&event(&o, "failed", Some(e.to_string())));
                    index += 1;
                    continue;
                }
            };
            self.store.flush().await?;
            let outcome = mailer.send(message).await;
            in_flight.armed = false;
            match outcome {
                Ok(()) => {
                    let sent_at = self.clock.now();
                    self.store
                        .record_sent(o.lead, sent_at, &limits.day_of(sent_at).to_string())?;
                    self.store.flush().await?;
                    summary.sent += 1;
                    progress(&event(&o, "sent", None));
                }
                Err(SendError::Later(reason)) => {
                    let until = now
                        .saturating_add(
                            jiff::SignedDuration::try_from(RETRY_LATER).unwrap_or_default(),
                        )
                        .unwrap_or(now);
                    self.store.settle_claimed(o.lead, &claim, |x| {
                        x.status = OutreachStatus::Approved;
                        x.note = Some(reason.clone());
                        x.not_before = Some(until);
                    })?;
                    self.store.flush().await?;
                    summary.deferred += 1;
                    progress(&event(&o, "deferred", Some(reason)));
                }
                Err(SendError::Refused {
                    message,
                    unknown_user,
                }) => {
                    self.settle(&o, &claim, OutreachStatus::Failed, &message, now)?;
                    if unknown_user {
                        summary.bounced.push(o.to.to_string());
                    }
                    self.store.flush().await?;
                    summary.failed += 1;
                    progress(&event(&o, "failed", Some(message)));
                }
                Err(SendError::Invalid(message)) => {
                    self.settle(&o, &claim, OutreachStatus::Failed, &message, now)?;
                    self.store.flush().await?;
                    summary.failed += 1;
                    progress(&event(&o, "failed", Some(message)));
                }
                Err(SendError::Uncertain(message)) => {
                    self.settle(&o, &claim, OutreachStatus::NeedsReview, &message, now)?;
                    self.store.flush().await?;
                    summary.needs_review += 1;
                    progress(&event(&o, "needs_review", Some(message.clone())));
                    return Err(SendFailure::Stopped(
                        format!("{message}; stopped sending"),
                        Box::new(summary),
                    ));
                }
            }
            index += 1;
        }
        Ok(summary)
    }

    /// The sender's identity for a campaign: its settings over the
    /// global ones over `[sender]`. A store that cannot be read leaves
    /// `[sender]`, logged: the send itself then fails on the store.
    /// What stops any send of `campaign` before SMTP is asked: an
    /// incomplete sender identity, an unusable sender address, unsubscribe
    /// links recipients cannot use. Each names what to set.
    fn setup_problems(
        &self,
        campaign: &Campaign,
        sender: &draft::template::SenderContext,
    ) -> Result<Vec<String>, SendFailure> {
        let mut stops = Vec::new();
        let missing = draft::missing_identity(sender);
        if !missing.is_empty() {
            stops.push(format!(
                "sending needs the sender's identity; set {} (leadscout settings set KEY VALUE, or [sender] in config.toml)",
                missing.join(", ")
            ));
        } else if let Err(e) = Email::parse(&sender.email) {
            stops.push(format!(
                "sender.email `{}`: {e} (leadscout settings set sender.email ADDRESS)",
                sender.email
            ));
        }
        let allow_local = self.config.sending.allow_local_unsubscribe_links;
        let links = crate::domain::unsubscribe::unsubscribe_base_problem(
            &self.config.server.public_base_url,
            allow_local,
        );
        let links = match links {
            Some(problem) => Some(problem),
            None => self
                .store
                .approved_unsubscribe_links_problem(campaign.id, allow_local)?,
        };
        stops.extend(links);
        Ok(stops)
    }

    pub fn sender_identity(&self, campaign: &Campaign) -> draft::template::SenderContext {
        let sender = self
            .config
            .effective_sender(self.store, Some(campaign.id))
            .unwrap_or_else(|e| {
                tracing::warn!(campaign = %campaign.slug, error = %e, "cannot read the sender settings");
                self.config.sender.clone()
            });
        draft::sender_context(&sender)
    }

    /// Why mail to `to` cannot be delivered, when its domain certainly
    /// takes none: the lead's stored check while fresh, else a new one
    /// (stored; a dry run only reads). DNS that does not answer now does
    /// not hold a message back: the address was checked when drafted.
    async fn undeliverable(
        &self,
        addresses: &AddressGate,
        lead: &crate::domain::Lead,
        to: &Email,
        dry_run: bool,
        now: Timestamp,
    ) -> Result<Option<String>, SendFailure> {
        let stored = || {
            lead.address_check
                .as_ref()
                .filter(|check| check.address == *to)
                .and_then(|check| check.refusal())
        };
        let why = if dry_run {
            stored()
        } else {
            match addresses
                .current(self.store, &self.config.verify, lead, to, now)
                .await
            {
                Ok(check) => check.and_then(|check| check.refusal()),
                Err(GateError::Store(e)) => return Err(e.into()),
                Err(e @ GateError::Setup(_)) => {
                    tracing::warn!(error = %e, "addresses not checked before sending");
                    stored()
                }
            }
        };
        Ok(why.map(|why| format!("{to} cannot receive mail: {why}")))
    }

    /// Why this text may not go to its lead: a link to anywhere but the
    /// lead's site, its report and unsubscribe pages and the sender's own
    /// addresses (`report.cta_url`, the sender's domain). Checked on the
    /// current text, so the operator's edits count as much as a template's.
    pub fn foreign_link_block(
        &self,
        lead: &crate::domain::Lead,
        o: &Outreach,
        sender: &draft::template::SenderContext,
    ) -> Result<Option<String>, StoreError> {
        let hosts = self.allowed_hosts(lead, o, sender)?;
        Ok(crate::domain::text::email_block_reason(
            &o.subject, &o.body, &hosts,
        ))
    }

    /// The hosts an email to `lead` may link to (see
    /// [`Self::foreign_link_block`]).
    pub fn allowed_hosts(
        &self,
        lead: &crate::domain::Lead,
        o: &Outreach,
        sender: &draft::template::SenderContext,
    ) -> Result<Vec<String>, StoreError> {
        let cta = self
            .config
            .effective_value(self.store, Some(lead.campaign), "report.cta_url")?;
        Ok(draft::allowed_hosts(
            lead,
            &o.report_url,
            &o.unsubscribe_url,
            cta.as_deref(),
            sender,
        ))
    }

    /// Settles an email this sender claimed.
    fn settle(
        &self,
        o: &Outreach,
        claim: &Claim,
        status: OutreachStatus,
        why: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.store.settle_claimed(o.lead, claim, |x| {
            x.status = status;
            x.note = Some(why.to_string());
            x.updated_at = now;
        })?;
        Ok(())
    }

    /// An approved email that may not go as it is needs a new approval.
    fn back_to_draft(&self, o: &Outreach, why: &str, now: Timestamp) -> Result<(), StoreError> {
        self.while_approved(o, |x| {
            x.status = OutreachStatus::Draft;
            x.approved_at = None;
            x.note = Some(why.to_string());
            x.updated_at = now;
        })
    }

    fn defer(&self, o: &Outreach, reason: &str, until: Timestamp) -> Result<(), StoreError> {
        self.while_approved(o, |x| {
            x.note = Some(reason.to_string());
            x.not_before = Some(until);
        })
    }

    /// Changes an email only while it is still approved (another client
    /// may have edited, rejected or claimed it meanwhile).
    fn while_approved(
        &self,
        o: &Outreach,
        change: impl Fn(&mut Outreach),
    ) -> Result<(), StoreError> {
        self.store.modify_outreach(
            o.lead,
            |x| {
                if x.status != OutreachStatus::Approved {
                    return false;
                }
                change(x);
                true
            },
            |_| None,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::outreach::Author;
    use crate::domain::{CampaignId, LeadId};

    #[test]
    fn suppressing_leaves_an_email_another_sender_sent_as_sent() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let email = Outreach {
            status: OutreachStatus::Approved,
            approved_at: Some(now),
            ..Outreach::draft(
                LeadId::from_ulid(ulid::Ulid::new()),
                CampaignId::from_ulid(ulid::Ulid::new()),
                Email::parse("a@b.example").unwrap(),
                ("s".into(), "b".into()),
                Author::Template,
                now,
            )
        };
        store.put_outreach(&email, None).unwrap();
        // Read as approved by one sender; sent by another meanwhile.
        store.record_sent(email.lead, now, "2027-01-15").unwrap();
        assert!(!suppress(&store, &email, "blacklisted", now).unwrap());
        let stored = store.outreach(email.lead).unwrap().unwrap();
        assert_eq!(stored.status, OutreachStatus::Sent);
        assert_eq!(stored.note, None);

        let other = Outreach {
            lead: LeadId::from_ulid(ulid::Ulid::new()),
            ..email
        };
        store.put_outreach(&other, None).unwrap();
        assert!(suppress(&store, &other, "blacklisted", now).unwrap());
        let stored = store.outreach(other.lead).unwrap().unwrap();
        assert_eq!(stored.status, OutreachStatus::Suppressed);
        assert_eq!(stored.note.as_deref(), Some("blacklisted"));
    }
}
