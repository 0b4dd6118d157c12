//! What search engines see: the page answering at all, titles,
//! descriptions, headings, canonical and index rules, robots.txt, sitemap,
//! sharing previews, structured data, broken links, text encoding.

use super::{Check, Inputs, of, plural, some};
use crate::domain::audit::{Category::Seo, CheckResult, Severity::*};
use crate::pipeline::robots;

pub const STATUS: Check = Check {
    id: "seo.status",
    category: Seo,
    severity: Critical,
    good: "The page loads without an error",
    bad: "The page answers with an error",
    why: "Visitors and search engines see an error page instead of the business.",
    fix: "Fix the server error so the home page answers 200 OK.",
};
pub const HTML: Check = Check {
    id: "seo.html",
    category: Seo,
    severity: Critical,
    good: "The address serves a web page",
    bad: "The address does not serve a web page",
    why: "Browsers cannot show it as a page and search engines cannot index it.",
    fix: "Serve an HTML page at the address (text/html).",
};
pub const ENCODING: Check = Check {
    id: "seo.encoding",
    category: Seo,
    severity: Medium,
    good: "The text encoding is declared and correct",
    bad: "The text encoding is wrong or missing",
    why: "Accented letters and symbols show up as garbage (Ã¤ instead of ä) for some visitors.",
    fix: "Save pages as UTF-8 and declare it: <meta charset=\"utf-8\"> and charset=utf-8 in Content-Type.",
};
pub const TITLE: Check = Check {
    id: "seo.title.present",
    category: Seo,
    severity: High,
    good: "The page has a title",
    bad: "The page has no title",
    why: "The title is the blue headline in search results; without it, search engines invent one.",
    fix: "Add a <title> naming the business, what it does and where.",
};
pub const TITLE_LENGTH: Check = Check {
    id: "seo.title.length",
    category: Seo,
    severity: Low,
    good: "The title has a good length",
    bad: "The title is too short or too long",
    why: "Search results cut titles after about 60 characters; very short ones waste the space.",
    fix: "Write a title of 10–60 characters.",
};
pub const DESCRIPTION: Check = Check {
    id: "seo.meta_description.present",
    category: Seo,
    severity: Medium,
    good: "The page has a meta description",
    bad: "No meta description",
    why: "The description is the text under the title in search results; it decides whether people click.",
    fix: "Add <meta name=\"description\"> with one or two inviting sentences.",
};
pub const DESCRIPTION_LENGTH: Check = Check {
    id: "seo.meta_description.length",
    category: Seo,
    severity: Low,
    good: "The meta description has a good length",
    bad: "The meta description is too short or too long",
    why: "Search results show about 160 characters; too short looks empty, too long gets cut.",
    fix: "Write a description of 50–160 characters.",
};
pub const H1: Check = Check {
    id: "seo.h1",
    category: Seo,
    severity: Medium,
    good: "Exactly one main heading (h1)",
    bad: "Not exactly one main heading (h1)",
    why: "The main heading tells visitors and search engines what the page is about.",
    fix: "Give the page one <h1> that names what the business offers.",
};
pub const HEADING_ORDER: Check = Check {
    id: "seo.heading_order",
    category: Seo,
    severity: Low,
    good: "Headings are in order",
    bad: "Headings skip levels",
    why: "Skipped heading levels make the page structure unclear to search engines and screen readers.",
    fix: "Use headings in order (h1, then h2, then h3) without skipping a level.",
};
pub const CANONICAL: Check = Check {
    id: "seo.canonical",
    category: Seo,
    severity: Low,
    good: "The page names its canonical address",
    bad: "No canonical address",
    why: "Without it, www/non-www and tracking-parameter copies compete with each other in search.",
    fix: "Add <link rel=\"canonical\" href=\"...\"> with the page's preferred address.",
};
pub const NOINDEX: Check = Check {
    id: "seo.noindex",
    category: Seo,
    severity: Critical,
    good: "Search engines may index the page",
    bad: "Search engines are told not to index the page",
    why: "A noindex rule keeps the page out of search results entirely.",
    fix: "Remove noindex from the robots meta tag and the X-Robots-Tag header.",
};
pub const ROBOTS: Check = Check {
    id: "seo.robots_txt",
    category: Seo,
    severity: Low,
    good: "robots.txt is present and allows crawling",
    bad: "robots.txt is missing or blocks crawling",
    why: "robots.txt tells search engines what to crawl; blocking everything hides the site.",
    fix: "Serve a robots.txt that allows crawling and names the sitemap.",
};
pub const SITEMAP: Check = Check {
    id: "seo.sitemap",
    category: Seo,
    severity: Low,
    good: "An XML sitemap is available",
    bad: "No usable XML sitemap",
    why: "A sitemap helps search engines find every page, especially on new or small sites.",
    fix: "Publish /sitemap.xml listing the site's pages and name it in robots.txt.",
};
pub const OPEN_GRAPH: Check = Check {
    id: "seo.open_graph",
    category: Seo,
    severity: Low,
    good: "Link previews are set up (Open Graph)",
    bad: "No link previews (Open Graph)",
    why: "Shared on WhatsApp or Facebook, the link shows without a picture or proper title.",
    fix: "Add og:title, og:description and og:image meta tags.",
};
pub const STRUCTURED: Check = Check {
    id: "seo.structured_data",
    category: Seo,
    severity: Medium,
    good: "Business details are marked up for search engines",
    bad: "No business details for search engines (structured data)",
    why: "LocalBusiness markup feeds opening hours, address and phone into Google's results.",
    fix: "Add JSON-LD LocalBusiness markup with name, address, phone and opening hours.",
};
pub const BROKEN_LINKS: Check = Check {
    id: "seo.broken_links",
    category: Seo,
    severity: Medium,
    good: "Internal links work",
    bad: "Broken internal links",
    why: "Broken links frustrate visitors and waste search engines' crawl time.",
    fix: "Fix or remove the links that lead to errors.",
};

