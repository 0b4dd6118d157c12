//! The page-load trace the measuring script returns on the phone view,
//! parsed into a [`lab::Trace`], and the audit's `metrics` built from it.
//!
//! The script's answer is page-controlled data: every number is checked to
//! be finite and clamped, lists are capped (300 requests, 200 long tasks),
//! URLs are cut and stripped of control characters, so a hostile page can
//! neither bloat the audit nor make this panic.
//!
//! Not done yet: initiators and priorities (they need CDP's Network domain),
//! so the estimate works from Resource Timing alone. The estimate is the
//! speed category's score (`pipeline::audit::score`).

use std::collections::BTreeMap;

use serde_json::Value;
use url::Url;

use super::PageMetrics;
use crate::domain::metrics::{
    AuditMetrics, EstimateConditions, EstimatedFigure, Figure, ImageWeight, MobileEstimate,
    RenderBlocking, Unit,
};
use crate::pipeline::lab::{self, Trace, trace};

const MAX_REQUESTS: usize = 300;
const MAX_TASKS: usize = 200;
const MAX_URL: usize = 200;
/// Render-blocking URLs and largest images kept in the audit.
const LISTED: usize = 5;
/// No page load runs for more than a day; anything beyond is garbage.
const MAX_MS: f64 = 86_400_000.0;
/// No single small-business resource is bigger; larger claims are capped.
const MAX_BYTES: u64 = 50_000_000;
/// Beyond this much in total the page is not estimated: simulating the
/// transfer of absurd sizes costs time and says nothing useful.
const MAX_ESTIMATED_BYTES: u64 = 200_000_000;
/// A task is "long" beyond this (Long Tasks API and Lighthouse's TBT).
const BLOCKING_MS: f64 = 50.0;

/// A time in ms, if the page gave a sane one.
fn ms(v: &Value) -> Option<f64> {
    v.as_f64()
        .filter(|x| x.is_finite() && *x >= 0.0 && *x <= MAX_MS)
}

/// A size in bytes, capped at [`MAX_BYTES`].
fn bytes(v: &Value) -> u64 {
    v.as_f64()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .map(|x| x.min(MAX_BYTES as f64) as u64)
        .unwrap_or(0)
}

/// Page text fit for an audit: no control characters, at most `MAX_URL` chars.
pub fn clean(text: &str) -> String {
    let mut out: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_URL)
        .collect();
    if text.chars().count() > MAX_URL {
        out.push('…');
    }
    out
}

fn extension(url: &str) -> String {
    let path = Url::parse(url)
        .map(|u| u.path().to_ascii_lowercase())
        .unwrap_or_default();
    path.rsplit_once('.')
        .map(|(_, e)| e.to_string())
        .unwrap_or_default()
}

/// What a request fetched, from its `initiatorType` and the URL's extension.
fn resource_type(kind: &str, url: &str) -> trace::ResourceType {
    use trace::ResourceType as T;
    let by_ext = || match extension(url).as_str() {
        "css" => T::Stylesheet,
        "js" | "mjs" => T::Script,
        "woff" | "woff2" | "ttf" | "otf" | "eot" => T::Font,
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "avif" | "svg" | "ico" => T::Image,
        "mp4" | "webm" | "mp3" | "ogg" => T::Media,
        _ => T::Other,
    };
    match kind {
        "navigation" | "iframe" | "frame" => T::Document,
        "script" => T::Script,
        "img" | "image" | "input" => T::Image,
        "video" | "audio" | "track" => T::Media,
        "fetch" | "xmlhttprequest" | "beacon" => T::Fetch,
        _ => by_ext(),
    }
}

fn type_name(t: trace::ResourceType) -> &'static str {
    use trace::ResourceType as T;
    match t {
        T::Document => "document",
        T::Stylesheet => "stylesheet",
        T::Script => "script",
        T::Font => "font",
        T::Image => "image",
        T::Media => "media",
        T::Fetch => "fetch",
        T::Other => "other",
    }
}

