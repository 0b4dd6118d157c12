//! Whether everyone can use the page: language, image descriptions, link
//! texts, form labels, as far as the raw HTML tells. This is the fallback:
//! when the browser stage runs, its verdicts on the rendered page (with
//! axe-core's semantics, `pipeline::browser::a11y`) replace those of
//! [`LANG`], [`ALT`], [`EMPTY_LINKS`] and [`LABELS`], which therefore say
//! that they were judged from the HTML only.

use super::{Check, of, some};
use crate::domain::audit::{Category::Accessibility, CheckResult, Severity::*};
use crate::pipeline::audit::facts::PageFacts;

pub const LANG: Check = Check {
    id: "accessibility.lang",
    category: Accessibility,
    severity: Medium,
    good: "The page declares its language",
    bad: "The page does not declare its language",
    why: "Screen readers pronounce the text in the wrong language, and translation prompts misfire.",
    fix: "Add the language to the html tag: <html lang=\"de\">.",
};
pub const ALT: Check = Check {
    id: "accessibility.image_alt",
    category: Accessibility,
    severity: Medium,
    good: "Images are described (alt text)",
    bad: "Images without a description (alt text)",
    why: "Blind visitors hear nothing for these images, and search engines cannot tell what they show.",
    fix: "Give every meaningful image an alt text; use alt=\"\" for purely decorative ones.",
};
pub const LINK_TEXT: Check = Check {
    id: "accessibility.link_text",
    category: Accessibility,
    severity: Low,
    good: "Links say where they lead",
    bad: "Links with vague text (\"click here\")",
    why: "\"Click here\" tells screen-reader users and search engines nothing about the target.",
    fix: "Use link texts that name the destination, such as \"See our opening hours\".",
};
pub const EMPTY_LINKS: Check = Check {
    id: "accessibility.empty_links",
    category: Accessibility,
    severity: Medium,
    good: "Every link has a name",
    bad: "Links without any text",
    why: "Screen readers announce these links as just \"link\"; nobody knows where they go.",
    fix: "Give icon-only links an aria-label or an image with alt text.",
};
pub const LABELS: Check = Check {
    id: "accessibility.form_labels",
    category: Accessibility,
    severity: Medium,
    good: "Form fields are labelled",
    bad: "Form fields without labels",
    why: "Without labels, screen-reader users do not know what to type, and fewer forms get sent.",
    fix: "Give every field a <label for=\"...\"> or an aria-label.",
};

pub const CHECKS: &[&Check] = &[&LANG, &ALT, &LINK_TEXT, &EMPTY_LINKS, &LABELS];

const VAGUE: &[&str] = &[
    "click here",
    "here",
    "read more",
    "more",
    "learn more",
    "link",
    "this",
    "hier",
    "hier klicken",
    "mehr",
    "weiterlesen",
    "mehr erfahren",
    "cliquez ici",
    "ici",
];

/// Said by the verdicts that the rendered page may overturn.
const HTML_ONLY: &str = " (judged from the HTML only)";

fn html_only(evidence: String) -> String {
    evidence + HTML_ONLY
}

pub fn run(facts: &PageFacts, out: &mut Vec<CheckResult>) {
    out.push(LANG.result(
        facts.lang.is_some(),
        html_only(facts.lang.as_ref().map_or_else(
            || "no lang attribute on <html>".to_string(),
            |l| format!("lang=\"{l}\""),
        )),
    ));
    if !facts.images.is_empty() {
        let missing = facts.images.iter().filter(|i| i.alt.is_none()).count();
        let total = facts.images.len();
        // A few stray images out of many is common; most must be described.
        out.push(ALT.result(
            missing * 10 <= total,
            html_only(format!(
                "{} images have no alt attribute",
                of(missing, total)
            )),
        ));
    }
    let vague: Vec<String> = facts
        .links
        .iter()
        .filter(|l| {
            VAGUE.contains(
                &l.text
                    .trim()
                    .trim_end_matches(['.', '…', '>', '»'])
                    .trim()
                    .to_lowercase()
                    .as_str(),
            )
        })
        .map(|l| format!("\"{}\"", l.text))
        .collect();
    if !facts.links.is_empty() {
        out.push(LINK_TEXT.result(
            vague.is_empty(),
            if vague.is_empty() {
                "no vague link texts".to_string()
            } else {
                format!(
                    "{} vague: {}",
                    of(vague.len(), facts.links.len()),
                    some(&vague, 3)
                )
            },
        ));
        let empty = facts
            .links
            .iter()
            .filter(|l| l.text.is_empty() && l.label.is_none())
            .count();
        out.push(EMPTY_LINKS.result(
            empty == 0,
            html_only(format!(
                "{} links have no text or label",
                of(empty, facts.links.len())
            )),
        ));
    }
    if !facts.inputs.is_empty() {
        let unlabelled: Vec<String> = facts
            .inputs
            .iter()
            .filter(|i| !i.labelled)
            .map(|i| {
                if i.name.is_empty() {
                    i.kind.clone()
                } else {
                    i.name.clone()
                }
            })
            .collect();
        out.push(LABELS.result(
            unlabelled.is_empty(),
            html_only(if unlabelled.is_empty() {
                format!("all {} fields are labelled", facts.inputs.len())
            } else {
                format!(
                    "{} fields unlabelled: {}",
                    of(unlabelled.len(), facts.inputs.len()),
                    some(&unlabelled, 3)
                )
            }),
        ));
    }
}