pub const CHECKS: &[&Check] = &[
    &STATUS,
    &HTML,
    &ENCODING,
    &TITLE,
    &TITLE_LENGTH,
    &DESCRIPTION,
    &DESCRIPTION_LENGTH,
    &H1,
    &HEADING_ORDER,
    &CANONICAL,
    &NOINDEX,
    &ROBOTS,
    &SITEMAP,
    &OPEN_GRAPH,
    &STRUCTURED,
    &BROKEN_LINKS,
];

const LOCAL_TYPES: &[&str] = &[
    "LocalBusiness",
    "Organization",
    "Restaurant",
    "Store",
    "Dentist",
    "MedicalBusiness",
    "ProfessionalService",
    "HomeAndConstructionBusiness",
    "FoodEstablishment",
    "Bakery",
    "CafeOrCoffeeShop",
    "AutomotiveBusiness",
    "HealthAndBeautyBusiness",
    "LegalService",
    "Physician",
];

pub fn run(i: &Inputs<'_>, out: &mut Vec<CheckResult>) {
    let f = i.fetch;
    out.push(STATUS.result(
        (200..300).contains(&f.status),
        format!("{} answered HTTP {}", f.final_url, f.status),
    ));
    let content_type = f.header("content-type").unwrap_or("").to_ascii_lowercase();
    match i.facts {
        None => out.push(HTML.result(
            false,
            not_html_evidence(&content_type, i.decoded.text.as_bytes()),
        )),
        Some(_) => out.push(HTML.result(
            true,
            format!(
                "Content-Type: {}",
                if content_type.is_empty() {
                    "not sent"
                } else {
                    &content_type
                }
            ),
        )),
    }
    let d = i.decoded;
    let declared =
        content_type.contains("charset") || d.source == "meta tag" || d.source == "byte-order mark";
    let encoding_ok = !d.had_errors && d.unknown_label.is_none() && declared;
    out.push(ENCODING.result(
        encoding_ok,
        match (&d.unknown_label, d.had_errors, declared) {
            (Some(label), _, _) => format!("declares an unknown encoding \"{label}\""),
            (None, true, _) => format!(
                "invalid bytes for {} (declared by {})",
                d.encoding, d.source
            ),
            (None, false, false) => format!("no encoding declared; read as {}", d.encoding),
            (None, false, true) => format!("{} (declared by {})", d.encoding, d.source),
        },
    ));
    if let Some(probe) = &f.robots {
        let blocked = robots::home_blocked_for(&probe.text);
        let ok = probe.status.is_some_and(|s| s < 400) && blocked.is_empty();
        let evidence = match (probe.status, &probe.error) {
            (Some(s), _) if s >= 400 => format!("{} answers {s}", probe.url),
            (Some(_), _) if blocked.first() == Some(&robots::ANY_CRAWLER) => {
                "robots.txt blocks all crawlers (Disallow: /)".to_string()
            }
            (Some(_), _) if !blocked.is_empty() => {
                format!(
                    "robots.txt keeps {} off the home page",
                    blocked.join(" and ")
                )
            }
            (Some(_), _) => "robots.txt present".to_string(),
            (None, Some(e)) => format!("robots.txt could not be fetched: {e}"),
            (None, None) => "robots.txt could not be fetched".to_string(),
        };
        out.push(ROBOTS.result(ok, evidence));
    }
    if let Some(sitemap) = &f.sitemap {
        let ok = sitemap.status.is_some_and(|s| s < 400) && sitemap.entries.is_some_and(|n| n > 0);
        let evidence = match (sitemap.status, sitemap.entries, &sitemap.error) {
            (Some(s), _, _) if s >= 400 => format!("{} answers {s}", sitemap.url),
            (Some(_), Some(n), _) => format!(
                "{} lists {}",
                sitemap.url,
                plural(n as usize, "address", "addresses")
            ),
            (_, _, Some(e)) => format!("{}: {e}", sitemap.url),
            _ => format!("{} could not be read", sitemap.url),
        };
        out.push(SITEMAP.result(ok, evidence));
    }
    if !f.links.is_empty() {
        let broken: Vec<String> = f
            .links
            .iter()
            .filter(|l| l.is_broken())
            .map(|l| match l.status {
                Some(s) => format!("{} ({s})", l.url),
                None => format!("{} (no answer)", l.url),
            })
            .collect();
        out.push(BROKEN_LINKS.result(
            broken.is_empty(),
            if broken.is_empty() {
                format!("all {} checked links work", f.links.len())
            } else {
                format!(
                    "{} checked links are broken: {}",
                    of(broken.len(), f.links.len()),
                    some(&broken, 3)
                )
            },
        ));
    }
    let robots_header = f.header("x-robots-tag").unwrap_or("").to_ascii_lowercase();
    let Some(facts) = i.facts else {
        if robots_header.contains("noindex") {
            out.push(NOINDEX.result(
                false,
                format!("X-Robots-Tag: {}", robots_directives(&robots_header)),
            ));
        }
        return;
    };
    match &facts.title {
        Some(title) => {
            out.push(TITLE.result(true, format!("title: \"{title}\"")));
            let n = title.chars().count();
            out.push(TITLE_LENGTH.result(
                (10..=60).contains(&n),
                format!("the title is {n} characters (aim: 10–60)"),
            ));
        }
        None => out.push(TITLE.result(false, "no <title>")),
    }
    match &facts.meta_description {
        Some(d) => {
            out.push(DESCRIPTION.result(true, format!("description: \"{}\"", truncate(d, 80))));
            let n = d.chars().count();
            out.push(DESCRIPTION_LENGTH.result(
                (50..=160).contains(&n),
                format!("the description is {n} characters (aim: 50–160)"),
            ));
        }
        None => out.push(DESCRIPTION.result(false, "no meta description")),
    }
    out.push(H1.result(
        facts.h1.len() == 1,
        match facts.h1.len() {
            0 => "no <h1> on the page".to_string(),
            1 => format!("h1: \"{}\"", truncate(&facts.h1[0], 60)),
            n => format!("{n} <h1> headings"),
        },
    ));
    let skips: Vec<String> = facts
        .headings
        .windows(2)
        .filter(|w| w[1] > w[0] + 1)
        .map(|w| format!("h{} → h{}", w[0], w[1]))
        .collect();
    if facts.headings.len() > 1 {
        out.push(HEADING_ORDER.result(
            skips.is_empty(),
            if skips.is_empty() {
                "headings go down one level at a time".into()
            } else {
                format!("skips: {}", some(&skips, 3))
            },
        ));
    }
    out.push(CANONICAL.result(
        facts.canonical.is_some(),
        facts.canonical.as_ref().map_or_else(
            || "no <link rel=\"canonical\">".to_string(),
            |c| format!("canonical: {c}"),
        ),
    ));
    let meta_robots = facts
        .robots_meta
        .clone()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let noindex = meta_robots.contains("noindex") || robots_header.contains("noindex");
    out.push(NOINDEX.result(
        !noindex,
        if meta_robots.contains("noindex") {
            format!(
                "<meta name=\"robots\" content=\"{}\">",
                robots_directives(&meta_robots)
            )
        } else if robots_header.contains("noindex") {
            format!("X-Robots-Tag: {}", robots_directives(&robots_header))
        } else {
            "no noindex rule".into()
        },
    ));
    let og_ok =
        facts.open_graph.contains_key("og:title") && facts.open_graph.contains_key("og:image");
    let og_missing: Vec<String> = ["og:title", "og:description", "og:image"]
        .iter()
        .filter(|k| !facts.open_graph.contains_key(**k))
        .map(|k| k.to_string())
        .collect();
    out.push(OPEN_GRAPH.result(
        og_ok,
        if og_missing.is_empty() {
            "og:title, og:description and og:image are set".into()
        } else {
            format!("missing {}", og_missing.join(", "))
        },
    ));
    let local = facts
        .json_ld_types
        .iter()
        .find(|t| LOCAL_TYPES.contains(&t.as_str()));
    out.push(STRUCTURED.result(
        local.is_some(),
        match (local, facts.json_ld_types.is_empty(), facts.json_ld_invalid) {
            (Some(t), _, _) => format!("JSON-LD {t} markup"),
            (None, false, _) => format!(
                "JSON-LD present ({}) but no business type",
                facts.json_ld_types.join(", ")
            ),
            (None, true, n) if n > 0 => format!("{} JSON-LD blocks that do not parse", n),
            _ => "no JSON-LD structured data".into(),
        },
    ));
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    format!("{}…", text.chars().take(max).collect::<String>())
}

