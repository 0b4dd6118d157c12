//! Outreach emails (one per lead), indexed by campaign and status, and the
//! send log the limits count: messages per day for the inbox and per
//! campaign, and when the last one went.

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::codec::{decode, encode};
use super::followups;
use super::inbox::stop_key;
use super::leads::modify_lead_tx;
use super::{Result, Store};
use crate::domain::outreach::{Claim, Outreach, OutreachStatus, SentStep};
use crate::domain::sending::SentSoFar;
use crate::domain::{CampaignId, Lead, LeadId, LeadStatus, Timestamp};

type TxResult<T> = std::result::Result<T, ConflictableTransactionError<super::StoreError>>;

fn index_key(o: &Outreach) -> Vec<u8> {
    let mut key = Vec::with_capacity(33);
    key.extend_from_slice(&o.campaign.to_bytes());
    key.push(o.status.key_byte());
    key.extend_from_slice(&o.lead.to_bytes());
    key
}

fn inbox_day_key(day: &str) -> Vec<u8> {
    format!("inbox:{day}").into_bytes()
}

fn campaign_day_key(campaign: CampaignId, day: &str) -> Vec<u8> {
    format!("campaign:{campaign}:{day}").into_bytes()
}

const LAST_SENT: &[u8] = b"last_sent_at";

fn count(bytes: Option<sled::IVec>) -> u32 {
    bytes
        .and_then(|b| <[u8; 4]>::try_from(b.as_ref()).ok())
        .map(u32::from_be_bytes)
        .unwrap_or(0)
}

/// Writes an email with its status index entry and its entry in the
/// index of follow-ups waiting.
fn put_tx(
    outreach: &TransactionalTree,
    index: &TransactionalTree,
    waiting: &TransactionalTree,
    o: &Outreach,
) -> TxResult<()> {
    let key = o.lead.to_bytes();
    let old: Option<Outreach> = match outreach.get(key)? {
        Some(bytes) => {
            Some(decode("outreach", &key, &bytes).map_err(ConflictableTransactionError::Abort)?)
        }
        None => None,
    };
    if let Some(old) = &old {
        index.remove(index_key(old))?;
    }
    outreach.insert(&key, encode(o))?;
    index.insert(index_key(o), &[])?;
    followups::index_tx(waiting, old.as_ref(), o)
}

