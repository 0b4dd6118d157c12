//! Lead records and their indexes (by campaign, by campaign+domain, by
//! campaign+status) plus per-status counters. A lead and every index entry
//! change together in one transaction, so a crash can never leave one
//! without the other.

use std::collections::{BTreeMap, HashMap};

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::codec::{decode, encode};
use super::keys;
use super::{Result, Store, StoreError, add_to_counter};
use crate::domain::{CampaignId, Domain, Lead, LeadId, LeadStatus};

/// What happened to one lead of a batch insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// The campaign already has a lead for this domain.
    Duplicate(LeadId),
}

pub(crate) type TxResult<T> = std::result::Result<T, ConflictableTransactionError<StoreError>>;

impl Store {
    /// Inserts leads in one transaction, skipping any whose domain the
    /// campaign already has (also within the batch).
    pub fn insert_leads(&self, leads: &[Lead]) -> Result<Vec<Inserted>> {
        let t = &self.trees;
        let outcome = (
            &t.leads,
            &t.leads_by_campaign,
            &t.leads_by_domain,
            &t.leads_by_status,
            &t.lead_counts,
        )
            .transaction(|(leads_t, by_campaign, by_domain, by_status, counts)| {
                let mut outcome = Vec::with_capacity(leads.len());
                let mut deltas: HashMap<[u8; 17], i64> = HashMap::new();
                for lead in leads {
                    let domain_key = keys::campaign_domain(lead.campaign, &lead.domain);
                    if let Some(existing) = by_domain.get(&domain_key)? {
                        let existing = LeadId::from_slice(&existing).unwrap_or(lead.id);
                        outcome.push(Inserted::Duplicate(existing));
                        continue;
                    }
                    leads_t.insert(&lead.id.to_bytes(), encode(lead))?;
                    by_campaign
                        .insert(keys::campaign_lead(lead.campaign, lead.id).as_slice(), &[])?;
                    by_domain.insert(domain_key, &lead.id.to_bytes())?;
                    by_status.insert(
                        keys::campaign_status_lead(lead.campaign, lead.status, lead.id).as_slice(),
                        &[],
                    )?;
                    *deltas
                        .entry(keys::campaign_status(lead.campaign, lead.status))
                        .or_default() += 1;
                    outcome.push(Inserted::New);
                }
                for (key, delta) in &deltas {
                    add_to_counter(counts, key, *delta)?;
                }
                Ok(outcome)
            })?;
        Ok(outcome)
    }

    /// Replaces a lead, moving its status index entry and counters when the
    /// status changed. The campaign and domain of a lead never change.
    pub fn update_lead(&self, lead: &Lead) -> Result<()> {
        let t = &self.trees;
        (&t.leads, &t.leads_by_status, &t.lead_counts).transaction(
            |(leads_t, by_status, counts)| put_lead_tx(leads_t, by_status, counts, lead),
        )?;
        Ok(())
    }

    /// Reads, changes and writes a lead in one transaction, so concurrent
    /// changes to other fields are not lost. `change` may run more than once.
    /// Returns the lead as written, or `None` when it does not exist.
    pub fn modify_lead(&self, id: LeadId, change: impl Fn(&mut Lead)) -> Result<Option<Lead>> {
        let t = &self.trees;
        let lead = (&t.leads, &t.leads_by_status, &t.lead_counts).transaction(
            |(leads_t, by_status, counts)| modify_lead_tx(leads_t, by_status, counts, id, &change),
        )?;
        Ok(lead)
    }

    pub fn lead(&self, id: LeadId) -> Result<Option<Lead>> {
        let key = id.to_bytes();
        self.trees
            .leads
            .get(key)?
            .map(|v| decode("leads", &key, &v))
            .transpose()
    }

    pub fn lead_id_by_domain(
        &self,
        campaign: CampaignId,
        domain: &Domain,
    ) -> Result<Option<LeadId>> {
        Ok(self
            .trees
            .leads_by_domain
            .get(keys::campaign_domain(campaign, domain))?
            .and_then(|v| LeadId::from_slice(&v)))
    }

