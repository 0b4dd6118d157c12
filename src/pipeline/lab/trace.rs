//! What one fast, unthrottled page load recorded, in the shape the mobile
//! estimate needs. The browser stage fills it (not yet wired): most fields
//! come from the Resource Timing, Navigation Timing and PerformanceObserver
//! APIs read in the page; those the page cannot see (initiators, priorities,
//! cross-origin sizes without `Timing-Allow-Origin`) come from CDP's Network
//! domain when available and stay `None`/0 otherwise.
//!
//! All times are milliseconds relative to navigation start
//! (`performance.timeOrigin`), as the page reports them.

use serde::{Deserialize, Serialize};

/// One page load. `requests[0]` is the main document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// The document first, then every subresource in start order.
    pub requests: Vec<Request>,
    /// Top-level main-thread tasks (Long Tasks API entries ≥ 50 ms, or all
    /// tasks from a CDP trace when one is taken), in start order.
    pub tasks: Vec<Task>,
    /// Paint milestones.
    pub paints: Paints,
    /// When the document finished parsing: `PerformanceNavigationTiming.domInteractive`.
    /// Requests starting before it count as discovered by the parser when
    /// their initiator is unknown.
    pub dom_interactive_ms: Option<f64>,
    /// Cumulative layout shift: the largest session window of `layout-shift`
    /// entries without recent input, as web-vitals computes it. Unitless.
    pub cumulative_layout_shift: f64,
    /// Speed Index of the observed load, if frames were captured (CDP
    /// screencast); otherwise the estimate derives one from the paints.
    pub observed_speed_index_ms: Option<f64>,
}

/// One network request as the browser saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Absolute URL (`PerformanceResourceTiming.name`).
    pub url: String,
    /// Scheme, host and port: connections are pooled per origin.
    pub origin: String,
    /// What kind of resource (`initiatorType` refined by the URL/content type,
    /// or CDP's `Network.ResourceType`).
    pub resource_type: ResourceType,
    /// When the browser started the fetch (`startTime`).
    pub start_ms: f64,
    /// When the request was sent (`requestStart`); 0-valued for cross-origin
    /// entries without `Timing-Allow-Origin`, hence optional.
    pub request_start_ms: Option<f64>,
    /// First byte of the response (`responseStart`); optional like `request_start_ms`.
    pub response_start_ms: Option<f64>,
    /// Last byte of the response (`responseEnd`).
    pub end_ms: f64,
    /// Bytes on the wire, headers included (`transferSize`, or CDP's
    /// `encodedDataLength`). 0 when hidden or served from cache.
    pub transfer_bytes: u64,
    /// Bytes after content decoding (`decodedBodySize`).
    pub decoded_bytes: u64,
    /// Whether the browser said it blocks rendering
    /// (`renderBlockingStatus == "blocking"`, Chrome 107+).
    pub render_blocking: bool,
    /// Fetch priority, from CDP's `Network.requestWillBeSent`, if known.
    pub priority: Option<Priority>,
    /// Index in `Trace::requests` of the request that caused this one (CDP's
    /// `initiator` resolved to a URL), if known.
    pub initiator: Option<usize>,
    /// HTTP version (`nextHopProtocol`): h2 and h3 multiplex one connection.
    pub protocol: Protocol,
}

impl Request {
    /// Server response time observed for this request: request sent to first
    /// byte. On loopback the network adds nearly nothing, so this is the
    /// server's think time the simulation keeps.
    pub fn server_ms(&self) -> Option<f64> {
        match (self.request_start_ms, self.response_start_ms) {
            (Some(a), Some(b)) if b >= a && a > 0.0 => Some(b - a),
            _ => None,
        }
    }

    /// Bytes the simulation transfers: what crossed the wire, or the decoded
    /// size when the transfer size was hidden.
    pub fn bytes(&self) -> u64 {
        if self.transfer_bytes > 0 {
            self.transfer_bytes
        } else {
            self.decoded_bytes
        }
    }

    pub fn is_secure(&self) -> bool {
        self.origin.starts_with("https:")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceType {
    Document,
    Stylesheet,
    Script,
    Font,
    Image,
    Media,
    Fetch,
    Other,
}

/// Chrome's fetch priorities, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    VeryLow,
    Low,
    Medium,
    High,
    VeryHigh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// HTTP/1.0 and 1.1: one request at a time per connection.
    H1,
    /// HTTP/2 and HTTP/3: one multiplexed connection per origin.
    H2,
}

/// One top-level main-thread task (Long Tasks API `longtask` entry or a CDP
/// `RunTask` event).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub start_ms: f64,
    pub duration_ms: f64,
}

/// Paint milestones from PerformanceObserver.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Paints {
    /// `first-contentful-paint` paint entry.
    pub fcp_ms: Option<f64>,
    /// The last `largest-contentful-paint` entry's `startTime`.
    pub lcp_ms: Option<f64>,
    /// Index in `Trace::requests` of the resource the LCP element shows (the
    /// entry's `url` matched to a request), if it is an image or a video poster.
    pub lcp_request: Option<usize>,
}
