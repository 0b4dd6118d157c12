//! The simulation and the estimate on hand-built traces.

use proptest::prelude::*;

use super::graph::Graph;
use super::simulate::{Conditions, simulate};
use super::trace::{Paints, Priority, Protocol, Request, ResourceType, Task, Trace};
use super::{Estimate, estimate};

const RTT: f64 = 150.0;
/// 1638.4 kbit/s in bytes per millisecond.
const BYTES_PER_MS: f64 = 1638.4 * 1024.0 / 8.0 / 1000.0;
/// Cold https connection to a new origin: DNS 2 RTT, TCP 1, TLS 1, request 1.
const COLD_HTTPS: f64 = 5.0 * RTT;

fn req(url: &str, kind: ResourceType, start: f64, end: f64, bytes: u64) -> Request {
    let origin = url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    Request {
        url: url.to_owned(),
        origin,
        resource_type: kind,
        start_ms: start,
        request_start_ms: None,
        response_start_ms: None,
        end_ms: end,
        transfer_bytes: bytes,
        decoded_bytes: bytes,
        render_blocking: false,
        priority: None,
        initiator: None,
        protocol: Protocol::H1,
    }
}

fn page(bytes: u64) -> Trace {
    Trace {
        requests: vec![req(
            "https://shop.test/",
            ResourceType::Document,
            0.0,
            10.0,
            bytes,
        )],
        paints: Paints {
            fcp_ms: Some(20.0),
            lcp_ms: Some(20.0),
            lcp_request: None,
        },
        dom_interactive_ms: Some(12.0),
        ..Trace::default()
    }
}

fn est(t: &Trace) -> Estimate {
    estimate(t).expect("trace has a document")
}

#[test]
fn single_html_file_is_connection_setup_plus_slow_start() {
    // One initial window (10 × 1460 bytes) arrives in one round.
    let small = est(&page(14_600));
    let transfer = 14_600.0 / BYTES_PER_MS;
    assert!(
        (small.fcp.value - (COLD_HTTPS + transfer)).abs() < 1.0,
        "{}",
        small.fcp.value
    );
    assert_eq!(small.lcp.value, small.fcp.value);
    assert_eq!(small.tbt.value, 0.0);
    assert!(small.tbt.value.is_sign_positive(), "a TBT of -0 ms");
    assert_eq!(small.performance, 100);

    // 100 KiB needs four rounds: 10, 20, 21 and 21 segments (the window
    // tops out at the bandwidth-delay product), so three full RTTs pass
    // before the last window and the last one drains at the line rate.
    let big = est(&page(102_400));
    let last = (102_400.0 - 14_600.0 - 29_200.0 - 30_660.0) / BYTES_PER_MS;
    let expected = COLD_HTTPS + 3.0 * RTT + last;
    assert!(
        (big.fcp.value - expected).abs() < 1.0,
        "{} vs {expected}",
        big.fcp.value
    );
    // Plain http skips the TLS round trip.
    let mut http = page(14_600);
    http.requests[0].origin = "http://shop.test".into();
    assert!((est(&http).fcp.value - (small.fcp.value - RTT)).abs() < 1.0);
}

#[test]
fn server_time_observed_on_loopback_is_kept() {
    let mut t = page(14_600);
    t.requests[0].request_start_ms = Some(1.0);
    t.requests[0].response_start_ms = Some(301.0);
    assert!((est(&t).fcp.value - est(&page(14_600)).fcp.value - 300.0).abs() < 1.0);
}

fn blocking_chain() -> Trace {
    let mut t = page(14_600);
    let mut css = req(
        "https://shop.test/site.css",
        ResourceType::Stylesheet,
        5.0,
        8.0,
        20_000,
    );
    css.render_blocking = true;
    let mut font = req(
        "https://fonts.test/a.woff2",
        ResourceType::Font,
        9.0,
        12.0,
        30_000,
    );
    font.initiator = Some(1);
    let mut js = req(
        "https://shop.test/head.js",
        ResourceType::Script,
        5.0,
        9.0,
        40_000,
    );
    js.render_blocking = true;
    t.requests.extend([css, font, js]);
    t
}

#[test]
fn render_blocking_chain_pushes_fcp_by_its_simulated_time() {
    let alone = est(&page(14_600)).fcp.value;
    let chain = est(&blocking_chain());
    // The font waits for the stylesheet and opens a new origin (DNS, TCP,
    // TLS, request: 5 RTT); the stylesheet first needs its own request (1 RTT
    // on a new connection to a known origin: 3 RTT).
    assert!(
        chain.fcp.value >= alone + 3.0 * RTT + 5.0 * RTT,
        "{} vs {alone}",
        chain.fcp.value
    );
    assert!(chain.fcp.value < alone + 12.0 * RTT, "{}", chain.fcp.value);

    // The same resources arriving after the observed paint do not block it.
    let mut late = blocking_chain();
    for r in &mut late.requests[1..] {
        r.start_ms += 100.0;
        r.end_ms += 100.0;
    }
    assert!((est(&late).fcp.value - alone).abs() < 1.0);
}

