//! The figures on the metrics listener, in the OpenMetrics text format
//! that Prometheus scrapes. The format (types, `_total` suffixes, escaping,
//! the closing `# EOF`) is `prometheus-client`'s; this module only says
//! which figures there are and reads them from the store at each scrape.
//!
//! All-time counts (jobs by final status, jobs created) are counters;
//! figures that go up and down (the queue, leads in a state) are gauges.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::{Result, Service, ServiceError};
use crate::domain::LeadStatus;

/// The labels of a per-stage series.
type Labels = Vec<(&'static str, String)>;

/// The media type of [`Service::metrics_text`].
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A gauge already set to `value`.
fn gauge(value: u64) -> Gauge {
    let gauge = Gauge::default();
    gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
    gauge
}

impl Service {
    /// The queue, jobs, audits and sends as OpenMetrics text.
    pub async fn metrics_text(&self) -> Result<String> {
        // Built afresh per scrape: the figures live in the store (so they
        // survive restarts and count work done by every process), not in
        // in-memory counters.
        let mut registry = Registry::with_prefix("leadscout");
        let stats = *self.queue_stats().borrow();
        registry.register(
            "jobs_queued",
            "Jobs waiting to run, including retries backing off",
            gauge(stats.queued),
        );
        registry.register("jobs_running", "Jobs running now", gauge(stats.running));
        registry.register(
            "jobs_done_per_minute",
            "Jobs finished in the last minute",
            gauge(stats.done_per_minute),
        );

        let created = Family::<Labels, Counter>::default();
        let finished = Family::<Labels, Counter>::default();
        for (stage, counts) in self.store().job_counts()? {
            created
                .get_or_create(&vec![("stage", stage.to_string())])
                .inc_by(counts.total);
            for (status, n) in [
                ("succeeded", counts.succeeded),
                ("failed", counts.failed),
                ("skipped", counts.skipped),
                ("dead", counts.dead),
                ("cancelled", counts.cancelled),
                ("needs_review", counts.needs_review),
            ] {
                finished
                    .get_or_create(&vec![
                        ("stage", stage.to_string()),
                        ("status", status.into()),
                    ])
                    .inc_by(n);
            }
        }
        registry.register(
            "jobs_created",
            "Jobs created by stage, since the store was made",
            created,
        );
        registry.register(
            "jobs",
            "Jobs by stage and final status, since the store was made",
            finished,
        );

        let (mut audited, mut sent) = (0u64, 0u64);
        for campaign in self.store().campaigns()? {
            for (status, n) in self.store().lead_counts(campaign.id)? {
                if status == LeadStatus::Sent {
                    sent += n;
                }
                if !matches!(
                    status,
                    LeadStatus::New | LeadStatus::Fetched | LeadStatus::Failed
                ) {
                    audited += n;
                }
            }
        }
        registry.register(
            "leads_audited",
            "Leads with at least one audit",
            gauge(audited),
        );
        registry.register(
            "leads_sent",
            "Leads whose email was sent and not yet answered",
            gauge(sent),
        );

        let mut out = String::new();
        encode(&mut out, &registry)
            .map_err(|e| ServiceError::Invalid(format!("the metrics could not be written: {e}")))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the crate writes for our shapes: counters typed `counter` with
    /// `_total` samples, gauges as they are, and the closing `# EOF`.
    #[test]
    fn counters_are_counters_and_gauges_gauges() {
        let mut registry = Registry::with_prefix("leadscout");
        registry.register("jobs_queued", "Queued", gauge(3));
        let jobs = Family::<Labels, Counter>::default();
        jobs.get_or_create(&vec![
            ("stage", "report".into()),
            ("status", "succeeded".into()),
        ])
        .inc_by(2);
        registry.register("jobs", "Jobs", jobs);
        let mut out = String::new();
        encode(&mut out, &registry).unwrap();
        assert!(
            out.contains("# TYPE leadscout_jobs_queued gauge\nleadscout_jobs_queued 3\n"),
            "{out}"
        );
        assert!(out.contains("# TYPE leadscout_jobs counter\n"), "{out}");
        assert!(
            out.contains("leadscout_jobs_total{stage=\"report\",status=\"succeeded\"} 2\n"),
            "{out}"
        );
        assert!(out.ends_with("# EOF\n"), "{out}");
    }
}
