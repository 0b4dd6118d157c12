//! The action log: every operator action that changes what is sent or to
//! whom, with who did it, from where, and what changed. Append-only.

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// Who acts, and through what: set per command, per TUI, or per client
/// of the control socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The OS user.
    pub user: String,
    /// `cli outreach`, `tui`, ...
    pub via: String,
    /// Browse only: every change is refused.
    pub read_only: bool,
}

impl Actor {
    pub fn new(user: impl Into<String>, via: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            via: via.into(),
            read_only: false,
        }
    }
}

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub at: Timestamp,
    pub user: String,
    pub via: String,
    /// `approve`, `reject`, `restore`, `edit_draft`, `send`, `blacklist_add`,
    /// `blacklist_remove`, `settings_set`, `settings_unset`, `import`, ...
    pub action: String,
    /// The campaign's slug, when the action concerns one.
    pub campaign: Option<String>,
    /// What it was done to: lead ids, an address, a setting key.
    pub target: String,
    /// What changed, in words.
    pub change: String,
}
