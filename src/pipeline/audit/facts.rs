//! Reads an HTML page once into plain facts (title, headings, images,
//! links, scripts, forms, structured data, visible text, ...). The parsed
//! document is not `Send`, so this runs on a blocking thread and hands back
//! only the facts; every check works on them.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Image {
    pub src: String,
    pub alt: Option<String>,
    pub has_dimensions: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Link {
    pub href: String,
    pub text: String,
    /// `aria-label` or an image's alt text inside the link.
    pub label: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script {
    pub src: Option<String>,
    pub in_head: bool,
    /// `async`, `defer` or `type=module`: does not block rendering.
    pub non_blocking: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Input {
    pub kind: String,
    pub name: String,
    pub labelled: bool,
}

/// Everything the checks need from the HTML.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageFacts {
    pub title: Option<String>,
    pub meta_description: Option<String>,
    pub h1: Vec<String>,
    /// Heading levels (1–6) in document order.
    pub headings: Vec<u8>,
    pub canonical: Option<String>,
    pub robots_meta: Option<String>,
    pub lang: Option<String>,
    pub viewport: Option<String>,
    pub open_graph: BTreeMap<String, String>,
    /// `@type`s found in JSON-LD blocks.
    pub json_ld_types: Vec<String>,
    pub json_ld_invalid: usize,
    /// Raw JSON-LD blocks that parsed, for contact details.
    pub json_ld: Vec<serde_json::Value>,
    pub favicon: bool,
    pub images: Vec<Image>,
    pub links: Vec<Link>,
    pub scripts: Vec<Script>,
    pub stylesheets: Vec<String>,
    pub forms: usize,
    /// Forms with an email field or a textarea: someone can write in.
    pub contact_forms: usize,
    pub inputs: Vec<Input>,
    pub generator: Option<String>,
    pub address_elements: Vec<String>,
    /// Subresource URLs (src/href) as written.
    pub subresources: Vec<String>,
    /// Visible text, whitespace collapsed, capped.
    pub text: String,
}

const TEXT_CAP: usize = 300_000;

struct Selectors {
    title: Selector,
    meta: Selector,
    h1: Selector,
    headings: Selector,
    link_rel: Selector,
    html: Selector,
    scripts: Selector,
    head_scripts: Selector,
    images: Selector,
    anchors: Selector,
    forms: Selector,
    inputs: Selector,
    labels: Selector,
    address: Selector,
    subresources: Selector,
    img_in_link: Selector,
    contact_fields: Selector,
}

fn sel(css: &str) -> Selector {
    // The selectors below are constants; one that does not parse is a bug
    // caught by the first test that runs.
    Selector::parse(css).unwrap_or_else(|e| panic!("selector {css}: {e}"))
}

static SELECTORS: LazyLock<Selectors> = LazyLock::new(|| Selectors {
    title: sel("title"),
    meta: sel("meta"),
    h1: sel("h1"),
    headings: sel("h1, h2, h3, h4, h5, h6"),
    link_rel: sel("link[rel]"),
    html: sel("html"),
    scripts: sel("script"),
    head_scripts: sel("head script"),
    images: sel("img"),
    anchors: sel("a[href]"),
    forms: sel("form"),
    inputs: sel("input, select, textarea"),
    labels: sel("label"),
    address: sel("address, [itemprop=address], [itemprop=streetAddress]"),
    subresources: sel(
        "img[src], script[src], link[rel=stylesheet][href], iframe[src], source[src], video[src], audio[src]",
    ),
    img_in_link: sel("img[alt]"),
    contact_fields: sel("input[type=email], textarea"),
});

/// Every piece of page text goes through the one domain rule: control
/// characters (ESC, BEL, line breaks) out, whitespace collapsed.
fn squash(text: &str) -> String {
    crate::domain::text::single_line(text)
}

fn text_of(element: ElementRef<'_>) -> String {
    squash(&element.text().collect::<String>())
}

/// Reads the facts of a page.
pub fn extract(html: &str) -> PageFacts {
    let doc = Html::parse_document(html);
    let s = &*SELECTORS;
    let mut facts = PageFacts {
        title: doc
            .select(&s.title)
            .next()
            .map(text_of)
            .filter(|t| !t.is_empty()),
        ..PageFacts::default()
    };
    for meta in doc.select(&s.meta) {
        let el = meta.value();
        let content = el.attr("content").map(squash);
        let name = el
            .attr("name")
            .or_else(|| el.attr("property"))
            .map(str::to_ascii_lowercase);
        match name.as_deref() {
            Some("description") => facts.meta_description = content.filter(|c| !c.is_empty()),
            Some("robots") => facts.robots_meta = content,
            Some("viewport") => facts.viewport = content,
            Some("generator") => facts.generator = content.filter(|c| !c.is_empty()),
            Some(p) if p.starts_with("og:") => {
                if let Some(c) = content {
                    facts.open_graph.entry(p.to_string()).or_insert(c);
                }
            }
            _ => {}
        }
    }
    facts.h1 = doc.select(&s.h1).map(text_of).collect();
    facts.headings = doc
        .select(&s.headings)
        .filter_map(|h| {
            h.value()
                .name()
                .strip_prefix('h')
                .and_then(|n| n.parse().ok())
        })
        .collect();
    for link in doc.select(&s.link_rel) {
        let el = link.value();
        let rel = el.attr("rel").unwrap_or("").to_ascii_lowercase();
        let href = el.attr("href").unwrap_or("").trim().to_string();
        let rels: Vec<&str> = rel.split_whitespace().collect();
        if rels.contains(&"canonical") && !href.is_empty() {
            facts.canonical.get_or_insert(href.clone());
        }
        if rels.contains(&"icon") || rels.contains(&"apple-touch-icon") {
            facts.favicon = true;
        }
        if rels.contains(&"stylesheet") && !href.is_empty() {
            facts.stylesheets.push(href);
        }
    }
    facts.lang = doc
        .select(&s.html)
        .next()
        .and_then(|h| h.value().attr("lang"))
        .map(squash)
        .filter(|l| !l.is_empty());
    let head_scripts: Vec<_> = doc.select(&s.head_scripts).map(|e| e.id()).collect();
    for script in doc.select(&s.scripts) {
        let el = script.value();
        let kind = el.attr("type").unwrap_or("").to_ascii_lowercase();
        if kind == "application/ld+json" {
            let body = script.text().collect::<String>();
            match serde_json::from_str::<serde_json::Value>(body.trim()) {
                Ok(value) => {
                    collect_types(&value, &mut facts.json_ld_types);
                    facts.json_ld.push(value);
                }
                Err(_) => facts.json_ld_invalid += 1,
            }
            continue;
        }
        let executable = kind.is_empty() || kind.contains("javascript") || kind == "module";
        if !executable {
            continue;
        }
        facts.scripts.push(Script {
            src: el
                .attr("src")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            in_head: head_scripts.contains(&script.id()),
            non_blocking: el.attr("async").is_some()
                || el.attr("defer").is_some()
                || kind == "module",
        });
    }
    for img in doc.select(&s.images) {
        let el = img.value();
        facts.images.push(Image {
            src: el
                .attr("src")
                .or_else(|| el.attr("data-src"))
                .unwrap_or("")
                .trim()
                .to_string(),
            alt: el.attr("alt").map(squash),
            has_dimensions: (el.attr("width").is_some() && el.attr("height").is_some())
                || el
                    .attr("style")
                    .is_some_and(|st| st.contains("width") && st.contains("height")),
        });
    }
    for a in doc.select(&s.anchors) {
        let el = a.value();
        let label = el
            .attr("aria-label")
            .map(squash)
            .filter(|l| !l.is_empty())
            .or_else(|| {
                a.select(&s.img_in_link)
                    .find_map(|i| i.value().attr("alt").map(squash))
                    .filter(|l| !l.is_empty())
            });
        facts.links.push(Link {
            href: el.attr("href").unwrap_or("").trim().to_string(),
            text: text_of(a),
            label,
        });
    }
    facts.forms = doc.select(&s.forms).count();
    facts.contact_forms = doc
        .select(&s.forms)
        .filter(|f| f.select(&s.contact_fields).next().is_some())
        .count();
    let label_for: Vec<String> = doc
        .select(&s.labels)
        .filter_map(|l| l.value().attr("for").map(str::to_string))
        .collect();
    for input in doc.select(&s.inputs) {
        let el = input.value();
        let kind = el.attr("type").unwrap_or(el.name()).to_ascii_lowercase();
        if ["hidden", "submit", "button", "reset", "image"].contains(&kind.as_str()) {
            continue;
        }
        let by_for = el
            .attr("id")
            .is_some_and(|id| label_for.iter().any(|f| f == id));
        let by_aria = el.attr("aria-label").is_some_and(|l| !l.trim().is_empty())
            || el.attr("aria-labelledby").is_some();
        let wrapped = input
            .ancestors()
            .any(|n| n.value().as_element().is_some_and(|e| e.name() == "label"));
        facts.inputs.push(Input {
            kind,
            name: el.attr("name").unwrap_or("").to_string(),
            labelled: by_for || by_aria || wrapped || el.attr("title").is_some(),
        });
    }
    facts.address_elements = doc
        .select(&s.address)
        .map(text_of)
        .filter(|t| !t.is_empty())
        .collect();
    facts.subresources = doc
        .select(&s.subresources)
        .filter_map(|e| e.value().attr("src").or_else(|| e.value().attr("href")))
        .map(|u| u.trim().to_string())
        .collect();
    let mut text = String::new();
    visible_text(doc.root_element(), &mut text);
    facts.text = squash(&text);
    facts
}

/// Elements whose text a visitor never sees.
const HIDDEN: &[&str] = &["script", "style", "noscript", "template", "svg", "head"];

/// Text a visitor sees: everything but scripts, styles and templates.
fn visible_text(element: ElementRef<'_>, out: &mut String) {
    for child in element.children() {
        if out.len() > TEXT_CAP {
            return;
        }
        match child.value() {
            Node::Text(text) => {
                out.push_str(text);
                out.push(' ');
            }
            Node::Element(el) if HIDDEN.contains(&el.name()) => {}
            Node::Element(_) => {
                if let Some(child) = ElementRef::wrap(child) {
                    visible_text(child, out);
                }
            }
            _ => {}
        }
    }
}

fn collect_types(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            match map.get("@type") {
                Some(serde_json::Value::String(t)) => out.push(t.clone()),
                Some(serde_json::Value::Array(ts)) => {
                    out.extend(ts.iter().filter_map(|t| t.as_str().map(str::to_string)))
                }
                _ => {}
            }
            for v in map.values() {
                collect_types(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_types(v, out)),
        _ => {}
    }
}

/// Up to `n` distinct internal page links of a page (same host, http(s),
/// no fragments), in document order.
pub fn internal_links(html: &str, base: &Url, n: usize) -> Vec<Url> {
    let doc = Html::parse_document(html);
    let mut out: Vec<Url> = Vec::new();
    for a in doc.select(&SELECTORS.anchors) {
        if out.len() >= n {
            break;
        }
        let href = a.value().attr("href").unwrap_or("").trim();
        if href.is_empty() || href.starts_with('#') {
            continue;
        }
        let Ok(mut url) = base.join(href) else {
            continue;
        };
        url.set_fragment(None);
        let same_site = url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default();
        if matches!(url.scheme(), "http" | "https")
            && same_site
            && url != *base
            && !out.contains(&url)
        {
            out.push(url);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r##"<!doctype html><html lang="de"><head>
        <title> Bäckerei   Sonnenschein </title>
        <meta name="description" content="Frische Brötchen seit 1952.">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="WordPress 5.2.1">
        <meta property="og:title" content="Sonnenschein">
        <link rel="canonical" href="https://sonnenschein.example/">
        <link rel="icon" href="/favicon.ico"><link rel="stylesheet" href="/a.css">
        <script src="/blocking.js"></script><script src="/ok.js" defer></script>
        <script type="application/ld+json">{"@context":"https://schema.org","@type":"Bakery","address":{"@type":"PostalAddress","streetAddress":"Hauptstr. 1"}}</script>
        <script type="application/ld+json">{broken</script>
        <style>.x{}</style></head>
        <body><h1>Willkommen</h1><h3>Skipped a level</h3>
        <img src="a.jpg" alt="Brot" width="10" height="10"><img src="b.jpg">
        <a href="/kontakt">Kontakt</a><a href="https://facebook.com/sonnenschein"><img src="f.png" alt="Facebook"></a>
        <a href="#top">top</a><a href="mailto:info@sonnenschein.example">Mail</a>
        <form><label for="e">E-Mail</label><input id="e" type="email"><input type="text" name="n"><textarea name="msg"></textarea><input type="submit"></form>
        <address>Hauptstr. 1, 10115 Berlin</address>
        <script>var hidden = "not visible";</script>
        </body></html>"##;

    #[test]
    fn facts_of_a_page() {
        let f = extract(PAGE);
        assert_eq!(f.title.as_deref(), Some("Bäckerei Sonnenschein"));
        assert_eq!(
            f.meta_description.as_deref(),
            Some("Frische Brötchen seit 1952.")
        );
        assert_eq!(f.lang.as_deref(), Some("de"));
        assert_eq!(f.h1, vec!["Willkommen"]);
        assert_eq!(f.headings, vec![1, 3]);
        assert_eq!(
            f.canonical.as_deref(),
            Some("https://sonnenschein.example/")
        );
        assert!(f.favicon);
        assert_eq!(f.generator.as_deref(), Some("WordPress 5.2.1"));
        assert_eq!(
            f.open_graph.get("og:title").map(String::as_str),
            Some("Sonnenschein")
        );
        assert_eq!(f.json_ld_types, vec!["Bakery", "PostalAddress"]);
        assert_eq!(f.json_ld_invalid, 1);
        assert_eq!(f.scripts.len(), 3);
        assert!(f.scripts[0].in_head && !f.scripts[0].non_blocking);
        assert!(f.scripts[1].non_blocking);
        assert!(!f.scripts[2].in_head);
        assert_eq!(f.images.len(), 3);
        assert!(f.images[0].has_dimensions && f.images[1].alt.is_none());
        assert_eq!(f.links[1].label.as_deref(), Some("Facebook"));
        assert_eq!(f.forms, 1);
        assert_eq!(f.contact_forms, 1);
        let labelled: Vec<bool> = f.inputs.iter().map(|i| i.labelled).collect();
        assert_eq!(labelled, vec![true, false, false]);
        assert_eq!(f.address_elements, vec!["Hauptstr. 1, 10115 Berlin"]);
        assert!(
            f.text.contains("Willkommen")
                && !f.text.contains("not visible")
                && !f.text.contains(".x{}")
        );
    }

    #[test]
    fn internal_links_are_same_host_and_distinct() {
        let base = Url::parse("https://a.example/").unwrap();
        let html = r##"<a href="/x">1</a><a href="/x#y">2</a><a href="https://b.example/">3</a><a href="mailto:a@a.example">4</a><a href="/y">5</a><a href="javascript:void(0)">6</a><a href="/z">7</a>"##;
        let links = internal_links(html, &base, 2);
        assert_eq!(
            links.iter().map(Url::as_str).collect::<Vec<_>>(),
            vec!["https://a.example/x", "https://a.example/y"]
        );
    }
}
