//! The summary's rows from a full browser measurement and from an HTTP
//! fetch, and the example metrics the faces' tests render.

use super::*;
use crate::domain::metrics::{EstimateConditions, ImageWeight, RenderBlocking};

/// A render-blocking script whose URL tries to become markup.
pub(crate) const HOSTILE_URL: &str = "https://cdn.example/app.js?x=\"><script>alert(1)</script>";

/// Everything a browser load measures, with a phone estimate; one
/// render-blocking URL is hostile and one image URL is very long.
pub(crate) fn full() -> AuditMetrics {
    let ms = |v| Some(Figure::measured(v, Unit::Ms));
    let est = |value, unit, score| EstimatedFigure {
        value,
        unit,
        estimated: true,
        score,
    };
    AuditMetrics {
        source: "browser".into(),
        ttfb: ms(120.0),
        fcp: ms(640.0),
        lcp: ms(1240.0),
        cls: Some(Figure::measured(0.031, Unit::Unitless)),
        tbt: ms(180.0),
        longest_task: ms(230.0),
        long_tasks: Some(Figure::measured(3.0, Unit::Count)),
        dom_size: Some(Figure::measured(842.0, Unit::Count)),
        transfer_bytes: Some(Figure::measured(2_412_000.0, Unit::Bytes)),
        decoded_bytes: Some(Figure::measured(5_130_000.0, Unit::Bytes)),
        requests: Some(Figure::measured(58.0, Unit::Count)),
        requests_by_type: [
            ("document", 1),
            ("font", 2),
            ("image", 24),
            ("script", 12),
            ("stylesheet", 3),
            ("other", 16),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
        render_blocking: Some(RenderBlocking {
            count: 5,
            urls: vec![
                HOSTILE_URL.into(),
                "https://fonts.example/css2?family=Lora".into(),
                "https://cdn.example/slider.css".into(),
                "https://cdn.example/jquery.js".into(),
            ],
        }),
        largest_images: vec![
            ImageWeight {
                url: format!(
                    "https://baeckerei.example/wp-content/uploads/2026/{}/hero-large.jpg",
                    "very-long-folder-name-".repeat(8)
                ),
                transfer_bytes: 1_180_000,
                decoded_bytes: 1_180_000,
            },
            ImageWeight {
                url: "https://baeckerei.example/img/team.png".into(),
                transfer_bytes: 356_000,
                decoded_bytes: 356_000,
            },
        ],
        mobile_estimate: Some(MobileEstimate {
            fcp: est(2890.0, Unit::Ms, 0.55),
            lcp: est(7040.0, Unit::Ms, 0.05),
            tbt: est(350.0, Unit::Ms, 0.73),
            speed_index: est(4120.0, Unit::Ms, 0.79),
            cls: EstimatedFigure {
                estimated: false,
                ..est(0.031, Unit::Unitless, 1.0)
            },
            performance: 54,
            lighthouse_version: "12.8.2".into(),
            conditions: EstimateConditions {
                rtt_ms: 150.0,
                throughput_kbps: 1638.4,
                cpu_slowdown: 4.0,
            },
        }),
    }
}

/// What an HTTP fetch alone measures.
pub(crate) fn http_only() -> AuditMetrics {
    AuditMetrics::from_http(180, 48_200, 121_000)
}

fn row<'a>(rows: &'a [Row], label: &str) -> &'a str {
    rows.iter()
        .find(|r| r.label == label)
        .map(|r| r.value.as_str())
        .unwrap_or_else(|| panic!("no {label} row in {rows:?}"))
}

#[test]
fn a_browser_load_reads_as_the_estimate_and_what_was_measured() {
    let s = MetricsSummary::of(&full(), Some(54)).unwrap();
    let e = s.estimate.as_ref().unwrap();
    assert_eq!(e.performance, 54);
    assert_eq!(e.grade, "fair");
    assert!(e.is_speed_score);
    assert_eq!(e.conditions, "150 ms round trip, 1.6 Mbit/s, 4× slower CPU");
    let marks: Vec<(&str, &str, &str)> = e
        .rows
        .iter()
        .map(|r| (r.label, r.value.as_str(), r.rating))
        .collect();
    assert_eq!(
        marks,
        [
            ("First content", "2.9 s", "needs work"),
            ("Largest content", "7.0 s", "poor"),
            ("Blocking time", "350 ms", "needs work"),
            ("Layout shift", "0.031", "good"),
            ("Speed index", "4.1 s", "needs work"),
        ]
    );
    assert_eq!(s.no_estimate, None);
    assert_eq!(s.needs_browser, None);
    assert_eq!(row(&s.measured, "Server response"), "120 ms");
    assert_eq!(row(&s.measured, "Largest content"), "1.2 s");
    assert_eq!(
        row(&s.measured, "Blocking time"),
        "180 ms (3 long tasks, longest 230 ms)"
    );
    assert_eq!(
        row(&s.measured, "Page weight"),
        "2.4 MB transferred, 5.1 MB decoded"
    );
    assert_eq!(
        row(&s.measured, "Requests"),
        "58: 24 images, 16 other, 12 scripts, 3 stylesheets, 2 fonts, 1 document"
    );
    assert_eq!(row(&s.measured, "Page elements"), "842 in the DOM");
    let blocking = s.render_blocking.as_ref().unwrap();
    assert_eq!(
        (blocking.count, blocking.urls.len(), blocking.more),
        (5, 3, 2)
    );
    assert_eq!(
        blocking.urls[0], HOSTILE_URL,
        "kept as text; faces escape it"
    );
    let hero = &s.largest_images[0];
    assert_eq!(hero.label.chars().count(), URL_MAX);
    assert!(
        hero.label.starts_with("https://baeckerei.example/"),
        "{hero:?}"
    );
    assert!(hero.label.ends_with("/hero-large.jpg"), "{hero:?}");
    assert_eq!(hero.value, "1.2 MB");
}

#[test]
fn the_estimate_is_not_called_the_speed_score_when_the_score_differs() {
    let s = MetricsSummary::of(&full(), Some(88)).unwrap();
    assert!(!s.estimate.unwrap().is_speed_score);
}

#[test]
fn an_http_fetch_shows_what_it_has_and_says_the_rest_needs_the_browser() {
    let s = MetricsSummary::of(&http_only(), Some(91)).unwrap();
    assert!(s.estimate.is_none());
    assert!(s.no_estimate.unwrap().contains("browser"));
    assert!(s.needs_browser.is_some());
    assert_eq!(row(&s.measured, "Server response"), "180 ms");
    assert_eq!(
        row(&s.measured, "HTML weight"),
        "48 KB transferred, 121 KB decoded"
    );
    assert_eq!(row(&s.measured, "Requests"), "1: 1 document");
    assert!(s.render_blocking.is_none() && s.largest_images.is_empty());
}

#[test]
fn an_audit_from_before_metrics_has_no_summary() {
    assert_eq!(MetricsSummary::of(&AuditMetrics::default(), None), None);
}

#[test]
fn long_urls_keep_their_host_and_file_name() {
    assert_eq!(
        clip_url("https://a.example/x.css", 90),
        "https://a.example/x.css"
    );
    let long = format!("https://a.example/{}/file.css", "d".repeat(200));
    let clipped = clip_url(&long, 40);
    assert_eq!(clipped.chars().count(), 40);
    assert!(clipped.starts_with("https://a.example/"), "{clipped}");
    assert!(clipped.ends_with("file.css"), "{clipped}");
    assert_eq!(
        clip_url("https://a.example/\u{1b}[2J\nx", 90),
        "https://a.example/ [2J x",
        "control characters never reach a terminal"
    );
}
