//! The mobile metric estimates: which part of the graph each metric needs,
//! and how the simulated times combine into one value.
//!
//! As in Lighthouse's Lantern, each of FCP, LCP and TTI is simulated on an
//! optimistic and a pessimistic subgraph and the two are blended with
//! Lantern's published coefficients (Lighthouse 12.x: FCP and LCP 0.5/0.5,
//! TTI 0.45/0.55, Speed Index 1.4/0.4 at 150 ms RTT, no intercepts):
//! - **FCP**: pessimistic keeps the document, every render-blocking request
//!   (the browser's flag, a font, very high priority, or a high-priority
//!   script) that finished
//!   before the observed first paint, and every task that started before it;
//!   optimistic also drops script-initiated requests and tasks not caused by
//!   a kept request. The estimate is the end of the last kept node.
//! - **LCP**: the same with the observed LCP as cutoff. Optimistic keeps
//!   every request but images not known to be high priority (Resource
//!   Timing carries no priority, so usually: the FCP graph plus the LCP
//!   element's resource); pessimistic keeps everything that finished before
//!   the observed LCP. Never below FCP.
//! - **TTI** (only to bound TBT): the last simulated task over 50 ms, at least
//!   LCP (Lantern uses first meaningful paint, which Chrome no longer reports).
//! - **TBT**: over the full graph, each simulated task's time beyond 50 ms
//!   inside [FCP, TTI]; the optimistic side uses the later FCP and earlier TTI.
//!   Tasks that ran before the observed first paint never count: they
//!   were part of painting it.
//! - **Speed Index**: optimistic is the observed Speed Index when the trace
//!   has one, else the mean of the observed FCP and LCP (a page typically
//!   shows most content between the two); pessimistic is Lantern's
//!   layout-based estimate (task end times weighted by log2 of their
//!   duration, none before FCP) over the tasks that started before the
//!   observed LCP, as the trace does not say which tasks did layout.
//!   Never below FCP.
//! - **CLS** is the observed value: throttling does not change what shifts.

use serde::{Deserialize, Serialize};

use super::graph::Graph;
use super::score::{LIGHTHOUSE_VERSION, MetricScores};
use super::simulate::{Conditions, Timing, simulate};
use super::trace::{Priority, Request, ResourceType, Trace};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Ms,
    Unitless,
}

/// One metric: its value, unit, whether simulated or observed, and its
/// Lighthouse score 0..=1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricEstimate {
    pub value: f64,
    pub unit: Unit,
    /// True when simulated; false when taken as observed (CLS).
    pub estimated: bool,
    pub score: f64,
    /// The two simulations blended into `value`, when there were two.
    pub optimistic: Option<f64>,
    pub pessimistic: Option<f64>,
}

/// The mobile estimate of one page load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub fcp: MetricEstimate,
    pub speed_index: MetricEstimate,
    pub lcp: MetricEstimate,
    pub tbt: MetricEstimate,
    pub cls: MetricEstimate,
    /// Time to interactive, ms: not scored since Lighthouse 10, kept because it bounds TBT.
    pub tti_ms: f64,
    /// The performance category, 0..=100.
    pub performance: u8,
    /// The Lighthouse whose curves and weights scored it.
    pub lighthouse_version: String,
    pub conditions: Conditions,
}

const BLOCKING_MS: f64 = 50.0;

