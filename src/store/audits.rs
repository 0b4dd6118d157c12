//! What the fetch stage saw (the latest per lead) and every audit of every
//! lead, newest last. An audit and the lead's score, status and found email
//! change in one transaction.

use std::collections::HashSet;

use sled::Transactional;

use super::codec::{decode, encode};
use super::leads::modify_lead_tx;
use super::{Result, Store};
use crate::domain::audit::{Audit, SiteFetch};
use crate::domain::{Email, Hash, Lead, LeadId, LeadStatus};

/// `lead ++ audit number (ms since epoch, then a counter)`
fn audit_key(lead: LeadId, id: ulid::Ulid) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(&lead.to_bytes());
    key[16..].copy_from_slice(&id.to_bytes());
    key
}

impl Store {
    pub fn put_fetch(&self, fetch: &SiteFetch) -> Result<()> {
        self.trees
            .fetches
            .insert(fetch.lead.to_bytes(), encode(fetch))?;
        Ok(())
    }

    pub fn fetch_of(&self, lead: LeadId) -> Result<Option<SiteFetch>> {
        let key = lead.to_bytes();
        self.trees
            .fetches
            .get(key)?
            .map(|v| decode("fetches", &key, &v))
            .transpose()
    }

    /// Records an audit and brings the lead up to date: its score, its
    /// status (forward only), and the best email found when it had none.
    pub fn add_audit(
        &self,
        id: ulid::Ulid,
        audit: &Audit,
        found_email: Option<(Email, String)>,
    ) -> Result<Option<Lead>> {
        let t = &self.trees;
        let lead = (&t.audits, &t.leads, &t.leads_by_status, &t.lead_counts).transaction(
            |(audits, leads, by_status, counts)| {
                audits.insert(&audit_key(audit.lead, id), encode(audit))?;
                modify_lead_tx(leads, by_status, counts, audit.lead, &|lead: &mut Lead| {
                    lead.score = Some(audit.scores.overall);
                    lead.status = lead.status.advanced_to(LeadStatus::Audited);
                    if lead.email.is_none()
                        && let Some((email, source)) = &found_email
                    {
                        lead.email = Some(email.clone());
                        lead.email_source = Some(source.clone());
                    }
                    lead.updated_at = audit.created_at;
                })
            },
        )?;
        Ok(lead)
    }

    /// Changes the lead's latest audit in place (the browser stage adds its
    /// screenshots and measured checks to it) and keeps the lead's score in
    /// step, in one transaction. Returns the audit as stored, or `None` when
    /// the lead has no audit.
    pub fn update_latest_audit(
        &self,
        lead: LeadId,
        change: impl Fn(&mut Audit),
    ) -> Result<Option<Audit>> {
        let t = &self.trees;
        let Some(item) = t.audits.scan_prefix(lead.to_bytes()).next_back() else {
            return Ok(None);
        };
        let (key, _) = item?;
        let updated = (&t.audits, &t.leads, &t.leads_by_status, &t.lead_counts).transaction(
            |(audits, leads, by_status, counts)| {
                let Some(bytes) = audits.get(&key)? else {
                    return Ok(None);
                };
                let mut audit: Audit = decode("audits", &key, &bytes)
                    .map_err(sled::transaction::ConflictableTransactionError::Abort)?;
                change(&mut audit);
                audits.insert(&key, encode(&audit))?;
                let score = audit.scores.overall;
                modify_lead_tx(leads, by_status, counts, lead, &|lead: &mut Lead| {
                    lead.score = Some(score)
                })?;
                Ok(Some(audit))
            },
        )?;
        Ok(updated)
    }

    /// The lead's audits, newest first, at most `limit`.
    pub fn audits_of(&self, lead: LeadId, limit: usize) -> Result<Vec<Audit>> {
        self.trees
            .audits
            .scan_prefix(lead.to_bytes())
            .rev()
            .take(limit)
            .map(|item| {
                let (k, v) = item?;
                decode("audits", &k, &v)
            })
            .collect()
    }

    /// Every blob a record still points at: fetched bodies and screenshots.
    pub fn referenced_blobs(&self) -> Result<HashSet<Hash>> {
        let mut out = HashSet::new();
        for item in self.trees.fetches.iter() {
            let (k, v) = item?;
            let fetch: SiteFetch = decode("fetches", &k, &v)?;
            out.extend(fetch.body);
        }
        for item in self.trees.audits.iter() {
            let (k, v) = item?;
            let audit: Audit = decode("audits", &k, &v)?;
            out.extend(audit.screenshots.values().copied());
        }
        Ok(out)
    }
}
