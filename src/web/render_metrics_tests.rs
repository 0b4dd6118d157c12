//! The report page's "Speed in numbers": the phone estimate with its
//! label, what was measured here, page URLs as escaped text, an HTTP-only
//! audit that says what needs the browser, and no figure that is not in
//! the audit's metrics.

use super::*;
use crate::domain::metrics::AuditMetrics;
use crate::domain::metrics_summary::MetricsSummary;
use crate::domain::metrics_summary::tests::{HOSTILE_URL, full, http_only};
use crate::service::report::Sender;

fn page(metrics: &AuditMetrics, speed: u8) -> String {
    let view = ReportView {
        business_name: "Bäckerei Sonnenschein".into(),
        website: Some("https://baeckerei.example/".into()),
        audited_at: "November 27, 2026".into(),
        overall: 62,
        grade: "fair",
        categories: Vec::new(),
        problems: Vec::new(),
        more_problems: 0,
        passed: 3,
        desktop: None,
        mobile: None,
        changes: None,
        search_preview: None,
        metrics: MetricsSummary::of(metrics, Some(speed)),
        sender: Sender::default(),
        cta: None,
        unsubscribe_path: "/u/x".into(),
    };
    let links = PageLinks {
        root: "/",
        unsubscribe: "/u/x",
    };
    Templates::new().report(&view, &links).unwrap()
}

/// The metrics section's markup.
fn section(page: &str) -> &str {
    let start = page
        .find("<section class=\"metrics\"")
        .unwrap_or_else(|| panic!("no metrics section:\n{page}"));
    let end = start + page[start..].find("</section>").unwrap();
    &page[start..end]
}

/// The text a reader sees, page URLs left out (they are the page's own
/// text, not figures), entities decoded.
fn visible_text(markup: &str) -> String {
    let mut rest = markup;
    let mut kept = String::new();
    while let Some(at) = rest.find("<span class=\"url\">") {
        kept.push_str(&rest[..at]);
        let close = rest[at..].find("</span>").unwrap();
        rest = &rest[at + close..];
    }
    kept.push_str(rest);
    let mut text = String::new();
    let mut in_tag = false;
    for c in kept.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn the_phone_estimate_shows_with_its_label_and_the_measured_figures() {
    let page = page(&full(), 54);
    let text = visible_text(section(&page));
    for expected in [
        "On a mid-range phone over slow 4G",
        "Estimated the way Lighthouse 12.8.2 measures mobile: 150 ms round trip, 1.6 Mbit/s, 4× slower CPU.",
        "Performance score 54, the Speed score above.",
        "Largest content Largest Contentful Paint  7.0 s  poor",
        "First content First Contentful Paint  2.9 s  needs work",
        "Layout shift Cumulative Layout Shift  0.031  good",
        "Measured here",
        "Unthrottled, on this machine",
        "Server response  120 ms",
        "2.4 MB transferred, 5.1 MB decoded",
        "58: 24 images, 16 other, 12 scripts, 3 stylesheets, 2 fonts, 1 document",
        "180 ms (3 long tasks, longest 230 ms)",
        "842 in the DOM",
        "Render-blocking resources: 5",
        "Largest images",
        "1.2 MB",
    ] {
        let squeezed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let wanted = expected.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            squeezed.contains(&wanted),
            "{expected:?} missing from:\n{squeezed}"
        );
    }
    assert!(
        !page.contains("needs the browser"),
        "a browser audit has it all"
    );
}

#[test]
fn page_urls_are_escaped_text_and_cut_to_fit() {
    let page = page(&full(), 54);
    let markup = section(&page);
    assert!(!markup.contains("<script>"), "{markup}");
    assert!(!markup.contains("?x=\">"), "{markup}");
    assert!(
        markup.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{markup}"
    );
    assert!(
        !markup.contains("href=\"https://cdn.example"),
        "URLs are never links"
    );
    let visible = visible_text(markup);
    assert!(
        !visible.contains(HOSTILE_URL),
        "URLs are not counted as figures"
    );
    // The very long image URL is cut in the middle, keeping the file name.
    let hero = markup
        .split("<span class=\"url\">")
        .find(|s| s.contains("hero-large.jpg"))
        .unwrap();
    let hero = &hero[..hero.find("</span>").unwrap()];
    assert!(hero.contains('…'), "{hero}");
    assert!(hero.replace("&#x2f;", "/").chars().count() <= 90, "{hero}");
}

