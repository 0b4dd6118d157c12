//! Runs and jobs: a run takes leads of a campaign through stages; a job is
//! one (lead, stage) pair of a run, and every attempt of it is recorded.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ids::{JobId, RunId};
use super::{CampaignId, LeadId, Timestamp};

/// A stage name: lowercase letters, digits, `-` and `_`. The pipeline's
/// stages are `fetch`, `audit`, `screenshot`, `report`, `draft` (and the
/// explicit `send`); the engine runs whatever stages it is given.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Stage(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a stage name (lowercase letters, digits, - and _)")]
pub struct StageNameError(pub String);

impl Stage {
    pub fn new(name: &str) -> Result<Self, StageNameError> {
        let ok = !name.is_empty()
            && name.len() <= 32
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(name.to_string()))
        } else {
            Err(StageNameError(name.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stage({})", self.0)
    }
}

impl TryFrom<String> for Stage {
    type Error = StageNameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<Stage> for String {
    fn from(value: Stage) -> Self {
        value.0
    }
}

impl FromStr for Stage {
    type Err = StageNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s.trim())
    }
}

/// Where a job stands. `Queued` includes jobs waiting for a retry's backoff
/// (`Retrying`, which keeps its own name so the run log shows why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued = 1,
    Running = 2,
    Succeeded = 3,
    Retrying = 4,
    /// A permanent error: retrying would not help.
    Failed = 5,
    /// Every attempt ended in a transient error.
    Dead = 6,
    Cancelled = 7,
    Skipped = 8,
    /// A side effect may or may not have happened (a crash while it ran);
    /// never retried automatically.
    NeedsReview = 9,
}

impl JobStatus {
    pub const ALL: [JobStatus; 9] = [
        Self::Queued,
        Self::Running,
        Self::Succeeded,
        Self::Retrying,
        Self::Failed,
        Self::Dead,
        Self::Cancelled,
        Self::Skipped,
        Self::NeedsReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
            Self::NeedsReview => "needs_review",
        }
    }

    pub fn key_byte(self) -> u8 {
        self as u8
    }

    pub fn from_key_byte(byte: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key_byte() == byte)
    }

    /// Finished: nothing more will happen unless an operator acts.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Queued | Self::Running | Self::Retrying)
    }

    /// Ended badly; `jobs retry --failed` picks these up.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::Dead | Self::NeedsReview)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a job status (one of: queued, running, succeeded, retrying, failed, dead, cancelled, skipped, needs_review)"
)]
pub struct JobStatusError(pub String);

impl FromStr for JobStatus {
    type Err = JobStatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == wanted)
            .ok_or_else(|| JobStatusError(s.to_string()))
    }
}

/// The state of a job's side effect, for stages that have one (sending).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EffectState {
    #[default]
    None,
    /// Flushed before the effect starts. Found after a crash, it means the
    /// effect may have happened: the job goes to `needs_review`.
    InProgress,
    Done,
}

/// A running job's claim: who holds it and until when, renewed by heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub owner: String,
    pub until: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub run: RunId,
    pub campaign: CampaignId,
    pub lead: LeadId,
    pub stage: Stage,
    pub status: JobStatus,
    /// Attempts made so far (the number of the last attempt).
    pub attempts: u32,
    /// Attempts before this count are from before a manual retry and do not
    /// count against `max_attempts`.
    #[serde(default)]
    pub attempt_base: u32,
    pub max_attempts: u32,
    /// Earliest time the job may run (later than now while backing off).
    pub run_at: Timestamp,
    #[serde(default)]
    pub lease: Option<Lease>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub effect: EffectState,
    /// Set by `jobs cancel` while the job runs; honoured when it finishes.
    #[serde(default)]
    pub cancel_requested: bool,
    pub created_at: Timestamp,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    #[serde(default)]
    pub finished_at: Option<Timestamp>,
}

impl Job {
    /// Attempts left before the job goes dead.
    pub fn attempts_left(&self) -> u32 {
        self.max_attempts
            .saturating_sub(self.attempts.saturating_sub(self.attempt_base))
    }
}

/// One attempt of one job, as the run log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub job: JobId,
    pub run: RunId,
    pub lead: LeadId,
    pub stage: Stage,
    pub attempt: u32,
    pub status: JobStatus,
    /// The error and its causes, outermost first.
    #[serde(default)]
    pub error: Vec<String>,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub duration_ms: u64,
}

/// A pipeline run over leads of one campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub id: RunId,
    pub campaign: CampaignId,
    pub stages: Vec<Stage>,
    /// How the leads were chosen, for people: `all leads`, `status failed`, ...
    pub selection: String,
    pub leads: u64,
    pub created_at: Timestamp,
}

/// Exponential backoff: `base * 2^(attempt-1)`, capped, with up to ±20%
/// jitter from `jitter_unit` (a number in 0..1) so that retries spread out.
pub fn backoff(base_ms: u64, max_ms: u64, attempt: u32, jitter_unit: f64) -> u64 {
    let exp = attempt.saturating_sub(1).min(30);
    let raw = base_ms.saturating_mul(1u64 << exp).min(max_ms);
    let jitter = 0.8 + 0.4 * jitter_unit.clamp(0.0, 1.0);
    ((raw as f64) * jitter) as u64
}

/// How the jobs of one stage (of a run, or of all time) stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCounts {
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub skipped: u64,
    pub dead: u64,
    pub cancelled: u64,
    pub needs_review: u64,
}

impl StageCounts {
    pub fn finished(&self) -> u64 {
        self.succeeded + self.failed + self.skipped + self.dead + self.cancelled + self.needs_review
    }

    /// Queued, retrying or running.
    pub fn pending(&self) -> u64 {
        self.total.saturating_sub(self.finished())
    }

    /// Counts `n` jobs that ended in `status`; statuses still under way
    /// are only in `total`.
    pub fn add_finished(&mut self, status: JobStatus, n: u64) {
        match status {
            JobStatus::Succeeded => self.succeeded += n,
            JobStatus::Failed => self.failed += n,
            JobStatus::Skipped => self.skipped += n,
            JobStatus::Dead => self.dead += n,
            JobStatus::Cancelled => self.cancelled += n,
            JobStatus::NeedsReview => self.needs_review += n,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        assert_eq!(backoff(1000, 60_000, 1, 0.5), 1000);
        assert_eq!(backoff(1000, 60_000, 2, 0.5), 2000);
        assert_eq!(backoff(1000, 60_000, 3, 0.5), 4000);
        assert_eq!(backoff(1000, 60_000, 30, 0.5), 60_000);
        assert_eq!(backoff(1000, 60_000, 1, 0.0), 800);
        assert_eq!(backoff(1000, 60_000, 1, 1.0), 1200);
    }

    #[test]
    fn statuses_round_trip() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::from_key_byte(s.key_byte()), Some(s));
            assert_eq!(s.as_str().parse::<JobStatus>().unwrap(), s);
        }
        assert!(JobStatus::Dead.is_terminal() && !JobStatus::Retrying.is_terminal());
    }

    #[test]
    fn stage_names() {
        assert!(Stage::new("fetch").is_ok());
        assert!(Stage::new("t_flaky-2").is_ok());
        assert!(Stage::new("Fetch").is_err());
        assert!(Stage::new("").is_err());
    }
}