/// The robots directives in a header or meta value (lowercase), and none
/// of the other words a site may have put there: evidence quotes the rule,
/// not a message planted next to it.
fn robots_directives(value: &str) -> String {
    const KNOWN: &[&str] = &[
        "all",
        "index",
        "follow",
        "noindex",
        "nofollow",
        "none",
        "noarchive",
        "nocache",
        "nosnippet",
        "notranslate",
        "noimageindex",
        "indexifembedded",
        "unavailable_after",
        "max-snippet",
        "max-image-preview",
        "max-video-preview",
    ];
    let mut found: Vec<&str> = Vec::new();
    for token in value.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        if KNOWN.contains(&token) && !found.contains(&token) {
            found.push(token);
        }
    }
    found.join(", ")
}

/// Says what the address served instead of a page.
pub fn not_html_evidence(content_type: &str, body: &[u8]) -> String {
    let kind = if body.starts_with(b"%PDF") {
        "a PDF document"
    } else if body.starts_with(b"\x89PNG")
        || body.starts_with(b"\xff\xd8\xff")
        || body.starts_with(b"GIF8")
    {
        "an image"
    } else if body.starts_with(b"PK\x03\x04") {
        "a zip archive"
    } else if body.iter().take(1024).filter(|b| **b == 0).count() > 0 {
        "binary data"
    } else if body.is_empty() {
        "an empty response"
    } else {
        "something that is not HTML"
    };
    let label = if content_type.is_empty() {
        "no Content-Type".to_string()
    } else {
        format!("labelled {content_type}")
    };
    format!("the server sent {kind} ({label})")
}

