//! Pipeline policy drawn from the config: the job engine's defaults, the
//! per-stage overrides and the settings a stage runs with, and the sending
//! limits as domain rules.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Config, SendingConfig};

/// The job engine's defaults for every stage, and its own timings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Jobs of one stage that run at the same time.
    pub concurrency: usize,
    /// Longest one attempt may take before it is cut off (and retried).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Attempts before a job with transient errors is dead.
    pub max_attempts: u32,
    /// Wait before the first retry; doubles with each attempt.
    #[serde(with = "humantime_serde")]
    pub backoff: Duration,
    /// The longest wait between retries.
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    /// How long a running job's claim lasts without a heartbeat.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    /// How often running jobs' leases are renewed.
    #[serde(with = "humantime_serde")]
    pub heartbeat: Duration,
    /// On shutdown, how long running jobs may take to finish before they
    /// are put back in the queue.
    #[serde(with = "humantime_serde")]
    pub grace: Duration,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            concurrency: 2,
            timeout: Duration::from_secs(60),
            max_attempts: 3,
            backoff: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(5),
            grace: Duration::from_secs(10),
        }
    }
}

/// Overrides for one stage; anything left out comes from `[jobs]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StageConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Duration>,
}

/// The settings one stage runs with, after overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageSettings {
    pub concurrency: usize,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub backoff: Duration,
    pub backoff_max: Duration,
}

impl SendingConfig {
    /// The limits as rules; an error names the key at fault and why.
    pub fn limits(&self) -> Result<crate::domain::sending::Limits, (&'static str, String)> {
        use crate::domain::sending::{Limits, parse_weekday};
        let window = self
            .window
            .parse()
            .map_err(|e: crate::domain::sending::WindowError| ("sending.window", e.to_string()))?;
        let timezone = jiff::tz::TimeZone::get(&self.timezone).map_err(|_| {
            (
                "sending.timezone",
                format!(
                    "`{}` is not a time zone name like \"Europe/Berlin\"",
                    self.timezone
                ),
            )
        })?;
        let mut weekdays = Vec::new();
        for day in &self.weekdays {
            weekdays.push(parse_weekday(day).ok_or_else(|| {
                (
                    "sending.weekdays",
                    format!("`{day}` is not a weekday (mon, tue, ...)"),
                )
            })?);
        }
        if weekdays.is_empty() {
            return Err(("sending.weekdays", "name at least one weekday".into()));
        }
        Ok(Limits {
            window,
            weekdays,
            timezone,
            daily_cap: self.daily_cap,
            campaign_daily_cap: self.campaign_daily_cap,
            min_spacing: jiff::SignedDuration::from_secs(self.min_spacing_secs as i64),
        })
    }
}

impl Config {
    /// The settings a stage runs with: its `[stages.NAME]` overrides over
    /// the `[jobs]` defaults.
    /// Without overrides, the pipeline stages use their own defaults where
    /// `[jobs]` would not fit: fetch waits on the network (8 at a time),
    /// screenshots need one browser session each and can take two minutes.
    pub fn stage(&self, name: &str) -> StageSettings {
        let o = self.stages.get(name).cloned().unwrap_or_default();
        let (concurrency, timeout) = match name {
            "fetch" => (8, self.jobs.timeout),
            // A Grid may queue the session request for up to
            // session_timeout before the capture starts.
            "screenshot" => (
                self.webdriver.sessions,
                self.jobs.timeout.max(Duration::from_secs(120))
                    + if self.webdriver.url.is_empty() {
                        Duration::ZERO
                    } else {
                        self.webdriver.session_timeout
                    },
            ),
            _ => (self.jobs.concurrency, self.jobs.timeout),
        };
        StageSettings {
            concurrency: o.concurrency.unwrap_or(concurrency),
            timeout: o.timeout.unwrap_or(timeout),
            max_attempts: o.max_attempts.unwrap_or(self.jobs.max_attempts),
            backoff: o.backoff.unwrap_or(self.jobs.backoff),
            backoff_max: self.jobs.backoff_max,
        }
    }
}
