//! Checks measured by a real browser: paint and layout-shift timings,
//! page weight, script errors, and how the page fits a phone. Same shape as
//! the HTTP checks, marked as measured by the browser. Accessibility
//! checks come from [`super::a11y`].
//!
//! Speed is judged the way a Lighthouse mobile run judges it: when the
//! audit's metrics carry a mobile estimate, FCP, LCP and total blocking
//! time pass when their Lighthouse metric score is 0.9 or more (FCP ≤ 1.8 s,
//! LCP ≤ 2.5 s, TBT ≤ 200 ms on its mobile curves) and CLS when the observed
//! shift is 0.1 or less; the evidence gives the estimate with its label and
//! the unthrottled figure "measured here" beside it. Without an estimate
//! (no trace) the unthrottled figures are judged, and the evidence says so.
use super::{BrowserCapture, PageMetrics};
use crate::domain::audit::{Category, CheckResult, MeasuredBy, Severity};
use crate::domain::metrics::{AuditMetrics, EstimatedFigure, MobileEstimate, seconds};
use crate::pipeline::audit::checks::Check;

pub const FCP: Check = Check {
    id: "performance.browser.fcp",
    category: Category::Performance,
    severity: Severity::High,
    good: "Something appears quickly",
    bad: "The screen stays blank for long",
    why: "Until the first text or image appears, visitors stare at a white screen and many leave.",
    fix: "Cut render-blocking scripts and styles, and speed up the server response.",
};
pub const LCP: Check = Check {
    id: "performance.browser.lcp",
    category: Category::Performance,
    severity: Severity::High,
    good: "The main content shows quickly",
    bad: "The main content shows late",
    why: "Largest Contentful Paint is when the page looks ready; Google uses it for ranking.",
    fix: "Compress and properly size the hero image, preload it, and remove blocking scripts.",
};
pub const CLS: Check = Check {
    id: "performance.browser.cls",
    category: Category::Performance,
    severity: Severity::Medium,
    good: "The layout stays put while loading",
    bad: "The layout jumps while loading",
    why: "Content that moves makes visitors lose their place or tap the wrong button; Google counts it.",
    fix: "Reserve space for images, ads and banners (width/height or aspect-ratio).",
};
pub const TBT: Check = Check {
    id: "performance.browser.tbt",
    category: Category::Performance,
    severity: Severity::Medium,
    good: "The page responds to taps while loading",
    bad: "The page is frozen by scripts while loading",
    why: "While scripts hog a phone's processor, taps and scrolls go unanswered and the page feels broken.",
    fix: "Defer or remove heavy scripts (sliders, trackers, chat widgets) and split long tasks.",
};
pub const LOAD: Check = Check {
    id: "performance.browser.load",
    category: Category::Performance,
    severity: Severity::Medium,
    good: "The page finishes loading quickly",
    bad: "The page takes long to finish loading",
    why: "Until the page has loaded, buttons and menus may not work yet.",
    fix: "Load fewer and lighter resources; defer what is not needed at first.",
};
pub const WEIGHT: Check = Check {
    id: "performance.browser.weight",
    category: Category::Performance,
    severity: Severity::Medium,
    good: "The page is light",
    bad: "The page is heavy",
    why: "Every megabyte costs visitors time and mobile data.",
    fix: "Compress images (WebP/AVIF), remove unused scripts, fonts and plugins.",
};
pub const REQUESTS: Check = Check {
    id: "performance.browser.requests",
    category: Category::Performance,
    severity: Severity::Low,
    good: "A moderate number of requests",
    bad: "Very many requests",
    why: "Each request adds waiting, especially on mobile networks.",
    fix: "Combine files, drop unused third-party widgets and trackers.",
};
pub const CONSOLE: Check = Check {
    id: "content.browser.script_errors",
    category: Category::Content,
    severity: Severity::Medium,
    good: "No script errors",
    bad: "The page has script errors",
    why: "Script errors often break menus, forms or sliders for some visitors without anyone noticing.",
    fix: "Open the browser console on the page and fix or remove the failing scripts.",
};
pub const OVERFLOW: Check = Check {
    id: "mobile.browser.overflow",
    category: Category::Mobile,
    severity: Severity::High,
    good: "The page fits the phone screen",
    bad: "The page is wider than the phone screen",
    why: "Visitors must scroll sideways to read, which feels broken on a phone.",
    fix: "Make wide elements responsive (max-width: 100%) and avoid fixed widths.",
};
pub const TAP_TARGETS: Check = Check {
    id: "mobile.browser.tap_targets",
    category: Category::Mobile,
    severity: Severity::Medium,
    good: "Buttons and links are easy to tap",
    bad: "Buttons and links are too small to tap",
    why: "Small targets make people hit the wrong link with their thumb.",
    fix: "Make links and buttons at least 48×48 px, or add padding around them.",
};
pub const FONT_SIZE: Check = Check {
    id: "mobile.browser.font_size",
    category: Category::Mobile,
    severity: Severity::Medium,
    good: "Text is large enough to read on a phone",
    bad: "Text is too small to read on a phone",
    why: "Visitors have to zoom in to read small text, and many don't bother.",
    fix: "Use at least 16px for body text on mobile.",
};

pub const CHECKS: &[&Check] = &[
    &FCP,
    &LCP,
    &CLS,
    &TBT,
    &LOAD,
    &WEIGHT,
    &REQUESTS,
    &CONSOLE,
    &OVERFLOW,
    &TAP_TARGETS,
    &FONT_SIZE,
    &super::a11y::BUTTON_NAME,
    &super::a11y::PLACEHOLDER_ONLY,
    &super::a11y::CONTRAST,
];

