//! Report page views, bounded: a running summary per lead (`lead_views`:
//! counts per client kind, last and first-hot view) and a ring of the
//! newest [`RECENT_VISITS`] views per lead (`visits`, key = lead + slot),
//! so a flood of views of one link rewrites the same few records instead
//! of adding one per view. Views are not flushed one by one: a crash may
//! lose the last half second of them, never other data.
//!
//! Stores written before the ring kept one record per view (key = lead +
//! time + random); [`Store::compact_visits`] folds those into the ring once,
//! at open. Their counts were always in `lead_views`, so nothing is lost.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::codec::{decode, encode};
use super::{Result, Store};
use crate::domain::visits::{ClientKind, ViewStats, Visit};
use crate::domain::{LeadId, Timestamp};

/// Views kept per lead, newest first; older ones live on only as counts.
pub const RECENT_VISITS: u64 = 50;

/// A lead's record is rewritten at most this often while views keep
/// coming, so a flood of views costs a few writes a second, not one each.
const WRITE_EVERY: Duration = Duration::from_secs(1);

/// Leads whose views are held at once; past this, all are written out.
const PENDING_MAX: usize = 1024;

/// Views counted since their lead's record was last written.
#[derive(Debug, Default)]
pub(crate) struct PendingViews(Mutex<HashMap<LeadId, Pending>>);

impl PendingViews {
    fn lock(&self) -> MutexGuard<'_, HashMap<LeadId, Pending>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Debug)]
struct Pending {
    /// The lead's whole summary, current (held ones included).
    stats: ViewStats,
    /// Views not yet in the ring, by sequence number.
    recent: VecDeque<(u64, Visit)>,
    written_at: Option<Instant>,
    /// When the lead's email was sent, as last read (`None`: not read yet).
    /// Every outreach write forgets it, so a view never sees a stale one;
    /// a busy link no longer decodes the whole email per view.
    sent_at: Option<Option<Timestamp>>,
}

/// Set in `meta` once the per-view records of an older store are folded
/// into the ring.
const VISITS_RING_MARK: &[u8] = b"visits_ring";

fn ring_key(lead: LeadId, slot: u64) -> [u8; 17] {
    let mut key = [0u8; 17];
    key[..16].copy_from_slice(&lead.to_bytes());
    // RECENT_VISITS < 256, so the slot fits one byte.
    key[16] = (slot % RECENT_VISITS) as u8;
    key
}

fn total(stats: &ViewStats) -> u64 {
    stats.views + stats.bots + stats.scanners
}

impl Store {
    /// Records a view, counted as a scanner's when it came right after
    /// the lead's email went out. Returns how the view was counted. The
    /// lead's record is written at most once per [`WRITE_EVERY`]; views in
    /// between are held here (and read from here) until the next write,
    /// flush or close.
    pub fn record_visit(
        &self,
        lead: LeadId,
        client: ClientKind,
        at: Timestamp,
        scanner_window: std::time::Duration,
    ) -> Result<ClientKind> {
        let mut pending = self.views.lock();
        if pending.len() >= PENDING_MAX && !pending.contains_key(&lead) {
            self.write_views(&mut pending, true)?;
        }
        let entry = match pending.entry(lead) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(Pending {
                stats: self.stored_view_stats(lead)?.unwrap_or_default(),
                recent: VecDeque::new(),
                written_at: None,
                sent_at: None,
            }),
        };
        let sent_at = match entry.sent_at {
            Some(sent_at) => sent_at,
            None => *entry.sent_at.insert(self.sent_at(lead)?),
        };
        let counted = entry.stats.record(client, at, sent_at, scanner_window);
        let seq = total(&entry.stats).saturating_sub(1);
        if entry.recent.len() as u64 >= RECENT_VISITS {
            entry.recent.pop_front();
        }
        entry.recent.push_back((
            seq,
            Visit {
                at,
                client: counted,
            },
        ));
        if entry.written_at.is_none_or(|w| w.elapsed() >= WRITE_EVERY) {
            self.write_lead_views(lead, entry)?;
        }
        Ok(counted)
    }

    /// Forgets the send time held for `lead`'s views; called after every
    /// write of its email. The views lock orders it after any read that
    /// started before the write was committed.
    pub(crate) fn forget_sent_at(&self, lead: LeadId) {
        if let Some(entry) = self.views.lock().get_mut(&lead) {
            entry.sent_at = None;
        }
    }

