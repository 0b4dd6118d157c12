//! The evidence gate: a rewritten email may only state what the audit
//! found. Every number in it must appear in the audit's evidence, scores,
//! timings or `metrics` (as those figures are shown: seconds with one
//! decimal, megabytes, counts, the estimate's scores and conditions), or in
//! the template draft it rewrote (which holds the sender's address and the
//! links), and every kind of problem it names must be one the audit has a
//! finding for. Anything else rejects the rewrite.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::domain::audit::{Audit, Category};
use crate::domain::metrics::{AuditMetrics, Figure, Unit, megabytes, seconds};
use crate::domain::text;

static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d+(?:[.,]\d+)*").unwrap_or_else(|e| panic!("number pattern: {e}"))
});

/// Links (report and unsubscribe URLs with random tokens, link evidence
/// with ports): their digits are not figures an email may cite.
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:https?://|www\.)\S+").unwrap_or_else(|e| panic!("url pattern: {e}"))
});

/// Number words a model might use instead of digits.
const NUMBER_WORDS: &[(&str, &str)] = &[
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
    ("eleven", "11"),
    ("twelve", "12"),
    ("twenty", "20"),
    ("thirty", "30"),
    ("forty", "40"),
    ("fifty", "50"),
    ("hundred", "100"),
    ("percent", "%"),
];

/// Words that claim a kind of problem, by the category that must have a
/// finding for the claim to stand.
const CLAIMS: &[(Category, &[&str])] = &[
    (
        Category::Security,
        &[
            "https",
            "ssl",
            "tls",
            "certificate",
            "not secure",
            "insecure",
            "hsts",
            "security",
        ],
    ),
    (
        Category::Performance,
        &[
            "slow",
            "load time",
            "loads in",
            "loading time",
            "page weight",
            "heavy",
            "speed",
        ],
    ),
    (
        Category::Mobile,
        &[
            "mobile",
            "phone",
            "smartphone",
            "responsive",
            "viewport",
            "tap target",
        ],
    ),
    (
        Category::Accessibility,
        &["accessib", "alt text", "screen reader", "contrast", "blind"],
    ),
    (
        Category::Seo,
        &[
            "google",
            "search engine",
            "seo",
            "ranking",
            "meta description",
            "title tag",
            "sitemap",
        ],
    ),
];

