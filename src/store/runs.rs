//! Run records and their per-stage counters.

use std::collections::BTreeMap;

use super::codec::{decode, encode};
use super::{Result, Store, counter_value};
use crate::domain::{JobStatus, Run, RunId, Stage, StageCounts};

/// Adds a counter to its stage's counts: status byte 0 is the total, the
/// others are job statuses' key bytes.
fn add_counter(counts: &mut StageCounts, status_byte: u8, n: u64) {
    match JobStatus::from_key_byte(status_byte) {
        None if status_byte == 0 => counts.total += n,
        Some(status) => counts.add_finished(status, n),
        None => {}
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
                add_counter(out.entry(stage).or_default(), status, counter_value(&value));
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
                add_counter(out.entry(stage).or_default(), status, counter_value(&value));
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
