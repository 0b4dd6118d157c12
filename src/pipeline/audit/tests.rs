//! Every check on a page built to pass it and a page built to fail it, and
//! arbitrary input that must never make the audit panic.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::audit;
use super::checks::catalogue;
use crate::domain::audit::{Audit, LinkCheck, Redirect, Resource, SiteFetch, Timings};
use crate::domain::{LeadId, Timestamp};

fn now() -> Timestamp {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

fn fetch(url: &str, headers: &[(&str, &str)]) -> SiteFetch {
    SiteFetch {
        lead: LeadId::from_ulid(ulid::Ulid::nil()),
        fetched_at: now(),
        requested_url: url.into(),
        final_url: url.into(),
        status: 200,
        http_version: "HTTP/2.0".into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        redirects: Vec::new(),
        timings: Timings {
            dns_ms: 5,
            connect_ms: 20,
            ttfb_ms: 120,
            total_ms: 300,
        },
        bytes_wire: 4_000,
        bytes_decoded: 12_000,
        truncated: false,
        body: None,
        tls_problem: None,
        http_probe: None,
        robots: None,
        sitemap: None,
        links: Vec::new(),
    }
}

const GOOD_PAGE: &str = r#"<!doctype html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Smile Dental Berlin – family dentist</title>
<meta name="description" content="Gentle family dentistry in Berlin Mitte: check-ups, cleaning and emergency appointments on the same day.">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="canonical" href="https://smile.example/">
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="/site.css">
<meta property="og:title" content="Smile Dental"><meta property="og:description" content="Family dentist"><meta property="og:image" content="https://smile.example/og.jpg">
<script src="/app.js" defer></script>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Dentist","name":"Smile Dental","telephone":"+49 30 1234567","address":{"@type":"PostalAddress","streetAddress":"Hauptstr. 1","postalCode":"10115","addressLocality":"Berlin"}}</script>
</head><body>
<h1>Smile Dental</h1><h2>Our treatments</h2><h3>Cleaning</h3>
<p>WORDS</p>
<img src="/team.jpg" alt="Our team" width="600" height="400">
<a href="/treatments">See our treatments</a>
<a href="mailto:info@smile.example">info@smile.example</a>
<a href="tel:+49301234567">030 1234567</a>
<a href="https://www.instagram.com/smiledental/">Instagram</a>
<form action="/contact"><label for="mail">Email</label><input id="mail" type="email" name="email"><label>Message <textarea name="m"></textarea></label><button>Send</button></form>
<address>Hauptstr. 1, 10115 Berlin</address>
<footer>© 2026 Smile Dental</footer>
</body></html>"#;

const BAD_PAGE: &str = r#"<html><head>
<title>Hi</title>
<meta name="description" content="Dentist.">
<meta name="viewport" content="width=1024, user-scalable=no">
<meta name="robots" content="noindex">
<meta name="generator" content="WordPress 4.9.8">
<script src="http://cdn.example/a.js"></script>
SCRIPTS
<link rel="stylesheet" href="/1.css"><link rel="stylesheet" href="/2.css"><link rel="stylesheet" href="/3.css"><link rel="stylesheet" href="/4.css"><link rel="stylesheet" href="/5.css"><link rel="stylesheet" href="/6.css"><link rel="stylesheet" href="/7.css">
<script type="application/ld+json">{broken json</script>
</head><body>
<h1>One</h1><h1>Two</h1><h4>Deep</h4>
<p>Call 030 1234567 today.</p>
IMAGES
<a href="/x">click here</a><a href="/y"></a>
<input type="text" name="name">
<footer>© 2018</footer>
</body></html>"#;

fn good_audit() -> Audit {
    let words =
        "Our dentists care for families in Berlin Mitte with gentle treatments. ".repeat(20);
    let html = GOOD_PAGE.replace("WORDS", &words);
    let mut f = fetch(
        "https://smile.example/",
        &[
            ("content-type", "text/html; charset=utf-8"),
            ("content-encoding", "br"),
            ("cache-control", "max-age=300"),
            ("strict-transport-security", "max-age=31536000"),
            (
                "content-security-policy",
                "default-src 'self'; frame-ancestors 'none'",
            ),
            ("x-frame-options", "DENY"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "strict-origin-when-cross-origin"),
            ("server", "nginx"),
        ],
    );
    f.bytes_decoded = html.len() as u64;
    f.http_probe = Some(Resource {
        url: "http://smile.example/".into(),
        status: Some(301),
        text: "https://smile.example/".into(),
        ..Resource::default()
    });
    f.robots = Some(Resource {
        url: "https://smile.example/robots.txt".into(),
        status: Some(200),
        text: "User-agent: *\nDisallow: /admin\n".into(),
        ..Resource::default()
    });
    f.sitemap = Some(Resource {
        url: "https://smile.example/sitemap.xml".into(),
        status: Some(200),
        entries: Some(12),
        ..Resource::default()
    });
    f.links = vec![LinkCheck {
        url: "https://smile.example/treatments".into(),
        status: Some(200),
        error: None,
    }];
    audit(&f, html.as_bytes(), now())
}

fn bad_audit() -> Audit {
    let scripts: String = (0..16)
        .map(|i| format!("<script src=\"/s{i}.js\"></script>"))
        .collect();
    let images: String = (0..60)
        .map(|i| format!("<img src=\"/i{i}.jpg\">"))
        .collect();
    let html = BAD_PAGE
        .replace("SCRIPTS", &scripts)
        .replace("IMAGES", &images);
    let mut body = html.into_bytes();
    body.extend_from_slice(b"<p>broken byte \xff here</p>");
    body.extend(std::iter::repeat_n(b' ', 300 * 1024));
    let mut f = fetch(
        "https://slow.example/",
        &[
            ("content-type", "text/html; charset=utf-8"),
            ("server", "Apache/2.4.29 (Ubuntu)"),
            ("x-robots-tag", "noindex"),
        ],
    );
    f.timings = Timings {
        dns_ms: 50,
        connect_ms: 300,
        ttfb_ms: 1900,
        total_ms: 4200,
    };
    f.status = 500;
    f.bytes_decoded = body.len() as u64;
    f.bytes_wire = body.len() as u64;
    f.tls_problem = Some("invalid peer certificate: Expired".into());
    f.redirects = vec![
        Redirect {
            status: 301,
            from: "http://slow.example/".into(),
            to: "https://slow.example/".into(),
        },
        Redirect {
            status: 302,
            from: "https://slow.example/".into(),
            to: "https://slow.example/home".into(),
        },
    ];
    f.http_probe = Some(Resource {
        url: "http://slow.example/".into(),
        status: Some(200),
        ..Resource::default()
    });
    f.robots = Some(Resource {
        url: "https://slow.example/robots.txt".into(),
        status: Some(200),
        text: "User-agent: *\nDisallow: /\n".into(),
        ..Resource::default()
    });
    f.sitemap = Some(Resource {
        url: "https://slow.example/sitemap.xml".into(),
        status: Some(404),
        ..Resource::default()
    });
    f.links = vec![LinkCheck {
        url: "https://slow.example/x".into(),
        status: Some(404),
        error: None,
    }];
    audit(&f, &body, now())
}

fn by_id(audit: &Audit) -> BTreeMap<&str, bool> {
    audit
        .checks
        .iter()
        .map(|c| (c.id.as_str(), c.passed))
        .collect()
}

#[test]
fn there_are_at_least_35_checks_with_unique_ids() {
    let all = catalogue();
    assert!(all.len() >= 35, "{} checks", all.len());
    let mut ids: Vec<&str> = all.iter().map(|c| c.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "duplicate check ids");
}

#[test]
fn the_good_page_passes_every_check() {
    let audit = good_audit();
    let results = by_id(&audit);
    for check in catalogue() {
        let passed = results.get(check.id).copied();
        assert_eq!(
            passed,
            Some(true),
            "{} on the good page: {:?}",
            check.id,
            audit
                .checks
                .iter()
                .find(|c| c.id == check.id)
                .map(|c| &c.evidence)
        );
    }
    assert_eq!(audit.scores.overall, 100);
    assert_eq!(audit.contacts.emails[0].value, "info@smile.example");
}

/// A bare page: no title, description, viewport or language at all.
fn bare_audit() -> Audit {
    let f = fetch("http://bare.example/", &[("content-type", "text/html")]);
    audit(
        &f,
        b"<html><body><p>Welcome</p><img src=x.png></body></html>",
        now(),
    )
}

fn pdf_audit() -> Audit {
    let f = fetch("https://pdf.example/", &[("content-type", "text/html")]);
    audit(&f, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary stream", now())
}

#[test]
fn every_check_fails_on_a_page_built_to_fail_it() {
    let bad = [bad_audit(), bare_audit(), pdf_audit()];
    for check in catalogue() {
        let failed_somewhere = bad
            .iter()
            .any(|a| a.checks.iter().any(|c| c.id == check.id && !c.passed));
        assert!(failed_somewhere, "no bad page fails {}", check.id);
    }
    // The heavy page fails almost everything on its own.
    let heavy = by_id(&bad[0]);
    let failed = heavy.values().filter(|passed| !**passed).count();
    assert!(
        failed * 10 >= heavy.len() * 9,
        "{failed} of {} failed",
        heavy.len()
    );
    assert!(bad[0].scores.overall <= 20, "{:?}", bad[0].scores);
}

#[test]
fn a_plain_http_site_fails_https_and_redirect() {
    let f = fetch("http://plain.example/", &[("content-type", "text/html")]);
    let audit = audit(&f, b"<html><title>x</title></html>", now());
    let results = by_id(&audit);
    assert_eq!(results.get("security.https"), Some(&false));
    assert_eq!(results.get("security.http_redirect"), Some(&false));
    assert!(
        !results.contains_key("security.hsts"),
        "HSTS only applies to HTTPS"
    );
}

#[test]
fn evidence_states_what_was_measured() {
    let audit = bad_audit();
    let evidence = |id: &str| {
        audit
            .checks
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.evidence.clone())
            .unwrap()
    };
    assert_eq!(
        evidence("seo.title.length"),
        "the title is 2 characters (aim: 10–60)"
    );
    assert_eq!(
        evidence("performance.ttfb"),
        "first byte after 1900 ms (aim: under 600 ms)"
    );
    assert_eq!(evidence("content.copyright_year"), "© 2018 (it is 2026)");
    assert_eq!(evidence("seo.h1"), "2 <h1> headings");
    assert!(evidence("security.version_exposed").contains("WordPress 4.9.8"));
    assert!(evidence("security.version_exposed").contains("Apache/2.4.29"));
    assert_eq!(
        evidence("accessibility.image_alt"),
        "60 of 60 images have no alt attribute (judged from the HTML only)"
    );
}

#[test]
fn a_pdf_served_as_html_is_reported_not_parsed() {
    let audit = pdf_audit();
    let html = audit.checks.iter().find(|c| c.id == "seo.html").unwrap();
    assert!(!html.passed);
    assert_eq!(
        html.evidence,
        "the server sent a PDF document (labelled text/html)"
    );
    assert!(
        !audit.checks.iter().any(|c| c.id == "seo.title.present"),
        "HTML checks are left out"
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..4096), ct in "(text/html(; charset=[a-z0-9-]{0,12})?|application/pdf|)") {
        let f = fetch("https://fuzz.example/", &[("content-type", &ct)]);
        let audit = audit(&f, &body, now());
        prop_assert!(audit.scores.overall <= 100);
    }

    #[test]
    fn arbitrary_html_never_panics(html in "(<[a-z]{1,6}( [a-z]{1,5}=\"[^\"]{0,20}\")*>|</[a-z]{1,6}>|[^<>]{0,30}|<!--|-->|&[a-z]{0,5};?){0,60}") {
        let f = fetch("https://fuzz.example/", &[("content-type", "text/html")]);
        let _ = audit(&f, format!("<html>{html}").as_bytes(), now());
    }

    #[test]
    fn arbitrary_links_never_panic(hrefs in proptest::collection::vec("\\PC{0,40}", 0..20)) {
        let html: String = hrefs.iter().map(|h| format!("<a href=\"{}\">x</a>", h.replace('"', ""))).collect();
        let base = url::Url::parse("https://fuzz.example/a/b").unwrap();
        let links = super::facts::internal_links(&html, &base, 10);
        prop_assert!(links.len() <= 10);
        for link in links {
            prop_assert_eq!(link.host_str(), Some("fuzz.example"));
        }
    }
}