/// Normalises `2,40` / `2.40` / `007` to one spelling.
fn norm(number: &str) -> String {
    let mut n = number.replace(',', ".");
    if n.contains('.') {
        n = n.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    let trimmed = n.trim_start_matches('0');
    if trimmed.is_empty() || trimmed.starts_with('.') {
        format!("0{trimmed}")
    } else {
        trimmed.to_string()
    }
}

/// The figures a text states, each in one spelling (`2,40` = `2.4`), the
/// digits inside links left out.
pub fn figures_in(text: &str) -> BTreeSet<String> {
    NUMBER
        .find_iter(&URL.replace_all(text, " "))
        .map(|m| norm(m.as_str()))
        .collect()
}

/// Everything the audit lets an email say with a number in it.
fn allowed_numbers(audit: &Audit, template_draft: &str) -> BTreeSet<String> {
    let mut text = String::from(template_draft);
    text.push(' ');
    for check in &audit.checks {
        text.push_str(&check.evidence);
        text.push(' ');
    }
    let t = &audit.timings;
    for n in [t.dns_ms, t.connect_ms, t.ttfb_ms, t.total_ms] {
        text.push_str(&format!("{n} {:.1} ", n as f64 / 1000.0));
    }
    text.push_str(&format!("{} ", audit.scores.overall));
    for score in audit.scores.categories.values() {
        text.push_str(&format!("{score} "));
    }
    let failed = audit.checks.iter().filter(|c| !c.passed).count();
    let passed = audit.checks.len() - failed;
    text.push_str(&format!("{failed} {passed} {} 100 ", audit.checks.len()));
    text.push_str(&metrics_text(&audit.metrics));
    figures_in(&text)
}

/// A figure as the report, the checks and the draft show it.
fn shown(value: f64, unit: Unit) -> String {
    let faces = crate::domain::metrics::show(value, unit);
    match unit {
        Unit::Ms => format!("{} {value:.0} {faces} ", seconds(value)),
        Unit::Bytes => format!("{} {:.0} KB {faces} ", megabytes(value), value / 1e3),
        Unit::Count => format!("{value:.0} {faces} "),
        Unit::Unitless => format!("{value:.2} {faces} "),
    }
}

/// The audit's measured and estimated figures, each the way it is shown
/// (not the raw values: "7.0 s" may be cited, "7012.4" is never shown).
fn metrics_text(m: &AuditMetrics) -> String {
    let mut text = String::new();
    let figures = [
        m.ttfb,
        m.fcp,
        m.lcp,
        m.cls,
        m.tbt,
        m.longest_task,
        m.long_tasks,
        m.dom_size,
        m.transfer_bytes,
        m.decoded_bytes,
        m.requests,
    ];
    for f in figures.iter().flatten() {
        let Figure { value, unit, .. } = *f;
        text.push_str(&shown(value, unit));
    }
    for count in m.requests_by_type.values() {
        text.push_str(&format!("{count} "));
    }
    if let Some(blocking) = &m.render_blocking {
        text.push_str(&format!("{} ", blocking.count));
    }
    for image in &m.largest_images {
        text.push_str(&shown(image.transfer_bytes as f64, Unit::Bytes));
        text.push_str(&shown(image.decoded_bytes as f64, Unit::Bytes));
    }
    if let Some(e) = &m.mobile_estimate {
        for f in [e.fcp, e.lcp, e.tbt, e.speed_index, e.cls] {
            text.push_str(&shown(f.value, f.unit));
            text.push_str(&format!("{:.0} ", f.score * 100.0));
        }
        let c = &e.conditions;
        text.push_str(&format!(
            "{} {} {} {:.0} {:.1} {} ",
            e.performance,
            e.lighthouse_version,
            e.device(),
            c.rtt_ms,
            c.throughput_kbps / 1000.0,
            c.cpu_slowdown
        ));
    }
    text
}

/// `Ok` when the rewrite only states what the audit supports and links
/// only to `allowed_hosts` (see [`crate::domain::text::foreign_links`]);
/// otherwise why not, naming the first foreign link, unsupported number or
/// claim.
pub fn check(
    rewrite: &str,
    audit: &Audit,
    template_draft: &str,
    allowed_hosts: &[String],
) -> Result<(), String> {
    // Links are checked before they are set aside as "not figures": a
    // prompt planted in a site could otherwise have the model add any link.
    if let Some(link) = text::foreign_links(rewrite, allowed_hosts).first() {
        return Err(format!(
            "it links to {}, which is not the lead's site, its report or the sender's",
            text::cap(link, 80)
        ));
    }
    let allowed = allowed_numbers(audit, template_draft);
    // Links the rewrite carries over (the report URL) are not claims.
    for number in figures_in(rewrite) {
        if !allowed.contains(&number) {
            return Err(format!(
                "it states the number {number}, which is not in the audit"
            ));
        }
    }
    let lower = rewrite.to_lowercase();
    let template_lower = template_draft.to_lowercase();
    for word in lower.split(|c: char| !c.is_alphabetic()) {
        if let Some((_, digits)) = NUMBER_WORDS.iter().find(|(w, _)| *w == word)
            && *digits != "%"
            && !allowed.contains(*digits)
        {
            return Err(format!(
                "it states \"{word}\" ({digits}), which is not in the audit"
            ));
        }
    }
    for (category, words) in CLAIMS {
        let found = audit
            .checks
            .iter()
            .any(|c| !c.passed && c.category == *category);
        if found {
            continue;
        }
        if let Some(word) = words
            .iter()
            .find(|w| lower.contains(**w) && !template_lower.contains(**w))
        {
            return Err(format!(
                "it claims a problem with {} (\"{word}\") the audit did not find",
                category.as_str()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::audit::{CheckResult, MeasuredBy, Scores, Severity, Timings};
    use crate::domain::{LeadId, Timestamp};

    pub(crate) fn audit() -> Audit {
        let check = |id: &str, category, passed, evidence: &str| CheckResult {
            id: id.into(),
            category,
            severity: Severity::High,
            passed,
            title: id.into(),
            evidence: evidence.into(),
            why: String::new(),
            fix: String::new(),
            measured_by: MeasuredBy::Http,
        };
        Audit {
            lead: LeadId::from_ulid(ulid::Ulid::nil()),
            created_at: Timestamp::UNIX_EPOCH,
            url: String::new(),
            final_url: String::new(),
            status: 200,
            timings: Timings {
                dns_ms: 3,
                connect_ms: 10,
                ttfb_ms: 850,
                total_ms: 2400,
            },
            bytes_wire: 0,
            bytes_decoded: 0,
            http_version: String::new(),
            scores: Scores {
                overall: 62,
                categories: [(Category::Security, 45), (Category::Seo, 90)]
                    .into_iter()
                    .collect(),
            },
            checks: vec![
                check(
                    "security.https",
                    Category::Security,
                    false,
                    "the site ends on http://x.example/",
                ),
                check(
                    "accessibility.images_alt",
                    Category::Accessibility,
                    false,
                    "7 of 12 images have no alt text",
                ),
                check("mobile.viewport", Category::Mobile, true, ""),
            ],
            contacts: Default::default(),
            screenshots: Default::default(),
            metrics: Default::default(),
            page: Default::default(),
        }
    }

    fn hosts() -> Vec<String> {
        vec!["r.example".into(), "x.example".into()]
    }

    #[test]
    fn a_rewrite_may_not_add_a_foreign_link() {
        let err = check(
            "Your site scores 62. Pay here: https://evil.example/pay",
            &audit(),
            TEMPLATE,
            &hosts(),
        )
        .unwrap_err();
        assert!(err.contains("evil.example"), "{err}");
        assert!(
            check(
                "Details: https://r.example/r/abc",
                &audit(),
                TEMPLATE,
                &hosts()
            )
            .is_ok()
        );
    }

    const TEMPLATE: &str = "Hi, your site scores 62/100. Jane, Hauptstr. 1, 10115 Berlin";

    #[test]
    fn numbers_from_the_audit_pass() {
        let ok = "Your site scores 62 out of 100: 7 of 12 images lack alt text, the first byte takes 850 ms and the page 2.4 seconds. It is not served over HTTPS.";
        assert_eq!(check(ok, &audit(), TEMPLATE, &hosts()), Ok(()));
    }

    #[test]
    fn invented_figures_are_rejected() {
        let err = check(
            "Your site loses 40% of visitors and scores 62.",
            &audit(),
            TEMPLATE,
            &hosts(),
        )
        .unwrap_err();
        assert!(err.contains("40") || err.contains("number"), "{err}");
        let err = check(
            "Fixing this could bring you 35 more customers a month.",
            &audit(),
            TEMPLATE,
            &hosts(),
        )
        .unwrap_err();
        assert!(err.contains("35"), "{err}");
        let err = check("We found eleven problems.", &audit(), TEMPLATE, &hosts()).unwrap_err();
        // Digits inside the template's links (random report tokens) are
        // not figures the rewrite may use.
        let linked = format!("{TEMPLATE} https://r.example/r/cb4253a6ef40a03f");
        let err40 = check(
            "Sites like yours lose 40% of visitors.",
            &audit(),
            &linked,
            &hosts(),
        )
        .unwrap_err();
        assert!(err40.contains("40"), "{err40}");
        assert!(
            check(
                "Your site scores 62 out of 100; details: https://r.example/r/cb4253a6ef40a03f",
                &audit(),
                &linked,
                &hosts()
            )
            .is_ok(),
            "a link in the rewrite is not a figure"
        );
        assert!(err.contains("eleven"), "{err}");
    }

    #[test]
    fn claims_without_a_finding_are_rejected() {
        let err = check(
            "Your site is not mobile friendly.",
            &audit(),
            TEMPLATE,
            &hosts(),
        )
        .unwrap_err();
        assert!(err.contains("problem with mobile"), "{err}");
        let err = check("Your site is painfully slow.", &audit(), TEMPLATE, &hosts()).unwrap_err();
        assert!(err.contains("problem with performance"), "{err}");
    }

    /// The audit with a browser's metrics: LCP 0.9 s measured unthrottled,
    /// and a mobile estimate of FCP 4.1 s, LCP 7.0 s, TBT 850 ms, score 41.
    fn with_estimate() -> Audit {
        use crate::domain::metrics::{EstimateConditions, EstimatedFigure, MobileEstimate};
        let est = |value, unit, score| EstimatedFigure {
            value,
            unit,
            estimated: true,
            score,
        };
        let mut audit = audit();
        audit.metrics.lcp = Some(Figure::measured(912.0, Unit::Ms));
        audit.metrics.mobile_estimate = Some(MobileEstimate {
            fcp: est(4120.0, Unit::Ms, 0.21),
            lcp: est(7012.4, Unit::Ms, 0.03),
            tbt: est(850.2, Unit::Ms, 0.15),
            speed_index: est(5210.0, Unit::Ms, 0.6),
            cls: est(0.02, Unit::Unitless, 1.0),
            performance: 41,
            lighthouse_version: "12.8.2".into(),
            conditions: EstimateConditions {
                rtt_ms: 150.0,
                throughput_kbps: 1638.4,
                cpu_slowdown: 4.0,
            },
        });
        audit
    }

    /// The default template's speed line, as rendered for [`with_estimate`].
    const SPEED_TEMPLATE: &str = "Hi, your site scores 62/100. On a mid-range phone on slow 4G its main content appears after about 7.0 s, and its speed scores 41/100 (estimated as Lighthouse 12.8.2 measures mobile).";

    #[test]
    fn figures_of_the_mobile_estimate_may_be_quoted() {
        let rewrite = "On a mid-range phone your main content shows after about 7.0 s (the first text after 4.1 s, 0.9 s on a fast connection), and scripts block taps for 850 ms.";
        assert_eq!(
            check(rewrite, &with_estimate(), SPEED_TEMPLATE, &hosts()),
            Ok(())
        );
        // The same figures without the metrics behind them are made up.
        let err = check(rewrite, &audit(), SPEED_TEMPLATE, &hosts()).unwrap_err();
        assert!(err.contains("number 0.9"), "{err}");
    }

    #[test]
    fn a_made_up_speed_figure_is_rejected() {
        let err = check(
            "On a mid-range phone your main content shows after about 9.5 s.",
            &with_estimate(),
            SPEED_TEMPLATE,
            &hosts(),
        )
        .unwrap_err();
        assert!(err.contains("9.5"), "{err}");
        // Raw values are not how figures are shown: 7012.4 ms is "7.0 s"
        // (or "7012 ms").
        let err = check(
            "Your main content takes 7012.4 ms on a phone.",
            &with_estimate(),
            SPEED_TEMPLATE,
            &hosts(),
        )
        .unwrap_err();
        assert!(err.contains("7012.4"), "{err}");
    }

    #[test]
    fn number_spellings_are_normalised() {
        assert_eq!(norm("2.40"), "2.4");
        assert_eq!(norm("2,4"), "2.4");
        assert_eq!(norm("007"), "7");
        assert_eq!(norm("0"), "0");
        assert_eq!(norm("10.0"), "10");
    }
}