fn request(v: &Value) -> Option<trace::Request> {
    let url: String = v["url"].as_str()?.chars().take(500).collect();
    let origin = Url::parse(&url).ok()?.origin().ascii_serialization();
    let start_ms = ms(&v["start_ms"])?;
    let end_ms = ms(&v["end_ms"]).unwrap_or(start_ms).max(start_ms);
    // 0 means hidden (cross-origin without Timing-Allow-Origin).
    let positive = |x: Option<f64>| x.filter(|x| *x > 0.0);
    Some(trace::Request {
        resource_type: resource_type(v["kind"].as_str().unwrap_or(""), &url),
        origin,
        start_ms,
        request_start_ms: positive(ms(&v["request_start_ms"])),
        response_start_ms: positive(ms(&v["response_start_ms"])),
        end_ms,
        transfer_bytes: bytes(&v["transfer_bytes"]),
        decoded_bytes: bytes(&v["decoded_bytes"]),
        render_blocking: v["blocking"].as_bool() == Some(true),
        // Resource Timing has no priorities; a parser-blocking script is
        // one Chromium always fetches at high priority.
        priority: (v["parser_blocking"].as_bool() == Some(true)).then_some(trace::Priority::High),
        initiator: None,
        protocol: match v["protocol"].as_str() {
            Some("h2" | "h3") => trace::Protocol::H2,
            _ => trace::Protocol::H1,
        },
        url,
    })
}

