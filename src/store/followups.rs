//! The index of follow-ups waiting (`followups_waiting`: campaign ++ lead
//! → the step drafted or approved and not sent), kept by every outreach
//! write in its own transaction, so the lead list shows a waiting
//! follow-up without reading a single email; its backfill for data dirs
//! written before it existed; and a count of outreach records read, which
//! tests and benchmarks use to hold the lists to that.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use sled::transaction::TransactionalTree;

use super::codec::decode;
use super::keys;
use super::leads::TxResult;
use super::{Result, Store, StoreError};
use crate::domain::followup::waiting_step;
use crate::domain::outreach::Outreach;
use crate::domain::{CampaignId, LeadId};

/// Outreach records decoded since the store opened.
#[derive(Debug, Default)]
pub(crate) struct ReadCount(AtomicU64);

impl ReadCount {
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

/// Moves a lead's entry to what `new` says, inside the transaction that
/// writes it (`old` is the record it replaces).
pub(crate) fn index_tx(
    waiting: &TransactionalTree,
    old: Option<&Outreach>,
    new: &Outreach,
) -> TxResult<()> {
    let before = old.and_then(waiting_step);
    let after = waiting_step(new);
    if let Some(old) = old
        && before.is_some()
        && (after.is_none() || old.campaign != new.campaign)
    {
        waiting.remove(keys::campaign_lead(old.campaign, old.lead).as_slice())?;
    }
    if let Some(step) = after
        && before != after
    {
        waiting.insert(
            keys::campaign_lead(new.campaign, new.lead).as_slice(),
            &step.to_be_bytes(),
        )?;
    }
    Ok(())
}

impl Store {
    /// A campaign's leads with a follow-up waiting, and its step: one scan
    /// of a small index, whatever the size of the campaign.
    pub fn followups_waiting(&self, campaign: CampaignId) -> Result<HashMap<LeadId, u32>> {
        let mut out = HashMap::new();
        for item in self
            .trees
            .followups_waiting
            .scan_prefix(campaign.to_bytes())
        {
            let (key, value) = item?;
            let step = <[u8; 4]>::try_from(value.as_ref()).map(u32::from_be_bytes);
            if let (Some(lead), Ok(step)) = (keys::trailing_lead(&key), step) {
                out.insert(lead, step);
            }
        }
        Ok(out)
    }

    /// How many outreach records this store has read and decoded since it
    /// opened (a lead list must add none).
    pub fn outreach_reads(&self) -> u64 {
        self.outreach_reads.0.load(Ordering::Relaxed)
    }

    /// Where the index and the emails disagree, one line each (for
    /// `doctor`): a waiting follow-up the index lacks or gives the wrong
    /// step, and an entry no waiting email stands behind.
    pub fn check_followup_index(&self) -> Result<Vec<String>> {
        let mut expected: HashMap<Vec<u8>, (LeadId, u32)> = HashMap::new();
        for item in self.trees.outreach.iter() {
            let (key, value) = item?;
            let o: Outreach = decode("outreach", &key, &value)?;
            if let Some(step) = waiting_step(&o) {
                expected.insert(
                    keys::campaign_lead(o.campaign, o.lead).to_vec(),
                    (o.lead, step),
                );
            }
        }
        let mut problems = Vec::new();
        for item in self.trees.followups_waiting.iter() {
            let (key, value) = item?;
            let indexed = <[u8; 4]>::try_from(value.as_ref())
                .ok()
                .map(u32::from_be_bytes);
            let lead = keys::trailing_lead(&key)
                .map(|id| id.to_string())
                .unwrap_or_else(|| hex::encode(&key));
            match (expected.remove(key.as_ref()), indexed) {
                (Some((_, step)), Some(at)) if step == at => {}
                (Some((_, step)), _) => problems.push(format!(
                    "follow-up index gives lead {lead} step {}, its email says step {step}",
                    indexed.map_or("?".to_string(), |s| s.to_string())
                )),
                (None, _) => problems.push(format!(
                    "follow-up index lists lead {lead}, which has no follow-up waiting"
                )),
            }
        }
        for (lead, step) in expected.into_values() {
            problems.push(format!(
                "lead {lead}'s follow-up (step {step}) is missing from the follow-up index"
            ));
        }
        Ok(problems)
    }