#[test]
fn an_http_only_audit_has_no_estimate_and_says_why() {
    let page = page(&http_only(), 91);
    let text = visible_text(section(&page));
    assert!(!text.contains("mid-range phone"), "{text}");
    assert!(!text.contains("Lighthouse"), "{text}");
    assert!(
        text.contains("A phone estimate needs the page loaded in a browser"),
        "{text}"
    );
    assert!(text.contains("need the browser"), "{text}");
    assert!(text.contains("The HTML document alone"), "{text}");
    assert!(text.contains("180 ms"), "{text}");
    assert!(text.contains("48 KB transferred, 121 KB decoded"), "{text}");
}

#[test]
fn an_audit_from_before_metrics_has_no_section() {
    let page = page(&AuditMetrics::default(), 91);
    assert!(!page.contains("class=\"metrics\""), "{page}");
}

/// Every raw number in the audit's metrics.
fn raw_numbers(m: &AuditMetrics) -> Vec<f64> {
    let mut out: Vec<f64> = [
        &m.ttfb,
        &m.fcp,
        &m.lcp,
        &m.cls,
        &m.tbt,
        &m.longest_task,
        &m.long_tasks,
        &m.dom_size,
        &m.transfer_bytes,
        &m.decoded_bytes,
        &m.requests,
    ]
    .into_iter()
    .flatten()
    .map(|f| f.value)
    .collect();
    out.extend(m.requests_by_type.values().map(|n| *n as f64));
    if let Some(r) = &m.render_blocking {
        out.push(r.count as f64);
    }
    for i in &m.largest_images {
        out.extend([i.transfer_bytes as f64, i.decoded_bytes as f64]);
    }
    if let Some(e) = &m.mobile_estimate {
        out.extend([e.fcp, e.lcp, e.tbt, e.speed_index, e.cls].map(|f| f.value));
        out.push(f64::from(e.performance));
        out.extend([
            e.conditions.rtt_ms,
            e.conditions.throughput_kbps,
            e.conditions.cpu_slowdown,
        ]);
    }
    out
}

/// The numbers in `text`: `1,234`, `0.031`, `12.8.2` are one each.
fn numbers_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || (matches!(chars[i], '.' | ',')
                        && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit())))
            {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn the_page_shows_no_figure_that_is_not_in_the_audit() {
    for (metrics, speed) in [(full(), 54), (http_only(), 91)] {
        let page = page(&metrics, speed);
        // "slow 4G" names the network Lighthouse simulates; it is a label.
        let text = visible_text(section(&page)).replace("slow 4G", "slow");
        let raw = raw_numbers(&metrics);
        let version = metrics
            .mobile_estimate
            .as_ref()
            .map(|e| e.lighthouse_version.clone());
        let found = numbers_in(&text);
        assert!(found.len() >= 4, "{found:?} in:\n{text}");
        for number in found {
            if Some(&number) == version.as_ref() {
                continue;
            }
            let decimals = number.split('.').nth(1).map_or(0, str::len) as i32;
            let n: f64 = number.replace(',', "").parse().unwrap();
            let half = 0.5 * 10f64.powi(-decimals) + 1e-9;
            // As shown: as is, in thousands (s, KB), in millions (MB), or
            // Lighthouse's kbit/s in Mbit/s.
            let ok = raw.iter().any(|v| {
                [1.0, 1e-3, 1e-6, 1.0 / 1024.0]
                    .iter()
                    .any(|scale| (v * scale - n).abs() <= half)
            });
            assert!(ok, "{number} is not a figure of the audit:\n{text}");
        }
    }
}
