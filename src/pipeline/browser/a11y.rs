//! Accessibility judged in the rendered page, with axe-core's semantics
//! (axe-core 4.10, as in Lighthouse 12): what the in-page script
//! ([`super::scripts::A11Y_AUDIT`]) found, turned into checks, and how
//! those checks replace the HTML-only verdicts of the same rules.
//!
//! Done: link, button and field names, image alt, document language and
//! colour contrast, plus the lower-severity "labelled only by placeholder"
//! finding. Not done: the rest of axe's rules (heading order, ARIA
//! validity, list structure, frames), shadow DOM, and contrast behind
//! overlapping content (left without a verdict, as axe does).

use serde::{Deserialize, Serialize};

use crate::domain::audit::{Category, CheckResult, MeasuredBy, Severity};
use crate::pipeline::audit::checks::Check;
use crate::pipeline::audit::checks::accessibility::{ALT, EMPTY_LINKS, LABELS, LANG};

/// How many examples a finding's evidence names; the rest are counted.
const SHOWN: usize = 3;

/// One rule over the page: how many elements it judged, how many failed,
/// and the first failing ones (a selector path, with their text).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tally {
    pub checked: u32,
    pub failed: u32,
    pub examples: Vec<String>,
}

/// What the in-page accessibility script measured (field names as the
/// script returns them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct A11yReport {
    /// The `lang` (or `xml:lang`) of `<html>`, when not empty.
    pub lang: Option<String>,
    pub lang_valid: bool,
    /// axe `link-name`.
    pub link_name: Tally,
    /// axe `button-name` and `input-button-name`.
    pub button_name: Tally,
    /// axe `label` and `select-name`.
    pub label: Tally,
    /// Fields whose only name is their placeholder: axe passes them.
    pub placeholder_only: Tally,
    /// axe `image-alt`.
    pub image_alt: Tally,
    /// axe `color-contrast`, on the text it could judge.
    pub contrast: Tally,
    /// Text it could not judge (over images, gradients, positioned
    /// content): axe's "incomplete", no verdict.
    pub contrast_incomplete: Tally,
    /// Time the script took in the page.
    pub elapsed_ms: f64,
}

pub const BUTTON_NAME: Check = Check {
    id: "accessibility.button_name",
    category: Category::Accessibility,
    severity: Severity::Medium,
    good: "Every button has a name",
    bad: "Buttons without a name",
    why: "Screen readers announce these as just \"button\"; nobody knows what they do.",
    fix: "Give icon-only buttons an aria-label, or text that is hidden visually but not from screen readers.",
};
pub const PLACEHOLDER_ONLY: Check = Check {
    id: "accessibility.placeholder_only",
    category: Category::Accessibility,
    severity: Severity::Low,
    good: "Form fields keep a visible label",
    bad: "Form fields labelled only by placeholder text",
    why: "The placeholder disappears as soon as someone types, so people forget what the field was for; it is often too faint to read.",
    fix: "Add a visible <label> above each field and keep the placeholder for an example.",
};
pub const CONTRAST: Check = Check {
    id: "accessibility.contrast",
    category: Category::Accessibility,
    severity: Severity::Medium,
    good: "Text stands out from its background",
    bad: "Text too faint against its background",
    why: "Low-contrast text is hard to read for older visitors, on phones in sunlight, and for anyone with weak eyesight.",
    fix: "Darken the text or lighten the background to at least 4.5:1 (3:1 for large text).",
};

/// The checks only the browser makes (the others reuse the HTML checks'
/// ids, so audits compare across runs with and without a browser).
pub const CHECKS: &[&Check] = &[&BUTTON_NAME, &PLACEHOLDER_ONLY, &CONTRAST];

/// The HTML-only checks whose verdict the browser's replaces.
pub const SUPERSEDES: &[&str] = &[LANG.id, ALT.id, EMPTY_LINKS.id, LABELS.id];

fn browser(result: CheckResult) -> CheckResult {
    CheckResult {
        measured_by: MeasuredBy::Browser,
        ..result
    }
}

/// "2 of 9 links have no name: a, b and 1 more".
fn failing(tally: &Tally, what: &str, problem: &str) -> String {
    let mut text = format!("{} of {} {what} {problem}", tally.failed, tally.checked);
    if !tally.examples.is_empty() {
        let shown: Vec<&str> = tally
            .examples
            .iter()
            .take(SHOWN)
            .map(String::as_str)
            .collect();
        text.push_str(": ");
        text.push_str(&shown.join(", "));
        let more = tally.failed as usize - shown.len().min(tally.failed as usize);
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
    }
    text
}

fn rule(check: &Check, tally: &Tally, what: &str, problem: &str, fine: &str) -> CheckResult {
    let evidence = if tally.failed == 0 {
        format!("all {} {what} {fine}", tally.checked)
    } else {
        failing(tally, what, problem)
    };
    browser(check.result(tally.failed == 0, evidence))
}

