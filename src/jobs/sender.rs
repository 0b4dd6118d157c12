//! Sending: a campaign's approved emails go to the SMTP server within the
//! limits, each checked against the blacklist and its lead's state right
//! before it goes, at most once. The outbox step: an email's `sending`
//! state is on disk before the SMTP hand-over, and an email found in
//! `sending` later becomes `needs_review`, never a resend.

use std::time::Duration;

use serde::Serialize;

use crate::config::{Config, SendingConfig};
use crate::domain::outreach::{Outreach, OutreachStatus};
use crate::domain::sending::{Limits, SentSoFar};
use crate::domain::{Campaign, Clock, Email, Timestamp};
use crate::pipeline::draft;
use crate::pipeline::send::{Mailer, Outgoing, SendError, build};
use crate::store::{Store, StoreError};

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
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SendRequest {
    pub campaign: String,
    pub dry_run: bool,
    /// Wait through closed windows and full caps instead of stopping.
    pub wait: bool,
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

/// Puts an email in `status` with the reason.
fn settle(
    store: &Store,
    o: &Outreach,
    status: OutreachStatus,
    why: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let why = why.to_string();
    store.modify_outreach(
        o.lead,
        |x| {
            x.status = status;
            x.note = Some(why.clone());
            x.updated_at = now;
            true
        },
        |_| None,
    )?;
    Ok(())
}

/// Marks an email suppressed: its recipient must not get it.
pub fn suppress(store: &Store, o: &Outreach, why: &str, now: Timestamp) -> Result<(), StoreError> {
    settle(store, o, OutreachStatus::Suppressed, why, now)
}

/// The sender over one open store.
pub struct Outbox<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    pub clock: &'a dyn Clock,
}

