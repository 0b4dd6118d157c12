//! The figures an audit measured (or estimated), kept with the audit so the
//! report, the draft and `audit show --json` can quote them: TTFB, paint
//! times, layout shift, blocking time, DOM size, page weight, requests by
//! type, render-blocking resources, largest images, and a Lighthouse-style
//! mobile estimate.
//!
//! Plain data: the browser stage fills it from the page it loaded, the HTTP
//! audit fills the little an HTTP fetch can see. When the mobile estimate is
//! there it is the speed category's score (`pipeline::audit::score`), and
//! the browser's speed checks judge its figures; the unthrottled
//! measurements stay beside it as "measured here". The wording that labels
//! an estimate ([`MobileEstimate::device`], [`MobileEstimate::basis`]) and
//! the way figures are shown ([`seconds`], [`megabytes`]) live here so
//! checks, the draft and its evidence gate say the same thing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What an audit measured. Every figure is optional: an HTTP-only audit has
/// no paint times, a page without images has no largest image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditMetrics {
    /// Who measured: `http` (the fetch alone) or `browser` (the phone view of
    /// an unthrottled Chromium load).
    pub source: String,
    pub ttfb: Option<Figure>,
    pub fcp: Option<Figure>,
    pub lcp: Option<Figure>,
    pub cls: Option<Figure>,
    /// Total blocking time from the Long Tasks API, unthrottled: each task's
    /// time beyond 50 ms after the first paint.
    pub tbt: Option<Figure>,
    /// The longest main-thread task seen.
    pub longest_task: Option<Figure>,
    pub long_tasks: Option<Figure>,
    /// Elements in the DOM once the page settled.
    pub dom_size: Option<Figure>,
    pub transfer_bytes: Option<Figure>,
    pub decoded_bytes: Option<Figure>,
    pub requests: Option<Figure>,
    /// Requests by resource type (`document`, `stylesheet`, `script`,
    /// `font`, `image`, `media`, `fetch`, `other`).
    pub requests_by_type: BTreeMap<String, u64>,
    pub render_blocking: Option<RenderBlocking>,
    /// The heaviest images, heaviest first (at most a few).
    pub largest_images: Vec<ImageWeight>,
    /// What a Lighthouse mobile run would most likely measure.
    pub mobile_estimate: Option<MobileEstimate>,
}

// Figures are never NaN (the parsers drop non-finite numbers), so equality
// is total and audits stay comparable as a whole.
impl Eq for AuditMetrics {}

