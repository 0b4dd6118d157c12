//! The inbox use cases: `inbox_sync` (one pass over the mailbox, each new
//! message matched to a lead and applied), the watcher's status, and a
//! lead's conversation (`outreach thread`). Also the hook follow-up
//! sequences will hang on: [`Service::stop_sequence`].
//!
//! Matching: In-Reply-To / References against the Message-IDs leadscout
//! sent, then the sender's address; a bounce by the Message-ID it quotes,
//! then the failed recipient.

use std::collections::HashMap;

use super::outreach::Mark;
use super::{Result, Service, ServiceError};
use crate::domain::blacklist::{BlacklistEntry, BlacklistValue};
use crate::domain::event::{Event, ReplySource};
use crate::domain::inbox::{
    ConversationEntry, EntryKind, InboxCounts, InboxMessage, InboxStatus, InboxSyncReport,
    MessageKind, Thread,
};
use crate::domain::outreach::OutreachStatus;
use crate::domain::text::{cap, single_line};
use crate::domain::{BlacklistReason, Email, Lead, LeadId, LeadStatus};
use crate::jobs::inbox::{SyncError, read_new};
use crate::store::inbox::InboxRecord;

/// One sync at a time in the process that holds the store: the host's
/// poll and an attached `inbox sync` never read the same mail at once.
static SYNC: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What a pass needs while it applies messages.
#[derive(Default)]
struct Applying {
    counts: InboxCounts,
    /// Lower-case address → lead, built on first need.
    by_address: Option<HashMap<String, LeadId>>,
    /// Lower-case address → every lead with it, built on the first bounce.
    leads_by_email: Option<HashMap<String, Vec<LeadId>>>,
}

impl Service {
    /// Reads the new mail once and applies it to leads.
    pub async fn inbox_sync(&self) -> Result<InboxSyncReport> {
        let imap = &self.config().imap;
        if imap.host.trim().is_empty() {
            return Err(ServiceError::Invalid(
                "the inbox is not set up: set imap.host, imap.username and imap.password_env in config.toml ([imap])".into(),
            ));
        }
        let _one = SYNC.lock().await;
        let server = imap.describe();
        let outcome = match self.config().secret(&imap.password_env) {
            None => Err(format!(
                "imap.password_env names {}, which is not set; export it with the password of `{}` on {server}",
                imap.password_env, imap.username
            )),
            Some(password) => {
                let mut state = Applying::default();
                let pass = read_new(
                    self.store(),
                    imap,
                    &password,
                    || self.now(),
                    |key, message| self.apply_message(&mut state, key, message),
                )
                .await;
                match pass {
                    Ok(pass) => {
                        let mut counts = state.counts;
                        counts.new_messages = pass.new_messages;
                        counts.already_applied = pass.already_applied;
                        Ok(InboxSyncReport {
                            server: server.clone(),
                            counts,
                            revalidated: pass.revalidated,
                            uid_validity: pass.cursor.uid_validity,
                            last_uid: pass.cursor.last_uid,
                        })
                    }
                    Err(SyncError::Apply(e)) => return Err(self.sync_failed(&server, e)),
                    Err(SyncError::Store(e)) => return Err(self.sync_failed(&server, e.into())),
                    Err(SyncError::Imap(e)) => Err(e.to_string()),
                }
            }
        };
        match outcome {
            Ok(report) => {
                let status = InboxStatus {
                    enabled: true,
                    server,
                    connected: true,
                    last_sync: Some(self.now()),
                    last_error: None,
                    last_error_at: None,
                    last_counts: report.counts,
                    ..Default::default()
                };
                self.store().set_inbox_status(&status)?;
                self.store().flush().await?;
                Ok(report)
            }
            Err(message) => Err(self.sync_failed(&server, ServiceError::Invalid(message))),
        }
    }

