//! Run records and their per-stage counters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::codec::{decode, encode};
use super::{Result, Store, counter_value};
use crate::domain::{JobStatus, Run, RunId, Stage};

/// How the jobs of one stage of a run stand.
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

    fn add(&mut self, status_byte: u8, n: u64) {
        match JobStatus::from_key_byte(status_byte) {
            None if status_byte == 0 => self.total += n,
            Some(JobStatus::Succeeded) => self.succeeded += n,
            Some(JobStatus::Failed) => self.failed += n,
            Some(JobStatus::Skipped) => self.skipped += n,
            Some(JobStatus::Dead) => self.dead += n,
            Some(JobStatus::Cancelled) => self.cancelled += n,
            Some(JobStatus::NeedsReview) => self.needs_review += n,
            _ => {}
        }
    }
}

impl Store {
    pub fn insert_run(&self, run: &Run) -> Result<()> {
        self.trees.runs.insert(run.id.to_bytes(), encode(run))?;
        Ok(())
    }

    pub fn run(&self, id: RunId) -> Result<Option<Run>> {
        let key = id.to_bytes();
        self.trees
            .runs
            .get(key)?
            .map(|v| decode("runs", &key, &v))
            .transpose()
    }

    /// All runs, newest first.
    pub fn runs(&self) -> Result<Vec<Run>> {
        self.trees
            .runs
            .iter()
            .rev()
            .map(|item| {
                let (k, v) = item?;
                decode("runs", &k, &v)
            })
            .collect()
    }

    /// Per-stage counts of a run, from the maintained counters.
    pub fn run_counts(&self, run: RunId) -> Result<BTreeMap<Stage, StageCounts>> {
        let mut out: BTreeMap<Stage, StageCounts> = BTreeMap::new();
        for item in self.trees.run_counts.scan_prefix(run.to_bytes()) {
            let (key, value) = item?;
            if let Some((stage, status)) = split_stage_status(&key[16..]) {
                out.entry(stage)
                    .or_default()
                    .add(status, counter_value(&value));
            }
        }
        Ok(out)
    }

    /// Counts of every job ever queued, by stage.
    pub fn job_counts(&self) -> Result<BTreeMap<Stage, StageCounts>> {
        let mut out: BTreeMap<Stage, StageCounts> = BTreeMap::new();
        for item in self.trees.job_counts.iter() {
            let (key, value) = item?;
            if let Some((stage, status)) = split_stage_status(&key) {
                out.entry(stage)
                    .or_default()
                    .add(status, counter_value(&value));
            }
        }
        Ok(out)
    }
}

/// Reads `len ++ stage name ++ status byte`.
fn split_stage_status(key: &[u8]) -> Option<(Stage, u8)> {
    let len = *key.first()? as usize;
    let name = std::str::from_utf8(key.get(1..1 + len)?).ok()?;
    let status = *key.get(1 + len)?;
    Some((Stage::new(name).ok()?, status))
}
