use serde_json::json;

use super::*;

fn page() -> PageMetrics {
    PageMetrics {
        ttfb_ms: Some(20.0),
        fcp_ms: Some(300.0),
        lcp_ms: Some(500.0),
        cls: Some(0.05),
        requests: 3,
        transfer_bytes: 60_000,
        dom_elements: Some(40),
        ..PageMetrics::default()
    }
}

fn entry(url: &str, kind: &str, start: f64, end: f64, bytes: u64, blocking: bool) -> Value {
    json!({"url": url, "kind": kind, "start_ms": start, "request_start_ms": start + 1.0,
        "response_start_ms": start + 5.0, "end_ms": end, "transfer_bytes": bytes,
        "decoded_bytes": bytes.saturating_mul(2), "blocking": blocking, "protocol": "http/1.1"})
}

fn raw() -> Value {
    json!({
        "requests": [
            entry("http://127.0.0.1:9/", "navigation", 0.0, 30.0, 5_000, false),
            entry("http://127.0.0.1:9/hero.jpg", "img", 60.0, 120.0, 50_000, false),
            entry("http://127.0.0.1:9/style.css", "link", 40.0, 50.0, 5_000, true),
        ],
        "tasks": [[100.0, 130.0], [400.0, 60.0]],
        "dom_interactive_ms": 80.0,
        "lcp_url": "http://127.0.0.1:9/hero.jpg",
    })
}

#[test]
fn a_trace_parses_with_the_document_first_and_the_rest_in_start_order() {
    let t = parse(&raw(), &page()).expect("a trace");
    assert_eq!(t.requests.len(), 3);
    assert_eq!(t.requests[0].resource_type, trace::ResourceType::Document);
    assert_eq!(t.requests[1].resource_type, trace::ResourceType::Stylesheet);
    assert!(t.requests[1].render_blocking);
    assert_eq!(t.paints.lcp_request, Some(2));
    assert_eq!(t.tasks.len(), 2);
    assert_eq!(t.dom_interactive_ms, Some(80.0));
}

#[test]
fn metrics_count_by_type_list_blocking_and_images_and_estimate() {
    let p = page();
    let t = parse(&raw(), &p);
    let m = audit_metrics(&p, t.as_ref());
    assert_eq!(m.source, "browser");
    assert_eq!(m.requests_by_type.get("image"), Some(&1));
    assert_eq!(m.requests_by_type.get("stylesheet"), Some(&1));
    let blocking = m.render_blocking.expect("render-blocking");
    assert_eq!(blocking.count, 1);
    assert!(blocking.urls[0].ends_with("style.css"));
    assert_eq!(m.largest_images[0].transfer_bytes, 50_000);
    assert_eq!(m.decoded_bytes.map(|f| f.value), Some(120_000.0));
    // 130 ms task before FCP (300 ms) does not count; the 60 ms one blocks 10 ms.
    assert_eq!(m.tbt.map(|f| f.value), Some(10.0));
    assert_eq!(m.longest_task.map(|f| f.value), Some(130.0));
    let e = m.mobile_estimate.expect("an estimate");
    assert!(e.lcp.value >= e.fcp.value);
    assert!(e.performance <= 100);
    assert!(e.fcp.estimated);
}

#[test]
fn hostile_input_is_capped_and_never_panics() {
    let mut requests = vec![entry(
        "http://127.0.0.1:9/",
        "navigation",
        0.0,
        30.0,
        1,
        false,
    )];
    let long = format!("http://127.0.0.1:9/{}\u{7}", "a".repeat(5_000));
    for i in 0..2_000 {
        requests.push(entry(&long, "link", i as f64, f64::MAX, u64::MAX, true));
    }
    requests.push(json!({"url": 5, "start_ms": "x"}));
    requests.push(json!({"url": "not a url", "start_ms": 1.0, "end_ms": -4.0}));
    let tasks: Vec<Value> = (0..1_000).map(|i| json!([i, 1e300])).collect();
    let raw = json!({"requests": requests, "tasks": tasks, "lcp_url": 7, "dom_interactive_ms": -1});
    let t = parse(&raw, &page()).expect("a trace");
    assert!(t.requests.len() <= MAX_REQUESTS);
    assert!(t.tasks.is_empty(), "absurd durations are dropped");
    assert_eq!(t.dom_interactive_ms, None);
    let m = audit_metrics(&page(), Some(&t));
    let blocking = m.render_blocking.expect("render-blocking");
    assert!(blocking.urls.len() <= LISTED);
    assert!(blocking.urls[0].chars().count() <= MAX_URL + 1);
    assert!(!blocking.urls[0].contains('\u{7}'));
    for junk in [
        json!(null),
        json!([]),
        json!({"requests": "x"}),
        json!({"requests": [1, 2]}),
    ] {
        assert!(parse(&junk, &page()).is_none());
    }
}

#[test]
fn without_a_trace_only_the_page_figures_are_kept() {
    let m = audit_metrics(&page(), None);
    assert_eq!(m.ttfb.map(|f| f.value), Some(20.0));
    assert_eq!(m.dom_size.map(|f| f.value), Some(40.0));
    assert!(m.mobile_estimate.is_none());
}
