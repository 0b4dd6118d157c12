//! Report page views: one record per view (`visits`, by lead and time)
//! and a running summary per lead (`lead_views`), so a lead list reads the
//! summaries of viewed leads only. Views are not flushed one by one: a
//! crash may lose the last half second of them, never other data.

use std::collections::HashMap;

use super::codec::{decode, encode};
use super::{Result, Store};
use crate::domain::visits::{ClientKind, ViewStats, Visit};
use crate::domain::{LeadId, Timestamp};

impl Store {
    /// Records a view; `sent_at` is when the lead's email went out, if it
    /// did. Returns how the view was counted.
    pub fn record_visit(
        &self,
        lead: LeadId,
        client: ClientKind,
        at: Timestamp,
        sent_at: Option<Timestamp>,
        scanner_window: std::time::Duration,
    ) -> Result<ClientKind> {
        let key = lead.to_bytes();
        let mut counted = client;
        self.trees.lead_views.update_and_fetch(key, |old| {
            let mut stats: ViewStats = old
                .and_then(|v| decode("lead_views", &key, v).ok())
                .unwrap_or_default();
            counted = stats.record(client, at, sent_at, scanner_window);
            Some(encode(&stats))
        })?;
        let mut visit_key = key.to_vec();
        visit_key.extend_from_slice(&at.as_nanosecond().to_be_bytes());
        visit_key.extend_from_slice(&rand::random::<u32>().to_be_bytes());
        self.trees.visits.insert(
            visit_key,
            encode(&Visit {
                at,
                client: counted,
            }),
        )?;
        Ok(counted)
    }

    pub fn view_stats(&self, lead: LeadId) -> Result<Option<ViewStats>> {
        let key = lead.to_bytes();
        self.trees
            .lead_views
            .get(key)?
            .map(|v| decode("lead_views", &key, &v))
            .transpose()
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
        Ok(out)
    }

    /// A lead's views, oldest first.
    pub fn visits_of(&self, lead: LeadId) -> Result<Vec<Visit>> {
        self.trees
            .visits
            .scan_prefix(lead.to_bytes())
            .map(|item| {
                let (k, v) = item?;
                decode("visits", &k, &v)
            })
            .collect()
    }
}