fn browser(result: CheckResult) -> CheckResult {
    CheckResult {
        measured_by: MeasuredBy::Browser,
        ..result
    }
}

/// Lighthouse counts a metric as passed from a score of 0.9 (its "good").
const PASSING_SCORE: f64 = 0.9;

/// One estimated speed metric's verdict: judged by its Lighthouse score,
/// quoted with the estimate's label and the unthrottled figure beside it.
fn estimated(
    check: &Check,
    what: &str,
    figure: &EstimatedFigure,
    shown: impl Fn(f64) -> String,
    measured: Option<f64>,
    estimate: &MobileEstimate,
) -> CheckResult {
    let here = measured.map_or_else(String::new, |m| {
        format!("; {} measured here, unthrottled", shown(m))
    });
    browser(check.result(
        figure.score >= PASSING_SCORE,
        format!(
            "{what} about {} on {} ({}{here})",
            shown(figure.value),
            estimate.device(),
            estimate.basis()
        ),
    ))
}

fn millis(ms: f64) -> String {
    format!("{ms:.0} ms")
}

/// The browser checks of one capture, from its mobile and desktop metrics
/// and the audit's `metrics` (built from the same capture; its mobile
/// estimate, when there is one, decides the speed verdicts).
pub fn run(capture: &BrowserCapture, metrics: &AuditMetrics) -> Vec<CheckResult> {
    let mut out = Vec::new();
    // Timings as a phone sees them, since that is where they hurt.
    let m: &PageMetrics = &capture.mobile;
    if let Some(e) = &metrics.mobile_estimate {
        out.push(estimated(
            &FCP,
            "first content after",
            &e.fcp,
            seconds,
            m.fcp_ms,
            e,
        ));
        out.push(estimated(
            &LCP,
            "largest content after",
            &e.lcp,
            seconds,
            m.lcp_ms,
            e,
        ));
        let measured_tbt = metrics.tbt.map(|f| f.value);
        let tbt = estimated(
            &TBT,
            "scripts block taps for",
            &e.tbt,
            millis,
            measured_tbt,
            e,
        );
        out.push(tbt);
        // Layout shift is not simulated: Lighthouse's CLS is what it saw.
        out.push(browser(CLS.result(
            e.cls.value <= 0.1,
            format!(
                "layout shift score {:.2} on mobile, observed here (aim: 0.1 or less)",
                e.cls.value
            ),
        )));
    } else {
        measured_speed(m, &mut out);
    }
    if let Some(load) = m.load_ms {
        out.push(browser(LOAD.result(
            load <= 3000.0,
            format!(
                "loaded after {}, measured here, unthrottled (aim: under 3 s)",
                seconds(load)
            ),
        )));
    }
    let mb = capture.mobile.transfer_bytes as f64 / (1024.0 * 1024.0);
    out.push(browser(WEIGHT.result(
        mb <= 2.0,
        format!("{mb:.1} MB transferred (aim: under 2 MB)"),
    )));
    out.push(browser(REQUESTS.result(
        capture.mobile.requests <= 80,
        format!("{} requests (aim: 80 or fewer)", capture.mobile.requests),
    )));
    out.push(browser(CONSOLE.result(
        capture.console_errors.is_empty(),
        if capture.console_errors.is_empty() {
            "no errors in the browser console".to_string()
        } else {
            let first = capture.console_errors[0]
                .chars()
                .take(120)
                .collect::<String>();
            format!(
                "{} console error(s), first: {first}",
                capture.console_errors.len()
            )
        },
    )));
    out.push(browser(OVERFLOW.result(
        m.scroll_width <= m.viewport_width + 1,
        format!(
            "content is {} px wide on a {} px screen",
            m.scroll_width, m.viewport_width
        ),
    )));
    if m.tap_targets > 0 {
        let share = m.small_tap_targets as f64 / m.tap_targets as f64;
        out.push(browser(TAP_TARGETS.result(
            share <= 0.25,
            format!(
                "{} of {} links and buttons are smaller than 48×48 px",
                m.small_tap_targets, m.tap_targets
            ),
        )));
    }
    if m.text_elements > 0 {
        let share = m.small_text_elements as f64 / m.text_elements as f64;
        out.push(browser(FONT_SIZE.result(
            share <= 0.2,
            format!(
                "{:.0}% of text is smaller than 12 px on mobile",
                share * 100.0
            ),
        )));
    }
    if let Some(report) = &m.a11y {
        out.extend(super::a11y::checks(report));
    }
    out
}

/// Speed verdicts on the unthrottled phone load, when there is no estimate.
fn measured_speed(m: &PageMetrics, out: &mut Vec<CheckResult>) {
    if let Some(fcp) = m.fcp_ms {
        out.push(browser(FCP.result(
            fcp <= 1800.0,
            format!(
                "first content after {}, measured here, unthrottled (aim: under 1.8 s)",
                seconds(fcp)
            ),
        )));
    }
    if let Some(lcp) = m.lcp_ms {
        out.push(browser(LCP.result(
            lcp <= 2500.0,
            format!(
                "largest content after {}, measured here, unthrottled (aim: under 2.5 s)",
                seconds(lcp)
            ),
        )));
    }
    if let Some(cls) = m.cls {
        out.push(browser(CLS.result(
            cls <= 0.1,
            format!("layout shift score {cls:.2} on mobile, measured here (aim: 0.1 or less)"),
        )));
    }
}
