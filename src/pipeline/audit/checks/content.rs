//! Can a customer get in touch, and does the site look looked-after:
//! email, phone, contact form, address, social profiles, a current
//! copyright year, enough text to say what the business does.

use std::sync::LazyLock;

use regex::Regex;

use super::{Check, Inputs, plural};
use crate::domain::audit::{Category::Content, CheckResult, Severity::*};
use crate::pipeline::audit::facts::PageFacts;

pub const EMAIL: Check = Check {
    id: "content.email",
    category: Content,
    severity: High,
    good: "An email address is on the page",
    bad: "No email address on the page",
    why: "Customers who prefer writing have no way to reach the business.",
    fix: "Show an email address (as a mailto: link) on the home page or in the footer.",
};
pub const PHONE: Check = Check {
    id: "content.phone",
    category: Content,
    severity: High,
    good: "A phone number is on the page",
    bad: "No phone number on the page",
    why: "For local businesses the phone is the most common first contact.",
    fix: "Show the phone number prominently, linked with tel:.",
};
pub const FORM: Check = Check {
    id: "content.contact_form",
    category: Content,
    severity: Medium,
    good: "Visitors can get in touch through the page",
    bad: "No contact form or contact page link",
    why: "A form lets visitors ask outside opening hours; without one, many simply leave.",
    fix: "Add a short contact form, or at least a clear link to a contact page.",
};
pub const ADDRESS: Check = Check {
    id: "content.address",
    category: Content,
    severity: Medium,
    good: "The postal address is on the page",
    bad: "No postal address found",
    why: "Local customers need to know where to go, and search engines use the address for local results.",
    fix: "Show the full address in the footer, in an <address> element or structured data.",
};
pub const SOCIAL: Check = Check {
    id: "content.social",
    category: Content,
    severity: Low,
    good: "Social profiles are linked",
    bad: "No social profiles linked",
    why: "Visitors look for recent posts and reviews to judge whether the business is active.",
    fix: "Link the business's Instagram, Facebook or LinkedIn profile.",
};
pub const COPYRIGHT: Check = Check {
    id: "content.copyright_year",
    category: Content,
    severity: Low,
    good: "The copyright year is current",
    bad: "The copyright year is out of date",
    why: "An old year in the footer makes the site look abandoned.",
    fix: "Update the footer year, or have the site fill it in automatically.",
};
pub const WORDS: Check = Check {
    id: "content.word_count",
    category: Content,
    severity: Low,
    good: "The page has enough text",
    bad: "Very little text on the page",
    why: "A few words cannot explain the offer, and search engines have nothing to rank.",
    fix: "Describe services, area and what makes the business different in a few paragraphs.",
};

pub const CHECKS: &[&Check] = &[&EMAIL, &PHONE, &FORM, &ADDRESS, &SOCIAL, &COPYRIGHT, &WORDS];

static COPYRIGHT_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:©|&copy;|\(c\)|copyright)\s*(?:\d{4}\s*[-–]\s*)?((?:19|20)\d{2})")
        .unwrap_or_else(|e| panic!("copyright pattern: {e}"))
});

const CONTACT_WORDS: &[&str] = &[
    "contact",
    "kontakt",
    "get in touch",
    "anfrage",
    "impressum",
    "contatti",
    "contacto",
];

pub fn run(i: &Inputs<'_>, facts: &PageFacts, out: &mut Vec<CheckResult>) {
    let c = i.contacts;
    out.push(EMAIL.result(
        !c.emails.is_empty(),
        match c.emails.first() {
            Some(e) => format!("{} (from {})", e.value, e.source),
            None => "no email address in links, text or structured data".into(),
        },
    ));
    out.push(PHONE.result(
        !c.phones.is_empty(),
        match c.phones.first() {
            Some(p) => format!("{} (from {})", p.value, p.source),
            None => "no phone number in links, text or structured data".into(),
        },
    ));
    let contact_link = facts.links.iter().find(|l| {
        let text = l.text.to_lowercase();
        let href = l.href.to_lowercase();
        CONTACT_WORDS
            .iter()
            .any(|w| text.contains(w) || href.contains(w))
    });
    out.push(FORM.result(
        c.contact_form || contact_link.is_some(),
        match (c.contact_form, contact_link) {
            (true, _) => "a contact form is on the page".to_string(),
            (false, Some(l)) => format!(
                "link to \"{}\"",
                if l.text.is_empty() { &l.href } else { &l.text }
            ),
            (false, None) => {
                "no form with an email or message field, and no contact link".to_string()
            }
        },
    ));
    out.push(ADDRESS.result(
        c.address.is_some(),
        c.address.clone().map_or_else(
            || "no <address>, structured address or street address markup".into(),
            |a| format!("address: {a}"),
        ),
    ));
    out.push(SOCIAL.result(
        !c.socials.is_empty(),
        if c.socials.is_empty() {
            "no links to social profiles".to_string()
        } else {
            c.socials
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        },
    ));
    let latest = COPYRIGHT_YEAR
        .captures_iter(&facts.text)
        .filter_map(|c| c.get(1)?.as_str().parse::<i16>().ok())
        .max();
    if let Some(year) = latest {
        out.push(COPYRIGHT.result(year >= i.year - 1, format!("© {year} (it is {})", i.year)));
    }
    let words = facts
        .text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count();
    out.push(WORDS.result(
        words >= 150,
        format!(
            "{} of visible text (aim: 150 or more)",
            plural(words, "word", "words")
        ),
    ));
}