    /// Notes a failed sync in the status, and hands the error back.
    pub(super) fn sync_failed(&self, server: &str, error: ServiceError) -> ServiceError {
        let mut status = self.store().inbox_status().unwrap_or_default();
        status.enabled = true;
        status.server = server.to_string();
        status.connected = false;
        status.last_error = Some(error.to_string());
        status.last_error_at = Some(self.now());
        if let Err(e) = self.store().set_inbox_status(&status) {
            tracing::warn!(error = %e, "the inbox status could not be written");
        }
        error
    }

    /// The watcher's state: connected, last sync, last error.
    pub async fn inbox_status(&self) -> Result<InboxStatus> {
        let imap = &self.config().imap;
        let mut status = self.store().inbox_status()?;
        status.enabled = !imap.host.trim().is_empty();
        if status.enabled {
            status.server = imap.describe();
        }
        Ok(self.with_watch(status))
    }

    /// Where a lead's follow-up sequence stops for good (see
    /// `service::sequence`): the reason is recorded (the first one stays)
    /// and a pending follow-up is withdrawn.
    pub(crate) fn stop_sequence(&self, lead: LeadId, reason: &str) -> Result<()> {
        self.halt_sequence(lead, reason)
    }

    /// A lead's conversation: the email(s) sent and every reply,
    /// auto-reply and bounce read back, oldest first.
    pub async fn outreach_thread(&self, reference: &str) -> Result<Thread> {
        let lead = self.resolve_lead(reference)?;
        let mut entries = self.store().conversation(lead.id)?;
        let outreach = self.store().outreach(lead.id)?;
        // The steps sent before the email in hand.
        for s in outreach.iter().flat_map(|o| &o.earlier) {
            entries.push(ConversationEntry {
                kind: EntryKind::Sent,
                at: s.sent_at,
                from: self.config().sender.email.clone(),
                subject: s.subject.clone(),
                excerpt: s.excerpt.clone(),
                message_id: Some(s.message_id.clone()),
                returns_on: None,
                bounce: None,
                recorded_at: s.sent_at,
            });
        }
        if let Some(o) = outreach
            && let Some(sent_at) = o.sent_at
        {
            let excerpt: Vec<String> = o
                .body
                .lines()
                .map(single_line)
                .filter(|l| !l.is_empty())
                .take(3)
                .collect();
            entries.push(ConversationEntry {
                kind: EntryKind::Sent,
                at: sent_at,
                from: self.config().sender.email.clone(),
                subject: o.subject.clone(),
                excerpt: excerpt.join("\n"),
                message_id: o.message_id.clone(),
                returns_on: None,
                bounce: None,
                recorded_at: sent_at,
            });
        }
        entries.sort_by_key(|e| (e.at, e.recorded_at));
        Ok(Thread {
            lead: lead.id,
            business_name: lead.business_name.clone(),
            email: lead.email.as_ref().map(|e| e.to_string()),
            status: lead.status,
            entries,
            sequence_stop: self.store().sequence_stop(lead.id)?,
            next_step: self.lead_sequence_of(lead.id)?.next,
        })
    }

    /// The lead this message belongs to, if any.
    fn match_lead(&self, state: &mut Applying, message: &InboxMessage) -> Result<Option<Lead>> {
        let (ids, address): (Vec<&String>, Option<&String>) = match &message.kind {
            MessageKind::Unrelated => return Ok(None),
            MessageKind::Bounce(b) => (
                b.original_message_id
                    .iter()
                    .chain(&message.refers_to)
                    .collect(),
                b.recipient.as_ref(),
            ),
            _ => (message.refers_to.iter().collect(), message.from.as_ref()),
        };
        for id in ids {
            if let Some(lead) = self.store().lead_by_message_id(id)?
                && let Some(lead) = self.store().lead(lead)?
            {
                return Ok(Some(lead));
            }
        }
        let Some(address) = address else {
            return Ok(None);
        };
        if state.by_address.is_none() {
            state.by_address = Some(self.leads_by_address()?);
        }
        let found = state
            .by_address
            .as_ref()
            .and_then(|m| m.get(address.as_str()).copied());
        match found {
            Some(id) => Ok(self.store().lead(id)?),
            None => Ok(None),
        }
    }

