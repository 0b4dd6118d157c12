//! Rebuilding the indexes derived from records, for `doctor --repair`: the
//! lead indexes (by campaign, by domain, by status) with their counters,
//! and the follow-up index. Every write keeps them in its own transaction,
//! so they go wrong only through damage from outside (a disk, a restored
//! file, a bug); the leads and emails are the truth they are rebuilt from.
//!
//! A rebuild clears and refills trees, which is not one transaction. A
//! mark in `meta` is made durable before the first tree is cleared and
//! removed once all are full again; a store opened with the mark still
//! there (the rebuild was killed) rebuilds again before anything reads an
//! index.

use std::collections::HashMap;

use super::keys;
use super::{Result, Store, StoreError};
use crate::domain::{IndexRebuild, LeadId};

const MARK: &[u8] = b"rebuilding_indexes";

impl Store {
    /// Rebuilds every derived index from the records. Only for a store
    /// no other process writes to: the caller holds its lock, and nothing
    /// else in this process may write while it runs.
    pub fn rebuild_indexes(&self) -> Result<IndexRebuild> {
        self.trees.meta.insert(MARK, &[1])?;
        self.db.flush()?;
        let mut unreadable = Vec::new();
        let (leads, conflicts) = self.rebuild_lead_indexes(&mut unreadable)?;
        let followups = self.backfill_followups_waiting(&mut unreadable)?;
        self.db.flush()?;
        self.trees.meta.remove(MARK)?;
        self.db.flush()?;
        Ok(IndexRebuild {
            leads,
            followups,
            conflicts,
            unreadable,
        })
    }

    /// On open: a rebuild that was killed is done again. One that fails
    /// again (the disk gives errors) leaves its mark and the store opens
    /// anyway, so that `backup` and `doctor` still work.
    pub(crate) fn finish_interrupted_rebuild(&self) -> Result<()> {
        if !self.trees.meta.contains_key(MARK)? {
            return Ok(());
        }
        match self.rebuild_indexes() {
            Ok(rebuilt) => tracing::warn!(
                leads = rebuilt.leads,
                followups = rebuilt.followups,
                unreadable = rebuilt.unreadable.len(),
                "an index rebuild was interrupted; it ran again"
            ),
            Err(e) => tracing::error!(
                error = %e,
                "an interrupted index rebuild failed again; lists may be incomplete until `leadscout doctor --repair` succeeds"
            ),
        }
        Ok(())
    }

