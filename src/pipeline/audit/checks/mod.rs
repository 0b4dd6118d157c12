//! The checks, one family per file. Each check is a constant [`Check`]
//! (stable id, category, severity, wording) and a line of logic that says
//! whether it passed and what was measured.

pub mod accessibility;
mod content;
mod mobile;
mod performance;
mod security;
mod seo;

use url::Url;

use super::decode::Decoded;
use super::facts::PageFacts;
use crate::domain::audit::{Category, CheckResult, Contacts, MeasuredBy, Severity, SiteFetch};
use crate::domain::text;

/// A check's fixed description.
pub struct Check {
    pub id: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// Title when it passes.
    pub good: &'static str,
    /// Title when it fails.
    pub bad: &'static str,
    pub why: &'static str,
    pub fix: &'static str,
}

impl Check {
    /// The result with its evidence cleaned and capped
    /// ([`text::evidence`]): evidence quotes headers, titles, labels and
    /// links the site chose, and every check result passes through here.
    pub fn result(&self, passed: bool, evidence: impl Into<String>) -> CheckResult {
        CheckResult {
            id: self.id.to_string(),
            category: self.category,
            severity: self.severity,
            passed,
            title: if passed { self.good } else { self.bad }.to_string(),
            evidence: text::evidence(&evidence.into()),
            why: self.why.to_string(),
            fix: self.fix.to_string(),
            measured_by: MeasuredBy::Http,
        }
    }
}

/// What the checks look at.
pub struct Inputs<'a> {
    pub fetch: &'a SiteFetch,
    pub final_url: &'a Url,
    pub decoded: &'a Decoded,
    /// `None` when the page is not HTML: the HTML checks are left out.
    pub facts: Option<&'a PageFacts>,
    pub contacts: &'a Contacts,
    pub year: i16,
}

/// Runs every check that applies.
pub fn run_all(inputs: &Inputs<'_>) -> Vec<CheckResult> {
    let mut out = Vec::with_capacity(64);
    security::run(inputs, &mut out);
    performance::run(inputs, &mut out);
    seo::run(inputs, &mut out);
    if let Some(facts) = inputs.facts {
        mobile::run(inputs, facts, &mut out);
        accessibility::run(facts, &mut out);
        content::run(inputs, facts, &mut out);
    }
    out
}

/// Every check id, for documentation and tests.
pub fn catalogue() -> Vec<&'static Check> {
    let mut all = Vec::new();
    all.extend(security::CHECKS);
    all.extend(performance::CHECKS);
    all.extend(seo::CHECKS);
    all.extend(mobile::CHECKS);
    all.extend(accessibility::CHECKS);
    all.extend(content::CHECKS);
    all
}

pub use seo::{looks_like_html, not_html_evidence};

/// "3 of 12" style counts.
fn of(part: usize, whole: usize) -> String {
    format!("{part} of {whole}")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A short list for evidence: the first few, then "and N more".
fn some(items: &[String], show: usize) -> String {
    let mut text = items
        .iter()
        .take(show)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > show {
        text.push_str(&format!(" and {} more", items.len() - show));
    }
    text
}
