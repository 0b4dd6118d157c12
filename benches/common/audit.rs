//! A generated audit for benches that fill a store directly: `checks`
//! checks, a third of them failed, and the given overall score.

use leadscout::domain::audit::{Audit, Category, CheckResult, MeasuredBy, Scores, Severity};
use leadscout::domain::{LeadId, Timestamp};

pub fn generated(lead: LeadId, n: usize, checks: usize, overall: u8) -> Audit {
    let checks = (0..checks)
        .map(|i| CheckResult {
            id: format!("bench.check{i}"),
            category: Category::Seo,
            severity: Severity::Medium,
            passed: !(i + n).is_multiple_of(3),
            title: format!("Problem number {i}"),
            evidence: format!("measured value {} for lead {n}", i * 7),
            why: "Why it matters, in one line for a business owner.".into(),
            fix: "How to fix it, in one line.".into(),
            measured_by: MeasuredBy::Http,
        })
        .collect();
    Audit {
        lead,
        created_at: Timestamp::now(),
        url: format!("https://www.biz{n}.example/"),
        final_url: format!("https://www.biz{n}.example/"),
        status: 200,
        timings: Default::default(),
        bytes_wire: 20_000,
        bytes_decoded: 80_000,
        http_version: "HTTP/1.1".into(),
        page: Default::default(),
        scores: Scores {
            overall,
            categories: [(Category::Seo, overall)].into_iter().collect(),
        },
        checks,
        contacts: Default::default(),
        screenshots: Default::default(),
        metrics: Default::default(),
    }
}