impl AuditMetrics {
    /// What the HTTP fetch alone measured: time to first byte and the weight
    /// of the HTML document.
    pub fn from_http(ttfb_ms: u64, transfer_bytes: u64, decoded_bytes: u64) -> Self {
        Self {
            source: "http".into(),
            ttfb: Some(Figure::measured(ttfb_ms as f64, Unit::Ms)),
            transfer_bytes: Some(Figure::measured(transfer_bytes as f64, Unit::Bytes)),
            decoded_bytes: Some(Figure::measured(decoded_bytes as f64, Unit::Bytes)),
            requests: Some(Figure::measured(1.0, Unit::Count)),
            requests_by_type: [("document".to_string(), 1)].into_iter().collect(),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Ms,
    Bytes,
    Count,
    Unitless,
}

/// One number with its unit, and whether it was measured here (true) or
/// estimated (false).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub value: f64,
    pub unit: Unit,
    pub measured: bool,
}

impl Figure {
    pub fn measured(value: f64, unit: Unit) -> Self {
        Self {
            value,
            unit,
            measured: true,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderBlocking {
    pub count: u64,
    /// The first few, in load order (untrusted page text, cleaned).
    pub urls: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageWeight {
    pub url: String,
    pub transfer_bytes: u64,
    pub decoded_bytes: u64,
}

/// One estimated metric with its Lighthouse score (0..=1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EstimatedFigure {
    pub value: f64,
    pub unit: Unit,
    /// True when simulated; false for CLS, which is taken as observed.
    pub estimated: bool,
    pub score: f64,
}

/// A Lighthouse-style mobile estimate of the page (simulated throttling).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MobileEstimate {
    pub fcp: EstimatedFigure,
    pub lcp: EstimatedFigure,
    pub tbt: EstimatedFigure,
    pub speed_index: EstimatedFigure,
    pub cls: EstimatedFigure,
    /// The performance category Lighthouse would most likely give, 0..=100.
    pub performance: u8,
    /// The Lighthouse whose curves and weights scored it.
    pub lighthouse_version: String,
    pub conditions: EstimateConditions,
}

/// The simulated phone and network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EstimateConditions {
    pub rtt_ms: f64,
    pub throughput_kbps: f64,
    pub cpu_slowdown: f64,
}

/// A time as it is shown: seconds with one decimal ("7.0 s").
pub fn seconds(ms: f64) -> String {
    format!("{:.1} s", ms / 1000.0)
}

/// A size as it is shown: megabytes with one decimal ("2.4 MB"), decimal
/// like [`show`] (1 MB = 1,000,000 bytes), so every face says the same.
pub fn megabytes(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1e6)
}

/// Lighthouse's default mobile conditions ("Slow 4G" on an emulated
/// mid-range phone): 150 ms round trips, 1.6 Mbit/s down, 4× CPU slowdown.
/// Only used to name conditions, never to set them (the estimate carries
/// its own).
const SLOW_4G: EstimateConditions = EstimateConditions {
    rtt_ms: 150.0,
    throughput_kbps: 1638.4,
    cpu_slowdown: 4.0,
};

impl MobileEstimate {
    /// The device and network the estimate stands for, for a sentence:
    /// "a mid-range phone on slow 4G" under Lighthouse's default mobile
    /// conditions, otherwise the conditions spelled out.
    pub fn device(&self) -> String {
        let c = &self.conditions;
        let near = |a: f64, b: f64| (a - b).abs() <= b * 0.05;
        if near(c.rtt_ms, SLOW_4G.rtt_ms)
            && near(c.throughput_kbps, SLOW_4G.throughput_kbps)
            && near(c.cpu_slowdown, SLOW_4G.cpu_slowdown)
        {
            "a mid-range phone on slow 4G".to_string()
        } else {
            format!(
                "a phone with a {}× slower CPU on {:.1} Mbit/s and {:.0} ms round trips",
                c.cpu_slowdown,
                c.throughput_kbps / 1000.0,
                c.rtt_ms
            )
        }
    }

    /// How the figures came about: "estimated as Lighthouse 12.8.2
    /// measures mobile", with the version the estimate was scored by.
    pub fn basis(&self) -> String {
        format!(
            "estimated as Lighthouse {} measures mobile",
            self.lighthouse_version
        )
    }
}
// How figures read to people. Shared by the report page, the TUI and the
// CLI so the three never disagree on a number.

impl Figure {
    /// `180 ms`, `1.2 s`, `2.4 MB`, `1,234`, `0.05`.
    pub fn display(&self) -> String {
        show(self.value, self.unit)
    }
}

impl EstimatedFigure {
    pub fn display(&self) -> String {
        show(self.value, self.unit)
    }

    pub fn rating(&self) -> Rating {
        Rating::of(self.score)
    }
}

/// A metric's mark by its Lighthouse score, in Lighthouse's own bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rating {
    Good,
    NeedsWork,
    Poor,
}

impl Rating {
    /// ≥ 0.9 good, ≥ 0.5 needs work (Lighthouse's "average"), else poor.
    pub fn of(score: f64) -> Self {
        if score >= 0.9 {
            Self::Good
        } else if score >= 0.5 {
            Self::NeedsWork
        } else {
            Self::Poor
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::NeedsWork => "needs work",
            Self::Poor => "poor",
        }
    }