    /// Writes every held view to the trees (flush, backup and close call it).
    pub(crate) fn write_pending_views(&self) -> Result<()> {
        let mut pending = self.views.lock();
        self.write_views(&mut pending, false)
    }

    fn write_views(&self, pending: &mut HashMap<LeadId, Pending>, forget: bool) -> Result<()> {
        for (lead, entry) in pending.iter_mut() {
            if !entry.recent.is_empty() {
                self.write_lead_views(*lead, entry)?;
            }
        }
        if forget {
            pending.clear();
        }
        Ok(())
    }

    fn write_lead_views(&self, lead: LeadId, entry: &mut Pending) -> Result<()> {
        let mut ring = sled::Batch::default();
        for (seq, visit) in entry.recent.drain(..) {
            ring.insert(&ring_key(lead, seq)[..], encode(&visit));
        }
        self.trees
            .lead_views
            .insert(lead.to_bytes(), encode(&entry.stats))?;
        self.trees.visits.apply_batch(ring)?;
        entry.written_at = Some(Instant::now());
        Ok(())
    }

    fn stored_view_stats(&self, lead: LeadId) -> Result<Option<ViewStats>> {
        let key = lead.to_bytes();
        self.trees
            .lead_views
            .get(key)?
            .map(|v| decode("lead_views", &key, &v))
            .transpose()
    }

    pub fn view_stats(&self, lead: LeadId) -> Result<Option<ViewStats>> {
        if let Some(entry) = self.views.lock().get(&lead) {
            return Ok(Some(entry.stats));
        }
        self.stored_view_stats(lead)
    }

    /// Every viewed lead's summary.
    pub fn all_view_stats(&self) -> Result<HashMap<LeadId, ViewStats>> {
        let mut out = HashMap::new();
        for item in self.trees.lead_views.iter() {
            let (k, v) = item?;
            let Ok(bytes) = <[u8; 16]>::try_from(k.as_ref()) else {
                continue;
            };
            out.insert(LeadId::from_bytes(bytes), decode("lead_views", &k, &v)?);
        }
        for (lead, entry) in self.views.lock().iter() {
            out.insert(*lead, entry.stats);
        }
        Ok(out)
    }

    /// A lead's most recent views (at most [`RECENT_VISITS`]), oldest first.
    pub fn visits_of(&self, lead: LeadId) -> Result<Vec<Visit>> {
        let mut slots: HashMap<Vec<u8>, Visit> = HashMap::new();
        for item in self.trees.visits.scan_prefix(lead.to_bytes()) {
            let (k, v) = item?;
            slots.insert(k.to_vec(), decode("visits", &k, &v)?);
        }
        if let Some(entry) = self.views.lock().get(&lead) {
            for (seq, visit) in &entry.recent {
                slots.insert(ring_key(lead, *seq).to_vec(), *visit);
            }
        }
        let mut visits: Vec<Visit> = slots.into_values().collect();
        visits.sort_by_key(|v| v.at);
        Ok(visits)
    }

