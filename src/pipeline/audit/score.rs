//! How checks become scores. This is the one place the weights live.
//!
//! - A check counts by its severity: critical 10, high 6, medium 3, low 1.
//! - A category's score is the share of its checks' weight that passed,
//!   0–100. Categories with no applicable checks are left out.
//! - Except speed: when the audit's metrics carry a mobile estimate (the
//!   browser stage ran and could estimate), the performance category is the
//!   estimate's Lighthouse-style performance score, so it means what
//!   PageSpeed Insights' mobile score means. Without one (HTTP-only audit,
//!   no browser) it stays the share of passed performance checks.
//! - The overall score is the weighted mean of the category scores:
//!   performance 25%, SEO 25%, mobile 15%, security 15%, accessibility 10%,
//!   content & contact 10% (re-normalised over the categories present).

use std::collections::BTreeMap;

use crate::domain::audit::{Category, CheckResult, Scores, Severity};
use crate::domain::metrics::AuditMetrics;

pub fn severity_weight(severity: Severity) -> u32 {
    match severity {
        Severity::Critical => 10,
        Severity::High => 6,
        Severity::Medium => 3,
        Severity::Low => 1,
    }
}

pub fn category_weight(category: Category) -> u32 {
    match category {
        Category::Performance => 25,
        Category::Seo => 25,
        Category::Mobile => 15,
        Category::Security => 15,
        Category::Accessibility => 10,
        Category::Content => 10,
    }
}

/// Scores from the checks alone (no mobile estimate to use).
pub fn scores(checks: &[CheckResult]) -> Scores {
    scores_with(checks, None)
}

/// Scores from the checks and, when `metrics` holds a mobile estimate, with
/// the speed category set to the estimate's performance score. Every place
/// that scores an audit after the browser stage calls this.
pub fn scores_with(checks: &[CheckResult], metrics: Option<&AuditMetrics>) -> Scores {
    let mut totals: BTreeMap<Category, (u32, u32)> = BTreeMap::new();
    for check in checks {
        let weight = severity_weight(check.severity);
        let entry = totals.entry(check.category).or_default();
        entry.1 += weight;
        if check.passed {
            entry.0 += weight;
        }
    }
    let mut categories: BTreeMap<Category, u8> = totals
        .iter()
        .filter(|(_, (_, total))| *total > 0)
        .map(|(category, (passed, total))| {
            (
                *category,
                ((*passed as f64 / *total as f64) * 100.0).round() as u8,
            )
        })
        .collect();
    if let Some(estimate) = metrics.and_then(|m| m.mobile_estimate.as_ref()) {
        categories.insert(Category::Performance, estimate.performance.min(100));
    }
    let weight_sum: u32 = categories.keys().map(|c| category_weight(*c)).sum();
    let overall = if weight_sum == 0 {
        0
    } else {
        let weighted: f64 = categories
            .iter()
            .map(|(c, s)| f64::from(*s) * f64::from(category_weight(*c)))
            .sum();
        (weighted / f64::from(weight_sum)).round() as u8
    };
    Scores {
        overall,
        categories,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::MeasuredBy;

    fn check(category: Category, severity: Severity, passed: bool) -> CheckResult {
        CheckResult {
            id: String::new(),
            category,
            severity,
            passed,
            title: String::new(),
            evidence: String::new(),
            why: String::new(),
            fix: String::new(),
            measured_by: MeasuredBy::Http,
        }
    }

    #[test]
    fn weights_are_applied() {
        let s = scores(&[
            check(Category::Seo, Severity::Critical, true),
            check(Category::Seo, Severity::Low, false),
            check(Category::Security, Severity::High, false),
        ]);
        assert_eq!(s.categories[&Category::Seo], 91); // 10 of 11
        assert_eq!(s.categories[&Category::Security], 0);
        assert_eq!(s.overall, 57); // (91*25 + 0*15) / 40
        assert_eq!(scores(&[]).overall, 0);
    }

    #[test]
    fn the_mobile_estimate_is_the_speed_score() {
        use crate::domain::metrics::{EstimateConditions, EstimatedFigure, MobileEstimate, Unit};
        let checks = [
            check(Category::Performance, Severity::High, true),
            check(Category::Seo, Severity::High, true),
        ];
        let figure = EstimatedFigure {
            value: 7000.0,
            unit: Unit::Ms,
            estimated: true,
            score: 0.1,
        };
        let metrics = AuditMetrics {
            mobile_estimate: Some(MobileEstimate {
                fcp: figure,
                lcp: figure,
                tbt: figure,
                speed_index: figure,
                cls: figure,
                performance: 50,
                lighthouse_version: "12.8.2".into(),
                conditions: EstimateConditions {
                    rtt_ms: 150.0,
                    throughput_kbps: 1638.4,
                    cpu_slowdown: 4.0,
                },
            }),
            ..AuditMetrics::default()
        };
        let s = scores_with(&checks, Some(&metrics));
        assert_eq!(s.categories[&Category::Performance], 50);
        assert_eq!(s.overall, 75); // (50*25 + 100*25) / 50
        // No estimate: the checks decide, as before.
        let http = AuditMetrics::from_http(100, 1000, 1000);
        assert_eq!(scores_with(&checks, Some(&http)), scores(&checks));
        assert_eq!(scores(&checks).categories[&Category::Performance], 100);
        // Speed scored even where no speed check applied.
        let seo_only = scores_with(&checks[1..], Some(&metrics));
        assert_eq!(seo_only.categories[&Category::Performance], 50);
    }
}