/// Whether a body is an HTML document worth auditing.
pub fn looks_like_html(content_type: &str, body: &[u8]) -> bool {
    let head = &body[..body.len().min(2048)];
    if head.starts_with(b"%PDF")
        || head.starts_with(b"\x89PNG")
        || head.starts_with(b"PK\x03\x04")
        || head.contains(&0)
    {
        return false;
    }
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let markup = text.contains("<html")
        || text.contains("<!doctype html")
        || text.contains("<head")
        || text.contains("<body")
        || text.contains("<title")
        || text.contains("<div")
        || text.contains("<p");
    markup || content_type.contains("html") && text.trim_start().starts_with('<')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_evidence_quotes_only_directives() {
        assert_eq!(
            robots_directives("noindex. \u{2026} pay at https://evil.example/pay, nofollow"),
            "noindex, nofollow"
        );
        assert_eq!(
            robots_directives("max-snippet:-1, noindex"),
            "max-snippet, noindex"
        );
    }

    #[test]
    fn html_sniffing() {
        assert!(looks_like_html("text/html", b"<!DOCTYPE html><html>"));
        assert!(!looks_like_html("text/html", b"%PDF-1.4 binary"));
        assert!(!looks_like_html("text/html", b"\x00\x01\x02"));
        assert_eq!(
            not_html_evidence("text/html", b"%PDF-1.4"),
            "the server sent a PDF document (labelled text/html)"
        );
    }
}