fn images(n: usize, bytes: u64, protocol: Protocol) -> Trace {
    let mut t = page(14_600);
    for i in 0..n {
        let mut img = req(
            &format!("https://shop.test/{i}.jpg"),
            ResourceType::Image,
            5.0,
            15.0,
            bytes,
        );
        img.protocol = protocol;
        t.requests.push(img);
    }
    t.requests[0].protocol = protocol;
    t
}

fn full_run(t: &Trace) -> Vec<super::simulate::Timing> {
    let g = Graph::build(t);
    let timings = simulate(t, &g, &vec![true; g.deps.len()], &Conditions::default());
    timings
        .into_iter()
        .map(|x| x.expect("every node runs"))
        .collect()
}

#[test]
fn parallel_images_on_one_h2_connection_share_the_bandwidth() {
    let t = images(10, 100_000, Protocol::H2);
    let run = full_run(&t);
    let first_start = run[1..]
        .iter()
        .map(|x| x.start)
        .fold(f64::INFINITY, f64::min);
    let ends: Vec<f64> = run[1..].iter().map(|x| x.end).collect();
    let last = ends.iter().copied().fold(0.0, f64::max);
    let line = 1_000_000.0 / BYTES_PER_MS;
    // Request round trip, then one megabyte at the line rate (the window
    // is already full-size after the document).
    let span = last - first_start;
    assert!(
        span >= line && span <= line + 3.0 * RTT,
        "span {span}, line {line}"
    );
    // Shared, not one after another: they all finish close together.
    let first_end = ends.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(last - first_end < 2.0 * RTT, "{first_end}..{last}");
}

#[test]
fn http1_opens_at_most_six_connections_per_origin() {
    let t = images(12, 2_000, Protocol::H1);
    let run = full_run(&t);
    let first_end = run[1..].iter().map(|x| x.end).fold(f64::INFINITY, f64::min);
    let started_at_once = run[1..].iter().filter(|x| x.start < first_end).count();
    assert_eq!(started_at_once, 6);
    // On h2 all twelve go out together.
    let run = full_run(&images(12, 2_000, Protocol::H2));
    let first_end = run[1..].iter().map(|x| x.end).fold(f64::INFINITY, f64::min);
    assert_eq!(run[1..].iter().filter(|x| x.start < first_end).count(), 12);
}

#[test]
fn long_tasks_block_four_times_as_long() {
    let mut t = page(14_600);
    t.tasks = vec![
        Task {
            start_ms: 100.0,
            duration_ms: 100.0,
        },
        Task {
            start_ms: 300.0,
            duration_ms: 30.0,
        },
        Task {
            start_ms: 500.0,
            duration_ms: 200.0,
        },
        Task {
            start_ms: 800.0,
            duration_ms: 10.0,
        },
    ];
    let e = est(&t);
    // (400 − 50) + (120 − 50) + (800 − 50); the 40 ms one does not block.
    assert!((e.tbt.value - 1170.0).abs() < 1.0, "{}", e.tbt.value);
    assert!(e.tti_ms >= e.fcp.value + 400.0 + 120.0 + 800.0);
    // 1170 ms is well past the 600 ms median: about 0.21.
    assert!(e.tbt.score < 0.3);
    assert!(e.speed_index.value >= e.fcp.value);
}

#[test]
fn lcp_waits_for_its_image_and_images_do_not_delay_fcp() {
    let mut t = images(3, 60_000, Protocol::H2);
    t.paints = Paints {
        fcp_ms: Some(20.0),
        lcp_ms: Some(40.0),
        lcp_request: Some(2),
    };
    let e = est(&t);
    assert!((e.fcp.value - est(&page(14_600)).fcp.value).abs() < 1.0);
    assert!(e.lcp.value >= e.fcp.value + RTT + 60_000.0 / BYTES_PER_MS);
    assert_eq!(e.cls.unit, super::Unit::Unitless);
    assert!(!e.cls.estimated && e.lcp.estimated);
}

#[test]
fn trace_round_trips_through_json_and_empty_trace_has_no_estimate() {
    let mut t = blocking_chain();
    t.requests[2].priority = Some(Priority::High);
    let json = serde_json::to_string(&t).expect("serialises");
    let back: Trace = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, t);
    assert!(estimate(&Trace::default()).is_none());
    let e = serde_json::to_value(est(&t)).expect("serialises");
    assert_eq!(e["lighthouse_version"], "12.8.2");
    assert_eq!(e["lcp"]["unit"], "ms");
}

