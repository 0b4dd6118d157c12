//! Audits: what a fetch of a lead's site saw, the checks run over it with
//! their evidence, the category scores, the contacts found, and the
//! difference between two audits of the same lead.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Hash, LeadId, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Performance,
    Seo,
    Mobile,
    Accessibility,
    Security,
    Content,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Self::Performance,
        Self::Seo,
        Self::Mobile,
        Self::Accessibility,
        Self::Security,
        Self::Content,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Performance => "performance",
            Self::Seo => "seo",
            Self::Mobile => "mobile",
            Self::Accessibility => "accessibility",
            Self::Security => "security",
            Self::Content => "content",
        }
    }

    /// How it reads to a business owner.
    pub fn label(self) -> &'static str {
        match self {
            Self::Performance => "Speed",
            Self::Seo => "Search visibility",
            Self::Mobile => "Mobile",
            Self::Accessibility => "Accessibility",
            Self::Security => "Security",
            Self::Content => "Contact & content",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low = 1,
    Medium = 2,
    High = 3,
    Critical = 4,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who measured a check: an HTTP fetch, or a real browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MeasuredBy {
    #[default]
    Http,
    Browser,
}

/// The result of one check on one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Stable id, e.g. `seo.title.length`; never reused for another check.
    pub id: String,
    pub category: Category,
    pub severity: Severity,
    pub passed: bool,
    /// Short title of the problem (or of what is good).
    pub title: String,
    /// What was measured: "title is 78 characters", "no meta description".
    pub evidence: String,
    /// Why it matters, in one line, for a business owner.
    pub why: String,
    /// How to fix it, in one line.
    pub fix: String,
    #[serde(default)]
    pub measured_by: MeasuredBy,
}

/// Scores 0–100 per category and overall (weights: `pipeline::audit::score`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scores {
    pub overall: u8,
    pub categories: BTreeMap<Category, u8>,
}

/// Where a contact detail was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub value: String,
    /// `mailto link`, `tel link`, `page text`, `obfuscated text`, `json-ld`, ...
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    pub emails: Vec<Found>,
    pub phones: Vec<Found>,
    /// (network, profile URL)
    pub socials: Vec<(String, String)>,
    pub contact_form: bool,
    pub address: Option<String>,
}

/// Timings of the page fetch, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timings {
    pub dns_ms: u64,
    /// TCP connect plus, for https, the TLS handshake.
    pub connect_ms: u64,
    /// Request sent to first response byte.
    pub ttfb_ms: u64,
    pub total_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    pub status: u16,
    pub from: String,
    pub to: String,
}

/// A small side resource (robots.txt, sitemap.xml) and what was learnt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub url: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    /// robots.txt: its text (capped); sitemap: empty.
    #[serde(default)]
    pub text: String,
    /// sitemap: number of `<loc>` entries, when it parsed.
    #[serde(default)]
    pub entries: Option<u64>,
}

/// One internal link checked for breakage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkCheck {
    pub url: String,
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl LinkCheck {
    pub fn is_broken(&self) -> bool {
        self.error.is_some() || self.status.is_some_and(|s| s >= 400)
    }
}

/// Everything the fetch stage saw, minus the body (a blob).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteFetch {
    pub lead: LeadId,
    pub fetched_at: Timestamp,
    pub requested_url: String,
    pub final_url: String,
    pub status: u16,
    pub http_version: String,
    /// Response headers of the final page, names lowercase.
    pub headers: Vec<(String, String)>,
    pub redirects: Vec<Redirect>,
    pub timings: Timings,
    /// Body bytes as sent (compressed, when it was).
    pub bytes_wire: u64,
    /// Body bytes after decompression.
    pub bytes_decoded: u64,
    /// The body was cut at the size limit.
    pub truncated: bool,
    /// The decompressed body, in the blob cache.
    pub body: Option<Hash>,
    /// A certificate problem, when the site only loaded with checks off.
    pub tls_problem: Option<String>,
    /// For an https site: where `http://` led (did it redirect to https?).
    pub http_probe: Option<Resource>,
    pub robots: Option<Resource>,
    pub sitemap: Option<Resource>,
    pub links: Vec<LinkCheck>,
}