/// The trace in the script's answer (`metrics.trace`), with the paints and
/// layout shift the script measured; `None` without a main document.
pub fn parse(raw: &Value, page: &PageMetrics) -> Option<Trace> {
    let listed = raw["requests"].as_array()?;
    let mut requests: Vec<trace::Request> = listed
        .iter()
        .take(MAX_REQUESTS)
        .filter_map(request)
        .collect();
    if requests.first()?.resource_type != trace::ResourceType::Document {
        return None;
    }
    // The document stays first; the rest in start order.
    requests[1..].sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
    let mut tasks: Vec<trace::Task> = raw["tasks"]
        .as_array()
        .map(|a| {
            a.iter()
                .take(MAX_TASKS)
                .filter_map(|t| {
                    Some(trace::Task {
                        start_ms: ms(&t[0])?,
                        duration_ms: ms(&t[1])?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    tasks.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
    let finite = |x: Option<f64>| x.filter(|x| x.is_finite() && *x >= 0.0 && *x <= MAX_MS);
    let lcp_url = raw["lcp_url"].as_str().filter(|u| !u.is_empty());
    Some(Trace {
        paints: trace::Paints {
            fcp_ms: finite(page.fcp_ms),
            lcp_ms: finite(page.lcp_ms),
            lcp_request: lcp_url.and_then(|u| requests.iter().position(|r| r.url == u)),
        },
        requests,
        tasks,
        dom_interactive_ms: ms(&raw["dom_interactive_ms"]),
        cumulative_layout_shift: page
            .cls
            .filter(|c| c.is_finite() && *c >= 0.0)
            .map(|c| c.min(1000.0))
            .unwrap_or(0.0),
        observed_speed_index_ms: None,
    })
}

/// The audit's figures from the phone view's measurements and its trace.
pub fn audit_metrics(page: &PageMetrics, trace: Option<&Trace>) -> AuditMetrics {
    let fig = |v: Option<f64>, unit| {
        v.filter(|x| x.is_finite() && *x >= 0.0)
            .map(|v| Figure::measured(v, unit))
    };
    let mut m = AuditMetrics {
        source: "browser".into(),
        ttfb: fig(page.ttfb_ms, Unit::Ms),
        fcp: fig(page.fcp_ms, Unit::Ms),
        lcp: fig(page.lcp_ms, Unit::Ms),
        cls: fig(page.cls, Unit::Unitless),
        dom_size: fig(page.dom_elements.map(|n| n as f64), Unit::Count),
        transfer_bytes: fig(Some(page.transfer_bytes as f64), Unit::Bytes),
        requests: fig(Some(page.requests as f64), Unit::Count),
        ..AuditMetrics::default()
    };
    let Some(trace) = trace else { return m };
    let decoded: u64 = trace.requests.iter().map(|r| r.decoded_bytes).sum();
    m.decoded_bytes = fig(Some(decoded as f64), Unit::Bytes);
    let mut by_type = BTreeMap::new();
    for r in &trace.requests {
        *by_type
            .entry(type_name(r.resource_type).to_string())
            .or_insert(0) += 1;
    }
    m.requests_by_type = by_type;
    let blocking: Vec<&trace::Request> = trace
        .requests
        .iter()
        .filter(|r| r.render_blocking)
        .collect();
    m.render_blocking = Some(RenderBlocking {
        count: blocking.len() as u64,
        urls: blocking
            .iter()
            .take(LISTED)
            .map(|r| clean(&r.url))
            .collect(),
    });
    let mut images: Vec<&trace::Request> = trace
        .requests
        .iter()
        .filter(|r| r.resource_type == trace::ResourceType::Image)
        .collect();
    images.sort_by_key(|r| std::cmp::Reverse(r.bytes()));
    m.largest_images = images
        .iter()
        .take(LISTED)
        .map(|r| ImageWeight {
            url: clean(&r.url),
            transfer_bytes: r.transfer_bytes,
            decoded_bytes: r.decoded_bytes,
        })
        .collect();
    let after = page.fcp_ms.unwrap_or(0.0);
    let tbt: f64 = trace
        .tasks
        .iter()
        .filter(|t| t.start_ms + t.duration_ms > after)
        .map(|t| {
            // Only the part after the first paint blocks a visible page.
            let start = t.start_ms.max(after);
            let end = t.start_ms + t.duration_ms;
            (end - start - BLOCKING_MS)
                .max(0.0)
                .min(t.duration_ms - BLOCKING_MS)
        })
        .filter(|x| *x > 0.0)
        .sum::<f64>()
        // An empty sum is -0.0.
        + 0.0;
    m.tbt = fig(Some(tbt), Unit::Ms);
    let longest = trace
        .tasks
        .iter()
        .map(|t| t.duration_ms)
        .fold(0.0, f64::max);
    m.longest_task = fig(Some(longest), Unit::Ms);
    let long = trace
        .tasks
        .iter()
        .filter(|t| t.duration_ms > BLOCKING_MS)
        .count();
    m.long_tasks = fig(Some(long as f64), Unit::Count);
    let total: u64 = trace.requests.iter().map(|r| r.bytes()).sum();
    if total <= MAX_ESTIMATED_BYTES {
        m.mobile_estimate = lab::estimate(trace).map(|e| mobile(&e));
    }
    m
}

fn mobile(e: &lab::Estimate) -> MobileEstimate {
    let f = |m: &lab::MetricEstimate| EstimatedFigure {
        value: m.value,
        unit: match m.unit {
            lab::Unit::Ms => Unit::Ms,
            lab::Unit::Unitless => Unit::Unitless,
        },
        estimated: m.estimated,
        score: m.score,
    };
    MobileEstimate {
        fcp: f(&e.fcp),
        lcp: f(&e.lcp),
        tbt: f(&e.tbt),
        speed_index: f(&e.speed_index),
        cls: f(&e.cls),
        performance: e.performance.min(100),
        lighthouse_version: e.lighthouse_version.clone(),
        conditions: EstimateConditions {
            rtt_ms: e.conditions.rtt_ms,
            throughput_kbps: e.conditions.throughput_kbps,
            cpu_slowdown: e.conditions.cpu_slowdown,
        },
    }
}

#[cfg(test)]
#[path = "trace_tests.rs"]
mod tests;
