//! Report links: token → link, and each lead's current token.

use std::sync::atomic::Ordering;

use sled::Transactional;

use super::codec::{decode, encode};
use super::leads::modify_lead_tx;
use super::{Result, Store};
use crate::domain::report::{ReportLink, ReportToken};
use crate::domain::{Lead, LeadId, LeadStatus, Timestamp};

impl Store {
    /// Changes whenever any report link is written. Read it before reading
    /// a link: a link read after an unchanged generation is still current.
    /// One process holds the data dir, so every write passes through here.
    pub fn report_links_generation(&self) -> u64 {
        self.links_generation.load(Ordering::Acquire)
    }

    fn report_links_changed(&self) {
        self.links_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The lead's current link, if it has one.
    pub fn report_link_of(&self, lead: LeadId) -> Result<Option<ReportLink>> {
        let Some(token) = self.trees.lead_reports.get(lead.to_bytes())? else {
            return Ok(None);
        };
        self.trees
            .report_tokens
            .get(&token)?
            .map(|v| decode("report_tokens", &token, &v))
            .transpose()
    }

    /// Stores a new link as the lead's current one (the old one, if any,
    /// stops working).
    pub fn put_report_link(&self, link: &ReportLink) -> Result<()> {
        let t = &self.trees;
        (&t.report_tokens, &t.lead_reports).transaction(|(tokens, by_lead)| {
            if let Some(old) = by_lead.get(link.lead.to_bytes())? {
                tokens.remove(old)?;
            }
            tokens.insert(link.token.as_str(), encode(link))?;
            by_lead.insert(&link.lead.to_bytes(), link.token.as_str())?;
            Ok(())
        })?;
        self.report_links_changed();
        Ok(())
    }

    /// The link a token stands for.
    pub fn report_link(&self, token: &ReportToken) -> Result<Option<ReportLink>> {
        self.trees
            .report_tokens
            .get(token.as_str())?
            .map(|v| decode("report_tokens", token.as_str().as_bytes(), &v))
            .transpose()
    }

    /// Revokes the lead's link; returns whether it had one.
    pub fn revoke_report_link(&self, lead: LeadId) -> Result<bool> {
        let t = &self.trees;
        let revoked = (&t.report_tokens, &t.lead_reports).transaction(|(tokens, by_lead)| {
            let Some(token) = by_lead.remove(&lead.to_bytes())? else {
                return Ok(false);
            };
            tokens.remove(token)?;
            Ok(true)
        })?;
        self.report_links_changed();
        Ok(revoked)
    }

    /// Publishes the lead's report: keeps its live link or stores `fresh`
    /// in its place, and moves the lead forward to `reported`, in one
    /// transaction. Returns the link in use and the lead, or `None` when
    /// the lead no longer exists.
    pub fn publish_report(
        &self,
        fresh: &ReportLink,
        now: Timestamp,
    ) -> Result<Option<(ReportLink, Lead)>> {
        let t = &self.trees;
        let published = (
            &t.report_tokens,
            &t.lead_reports,
            &t.leads,
            &t.leads_by_status,
            &t.lead_counts,
        )
            .transaction(|(tokens, by_lead, leads, by_status, counts)| {
                let key = fresh.lead.to_bytes();
                let current = match by_lead.get(key)? {
                    Some(token) => match tokens.get(&token)? {
                        Some(bytes) => Some(
                            decode::<ReportLink>("report_tokens", &token, &bytes)
                                .map_err(sled::transaction::ConflictableTransactionError::Abort)?,
                        ),
                        None => None,
                    },
                    None => None,
                };
                let link = match current {
                    Some(link) if link.is_live(now) => link,
                    stale => {
                        if let Some(old) = stale {
                            tokens.remove(old.token.as_str())?;
                        }
                        tokens.insert(fresh.token.as_str(), encode(fresh))?;
                        by_lead.insert(&key, fresh.token.as_str())?;
                        fresh.clone()
                    }
                };
                let lead =
                    modify_lead_tx(leads, by_status, counts, fresh.lead, &|lead: &mut Lead| {
                        lead.status = lead.status.advanced_to(LeadStatus::Reported);
                        lead.updated_at = now;
                    })?;
                Ok(lead.map(|lead| (link, lead)))
            })?;
        self.report_links_changed();
        Ok(published)
    }
}