pub fn estimate_with(trace: &Trace, c: &Conditions) -> Option<Estimate> {
    let doc = trace.requests.first()?;
    let g = Graph::build(trace);
    let n = g.requests;
    let reqs = &trace.requests;
    let fcp_obs = trace.paints.fcp_ms.unwrap_or_else(|| {
        reqs.iter()
            .filter(|r| r.render_blocking)
            .map(|r| r.end_ms)
            .fold(doc.end_ms, f64::max)
    });
    let lcp_obs = trace.paints.lcp_ms.unwrap_or(fcp_obs).max(fcp_obs);
    let lcp_req = trace.paints.lcp_request.filter(|&i| i < n);
    let task = |node: usize| trace.tasks[node - n];
    let parent_is_script = |i: usize| {
        g.deps[i]
            .first()
            .is_some_and(|&p| p < n && reqs[p].resource_type == ResourceType::Script)
    };
    // Lantern's "render-blocking priority" (very high, or a high-priority
    // script), plus the browser's own flag, which Resource Timing gives
    // when priorities are unknown. Fonts are very high in Chrome.
    let blocking = |r: &Request| {
        r.render_blocking
            || r.resource_type == ResourceType::Font
            || r.priority == Some(Priority::VeryHigh)
            || (r.priority == Some(Priority::High) && r.resource_type == ResourceType::Script)
    };
    let low_image = |i: usize| {
        reqs[i].resource_type == ResourceType::Image
            && Some(i) != lcp_req
            && reqs[i].priority.is_none_or(|p| p < Priority::High)
    };

    // First paint–based graphs (FCP, LCP).
    let paint_graph =
        |cutoff: f64, net: &dyn Fn(usize) -> bool, all_tasks: bool, needed: Option<usize>| {
            let nets: Vec<bool> = (0..n)
                .map(|i| i == 0 || Some(i) == needed || (reqs[i].end_ms <= cutoff && net(i)))
                .collect();
            g.closure(|node| {
                if node < n {
                    nets[node]
                } else {
                    task(node).start_ms <= cutoff
                        && (all_tasks || g.deps[node].iter().all(|&d| d >= n || nets[d]))
                }
            })
        };
    let last_end = |t: &[Option<Timing>], counts: &dyn Fn(usize) -> bool| {
        t.iter()
            .enumerate()
            .filter(|(node, _)| counts(*node))
            .filter_map(|(_, t)| t.map(|t| t.end))
            .fold(0.0, f64::max)
    };
    let run = |keep: &[bool]| simulate(trace, &g, keep, c);
    let all = |_: usize| true;

    let fcp_o = last_end(
        &run(&paint_graph(
            fcp_obs,
            &|i| blocking(&reqs[i]) && !parent_is_script(i),
            false,
            None,
        )),
        &all,
    );
    let fcp_p = last_end(
        &run(&paint_graph(fcp_obs, &|i| blocking(&reqs[i]), true, None)),
        &all,
    );
    let fcp = 0.5 * fcp_o + 0.5 * fcp_p;

    let lcp_counts = |node: usize| node >= n || !low_image(node);
    let lcp_o = last_end(
        &run(&paint_graph(lcp_obs, &|i| !low_image(i), false, lcp_req)),
        &lcp_counts,
    );
    let lcp_p = last_end(
        &run(&paint_graph(lcp_obs, &|_| true, true, lcp_req)),
        &lcp_counts,
    );
    let lcp = (0.5 * lcp_o + 0.5 * lcp_p).max(fcp);

    // Interactive: long tasks and what scripts need, then everything.
    let full = run(&vec![true; g.deps.len()]);
    let tti_graph = g.closure(|node| {
        if node < n {
            let r = &reqs[node];
            node == 0
                || (r.resource_type != ResourceType::Image
                    && (r.resource_type == ResourceType::Script
                        || r.render_blocking
                        || r.priority.is_some_and(|p| p >= Priority::High)))
        } else {
            task(node).duration_ms > 20.0
        }
    });
    let last_long = |t: &[Option<Timing>]| {
        t[n..]
            .iter()
            .flatten()
            .filter(|t| t.end - t.start > BLOCKING_MS)
            .map(|t| t.end)
            .fold(0.0, f64::max)
    };
    let tti_o = last_long(&run(&tti_graph)).max(lcp_o);
    let tti_p = last_long(&full).max(lcp_p);
    let tti = (0.45 * tti_o + 0.55 * tti_p).max(lcp);

    let blocking_in = |from: f64, to: f64| -> f64 {
        if to <= from {
            return 0.0;
        }
        // A task that ran before the observed first paint was part of
        // painting it: whatever the simulation shifts, it cannot block
        // after the first paint (Lantern's first-paint graph keeps it too).
        full[n..]
            .iter()
            .zip(&trace.tasks)
            .filter(|(_, obs)| obs.start_ms >= fcp_obs)
            .filter_map(|(t, _)| *t)
            .filter(|t| t.end - t.start >= BLOCKING_MS && t.end >= from && t.start <= to)
            .map(|t| (t.end.min(to) - t.start.max(from) - BLOCKING_MS).max(0.0))
            // Not `sum()`: a float sum of nothing is -0.0, shown as "-0 ms".
            .fold(0.0, |total, blocked| total + blocked)
    };
    let tbt_o = blocking_in(fcp_p, tti_o);
    let tbt_p = blocking_in(fcp_o, tti_p);
    let tbt = 0.5 * tbt_o + 0.5 * tbt_p;

    let si_o = trace
        .observed_speed_index_ms
        .unwrap_or((fcp_obs + lcp_obs) / 2.0);
    // Lantern weighs only tasks that did layout; the trace does not say
    // which did, so take those that started before the observed LCP, when
    // the visible content was being laid out, and not later script work.
    let painting = full[n..]
        .iter()
        .zip(&trace.tasks)
        .filter(|(_, obs)| obs.start_ms <= lcp_obs)
        .filter_map(|(t, _)| *t);
    let (weighted, weight) = painting.fold((0.0, 0.0), |(s, w), t| {
        let wt = (t.end - t.start).log2().max(0.0);
        (s + wt * t.end.max(fcp_p), w + wt)
    });
    let si_p = if weight > 0.0 {
        weighted / weight
    } else {
        fcp_p
    };
    // Lantern scales its Speed Index blend from 50/50 at 30 ms RTT to the
    // fitted coefficients at 150 ms.
    let m = ((c.rtt_ms - 30.0) / 120.0).max(0.0);
    let si = ((0.5 + 0.9 * m) * si_o + (0.5 - 0.1 * m) * si_p).max(fcp);

    let cls = trace.cumulative_layout_shift.max(0.0);
    let scores = MetricScores::mobile(fcp, si, lcp, tbt, cls);
    let ms = |value, score, o, p| MetricEstimate {
        value,
        unit: Unit::Ms,
        estimated: true,
        score,
        optimistic: Some(o),
        pessimistic: Some(p),
    };
    Some(Estimate {
        fcp: ms(fcp, scores.fcp, fcp_o, fcp_p),
        speed_index: ms(si, scores.si, si_o, si_p),
        lcp: ms(lcp, scores.lcp, lcp_o, lcp_p),
        tbt: ms(tbt, scores.tbt, tbt_o, tbt_p),
        cls: MetricEstimate {
            value: cls,
            unit: Unit::Unitless,
            estimated: false,
            score: scores.cls,
            optimistic: None,
            pessimistic: None,
        },
        tti_ms: tti,
        performance: scores.performance(),
        lighthouse_version: LIGHTHOUSE_VERSION.to_owned(),
        conditions: *c,
    })
}