impl Outbox<'_> {
    /// The limits for a campaign: `[sending]` with the campaign's
    /// `sending.*` settings on top.
    fn limits_for(&self, campaign: &Campaign) -> Result<Limits, SendFailure> {
        let mut config: SendingConfig = self.config.sending.clone();
        let setting = |key: &str| self.store.effective_setting_value(campaign.id, key);
        if let Some(v) = setting("sending.campaign_daily_cap")? {
            config.campaign_daily_cap = v.parse().unwrap_or(config.campaign_daily_cap);
        }
        if let Some(v) = setting("sending.window")? {
            config.window = v;
        }
        if let Some(v) = setting("sending.weekdays")? {
            config.weekdays = v.split(',').map(str::to_string).collect();
        }
        if let Some(v) = setting("sending.min_spacing_secs")? {
            config.min_spacing_secs = v.parse().unwrap_or(config.min_spacing_secs);
        }
        config.limits().map_err(|(key, why)| {
            SendFailure::Setup(format!(
                "the sending limits for {} are not valid: {key}: {why}",
                campaign.slug
            ))
        })
    }

    /// Emails left in `sending` by a process that died mid-send become
    /// `needs_review`: they may or may not have gone, so a person decides,
    /// never an automatic resend. The caller flushes.
    pub fn recover_interrupted(&self) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let mut found = 0;
        for o in self.store.outreach_in_status(OutreachStatus::Sending)? {
            self.store.modify_outreach(
                o.lead,
                |o| {
                    if o.status != OutreachStatus::Sending {
                        return false;
                    }
                    o.status = OutreachStatus::NeedsReview;
                    o.note = Some(
                        "leadscout stopped while handing this email to the SMTP server; it may or may not have been sent. Check the sent folder, then mark it"
                            .into(),
                    );
                    o.updated_at = now;
                    true
                },
                |_| None,
            )?;
            found += 1;
        }
        if found > 0 {
            tracing::warn!(emails = found, "emails interrupted mid-send need review");
        }
        Ok(found)
    }

    /// Sends the campaign's approved emails within the limits. Every
    /// email is checked against the blacklist and the lead's status right
    /// before it goes; `sending` is on disk before the SMTP hand-over.
    pub async fn send(
        &self,
        campaign: &Campaign,
        request: &SendRequest,
        mut progress: impl FnMut(&SendEvent),
    ) -> Result<SendSummary, SendFailure> {
        let limits = self.limits_for(campaign)?;
        let config = self.config;
        let sender = draft::resolve_sender(
            |key| {
                self.store
                    .effective_setting_value(campaign.id, key)
                    .ok()
                    .flatten()
            },
            &config.sender,
        );
        let missing = draft::missing_identity(&sender);
        if !missing.is_empty() {
            return Err(SendFailure::Setup(format!(
                "sending needs the sender's identity; set {} (leadscout settings set KEY VALUE, or [sender] in config.toml)",
                missing.join(", ")
            )));
        }
        let allow_local = config.sending.allow_local_unsubscribe_links;
        let links = crate::domain::unsubscribe::unsubscribe_base_problem(
            &config.server.public_base_url,
            allow_local,
        );
        let links = match links {
            Some(problem) => Some(problem),
            None => self
                .store
                .approved_unsubscribe_links_problem(campaign.id, allow_local)?,
        };
        if let Some(problem) = links {
            return Err(SendFailure::Setup(problem));
        }
        let from = Email::parse(&sender.email)
            .map_err(|e| SendFailure::Setup(format!("sender.email `{}`: {e}", sender.email)))?;
        let reply_to = Some(sender.reply_to.as_str())
            .filter(|r| !r.is_empty())
            .and_then(|r| Email::parse(r).ok());
        let sender_domain = from
            .as_str()
            .rsplit('@')
            .next()
            .unwrap_or("localhost")
            .to_string();
        let mut summary = SendSummary {
            dry_run: request.dry_run,
            ..Default::default()
        };
        let mailer = if request.dry_run {
            None
        } else {
            if self.recover_interrupted()? > 0 {
                self.store.flush().await?;
            }
            let mailer = Mailer::new(&config.smtp, config.secret(&config.smtp.password_env))
                .map_err(SendFailure::Setup)?;
            mailer
                .check()
                .await
                .map_err(|e| SendFailure::Setup(format!("{e}; nothing was sent")))?;
            Some(mailer)
        };
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
            let o = queue[index].clone();
            let now = self.clock.now();
            let Some(lead) = self.store.lead(o.lead)? else {
                index += 1;
                continue;
            };
            // The blacklist and the lead's state, right before sending.
            let blocked = self.store.blocking_entry(&lead.domain, Some(&o.to))?;
            if blocked.is_some() || lead.status.is_closed() {
                let why = match &blocked {
                    Some(entry) => {
                        format!("{} is on the blacklist ({})", entry.value, entry.reason)
                    }
                    None => format!("the lead is {}", lead.status),
                };
                if !request.dry_run {
                    suppress(self.store, &o, &why, now)?;
                }
                summary.suppressed += 1;
                progress(&event(&o, "suppressed", Some(why)));
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
                    sleep_until(now, not_before).await;
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
                    tokio::time::sleep(pause + jitter).await;
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
            let Some(mailer) = &mailer else {
                // Dry run: count it as sent for the limits that follow.
                simulated.inbox_today += 1;
                simulated.campaign_today += 1;
                simulated.last_sent_at = Some(now);
                summary.sent += 1;
                progress(&event(&o, "would send", Some(o.subject.clone())));
                index += 1;
                continue;
            };
            let message_id = o.message_id_for(&sender_domain);
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
            let message = match build(&outgoing) {
                Ok(m) => m,
                Err(e) => {
                    self.fail(&o, &e.to_string(), now)?;
                    summary.failed += 1;
                    progress(&event(&o, "failed", Some(e.to_string())));
                    index += 1;
                    continue;
                }
            };
            // The outbox step: `sending` is durable before the hand-over.
            let claimed = self.store.modify_outreach(
                o.lead,
                |x| {
                    if x.status != OutreachStatus::Approved {
                        return false;
                    }
                    x.status = OutreachStatus::Sending;
                    x.message_id = Some(message_id.clone());
                    x.updated_at = now;
                    true
                },
                |_| None,
            )?;
            if claimed
                .as_ref()
                .is_none_or(|x| x.status != OutreachStatus::Sending)
            {
                index += 1;
                continue;
            }
            self.store.flush().await?;
            match mailer.send(message).await {
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
                    self.store.modify_outreach(
                        o.lead,
                        |x| {
                            x.status = OutreachStatus::Approved;
                            x.note = Some(reason.clone());
                            x.not_before = Some(until);
                            true
                        },
                        |_| None,
                    )?;
                    self.store.flush().await?;
                    summary.deferred += 1;
                    progress(&event(&o, "deferred", Some(reason)));
                }
                Err(SendError::Refused {
                    message,
                    unknown_user,
                }) => {
                    self.fail(&o, &message, now)?;
                    if unknown_user {
                        summary.bounced.push(o.to.to_string());
                    }
                    self.store.flush().await?;
                    summary.failed += 1;
                    progress(&event(&o, "failed", Some(message)));
                }
                Err(SendError::Invalid(message)) => {
                    self.fail(&o, &message, now)?;
                    self.store.flush().await?;
                    summary.failed += 1;
                    progress(&event(&o, "failed", Some(message)));
                }
                Err(SendError::Uncertain(message)) => {
                    settle(self.store, &o, OutreachStatus::NeedsReview, &message, now)?;
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

    fn defer(&self, o: &Outreach, reason: &str, until: Timestamp) -> Result<(), StoreError> {
        let reason = reason.to_string();
        self.store.modify_outreach(
            o.lead,
            |x| {
                if x.status != OutreachStatus::Approved {
                    return false;
                }
                x.note = Some(reason.clone());
                x.not_before = Some(until);
                true
            },
            |_| None,
        )?;
        Ok(())
    }

    fn fail(&self, o: &Outreach, why: &str, now: Timestamp) -> Result<(), StoreError> {
        settle(self.store, o, OutreachStatus::Failed, why, now)
    }
}

async fn sleep_until(now: Timestamp, until: Timestamp) {
    let pause = until.duration_since(now).unsigned_abs();
    tokio::time::sleep(pause).await;
}