    /// Every address mail went to (the newest send wins when one address
    /// is several leads), then every lead's address.
    fn leads_by_address(&self) -> Result<HashMap<String, LeadId>> {
        let mut sent: Vec<(String, crate::domain::Timestamp, LeadId)> = Vec::new();
        for status in OutreachStatus::ALL {
            for o in self.store().outreach_in_status(status)? {
                sent.push((
                    o.to.to_string().to_ascii_lowercase(),
                    o.sent_at.unwrap_or(o.created_at),
                    o.lead,
                ));
            }
        }
        sent.sort_by_key(|(_, at, _)| *at);
        let mut map: HashMap<String, LeadId> = HashMap::new();
        for (address, _, lead) in sent {
            map.insert(address, lead);
        }
        for lead in self.store().all_leads() {
            let lead = lead?;
            if let Some(email) = &lead.email {
                map.entry(email.to_string().to_ascii_lowercase())
                    .or_insert(lead.id);
            }
        }
        Ok(map)
    }

    /// Applies one new message: the lead's status, the blacklist, the
    /// conversation, the action log and an event. Changes to the lead come
    /// first and are safe to repeat; the record that the message was
    /// applied comes last, so a crash in between applies it again rather
    /// than never.
    fn apply_message(
        &self,
        state: &mut Applying,
        seen_key: &str,
        message: InboxMessage,
    ) -> Result<()> {
        let Some(lead) = self.match_lead(state, &message)? else {
            match message.kind {
                MessageKind::Reply | MessageKind::Unrelated => state.counts.unrelated += 1,
                _ => state.counts.unmatched += 1,
            }
            self.store().record_inbox_message(&InboxRecord {
                seen_key,
                lead: None,
                entry: None,
                soft_bounce: None,
            })?;
            return Ok(());
        };
        let now = self.now();
        let from = match (&message.from_name, &message.from) {
            (Some(name), Some(addr)) => format!("{name} <{addr}>"),
            (None, Some(addr)) => addr.clone(),
            (Some(name), None) => name.clone(),
            (None, None) => String::new(),
        };
        let mut entry = ConversationEntry {
            kind: EntryKind::Reply,
            at: message.date.unwrap_or(now),
            from: from.clone(),
            subject: message.subject.clone(),
            excerpt: message.excerpt.clone(),
            message_id: message.message_id.clone(),
            returns_on: None,
            bounce: None,
            recorded_at: now,
        };
        let campaign = self.campaign_slug(lead.campaign).ok();
        let mut soft_address = None;
        match &message.kind {
            MessageKind::Unrelated => unreachable_unrelated(),
            MessageKind::Reply => {
                state.counts.replies += 1;
                if !matches!(lead.status, LeadStatus::Won | LeadStatus::Blacklisted) {
                    self.mark_lead(&lead, Mark::Replied)?;
                    self.bus.publish(Event::LeadReplied {
                        lead: lead.id,
                        by: ReplySource::Inbox,
                    });
                }
                self.stop_sequence(lead.id, &format!("replied ({from})"))?;
                self.log_action(
                    "inbox_reply",
                    campaign.as_deref(),
                    lead.business_name.clone(),
                    cap(
                        &format!("reply from {from}: {}; marked replied", message.subject),
                        300,
                    ),
                )?;
            }
            MessageKind::AutoReply { returns_on } => {
                state.counts.auto_replies += 1;
                entry.kind = EntryKind::AutoReply;
                entry.returns_on = *returns_on;
            }
            MessageKind::Bounce(bounce) => {
                entry.bounce = Some(bounce.clone());
                let address = bounce
                    .recipient
                    .clone()
                    .or_else(|| lead.email.as_ref().map(|e| e.to_string()));
                let status = bounce.status.clone().unwrap_or_else(|| "no code".into());
                if bounce.permanent {
                    state.counts.bounces_hard += 1;
                    entry.kind = EntryKind::Bounce;
                    if lead.status != LeadStatus::Blacklisted {
                        self.mark_lead(&lead, Mark::Bounced)?;
                    }
                    // Before the blacklist, whose own stop would otherwise
                    // be the reason shown.
                    self.stop_sequence(lead.id, &format!("bounced ({status})"))?;
                    if let Some(address) = &address {
                        self.blacklist_bounced(state, address, &format!("inbox: bounce {status}"))?;
                    }
                    self.log_action(
                        "inbox_bounce",
                        campaign.as_deref(),
                        lead.business_name.clone(),
                        format!(
                            "{} bounced ({status}); blacklisted as bounce",
                            address.as_deref().unwrap_or("the address")
                        ),
                    )?;
                } else {
                    state.counts.bounces_soft += 1;
                    entry.kind = EntryKind::SoftBounce;
                    soft_address = address;
                }
            }
        }
        let counted = self.store().record_inbox_message(&InboxRecord {
            seen_key,
            lead: Some(lead.id),
            entry: Some(&entry),
            soft_bounce: soft_address.as_deref(),
        })?;
        let limit = u64::from(self.config().imap.soft_bounce_limit);
        if let (Some(address), Some(count)) = (&soft_address, counted)
            && count >= limit
        {
            state.counts.suppressed += 1;
            self.stop_sequence(
                lead.id,
                &format!("suppressed after {count} temporary delivery failures"),
            )?;
            self.blacklist_bounced(
                state,
                address,
                &format!("inbox: {count} temporary delivery failures"),
            )?;
            self.log_action(
                "inbox_bounce",
                campaign.as_deref(),
                lead.business_name.clone(),
                format!("{address} failed {count} times (temporary); blacklisted as bounce"),
            )?;
        }
        self.bus.publish(Event::LeadChanged { lead: lead.id });
        Ok(())
    }

