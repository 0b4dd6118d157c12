//! The action log tree: time-ordered keys (a ULID each), never rewritten.

use super::codec::{decode, encode};
use super::{Result, Store};
use crate::domain::action_log::ActionRecord;

impl Store {
    pub fn append_action(&self, id: ulid::Ulid, record: &ActionRecord) -> Result<()> {
        self.trees
            .action_log
            .insert(id.to_bytes(), encode(record))?;
        Ok(())
    }

    /// The newest `limit` records that `keep` accepts, oldest first. Reads
    /// from the newest back and stops once it has them.
    pub fn actions(
        &self,
        limit: usize,
        keep: impl Fn(&ActionRecord) -> bool,
    ) -> Result<Vec<ActionRecord>> {
        let mut out = Vec::new();
        for item in self.trees.action_log.iter().rev() {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item?;
            let record: ActionRecord = decode("action_log", &k, &v)?;
            if keep(&record) {
                out.push(record);
            }
        }
        out.reverse();
        Ok(out)
    }
}
