//! A Lighthouse-style mobile estimate from one fast page load, as pure code.
//!
//! Owns: the trace shape the browser stage will record ([`trace`]), the
//! request/task dependency graph ([`graph`]), the throttled replay
//! ([`simulate`]), the metric estimates ([`estimate()`]) and Lighthouse 12's
//! scoring ([`score`]). No I/O and no browser: the browser stage collects a
//! [`Trace`] and calls [`estimate()`] on it.
//!
//! The browser stage fills a `Trace` on the phone view and the audit keeps
//! the `Estimate` in its `metrics` (`pipeline::browser::trace`), where it is
//! the speed category's score (`pipeline::audit::score`). Not done yet:
//! initiators/priorities from CDP are not recorded.

pub mod estimate;
pub mod graph;
pub mod score;
pub mod simulate;
pub mod trace;

#[cfg(test)]
mod tests;

pub use estimate::{Estimate, MetricEstimate, Unit, estimate_with};
pub use simulate::Conditions;
pub use trace::Trace;

/// What a Lighthouse 12 mobile run (simulated throttling, the default) would
/// most likely measure for the page this trace was recorded on, with each
/// metric's score and the performance score.
///
/// Meant to be called once per audited page, after the browser stage has
/// loaded it unthrottled and read its timings into a [`Trace`] (document
/// first). CPU-bound (seven simulations of the graph; a 200-request,
/// 21 MB page took about 0.1 s in an unoptimised build), so
/// run it on a blocking thread like the rest of the audit's CPU work.
///
/// `None` when the trace has no document, as then there is nothing to
/// estimate; the caller reports the speed category as not measured.
pub fn estimate(trace: &Trace) -> Option<Estimate> {
    estimate_with(trace, &Conditions::default())
}
