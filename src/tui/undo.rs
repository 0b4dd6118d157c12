//! What the last reversible change was (a reject, a blacklist) and how to
//! take it back, and the words that say what a change actually did.

use crate::domain::LeadId;
use crate::service::blacklist::BlacklistAdded;
use crate::tui::action::Effect;

/// The last change `u` (or `:undo`) takes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    /// These leads' emails were rejected; undo returns them to draft.
    Reject(Vec<LeadId>),
    /// These values were added to the blacklist (values that were already
    /// there are not: undo must not remove an older entry).
    Blacklist(Vec<String>),
}

impl Undo {
    pub fn effect(&self) -> Effect {
        match self {
            Self::Reject(ids) => Effect::Restore(ids.clone()),
            Self::Blacklist(values) => Effect::Unblacklist(values.clone()),
        }
    }
}

/// "A", "A and B", "A, B and C", "A, B and 3 more".
pub fn names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [a, b, c] => format!("{a}, {b} and {c}"),
        [a, b, rest @ ..] => format!("{a}, {b} and {} more", rest.len()),
    }
}

/// After a reject: whose, and how to take it back.
pub fn rejected(names_of: &[String]) -> String {
    format!(
        "rejected {} — u undoes (back to draft)",
        match names_of.len() {
            0 => "nothing".to_string(),
            1 => names(names_of),
            n => format!("{n} drafts ({})", names(names_of)),
        }
    )
}

/// After a blacklist: per value, whether it was added and which leads it
/// suppressed; how to take it back when something was added.
pub fn blacklisted(results: &[BlacklistAdded]) -> String {
    let mut parts = Vec::new();
    for r in results {
        let value = &r.entry.value;
        let leads = r.leads.len();
        parts.push(match (r.added, leads) {
            (false, _) => format!("{value} was already on the blacklist; nothing changed"),
            (true, 0) => format!("no lead matched {value}; added to the blacklist"),
            (true, n) => format!(
                "added {value} to the blacklist; {n} lead{} ({}) suppressed",
                if n == 1 { "" } else { "s" },
                names(&r.leads)
            ),
        });
    }
    let mut text = parts.join("; ");
    if results.iter().any(|r| r.added) {
        text.push_str(" — u undoes");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BlacklistEntry, BlacklistKind, BlacklistReason, Timestamp};

    fn added(value: &str, added: bool, leads: &[&str]) -> BlacklistAdded {
        BlacklistAdded {
            entry: BlacklistEntry {
                kind: BlacklistKind::Domain,
                value: value.into(),
                reason: BlacklistReason::Manual,
                source: "tui".into(),
                created_at: Timestamp::UNIX_EPOCH,
            },
            added,
            leads_blacklisted: leads.len() as u64,
            leads: leads.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn blacklist_feedback_says_what_changed() {
        assert_eq!(
            blacklisted(&[added("example.com", true, &[])]),
            "no lead matched example.com; added to the blacklist — u undoes"
        );
        assert_eq!(
            blacklisted(&[added("tiny.example", true, &["Tiny GmbH"])]),
            "added tiny.example to the blacklist; 1 lead (Tiny GmbH) suppressed — u undoes"
        );
        assert_eq!(
            blacklisted(&[added("tiny.example", false, &[])]),
            "tiny.example was already on the blacklist; nothing changed"
        );
    }

    #[test]
    fn reject_feedback_names_the_leads_and_the_undo() {
        let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            rejected(&n(&["Bäckerei Blum"])),
            "rejected Bäckerei Blum — u undoes (back to draft)"
        );
        assert_eq!(
            rejected(&n(&["A", "B", "C", "D"])),
            "rejected 4 drafts (A, B and 2 more) — u undoes (back to draft)"
        );
    }
}