/// The accessibility checks of one measured page.
pub fn checks(report: &A11yReport) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let lang = match &report.lang {
        None => LANG.result(false, "no lang attribute on <html>"),
        Some(lang) if !report.lang_valid => LANG.result(
            false,
            format!("lang=\"{lang}\" is not a valid language code"),
        ),
        Some(lang) => LANG.result(true, format!("lang=\"{lang}\"")),
    };
    out.push(browser(lang));
    let rules = [
        (
            &EMPTY_LINKS,
            &report.link_name,
            "visible links",
            "have no name",
            "have a name",
        ),
        (
            &BUTTON_NAME,
            &report.button_name,
            "visible buttons",
            "have no name",
            "have a name",
        ),
        (
            &LABELS,
            &report.label,
            "visible fields",
            "have no label",
            "are labelled",
        ),
        (
            &ALT,
            &report.image_alt,
            "visible images",
            "have no alt text",
            "have alt text or are marked decorative",
        ),
    ];
    for (check, tally, what, problem, fine) in rules {
        if tally.checked > 0 {
            out.push(rule(check, tally, what, problem, fine));
        }
    }
    if report.label.checked > 0 {
        out.push(rule(
            &PLACEHOLDER_ONLY,
            &report.placeholder_only,
            "visible fields",
            "are labelled only by their placeholder",
            "have a label besides any placeholder",
        ));
    }
    if report.contrast.checked > 0 {
        let mut result = rule(
            &CONTRAST,
            &report.contrast,
            "text elements",
            "are below WCAG AA contrast",
            "meet WCAG AA contrast",
        );
        let unjudged = report.contrast_incomplete.checked;
        if unjudged > 0 {
            let note = format!(
                "{}; {unjudged} over images, gradients or overlapping content not judged",
                result.evidence
            );
            result.evidence = crate::domain::text::evidence(&note);
        }
        out.push(result);
    }
    out
}

/// Puts a capture's checks into an audit's: the browser's checks of an
/// earlier capture go, and when the browser judged accessibility (its
/// language check is always there then), the HTML-only verdicts of the
/// same rules go too, even where the rendered page had nothing to judge
/// (a form that is never shown is not an unlabelled form).
pub fn merge(checks: &mut Vec<CheckResult>, measured: &[CheckResult]) {
    let judged = measured.iter().any(|c| c.id == LANG.id);
    checks.retain(|c| {
        c.measured_by != MeasuredBy::Browser && !(judged && SUPERSEDES.contains(&c.id.as_str()))
    });
    checks.extend(measured.iter().cloned());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(checked: u32, examples: &[&str]) -> Tally {
        Tally {
            checked,
            failed: examples.len() as u32,
            examples: examples.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn evidence_names_a_few_and_counts_the_rest() {
        let report = A11yReport {
            lang: Some("en".into()),
            lang_valid: true,
            link_name: tally(9, &["a#x", "nav > a.fb", "a.tw", "a.yt"]),
            label: tally(2, &[]),
            placeholder_only: tally(2, &["input#q \"Search\""]),
            ..Default::default()
        };
        let results = checks(&report);
        let find = |id: &str| results.iter().find(|c| c.id == id).unwrap();
        let links = find("accessibility.empty_links");
        assert!(!links.passed);
        assert_eq!(
            links.evidence,
            "4 of 9 visible links have no name: a#x, nav > a.fb, a.tw and 1 more"
        );
        assert!(find("accessibility.form_labels").passed);
        let placeholder = find("accessibility.placeholder_only");
        assert!(!placeholder.passed && placeholder.severity == Severity::Low);
        assert!(find("accessibility.lang").passed);
        assert!(results.iter().all(|c| c.measured_by == MeasuredBy::Browser));
        assert!(
            results.iter().all(|c| c.id != "accessibility.contrast"),
            "no verdict without judged text"
        );
    }

    #[test]
    fn browser_verdicts_replace_the_html_ones_of_the_same_rules() {
        let http = |id: &str| CheckResult {
            id: id.into(),
            category: Category::Accessibility,
            severity: Severity::Medium,
            passed: false,
            title: String::new(),
            evidence: String::new(),
            why: String::new(),
            fix: String::new(),
            measured_by: MeasuredBy::Http,
        };
        let before = vec![
            http("accessibility.form_labels"),
            http("accessibility.link_text"),
            http("accessibility.lang"),
        ];
        // A capture without accessibility results keeps the HTML verdicts.
        let mut kept = before.clone();
        merge(&mut kept, &[]);
        assert_eq!(kept, before);
        let report = A11yReport {
            lang: Some("de".into()),
            lang_valid: true,
            ..Default::default()
        };
        let mut merged = before.clone();
        merge(&mut merged, &checks(&report));
        let ids: Vec<(&str, MeasuredBy)> = merged
            .iter()
            .map(|c| (c.id.as_str(), c.measured_by))
            .collect();
        assert_eq!(
            ids,
            [
                ("accessibility.link_text", MeasuredBy::Http),
                ("accessibility.lang", MeasuredBy::Browser)
            ],
            "no fields on the rendered page: the HTML's unlabelled verdict goes"
        );
        // Merging again replaces, never duplicates.
        merge(&mut merged, &checks(&report));
        assert_eq!(merged.len(), 2);
    }
}
