//! The audit stage's logic: pure checks over what the fetch saw. No I/O;
//! CPU-bound (HTML parsing), so callers run it on a blocking thread.

pub mod checks;
pub mod contacts;
pub mod decode;
pub mod facts;
pub mod score;

use url::Url;

use crate::domain::Timestamp;
use crate::domain::audit::{Audit, PageIdentity, SiteFetch};

/// Audits one fetched site.
pub fn audit(fetch: &SiteFetch, body: &[u8], now: Timestamp) -> Audit {
    let content_type = fetch
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let decoded = decode::decode_html(
        body,
        Some(&content_type)
            .filter(|c| !c.is_empty())
            .map(String::as_str),
    );
    let is_html = checks_html(&content_type, body);
    let facts = is_html.then(|| facts::extract(&decoded.text));
    let final_url = Url::parse(&fetch.final_url)
        .or_else(|_| Url::parse(&fetch.requested_url))
        .unwrap_or_else(|_| {
            Url::parse("http://invalid.invalid/").unwrap_or_else(|e| panic!("constant URL: {e}"))
        });
    let contacts = facts
        .as_ref()
        .map(|f| contacts::find(f, &final_url))
        .unwrap_or_default();
    let year = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).year();
    let results = checks::run_all(&checks::Inputs {
        fetch,
        final_url: &final_url,
        decoded: &decoded,
        facts: facts.as_ref(),
        contacts: &contacts,
        year,
    });
    Audit {
        lead: fetch.lead,
        created_at: now,
        url: fetch.requested_url.clone(),
        final_url: fetch.final_url.clone(),
        status: fetch.status,
        timings: fetch.timings,
        bytes_wire: fetch.bytes_wire,
        bytes_decoded: fetch.bytes_decoded,
        http_version: fetch.http_version.clone(),
        scores: score::scores(&results),
        checks: results,
        contacts,
        screenshots: Default::default(),
        metrics: crate::domain::metrics::AuditMetrics::from_http(
            fetch.timings.ttfb_ms,
            fetch.bytes_wire,
            fetch.bytes_decoded,
        ),
        page: PageIdentity {
            title: facts.as_ref().and_then(|f| f.title.clone()),
            description: facts.as_ref().and_then(|f| f.meta_description.clone()),
        },
    }
}

fn checks_html(content_type: &str, body: &[u8]) -> bool {
    checks::looks_like_html(content_type, body)
}

#[cfg(test)]
mod tests;
