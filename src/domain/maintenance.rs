//! What the data dir's upkeep reports to the operator: a backup's manifest,
//! a blob garbage collection's tally and an index rebuild's. Plain data;
//! the store fills them.

use serde::{Deserialize, Serialize};

/// What a backup holds, written beside it as `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub leadscout_version: String,
    pub schema_version: u32,
    pub created_at: String,
    /// Tree name → number of records.
    pub trees: std::collections::BTreeMap<String, u64>,
    pub blobs: u64,
}

/// What a garbage collection did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcReport {
    pub deleted: usize,
    pub kept: usize,
    pub bytes_freed: u64,
}

/// What an index rebuild (`doctor --repair`) found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexRebuild {
    pub leads: u64,
    pub followups: u64,
    /// Leads the domain index cannot hold: a campaign with two leads for
    /// one domain keeps the older in the index, and each other is named.
    pub conflicts: Vec<String>,
    /// Records that could not be read (damaged), left out of the indexes
    /// and named; everything else was indexed.
    pub unreadable: Vec<String>,
}