    /// Ids of a campaign's leads, oldest first, optionally of one status.
    pub fn campaign_lead_ids(
        &self,
        campaign: CampaignId,
        status: Option<LeadStatus>,
    ) -> impl Iterator<Item = Result<LeadId>> + '_ {
        let scan = match status {
            None => self
                .trees
                .leads_by_campaign
                .scan_prefix(campaign.to_bytes()),
            Some(status) => self
                .trees
                .leads_by_status
                .scan_prefix(keys::campaign_status(campaign, status)),
        };
        scan.map(|item| {
            let (key, _) = item?;
            keys::trailing_lead(&key).ok_or_else(|| StoreError::Corrupt {
                tree: "lead index".into(),
                key: hex::encode(&key),
                reason: "key does not end in a lead id".into(),
            })
        })
    }

    /// A campaign's leads, oldest first. With a status, only that status
    /// (scanned from the status index, not filtered).
    pub fn campaign_leads(
        &self,
        campaign: CampaignId,
        status: Option<LeadStatus>,
        limit: Option<usize>,
    ) -> Result<Vec<Lead>> {
        let mut out = Vec::new();
        for id in self.campaign_lead_ids(campaign, status) {
            if limit.is_some_and(|l| out.len() >= l) {
                break;
            }
            let id = id?;
            match self.lead(id)? {
                Some(lead) => out.push(lead),
                None => tracing::warn!(lead = %id, "index names a lead that does not exist"),
            }
        }
        Ok(out)
    }

    /// Every lead in every campaign.
    pub fn all_leads(&self) -> impl Iterator<Item = Result<Lead>> + '_ {
        self.trees.leads.iter().map(|item| {
            let (k, v) = item?;
            decode("leads", &k, &v)
        })
    }

    /// Lead counts of a campaign by status, from the maintained counters.
    pub fn lead_counts(&self, campaign: CampaignId) -> Result<BTreeMap<LeadStatus, u64>> {
        let mut out = BTreeMap::new();
        for item in self.trees.lead_counts.scan_prefix(campaign.to_bytes()) {
            let (key, value) = item?;
            let status = key.get(16).copied().and_then(LeadStatus::from_key_byte);
            let count = <[u8; 8]>::try_from(value.as_ref())
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            if let Some(status) = status
                && count > 0
            {
                out.insert(status, count);
            }
        }
        Ok(out)
    }

    /// Checks that leads and indexes agree exactly; returns each mismatch
    /// found. Used by `doctor` and by the crash tests.
    pub fn check_lead_indexes(&self) -> Result<Vec<String>> {
        let t = &self.trees;
        let mut problems = Vec::new();
        let mut counted: HashMap<[u8; 17], u64> = HashMap::new();
        let mut lead_count = 0usize;
        for lead in self.all_leads() {
            let lead = lead?;
            lead_count += 1;
            if !t
                .leads_by_campaign
                .contains_key(keys::campaign_lead(lead.campaign, lead.id))?
            {
                problems.push(format!("lead {} missing from the campaign index", lead.id));
            }
            match t
                .leads_by_domain
                .get(keys::campaign_domain(lead.campaign, &lead.domain))?
            {
                Some(v) if LeadId::from_slice(&v) == Some(lead.id) => {}
                _ => problems.push(format!("lead {} missing from the domain index", lead.id)),
            }
            if !t.leads_by_status.contains_key(keys::campaign_status_lead(
                lead.campaign,
                lead.status,
                lead.id,
            ))? {
                problems.push(format!("lead {} missing from the status index", lead.id));
            }
            *counted
                .entry(keys::campaign_status(lead.campaign, lead.status))
                .or_default() += 1;
        }
        for (tree, name) in [
            (&t.leads_by_campaign, "campaign"),
            (&t.leads_by_status, "status"),
        ] {
            let entries = tree.len();
            if entries != lead_count {
                problems.push(format!(
                    "{name} index has {entries} entries for {lead_count} leads"
                ));
            }
            for item in tree.iter() {
                let (key, _) = item?;
                match keys::trailing_lead(&key) {
                    Some(id) if t.leads.contains_key(id.to_bytes())? => {}
                    _ => problems.push(format!(
                        "{name} index entry {} names no lead",
                        hex::encode(&key)
                    )),
                }
            }
        }
        if t.leads_by_domain.len() != lead_count {
            problems.push(format!(
                "domain index has {} entries for {lead_count} leads",
                t.leads_by_domain.len()
            ));
        }
        for item in t.lead_counts.iter() {
            let (key, value) = item?;
            let stored = <[u8; 8]>::try_from(value.as_ref())
                .map(u64::from_be_bytes)
                .unwrap_or(u64::MAX);
            let key: [u8; 17] = key.as_ref().try_into().unwrap_or([0; 17]);
            let actual = counted.remove(&key).unwrap_or(0);
            if stored != actual {
                problems.push(format!(
                    "counter {} says {stored}, found {actual}",
                    hex::encode(key)
                ));
            }
        }
        for (key, actual) in counted {
            problems.push(format!(
                "counter {} missing, found {actual}",
                hex::encode(key)
            ));
        }
        Ok(problems)
    }
}

/// Writes a lead inside a transaction, keeping the status index and
/// counters in step with the stored version.
pub(crate) fn put_lead_tx(
    leads_t: &TransactionalTree,
    by_status: &TransactionalTree,
    counts: &TransactionalTree,
    lead: &Lead,
) -> TxResult<()> {
    let key = lead.id.to_bytes();
    let old: Lead = match leads_t.get(key)? {
        Some(bytes) => {
            decode("leads", &key, &bytes).map_err(ConflictableTransactionError::Abort)?
        }
        None => {
            return Err(ConflictableTransactionError::Abort(StoreError::Invalid(
                format!("lead {} does not exist", lead.id),
            )));
        }
    };
    if old.campaign != lead.campaign || old.domain != lead.domain {
        return Err(ConflictableTransactionError::Abort(StoreError::Invalid(
            format!("lead {}: campaign and domain cannot change", lead.id),
        )));
    }
    if old.status != lead.status {
        by_status
            .remove(keys::campaign_status_lead(old.campaign, old.status, old.id).as_slice())?;
        by_status.insert(
            keys::campaign_status_lead(lead.campaign, lead.status, lead.id).as_slice(),
            &[],
        )?;
        add_to_counter(counts, &keys::campaign_status(old.campaign, old.status), -1)?;
        add_to_counter(
            counts,
            &keys::campaign_status(lead.campaign, lead.status),
            1,
        )?;
    }
    leads_t.insert(&key, encode(lead))?;
    Ok(())
}

/// Read-modify-write of one lead inside a transaction.
pub(crate) fn modify_lead_tx(
    leads_t: &TransactionalTree,
    by_status: &TransactionalTree,
    counts: &TransactionalTree,
    id: LeadId,
    change: &dyn Fn(&mut Lead),
) -> TxResult<Option<Lead>> {
    let key = id.to_bytes();
    let Some(bytes) = leads_t.get(key)? else {
        return Ok(None);
    };
    let mut lead: Lead =
        decode("leads", &key, &bytes).map_err(ConflictableTransactionError::Abort)?;
    change(&mut lead);
    put_lead_tx(leads_t, by_status, counts, &lead)?;
    Ok(Some(lead))
}