    fn rebuild_lead_indexes(&self, unreadable: &mut Vec<String>) -> Result<(u64, Vec<String>)> {
        let t = &self.trees;
        for tree in [
            &t.leads_by_campaign,
            &t.leads_by_domain,
            &t.leads_by_status,
            &t.lead_counts,
        ] {
            tree.clear()?;
        }
        // One write at a time: the mark, not a batch, keeps a half-done
        // rebuild from being used, and a batch of a whole campaign's
        // entries costs memory in proportion (1.3 GB for 100,000 leads).
        let mut counts: HashMap<[u8; 17], u64> = HashMap::new();
        let mut conflicts = Vec::new();
        let mut leads = 0;
        // Leads come in id order, so the older of two leads for one
        // domain is the one the index keeps.
        for lead in self.all_leads() {
            let lead = match lead {
                Ok(lead) => lead,
                // Left out and named: one damaged record must not keep
                // the rest from their indexes.
                Err(e @ StoreError::Corrupt { .. }) => {
                    unreadable.push(e.to_string());
                    continue;
                }
                Err(e) => return Err(e),
            };
            leads += 1;
            t.leads_by_campaign
                .insert(keys::campaign_lead(lead.campaign, lead.id), &[])?;
            t.leads_by_status.insert(
                keys::campaign_status_lead(lead.campaign, lead.status, lead.id),
                &[],
            )?;
            *counts
                .entry(keys::campaign_status(lead.campaign, lead.status))
                .or_default() += 1;
            let domain = keys::campaign_domain(lead.campaign, &lead.domain);
            match t.leads_by_domain.get(&domain)?.and_then(|v| LeadId::from_slice(&v)) {
                Some(kept) => conflicts.push(format!(
                    "lead {} has the domain {} of lead {kept} in the same campaign; the index keeps {kept}",
                    lead.id, lead.domain,
                )),
                None => {
                    t.leads_by_domain.insert(domain, &lead.id.to_bytes())?;
                }
            }
        }
        for (key, count) in counts {
            t.lead_counts.insert(key, &count.to_be_bytes())?;
        }
        Ok((leads, conflicts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CampaignId, IdGen, Lead, LeadSource, LeadStatus, Website};

    /// Ids in making order, as the service makes them.
    fn lead(campaign: CampaignId, domain: &str, ids: &IdGen) -> Lead {
        let now = jiff::Timestamp::now();
        let website = Website::parse(&format!("https://{domain}")).unwrap();
        Lead::new(
            LeadId::from_ulid(ids.next(now)),
            campaign,
            website,
            LeadSource::Manual,
            now,
        )
    }

    /// `n` leads of one campaign, stored.
    fn inserted(store: &Store, campaign: CampaignId, n: usize, ids: &IdGen) -> Vec<Lead> {
        let leads: Vec<Lead> = (0..n)
            .map(|i| lead(campaign, &format!("site{i}.example"), ids))
            .collect();
        store.insert_leads(&leads).unwrap();
        leads
    }

    /// Damage of every kind the check names is gone after a rebuild, and
    /// nothing a lead or an email says changed.
    #[test]
    fn a_rebuild_undoes_every_kind_of_damage_and_keeps_the_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let ids = IdGen::new();
        let campaign = CampaignId::from_ulid(ulid::Ulid::new());
        let leads = inserted(&store, campaign, 5, &ids);
        assert_eq!(store.check_lead_indexes().unwrap(), Vec::<String>::new());
        let before: Vec<Lead> = store.all_leads().map(Result::unwrap).collect();

        let t = &store.trees;
        t.leads_by_campaign
            .remove(keys::campaign_lead(campaign, leads[0].id))
            .unwrap();
        t.leads_by_domain
            .remove(keys::campaign_domain(campaign, &leads[1].domain))
            .unwrap();
        t.leads_by_status
            .insert(
                keys::campaign_status_lead(campaign, LeadStatus::Sent, leads[2].id),
                &[],
            )
            .unwrap();
        t.lead_counts
            .insert(
                keys::campaign_status(campaign, LeadStatus::New),
                &99u64.to_be_bytes(),
            )
            .unwrap();
        assert!(store.check_lead_indexes().unwrap().len() >= 4);

        let rebuilt = store.rebuild_indexes().unwrap();
        assert_eq!((rebuilt.leads, rebuilt.followups), (5, 0));
        assert!(rebuilt.conflicts.is_empty());
        assert_eq!(store.check_lead_indexes().unwrap(), Vec::<String>::new());
        assert_eq!(store.check_followup_index().unwrap(), Vec::<String>::new());
        let after: Vec<Lead> = store.all_leads().map(Result::unwrap).collect();
        assert_eq!(after, before);
        assert_eq!(
            store.lead_counts(campaign).unwrap().get(&LeadStatus::New),
            Some(&5)
        );
        assert!(!store.trees.meta.contains_key(MARK).unwrap());
    }

    /// A rebuild killed after it cleared the trees leaves its mark; the
    /// next open finds it and rebuilds before anyone reads an index.
    #[test]
    fn a_store_opened_after_a_killed_rebuild_finishes_it() {
        let dir = tempfile::tempdir().unwrap();
        let ids = IdGen::new();
        let campaign = CampaignId::from_ulid(ulid::Ulid::new());
        {
            let store = Store::open(dir.path(), "test").unwrap();
            inserted(&store, campaign, 3, &ids);
            // As a rebuild killed between its clear and its refill.
            store.trees.meta.insert(MARK, &[1]).unwrap();
            store.trees.leads_by_campaign.clear().unwrap();
            store.trees.lead_counts.clear().unwrap();
            assert!(!store.check_lead_indexes().unwrap().is_empty());
            store.flush_blocking().unwrap();
        }
        let store = Store::open(dir.path(), "test").unwrap();
        assert_eq!(store.check_lead_indexes().unwrap(), Vec::<String>::new());
        assert_eq!(store.campaign_leads(campaign, None, None).unwrap().len(), 3);
        assert!(!store.trees.meta.contains_key(MARK).unwrap());
    }

    /// Two leads of one campaign for one domain (only damage can make
    /// them): the index keeps the older, and the rebuild names the other.
    #[test]
    fn two_leads_for_one_domain_are_named_and_the_older_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let ids = IdGen::new();
        let campaign = CampaignId::from_ulid(ulid::Ulid::new());
        let older = lead(campaign, "same.example", &ids);
        let newer = lead(campaign, "same.example", &ids);
        store.insert_leads(std::slice::from_ref(&older)).unwrap();
        store
            .trees
            .leads
            .insert(newer.id.to_bytes(), super::super::codec::encode(&newer))
            .unwrap();
        let rebuilt = store.rebuild_indexes().unwrap();
        assert_eq!(rebuilt.leads, 2);
        assert_eq!(rebuilt.conflicts.len(), 1, "{:?}", rebuilt.conflicts);
        assert!(
            rebuilt.conflicts[0].contains(&newer.id.to_string())
                && rebuilt.conflicts[0].ends_with(&format!("the index keeps {}", older.id)),
            "{:?}",
            rebuilt.conflicts
        );
        assert_eq!(
            store.lead_id_by_domain(campaign, &older.domain).unwrap(),
            Some(older.id)
        );
    }
    /// A damaged lead or email is left out and named; the rest is
    /// indexed, and a store with a killed rebuild and a damaged record
    /// still opens.
    #[test]
    fn an_unreadable_record_is_named_and_the_rest_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let ids = IdGen::new();
        let campaign = CampaignId::from_ulid(ulid::Ulid::new());
        let broken_lead = LeadId::from_ulid(ids.next(jiff::Timestamp::now()));
        {
            let store = Store::open(dir.path(), "test").unwrap();
            inserted(&store, campaign, 3, &ids);
            store
                .trees
                .leads
                .insert(broken_lead.to_bytes(), &b"\x01{not json"[..])
                .unwrap();
            store
                .trees
                .outreach
                .insert(broken_lead.to_bytes(), &b"\x01[]"[..])
                .unwrap();
            let rebuilt = store.rebuild_indexes().unwrap();
            assert_eq!(rebuilt.leads, 3);
            assert_eq!(rebuilt.unreadable.len(), 2, "{:?}", rebuilt.unreadable);
            assert!(
                rebuilt
                    .unreadable
                    .iter()
                    .all(|u| u.contains("leads") || u.contains("outreach")),
                "{:?}",
                rebuilt.unreadable
            );
            assert_eq!(store.campaign_leads(campaign, None, None).unwrap().len(), 3);
            assert!(!store.trees.meta.contains_key(MARK).unwrap());
            // As a rebuild killed half-way over the damaged record.
            store.trees.meta.insert(MARK, &[1]).unwrap();
            store.trees.leads_by_campaign.clear().unwrap();
            store.flush_blocking().unwrap();
        }
        let store = Store::open(dir.path(), "test").expect("opens despite the damaged record");
        assert_eq!(store.campaign_leads(campaign, None, None).unwrap().len(), 3);
        assert!(!store.trees.meta.contains_key(MARK).unwrap());
    }
}
