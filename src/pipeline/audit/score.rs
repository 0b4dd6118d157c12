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
//! - And accessibility, once the browser judged the rendered page: then it
//!   is weighed as Lighthouse weighs its accessibility category (see
//!   [`LIGHTHOUSE_A11Y`]), so it tracks the score an owner sees there.
//! - The overall score is the weighted mean of the category scores:
//!   performance 25%, SEO 25%, mobile 15%, security 15%, accessibility 10%,
//!   content & contact 10% (re-normalised over the categories present).

use std::collections::BTreeMap;

use crate::domain::audit::{Category, CheckResult, MeasuredBy, Scores, Severity};
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

/// The checks that judge what one of Lighthouse 12.8.2's weighted
/// accessibility audits judges, with that audit's weight. The placeholder
/// advice has none: axe passes such a field. Small tap targets are left
/// out: leadscout asks for 48 px, Lighthouse's `target-size` for 24 px.
pub const LIGHTHOUSE_A11Y: &[(&str, u32)] = &[
    ("accessibility.lang", 7),         // html-has-lang
    ("accessibility.image_alt", 10),   // image-alt
    ("accessibility.empty_links", 7),  // link-name
    ("accessibility.button_name", 10), // button-name
    ("accessibility.form_labels", 7),  // label
    ("accessibility.contrast", 7),     // color-contrast
    ("seo.heading_order", 3),          // heading-order
    ("mobile.zoom", 10),               // meta-viewport
    ("seo.title.present", 7),          // document-title
];

/// The weight of the audits Lighthouse finds applicable on almost every
/// page and that leadscout does not judge (valid `lang`, target size,
/// lists, …), counted as passed. Fitted on the side-by-side corpus
/// (BENCHMARKS.md), where Lighthouse's applicable weight ran 62–156.
const LIGHTHOUSE_A11Y_UNJUDGED: u32 = 25;

/// Accessibility as Lighthouse weighs it: the failed weight over the
/// applicable weight, 0–100; `None` unless the browser judged the page.
fn lighthouse_accessibility(checks: &[CheckResult]) -> Option<u8> {
    let rendered = checks
        .iter()
        .any(|c| c.category == Category::Accessibility && c.measured_by == MeasuredBy::Browser);
    if !rendered {
        return None;
    }
    let (mut failed, mut applicable) = (0, LIGHTHOUSE_A11Y_UNJUDGED);
    for (id, weight) in LIGHTHOUSE_A11Y {
        if let Some(c) = checks.iter().find(|c| c.id == *id) {
            applicable += weight;
            if !c.passed {
                failed += weight;
            }
        }
    }
    Some((100.0 * (1.0 - f64::from(failed) / f64::from(applicable))).round() as u8)
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
    if let Some(a11y) = lighthouse_accessibility(checks) {
        categories.insert(Category::Accessibility, a11y);
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

    #[test]
    fn rendered_accessibility_is_weighed_as_lighthouse_weighs_it() {
        let judged = |id: &str, category, passed, by| CheckResult {
            id: id.into(),
            measured_by: by,
            ..check(category, Severity::High, passed)
        };
        let a = Category::Accessibility;
        let page = |by| {
            vec![
                judged("accessibility.lang", a, false, by),
                judged("accessibility.image_alt", a, false, by),
                judged("accessibility.contrast", a, true, by),
                judged("accessibility.placeholder_only", a, false, by),
                judged("seo.title.present", Category::Seo, true, by),
            ]
        };
        // 17 of 7 + 10 + 7 + 7 + 25 failed (the placeholder advice weighs nothing).
        let rendered = scores(&page(MeasuredBy::Browser));
        assert_eq!(rendered.categories[&a], 70);
        // From the HTML only: the share of severity weight, as before.
        let html = scores(&page(MeasuredBy::Http));
        assert_eq!(html.categories[&a], 25);
    }
}