    /// Blacklists a bounced address as `bounce` and moves the leads with
    /// that address to blacklisted. An address entry blocks only leads
    /// with that very address, so only they are updated: the general
    /// blacklist sync reads every lead, which per bounce made a sync of
    /// many bounces quadratic.
    fn blacklist_bounced(&self, state: &mut Applying, address: &str, source: &str) -> Result<()> {
        let email = match Email::parse(address) {
            Ok(email) => email,
            Err(e) => {
                tracing::warn!(address, error = %e, "a bounced address could not be blacklisted");
                return Ok(());
            }
        };
        let value = BlacklistValue::Email(email);
        let now = self.now();
        self.store().add_blacklist(&BlacklistEntry {
            kind: value.kind(),
            value: value.as_str().to_string(),
            reason: BlacklistReason::Bounce,
            source: source.to_string(),
            created_at: now,
        })?;
        if state.leads_by_email.is_none() {
            let mut map: HashMap<String, Vec<LeadId>> = HashMap::new();
            for lead in self.store().all_leads() {
                let lead = lead?;
                if let Some(email) = &lead.email {
                    map.entry(email.to_string().to_ascii_lowercase())
                        .or_default()
                        .push(lead.id);
                }
            }
            state.leads_by_email = Some(map);
        }
        let ids = state
            .leads_by_email
            .as_ref()
            .and_then(|m| m.get(&value.as_str().to_ascii_lowercase()))
            .cloned()
            .unwrap_or_default();
        for id in ids {
            self.store().modify_lead(id, |l| {
                if l.status != LeadStatus::Blacklisted {
                    l.status_before_blacklist = Some(l.status);
                    l.status = LeadStatus::Blacklisted;
                    l.updated_at = now;
                }
            })?;
        }
        Ok(())
    }
}

/// `match_lead` never matches unrelated mail.
fn unreachable_unrelated() {}