/// The first lines of a sent body, for the conversation view.
pub fn excerpt(body: &str) -> String {
    body.lines()
        .map(crate::domain::text::single_line)
        .filter(|l| !l.is_empty())
        .take(3)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Store {
    pub fn outreach(&self, lead: LeadId) -> Result<Option<Outreach>> {
        let key = lead.to_bytes();
        let Some(value) = self.trees.outreach.get(key)? else {
            return Ok(None);
        };
        self.outreach_reads.add(1);
        decode("outreach", &key, &value).map(Some)
    }

    /// When the lead's email went out, if it did: read on every report
    /// view, so only that one field is decoded, not the email's history.
    pub fn sent_at(&self, lead: LeadId) -> Result<Option<Timestamp>> {
        // A follow-up in hand is not sent yet, but the lead got mail
        // when its first step went: that is the send views count from.
        #[derive(serde::Deserialize)]
        struct Step {
            sent_at: Timestamp,
        }
        #[derive(serde::Deserialize)]
        struct SentAt {
            #[serde(default)]
            sent_at: Option<Timestamp>,
            #[serde(default)]
            earlier: Vec<Step>,
        }
        let key = lead.to_bytes();
        let Some(value) = self.trees.outreach.get(key)? else {
            return Ok(None);
        };
        let at = decode::<SentAt>("outreach", &key, &value)?;
        Ok(at.earlier.first().map(|s| s.sent_at).or(at.sent_at))
    }

    /// Stores an email, moving its index entry when its status changed;
    /// with `lead_status`, the lead moves forward to it in the same
    /// transaction.
    pub fn put_outreach(&self, o: &Outreach, lead_status: Option<LeadStatus>) -> Result<()> {
        self.outreach_tx(
            o.lead,
            false,
            |current| {
                *current = Some(o.clone());
                true
            },
            |_| lead_status,
        )?;
        Ok(())
    }

    /// Changes an email in one transaction when `change` says so (returns
    /// `true`); the lead's status follows when `lead_status` gives one for
    /// the new state. Returns the email as it is now.
    pub fn modify_outreach(
        &self,
        lead: LeadId,
        change: impl Fn(&mut Outreach) -> bool,
        lead_status: impl Fn(&Outreach) -> Option<LeadStatus>,
    ) -> Result<Option<Outreach>> {
        self.outreach_tx(
            lead,
            false,
            |current| current.as_mut().is_some_and(&change),
            lead_status,
        )
    }

    /// The one transaction every outreach change goes through: `change`
    /// sees the stored email (or none) and says whether to write it back;
    /// the index entries and, when `lead_status` says so, the lead follow.
    /// With `unless_stopped`, a sequence stop recorded for the lead leaves
    /// the email alone: read in the same transaction, so a stop that
    /// committed first always wins.
    fn outreach_tx(
        &self,
        lead: LeadId,
        unless_stopped: bool,
        change: impl Fn(&mut Option<Outreach>) -> bool,
        lead_status: impl Fn(&Outreach) -> Option<LeadStatus>,
    ) -> Result<Option<Outreach>> {
        let t = &self.trees;
        let out = (
            &t.outreach,
            &t.outreach_index,
            &t.leads,
            &t.leads_by_status,
            &t.lead_counts,
            &t.followups_waiting,
            &t.inbox,
        )
            .transaction(
                |(outreach, index, leads, by_status, counts, waiting, inbox)| {
                    let key = lead.to_bytes();
                    if unless_stopped && inbox.get(stop_key(lead))?.is_some() {
                        return Ok(None);
                    }
                    let mut current: Option<Outreach> = match outreach.get(key)? {
                        Some(bytes) => Some(
                            decode("outreach", &key, &bytes)
                                .map_err(ConflictableTransactionError::Abort)?,
                        ),
                        None => None,
                    };
                    if !change(&mut current) {
                        return Ok(current);
                    }
                    let Some(o) = current else { return Ok(None) };
                    put_tx(outreach, index, waiting, &o)?;
                    if let Some(status) = lead_status(&o) {
                        modify_lead_tx(leads, by_status, counts, lead, &|l: &mut Lead| {
                            l.status = l.status.advanced_to(status);
                            l.updated_at = o.updated_at;
                        })?;
                    }
                    Ok(Some(o))
                },
            )?;
        self.forget_sent_at(lead);
        Ok(out)
    }

    /// The follow-up scheduler's one write: when the lead's email is step
    /// `sent_step`, sent, and its sequence has no stop recorded, it moves
    /// into `earlier` and `next` (a draft of the step after it) takes its
    /// place, in one transaction. Anything else (drafted already by an
    /// earlier pass, stopped, edited) leaves the record alone and returns
    /// `false`, so a pass repeated after a restart drafts nothing twice,
    /// and a stop that races the pass is never followed by a draft.
    pub fn advance_sequence(
        &self,
        lead: LeadId,
        sent_step: u32,
        next: impl Fn(&Outreach) -> Outreach,
    ) -> Result<bool> {
        let done = std::cell::Cell::new(false);
        // A stop found returns no email (and may follow a run that set
        // `done` before a retry): only a written email counts.
        let written = self.outreach_tx(
            lead,
            true,
            |current| {
                done.set(false);
                let Some(x) = current.as_mut() else {
                    return false;
                };
                if x.status != OutreachStatus::Sent || x.step != sent_step {
                    return false;
                }
                let Some(sent_at) = x.sent_at else {
                    return false;
                };
                let mut following = next(x);
                following.earlier = x.earlier.clone();
                following.earlier.push(SentStep {
                    step: x.step,
                    subject: x.subject.clone(),
                    excerpt: excerpt(&x.body),
                    message_id: x.message_id.clone().unwrap_or_default(),
                    sent_at,
                });
                following.step = sent_step + 1;
                *x = following;
                done.set(true);
                true
            },
            |_| None,
        )?;
        Ok(done.get() && written.is_some())
    }

    /// The outbox claim: moves the email from `approved` to `sending` for
    /// `claim` and returns it only when this call made that move. Another
    /// sender that claimed it first, an edit that sent it back to draft, a
    /// rejection: all return `None`, so only the winner sends, and it sends
    /// the text it claimed.
    pub fn claim_for_sending(
        &self,
        lead: LeadId,
        claim: &Claim,
        message_id: &str,
        now: Timestamp,
    ) -> Result<Option<Outreach>> {
        // The closure may run more than once (an optimistic transaction);
        // the flag holds what the committed run decided.
        let won = std::cell::Cell::new(false);
        let out = self.modify_outreach(
            lead,
            |x| {
                won.set(false);
                if x.status != OutreachStatus::Approved {
                    return false;
                }
                x.status = OutreachStatus::Sending;
                x.message_id = Some(message_id.to_string());
                x.claimed_by = Some(claim.clone());
                x.updated_at = now;
                won.set(true);
                true
            },
            |_| None,
        )?;
        if won.get() {
            // Before the message goes, so a reply that comes back at once
            // finds its lead.
            self.index_message_id(message_id, lead)?;
        }
        Ok(out.filter(|_| won.get()))
    }

    /// Changes an email while it is in `sending` under `claim`, and only
    /// then (a sender settles only what it claimed).
    pub fn settle_claimed(
        &self,
        lead: LeadId,
        claim: &Claim,
        change: impl Fn(&mut Outreach),
    ) -> Result<bool> {
        let done = std::cell::Cell::new(false);
        self.modify_outreach(
            lead,
            |x| {
                done.set(false);
                if x.status != OutreachStatus::Sending || x.claimed_by.as_ref() != Some(claim) {
                    return false;
                }
                change(x);
                x.claimed_by = None;
                done.set(true);
                true
            },
            |_| None,
        )?;
        Ok(done.get())
    }

    /// A campaign's emails, optionally in one status, in lead order.
    pub fn campaign_outreach(
        &self,
        campaign: CampaignId,
        status: Option<OutreachStatus>,
    ) -> Result<Vec<Outreach>> {
        let mut prefix = campaign.to_bytes().to_vec();
        if let Some(status) = status {
            prefix.push(status.key_byte());
        }
        let mut out = Vec::new();
        for item in self.trees.outreach_index.scan_prefix(prefix) {
            let (key, _) = item?;
            let Some(lead) = key.get(17..33).and_then(|b| <[u8; 16]>::try_from(b).ok()) else {
                continue;
            };
            // Every caller of this scan is one read per email: counted.
            if let Some(o) = self.outreach(LeadId::from_bytes(lead))? {
                out.push(o);
            }
        }
        Ok(out)
    }

    /// Every email in a status, across campaigns (for crash recovery).
    pub fn outreach_in_status(&self, status: OutreachStatus) -> Result<Vec<Outreach>> {
        let mut out = Vec::new();
        for item in self.trees.outreach.iter() {
            let (k, v) = item?;
            let o: Outreach = decode("outreach", &k, &v)?;
            if o.status == status {
                out.push(o);
            }
        }
        Ok(out)
    }

    /// What the limits count for `campaign` on `day` (a date in the sending
    /// time zone).
    pub fn sent_so_far(&self, campaign: CampaignId, day: &str) -> Result<SentSoFar> {
        let log = &self.trees.send_log;
        Ok(SentSoFar {
            inbox_today: count(log.get(inbox_day_key(day))?),
            campaign_today: count(log.get(campaign_day_key(campaign, day))?),
            last_sent_at: log
                .get(LAST_SENT)?
                .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
                .and_then(|b| Timestamp::from_millisecond(i64::from_be_bytes(b)).ok()),
        })
    }

    /// Marks the email sent, counts it for the limits and moves the lead
    /// to `sent`, in one transaction.
    pub fn record_sent(&self, lead: LeadId, now: Timestamp, day: &str) -> Result<Option<Outreach>> {
        let t = &self.trees;
        let out = (
            &t.outreach,
            &t.outreach_index,
            &t.leads,
            &t.leads_by_status,
            &t.lead_counts,
            &t.send_log,
            &t.followups_waiting,
        )
            .transaction(
                |(outreach, index, leads, by_status, counts, log, waiting)| {
                    let key = lead.to_bytes();
                    let Some(bytes) = outreach.get(key)? else {
                        return Ok(None);
                    };
                    let mut o: Outreach = decode("outreach", &key, &bytes)
                        .map_err(ConflictableTransactionError::Abort)?;
                    o.status = OutreachStatus::Sent;
                    o.claimed_by = None;
                    o.sent_at = Some(now);
                    o.updated_at = now;
                    o.note = None;
                    o.not_before = None;
                    put_tx(outreach, index, waiting, &o)?;
                    for k in [inbox_day_key(day), campaign_day_key(o.campaign, day)] {
                        let n = count(log.get(&k)?) + 1;
                        log.insert(k, &n.to_be_bytes())?;
                    }
                    log.insert(LAST_SENT, &now.as_millisecond().to_be_bytes())?;
                    modify_lead_tx(leads, by_status, counts, lead, &|l: &mut Lead| {
                        l.status = l.status.advanced_to(LeadStatus::Sent);
                        l.updated_at = now;
                    })?;
                    Ok(Some(o))
                },
            )?;
        self.forget_sent_at(lead);
        Ok(out)
    }
}
