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

    /// The newest `limit` records, oldest first.
    pub fn actions(&self, limit: usize) -> Result<Vec<ActionRecord>> {
        let mut out: Vec<ActionRecord> = self
            .trees
            .action_log
            .iter()
            .rev()
            .take(limit)
            .map(|item| {
                let (k, v) = item?;
                decode("action_log", &k, &v)
            })
            .collect::<Result<_>>()?;
        out.reverse();
        Ok(out)
    }
}
