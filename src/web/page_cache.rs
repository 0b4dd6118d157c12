//! What the page server remembers per report token: the link it stands for,
//! for as long as no report link has been written since (the store's links
//! generation), and the page rendered from it, for a few seconds. A busy
//! link then costs no store read and no rendering per hit, while a revoked
//! or replaced link is seen by the very next request and an expired one by
//! the clock.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;

use crate::domain::report::ReportLink;
use crate::domain::{LeadId, Timestamp};

/// A rendered page is reused this long: a re-audit or a settings change
/// shows within seconds, while a busy link is rendered once, not per hit.
const PAGE_TTL: Duration = Duration::from_secs(5);
/// Tokens remembered at once; past this, those without a fresh page go.
const ENTRIES_MAX: usize = 4096;

#[derive(Default)]
pub(super) struct PageCache(Mutex<HashMap<String, Entry>>);

struct Entry {
    generation: u64,
    lead: LeadId,
    expires_at: Option<Timestamp>,
    page: Option<(Instant, Bytes)>,
}

/// What memory knows of a token.
pub(super) enum Known {
    /// Live, with the page when one was rendered less than a TTL ago.
    Live(LeadId, Option<Bytes>),
    /// Its link has expired since it was read.
    Expired,
    /// Not remembered, or a link was written since: ask the store.
    Unknown,
}

impl PageCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The token's link as remembered under `generation`, judged at `now`.
    pub fn lookup(&self, token: &str, generation: u64, now: Timestamp) -> Known {
        let mut entries = self.lock();
        let Some(entry) = entries.get_mut(token) else {
            return Known::Unknown;
        };
        if entry.generation != generation {
            entries.remove(token);
            return Known::Unknown;
        }
        if entry.expires_at.is_some_and(|at| now >= at) {
            entries.remove(token);
            return Known::Expired;
        }
        if entry
            .page
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() >= PAGE_TTL)
        {
            entry.page = None;
        }
        Known::Live(
            entry.lead,
            entry.page.as_ref().map(|(_, html)| html.clone()),
        )
    }

    /// Remembers a live link read from the store after `generation` was.
    pub fn remember_link(&self, token: &str, generation: u64, link: &ReportLink) {
        let mut entries = self.lock();
        if entries.len() >= ENTRIES_MAX {
            entries.retain(|_, e| {
                e.page
                    .as_ref()
                    .is_some_and(|(at, _)| at.elapsed() < PAGE_TTL)
            });
            if entries.len() >= ENTRIES_MAX {
                entries.clear();
            }
        }
        entries.insert(
            token.to_string(),
            Entry {
                generation,
                lead: link.lead,
                expires_at: link.expires_at,
                page: None,
            },
        );
    }

    /// Keeps a page rendered for the link remembered under `generation`;
    /// a page rendered while a link was being written is not kept.
    pub fn remember_page(&self, token: &str, generation: u64, html: Bytes) {
        if let Some(entry) = self.lock().get_mut(token)
            && entry.generation == generation
        {
            entry.page = Some((Instant::now(), html));
        }
    }

    pub fn forget(&self, token: &str) {
        self.lock().remove(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::report::ReportToken;

    fn link(expires_at: Option<Timestamp>) -> ReportLink {
        let now = Timestamp::from_second(1_800_000_000).expect("time");
        ReportLink {
            token: ReportToken::from_random([7; 16]),
            lead: LeadId::from_bytes([1; 16]),
            created_at: now,
            expires_at,
        }
    }

    #[test]
    fn a_written_link_makes_the_memory_ask_again() {
        let cache = PageCache::default();
        let now = Timestamp::from_second(1_800_000_000).expect("time");
        let link = link(None);
        cache.remember_link("t", 3, &link);
        cache.remember_page("t", 3, Bytes::from_static(b"page"));
        match cache.lookup("t", 3, now) {
            Known::Live(lead, Some(page)) => {
                assert_eq!(lead, link.lead);
                assert_eq!(&page[..], b"page");
            }
            _ => panic!("the remembered link and page"),
        }
        assert!(matches!(cache.lookup("t", 4, now), Known::Unknown));
        // The entry of the old generation is gone, so its page is too.
        assert!(matches!(cache.lookup("t", 3, now), Known::Unknown));
    }

    #[test]
    fn an_expired_link_is_dead_without_asking_the_store() {
        let cache = PageCache::default();
        let expires = Timestamp::from_second(1_800_000_100).expect("time");
        cache.remember_link("t", 1, &link(Some(expires)));
        let before = Timestamp::from_second(1_800_000_099).expect("time");
        assert!(matches!(cache.lookup("t", 1, before), Known::Live(_, None)));
        assert!(matches!(cache.lookup("t", 1, expires), Known::Expired));
        assert!(matches!(cache.lookup("t", 1, before), Known::Unknown));
    }

    #[test]
    fn a_page_rendered_across_a_link_write_is_not_kept() {
        let cache = PageCache::default();
        let now = Timestamp::from_second(1_800_000_000).expect("time");
        cache.remember_link("t", 1, &link(None));
        cache.remember_page("t", 2, Bytes::from_static(b"old"));
        assert!(matches!(cache.lookup("t", 1, now), Known::Live(_, None)));
    }
}