impl SiteFetch {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One audit of one lead's site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    pub lead: LeadId,
    pub created_at: Timestamp,
    pub url: String,
    pub final_url: String,
    pub status: u16,
    pub timings: Timings,
    pub bytes_wire: u64,
    pub bytes_decoded: u64,
    pub http_version: String,
    pub scores: Scores,
    pub checks: Vec<CheckResult>,
    pub contacts: Contacts,
    /// Screenshot blobs by name (`desktop`, `mobile`, `desktop_thumb`, ...).
    #[serde(default)]
    pub screenshots: BTreeMap<String, Hash>,
    /// How the page presents itself (to search engines and in tabs).
    #[serde(default)]
    pub page: PageIdentity,
    /// The figures measured (and the mobile estimate), absent in audits
    /// made before they were kept.
    #[serde(default)]
    pub metrics: super::metrics::AuditMetrics,
}

/// The page's title and meta description as scraped: untrusted text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageIdentity {
    pub title: Option<String>,
    pub description: Option<String>,
}

impl Audit {
    /// Failed checks, worst first.
    pub fn findings(&self) -> Vec<&CheckResult> {
        let mut failed: Vec<&CheckResult> = self.checks.iter().filter(|c| !c.passed).collect();
        failed.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
        failed
    }
}

/// What changed between two audits of one lead.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDiff {
    /// Problems now that were not problems before.
    pub new: Vec<String>,
    /// Problems before that are gone now.
    pub fixed: Vec<String>,
    pub unchanged: Vec<String>,
    pub overall_delta: i16,
    pub category_deltas: BTreeMap<Category, i16>,
}

impl AuditDiff {
    pub fn between(previous: &Audit, current: &Audit) -> Self {
        let failing = |a: &Audit| -> std::collections::BTreeSet<String> {
            a.checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| c.id.clone())
                .collect()
        };
        let before = failing(previous);
        let now = failing(current);
        let category_deltas = Category::ALL
            .iter()
            .filter_map(|c| {
                let a = previous.scores.categories.get(c)?;
                let b = current.scores.categories.get(c)?;
                Some((*c, i16::from(*b) - i16::from(*a)))
            })
            .collect();
        Self {
            new: now.difference(&before).cloned().collect(),
            fixed: before.difference(&now).cloned().collect(),
            unchanged: now.intersection(&before).cloned().collect(),
            overall_delta: i16::from(current.scores.overall) - i16::from(previous.scores.overall),
            category_deltas,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(failing: &[&str], overall: u8) -> Audit {
        Audit {
            lead: LeadId::from_ulid(ulid::Ulid::nil()),
            created_at: Timestamp::UNIX_EPOCH,
            url: String::new(),
            final_url: String::new(),
            status: 200,
            timings: Timings::default(),
            bytes_wire: 0,
            bytes_decoded: 0,
            http_version: String::new(),
            page: PageIdentity::default(),
            metrics: Default::default(),
            scores: Scores {
                overall,
                categories: [(Category::Seo, overall)].into_iter().collect(),
            },
            checks: ["a", "b", "c"]
                .iter()
                .map(|id| CheckResult {
                    id: id.to_string(),
                    category: Category::Seo,
                    severity: Severity::Medium,
                    passed: !failing.contains(id),
                    title: String::new(),
                    evidence: String::new(),
                    why: String::new(),
                    fix: String::new(),
                    measured_by: MeasuredBy::Http,
                })
                .collect(),
            contacts: Contacts::default(),
            screenshots: BTreeMap::new(),
        }
    }

    #[test]
    fn diff_sorts_problems_into_new_fixed_and_unchanged() {
        let diff = AuditDiff::between(&audit(&["a", "b"], 60), &audit(&["b", "c"], 55));
        assert_eq!(diff.new, vec!["c"]);
        assert_eq!(diff.fixed, vec!["a"]);
        assert_eq!(diff.unchanged, vec!["b"]);
        assert_eq!(diff.overall_delta, -5);
        assert_eq!(diff.category_deltas[&Category::Seo], -5);
    }
}
