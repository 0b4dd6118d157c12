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

impl ActionRecord {
    /// What was done to what, in words: one line that names the setting,
    /// the address or the file, then what changed; lead ids (long, and the
    /// change names the leads) come last. The CLI's `log` and the TUI's
    /// action log both print this, so they never say different things
    /// about the same record.
    pub fn describe(&self) -> String {
        let target = self.target.trim();
        let scope = match &self.campaign {
            Some(c) => format!(" in `{c}`"),
            None if self.action.starts_with("settings_") => " (every campaign)".to_string(),
            None => String::new(),
        };
        let (action, change) = (&self.action, &self.change);
        match action.as_str() {
            _ if target.is_empty() => format!("{action}{scope}: {change}"),
            "approve" | "reject" | "edit_draft" | "mark" => {
                let leads = if target.contains(',') {
                    format!("leads {}", target.replace(',', ", "))
                } else {
                    format!("lead {target}")
                };
                format!("{action}{scope}: {change} ({leads})")
            }
            "settings_set" | "settings_unset" => {
                format!("{action} setting `{target}`{scope}: {change}")
            }
            "import" => format!("{action} file {target}{scope}: {change}"),
            _ => format!("{action} {target}{scope}: {change}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(action: &str, campaign: Option<&str>, target: &str, change: &str) -> ActionRecord {
        ActionRecord {
            at: Timestamp::UNIX_EPOCH,
            user: "jana".into(),
            via: "tui".into(),
            action: action.into(),
            campaign: campaign.map(String::from),
            target: target.into(),
            change: change.into(),
        }
    }

    #[test]
    fn descriptions_name_the_setting_the_lead_and_the_scope() {
        assert_eq!(
            record(
                "settings_set",
                None,
                "report.cta_url",
                "set to `https://a.example`"
            )
            .describe(),
            "settings_set setting `report.cta_url` (every campaign): set to `https://a.example`"
        );
        assert_eq!(
            record("reject", Some("c"), "01A,01B", "rejected 2: Blum, Kranich").describe(),
            "reject in `c`: rejected 2: Blum, Kranich (leads 01A, 01B)"
        );
        assert_eq!(
            record(
                "blacklist_add",
                None,
                "x.example",
                "domain x.example blacklisted"
            )
            .describe(),
            "blacklist_add x.example: domain x.example blacklisted"
        );
    }
}