    /// The report page's colour names (the score gauges use the same).
    pub fn class(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::NeedsWork => "fair",
            Self::Poor => "poor",
        }
    }
}

/// A value in its unit for people. Times under a second in whole
/// milliseconds, above in seconds with one decimal; bytes in decimal units
/// (1 MB = 1,000,000 bytes, as browsers' developer tools count); counts
/// with thousands separators; unitless values (layout shift) with up to
/// three decimals, as Lighthouse shows them.
pub fn show(value: f64, unit: Unit) -> String {
    let value = value.max(0.0);
    match unit {
        Unit::Ms if value.round() < 1000.0 => format!("{:.0} ms", value),
        Unit::Ms => format!("{:.1} s", value / 1000.0),
        Unit::Bytes => bytes(value),
        Unit::Count => count(value.round() as u64),
        Unit::Unitless => {
            let text = format!("{value:.3}");
            let text = text.trim_end_matches('0').trim_end_matches('.');
            text.to_string()
        }
    }
}

fn bytes(value: f64) -> String {
    if value.round() < 1000.0 {
        format!("{value:.0} B")
    } else if (value / 1e3 * 10.0).round() < 100.0 {
        format!("{:.1} KB", value / 1e3)
    } else if (value / 1e3).round() < 1000.0 {
        format!("{:.0} KB", value / 1e3)
    } else {
        format!("{:.1} MB", value / 1e6)
    }
}

/// `1234567` as `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

impl EstimateConditions {
    /// `150 ms round trip, 1.6 Mbit/s, 4× slower CPU`. Lighthouse counts
    /// 1 Mbit/s as 1,024 kbit/s (its 1.6 Mbit/s is 1,638.4 kbit/s).
    pub fn describe(&self) -> String {
        format!(
            "{:.0} ms round trip, {:.1} Mbit/s, {}× slower CPU",
            self.rtt_ms,
            self.throughput_kbps / 1024.0,
            show(self.cpu_slowdown, Unit::Unitless)
        )
    }
}

#[cfg(test)]
mod display_tests {
    use super::*;

    #[test]
    fn figures_read_as_people_write_them() {
        let cases = [
            (0.0, Unit::Ms, "0 ms"),
            (180.4, Unit::Ms, "180 ms"),
            (999.6, Unit::Ms, "1.0 s"),
            (1234.0, Unit::Ms, "1.2 s"),
            (7040.0, Unit::Ms, "7.0 s"),
            (820.0, Unit::Bytes, "820 B"),
            (999.7, Unit::Bytes, "1.0 KB"),
            (4_560.0, Unit::Bytes, "4.6 KB"),
            (48_200.0, Unit::Bytes, "48 KB"),
            (999_700.0, Unit::Bytes, "1.0 MB"),
            (2_400_000.0, Unit::Bytes, "2.4 MB"),
            (58.0, Unit::Count, "58"),
            (1_234_567.0, Unit::Count, "1,234,567"),
            (0.0, Unit::Unitless, "0"),
            (0.1, Unit::Unitless, "0.1"),
            (0.0243, Unit::Unitless, "0.024"),
        ];
        for (value, unit, text) in cases {
            assert_eq!(show(value, unit), text, "{value} {unit:?}");
        }
    }

    #[test]
    fn marks_follow_lighthouse_bands() {
        assert_eq!(Rating::of(0.9), Rating::Good);
        assert_eq!(Rating::of(0.89), Rating::NeedsWork);
        assert_eq!(Rating::of(0.5), Rating::NeedsWork);
        assert_eq!(Rating::of(0.49), Rating::Poor);
        let lighthouse = EstimateConditions {
            rtt_ms: 150.0,
            throughput_kbps: 1638.4,
            cpu_slowdown: 4.0,
        };
        assert_eq!(
            lighthouse.describe(),
            "150 ms round trip, 1.6 Mbit/s, 4× slower CPU"
        );
    }
}