    /// Builds the index from the emails (schema 3): a data dir written
    /// before it existed gets every waiting follow-up listed on open.
    /// An email that cannot be read is left out and named in `unreadable`:
    /// the rest of the index is still built.
    pub(crate) fn backfill_followups_waiting(&self, unreadable: &mut Vec<String>) -> Result<u64> {
        let waiting = &self.trees.followups_waiting;
        waiting.clear()?;
        let mut found = 0;
        for item in self.trees.outreach.iter() {
            let (key, value) = item?;
            let o: Outreach = match decode("outreach", &key, &value) {
                Ok(o) => o,
                Err(e @ StoreError::Corrupt { .. }) => {
                    unreadable.push(e.to_string());
                    continue;
                }
                Err(e) => return Err(e),
            };
            if let Some(step) = waiting_step(&o) {
                waiting.insert(keys::campaign_lead(o.campaign, o.lead), &step.to_be_bytes())?;
                found += 1;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::outreach::{Author, OutreachStatus};
    use crate::domain::{Email, Timestamp};

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    /// A lead's first email, sent at t(0).
    fn sent(store: &Store, campaign: CampaignId) -> LeadId {
        let lead = LeadId::from_ulid(ulid::Ulid::new());
        let first = Outreach {
            status: OutreachStatus::Approved,
            approved_at: Some(t(0)),
            ..Outreach::draft(
                lead,
                campaign,
                Email::parse("a@b.example").unwrap(),
                ("s".into(), "b".into()),
                Author::Template,
                t(0),
            )
        };
        store.put_outreach(&first, None).unwrap();
        store.record_sent(lead, t(0), "2027-01-15").unwrap();
        lead
    }

    fn advance(store: &Store, lead: LeadId) -> bool {
        store
            .advance_sequence(lead, 1, |x| {
                Outreach::draft(
                    x.lead,
                    x.campaign,
                    x.to.clone(),
                    ("Re: s".into(), "again".into()),
                    Author::Template,
                    t(100),
                )
            })
            .unwrap()
    }

    #[test]
    fn the_index_follows_every_write_and_is_rebuilt_for_an_older_store() {
        let dir = tempfile::tempdir().unwrap();
        let campaign = CampaignId::from_ulid(ulid::Ulid::new());
        let other = CampaignId::from_ulid(ulid::Ulid::new());
        let (waits, withdrawn, went, untouched, elsewhere);
        {
            let store = Store::open(dir.path(), "test").unwrap();
            waits = sent(&store, campaign);
            withdrawn = sent(&store, campaign);
            went = sent(&store, campaign);
            untouched = sent(&store, campaign);
            elsewhere = sent(&store, other);
            for lead in [waits, withdrawn, went, elsewhere] {
                assert!(advance(&store, lead));
            }
            store
                .modify_outreach(
                    withdrawn,
                    |x| {
                        x.status = OutreachStatus::Suppressed;
                        true
                    },
                    |_| None,
                )
                .unwrap();
            store
                .modify_outreach(
                    went,
                    |x| {
                        x.status = OutreachStatus::Approved;
                        true
                    },
                    |_| None,
                )
                .unwrap();
            store.record_sent(went, t(200), "2027-01-15").unwrap();
            let expected: HashMap<LeadId, u32> = [(waits, 2)].into();
            assert_eq!(store.followups_waiting(campaign).unwrap(), expected);
            assert_eq!(store.followups_waiting(other).unwrap().len(), 1);
            assert!(!expected.contains_key(&untouched));
            // As a build from before the index left it.
            store.trees.followups_waiting.clear().unwrap();
            store.set_schema_version(2).unwrap();
        }
        let store = Store::open(dir.path(), "test").unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            Some(super::super::SCHEMA_VERSION)
        );
        let expected: HashMap<LeadId, u32> = [(waits, 2)].into();
        assert_eq!(store.followups_waiting(campaign).unwrap(), expected);
        assert_eq!(store.followups_waiting(other).unwrap().len(), 1);
    }

    #[test]
    fn a_stop_recorded_first_keeps_the_next_step_from_being_drafted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let campaign = CampaignId::from_ulid(ulid::Ulid::new());
        let lead = sent(&store, campaign);
        store.record_sequence_stop(lead, "replied", t(50)).unwrap();
        assert!(!advance(&store, lead), "drafted after the stop");
        let o = store.outreach(lead).unwrap().unwrap();
        assert_eq!((o.step, o.status), (1, OutreachStatus::Sent));
        assert!(store.followups_waiting(campaign).unwrap().is_empty());
    }

    /// `doctor`'s check: silent while every write keeps the index, and
    /// one line naming the lead for each way the index can be wrong.
    #[test]
    fn the_check_names_each_lead_the_index_gets_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let campaign = CampaignId::from_ulid(ulid::Ulid::new());
        let (missing, wrong, quiet) = (
            sent(&store, campaign),
            sent(&store, campaign),
            sent(&store, campaign),
        );
        for lead in [missing, wrong] {
            assert!(advance(&store, lead));
        }
        assert_eq!(store.check_followup_index().unwrap(), Vec::<String>::new());

        let index = &store.trees.followups_waiting;
        index
            .remove(keys::campaign_lead(campaign, missing))
            .unwrap();
        index
            .insert(keys::campaign_lead(campaign, wrong), &7u32.to_be_bytes())
            .unwrap();
        index
            .insert(keys::campaign_lead(campaign, quiet), &2u32.to_be_bytes())
            .unwrap();
        let mut problems = store.check_followup_index().unwrap();
        problems.sort();
        assert_eq!(
            problems,
            [
                format!("follow-up index gives lead {wrong} step 7, its email says step 2"),
                format!("follow-up index lists lead {quiet}, which has no follow-up waiting"),
                format!("lead {missing}'s follow-up (step 2) is missing from the follow-up index"),
            ]
        );
    }
}