fn arb_trace() -> impl Strategy<Value = Trace> {
    let sub = (
        0usize..5,
        0u64..300_000,
        0.0f64..40.0,
        any::<bool>(),
        0usize..3,
    );
    (
        1_000u64..200_000,
        prop::collection::vec(sub, 0..12),
        prop::collection::vec(1.0f64..300.0, 0..6),
    )
        .prop_map(|(doc, subs, tasks)| {
            let mut t = page(doc);
            for (i, (kind, bytes, start, rb, host)) in subs.into_iter().enumerate() {
                let kind = [
                    ResourceType::Stylesheet,
                    ResourceType::Script,
                    ResourceType::Image,
                    ResourceType::Font,
                    ResourceType::Fetch,
                ][kind];
                let url = format!("https://h{host}.test/{i}");
                let mut r = req(&url, kind, start, start + 5.0, bytes);
                r.render_blocking = rb;
                t.requests.push(r);
            }
            t.tasks = tasks
                .into_iter()
                .enumerate()
                .map(|(i, d)| Task {
                    start_ms: 50.0 + 400.0 * i as f64,
                    duration_ms: d,
                })
                .collect();
            t.paints = Paints {
                fcp_ms: Some(30.0),
                lcp_ms: Some(60.0),
                lcp_request: None,
            };
            t
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// More bytes never make a request itself finish earlier, and more
    /// document bytes never make the page faster. (Elsewhere they can, as
    /// in a real load: a heavier request delays its own followers, which
    /// leaves more of the link to the critical path; a connection that
    /// carried more has a wider window for its next request.)
    #[test]
    fn more_bytes_never_make_it_faster(t in arb_trace(), which in 0usize..13, extra in 1u64..200_000) {
        let i = which % t.requests.len();
        let mut heavier = t.clone();
        heavier.requests[i].transfer_bytes += extra;
        let g = Graph::build(&t);
        let all = vec![true; g.deps.len()];
        let end = |t: &Trace| simulate(t, &g, &all, &Conditions::default())[i].map(|x| x.end);
        let (before, after) = (end(&t).expect("simulated"), end(&heavier).expect("simulated"));
        prop_assert!(after > before, "request {i}: {after} <= {before}");

        let mut heavier_doc = t.clone();
        heavier_doc.requests[0].transfer_bytes += extra;
        let (base, h) = (est(&t), est(&heavier_doc));
        prop_assert!(h.fcp.value + 1e-6 >= base.fcp.value, "fcp {} < {}", h.fcp.value, base.fcp.value);
        prop_assert!(h.lcp.value + 1e-6 >= base.lcp.value, "lcp {} < {}", h.lcp.value, base.lcp.value);
    }
}

#[test]
fn a_high_priority_body_script_blocks_fcp_like_lantern_counts_it() {
    let alone = est(&page(14_600)).fcp.value;
    let mut t = page(14_600);
    t.requests.push(req(
        "https://shop.test/body.js",
        ResourceType::Script,
        5.0,
        9.0,
        30_000,
    ));
    // Not flagged render-blocking and no priority: not needed for the paint.
    assert!((est(&t).fcp.value - alone).abs() < 1.0);
    t.requests[1].priority = Some(Priority::High);
    assert!(est(&t).fcp.value > alone + RTT);
}

/// A follower released a moment before its origin's only connection falls
/// idle takes that connection rather than paying for a new one; before,
/// one more byte upstream made the page 300 ms faster.
#[test]
fn a_follower_takes_the_connection_that_falls_idle_first() {
    let mut t = page(1_000);
    let mut add = |url: &str, start: f64, bytes| {
        t.requests.push(req(
            url,
            ResourceType::Stylesheet,
            start,
            start + 5.0,
            bytes,
        ))
    };
    add("https://a.test/first.css", 20.0, 173_929);
    add("https://b.test/slow.css", 0.0, 173_930);
    add("https://b.test/follower.css", 34.0, 0);
    t.paints.lcp_ms = Some(60.0);
    let g = Graph::build(&t);
    assert_eq!(g.deps[3], vec![1], "the follower waits for first.css");
    let all = vec![true; g.deps.len()];
    let run = |t: &Trace| simulate(t, &g, &all, &Conditions::default());
    for extra in [0, 1, 10, 1_000] {
        let mut h = t.clone();
        h.requests[1].transfer_bytes += extra;
        let tm = run(&h);
        let (first, slow, follower) = (tm[1].unwrap(), tm[2].unwrap(), tm[3].unwrap());
        // Request round trip only, never DNS, TCP and TLS again.
        let reuse_at = first.end.max(slow.end) + RTT;
        assert!(
            (follower.end - reuse_at).abs() < 1.0,
            "extra {extra}: follower ends {} not {reuse_at}",
            follower.end
        );
    }
}

/// Work done before the first paint was part of painting it: it never
/// counts as blocking, however the simulation stretches it.
#[test]
fn a_task_before_the_first_paint_never_blocks() {
    let with_task_at = |start: f64| {
        let mut t = page(14_600);
        t.paints = Paints {
            fcp_ms: Some(300.0),
            lcp_ms: Some(300.0),
            lcp_request: None,
        };
        t.tasks = vec![Task {
            start_ms: start,
            duration_ms: 200.0,
        }];
        est(&t).tbt.value
    };
    assert_eq!(with_task_at(100.0), 0.0);
    assert!(with_task_at(400.0) > 0.0);
}