    /// Folds the one-record-per-view `visits` of an older store into the
    /// per-lead ring, keeping each lead's newest views. Runs once; later
    /// opens only read the mark.
    pub(crate) fn compact_visits(&self) -> Result<()> {
        if self.trees.meta.get(VISITS_RING_MARK)?.is_some() {
            return Ok(());
        }
        let mut by_lead: HashMap<[u8; 16], Vec<(sled::IVec, Visit)>> = HashMap::new();
        for item in self.trees.visits.iter() {
            let (k, v) = item?;
            let Ok(lead) = <[u8; 16]>::try_from(&k[..k.len().min(16)]) else {
                continue;
            };
            if k.len() == 17 {
                continue; // already a ring slot
            }
            let visit: Visit = decode("visits", &k, &v)?;
            by_lead.entry(lead).or_default().push((k, visit));
        }
        let folded = by_lead.values().map(Vec::len).sum::<usize>();
        for (lead, mut visits) in by_lead {
            let lead = LeadId::from_bytes(lead);
            visits.sort_by_key(|(_, v)| std::cmp::Reverse(v.at));
            let counted = self.view_stats(lead)?.map(|s| total(&s)).unwrap_or(0);
            // The newest view sits where the next one would have gone
            // minus one, so the ring keeps overwriting the oldest.
            let newest = counted.max(visits.len() as u64).saturating_sub(1);
            let mut batch = sled::Batch::default();
            for (key, _) in &visits {
                batch.remove(key.clone());
            }
            for (i, (_, visit)) in visits.iter().take(RECENT_VISITS as usize).enumerate() {
                let slot = newest + RECENT_VISITS - (i as u64 % RECENT_VISITS);
                batch.insert(&ring_key(lead, slot)[..], encode(visit));
            }
            self.trees.visits.apply_batch(batch)?;
        }
        self.trees.meta.insert(VISITS_RING_MARK, &[1u8][..])?;
        if folded > 0 {
            tracing::info!(
                visits = folded,
                "report views folded into the bounded per-lead record"
            );
            self.db().flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: std::time::Duration = std::time::Duration::from_secs(60);

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn the_ring_keeps_the_newest_views_and_the_counts_keep_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let lead = LeadId::from_ulid(ulid::Ulid::new());
        for s in 0..(RECENT_VISITS as i64 * 3 + 7) {
            store
                .record_visit(lead, ClientKind::Desktop, t(s), W)
                .unwrap();
        }
        let visits = store.visits_of(lead).unwrap();
        assert_eq!(visits.len() as u64, RECENT_VISITS);
        assert_eq!(visits.last().unwrap().at, t(RECENT_VISITS as i64 * 3 + 6));
        assert_eq!(visits[0].at, t(RECENT_VISITS as i64 * 2 + 7));
        assert_eq!(
            store.view_stats(lead).unwrap().unwrap().views,
            RECENT_VISITS * 3 + 7
        );
    }

    #[test]
    fn a_view_right_after_the_send_is_a_scanner_even_with_the_send_time_held() {
        use crate::domain::outreach::{Author, Outreach, OutreachStatus};
        use crate::domain::{CampaignId, Email};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let lead = LeadId::from_ulid(ulid::Ulid::new());
        // Viewed before anything was sent: "not sent" is now held.
        let before = store
            .record_visit(lead, ClientKind::Desktop, t(0), W)
            .unwrap();
        assert_eq!(before, ClientKind::Desktop);
        let email = Outreach {
            status: OutreachStatus::Approved,
            approved_at: Some(t(0)),
            ..Outreach::draft(
                lead,
                CampaignId::from_ulid(ulid::Ulid::new()),
                Email::parse("a@b.example").unwrap(),
                ("s".into(), "b".into()),
                Author::Template,
                t(0),
            )
        };
        store.put_outreach(&email, None).unwrap();
        store.record_sent(lead, t(10), "2027-01-15").unwrap();
        // The scanner that opens the link on delivery, seconds later.
        let after = store
            .record_visit(lead, ClientKind::Desktop, t(12), W)
            .unwrap();
        assert_eq!(
            after,
            ClientKind::Scanner,
            "the held send time was forgotten"
        );
        let later = store
            .record_visit(lead, ClientKind::Desktop, t(10 + W.as_secs() as i64 + 1), W)
            .unwrap();
        assert_eq!(later, ClientKind::Desktop);
    }

    #[test]
    fn per_view_records_of_an_older_store_are_folded_into_the_ring() {
        let dir = tempfile::tempdir().unwrap();
        let lead = LeadId::from_ulid(ulid::Ulid::new());
        {
            let store = Store::open(dir.path(), "test").unwrap();
            // What the older layout wrote: a summary and one record per view.
            let mut stats = ViewStats::default();
            for s in 0..120 {
                let counted = stats.record(ClientKind::Mobile, t(s), None, W);
                let mut key = lead.to_bytes().to_vec();
                key.extend_from_slice(&t(s).as_nanosecond().to_be_bytes());
                key.extend_from_slice(&7u32.to_be_bytes());
                let visit = Visit {
                    at: t(s),
                    client: counted,
                };
                store.trees.visits.insert(key, encode(&visit)).unwrap();
            }
            store
                .trees
                .lead_views
                .insert(lead.to_bytes(), encode(&stats))
                .unwrap();
            store.trees.meta.remove(VISITS_RING_MARK).unwrap();
        }
        let store = Store::open(dir.path(), "test").unwrap();
        assert_eq!(store.trees.visits.len() as u64, RECENT_VISITS);
        let stats = store.view_stats(lead).unwrap().unwrap();
        assert_eq!(stats.views, 120, "old views still count");
        store
            .record_visit(lead, ClientKind::Desktop, t(500), W)
            .unwrap();
        let visits = store.visits_of(lead).unwrap();
        assert_eq!(visits.len() as u64, RECENT_VISITS);
        assert_eq!(visits[0].at, t(71), "the oldest kept view was replaced");
        assert_eq!(visits.last().unwrap().at, t(500));
    }
}
