//! The do-not-contact list: emails and whole domains, with why and since when.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Domain, Email, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlacklistEntry {
    pub kind: BlacklistKind,
    /// The normalised email address or domain key.
    pub value: String,
    pub reason: BlacklistReason,
    /// Who or what added it: `cli`, `tui`, `import FILE`, `unsubscribe page`, ...
    pub source: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlacklistKind {
    Email,
    Domain,
}

impl BlacklistKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Domain => "domain",
        }
    }
}

impl fmt::Display for BlacklistKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlacklistReason {
    Manual,
    Unsubscribe,
    Bounce,
    Complaint,
    Legal,
}

impl BlacklistReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Unsubscribe => "unsubscribe",
            Self::Bounce => "bounce",
            Self::Complaint => "complaint",
            Self::Legal => "legal",
        }
    }
}

impl fmt::Display for BlacklistReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a blacklist reason (one of: manual, unsubscribe, bounce, complaint, legal)")]
pub struct ReasonError(pub String);

impl FromStr for BlacklistReason {
    type Err = ReasonError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "manual" => Ok(Self::Manual),
            "unsubscribe" => Ok(Self::Unsubscribe),
            "bounce" => Ok(Self::Bounce),
            "complaint" => Ok(Self::Complaint),
            "legal" => Ok(Self::Legal),
            _ => Err(ReasonError(s.to_string())),
        }
    }
}

/// What an operator typed for the blacklist, read as an email when it has an
/// `@` and as a domain otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BlacklistValue {
    Email(Email),
    Domain(Domain),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlacklistValueError {
    #[error(transparent)]
    Email(#[from] super::email::EmailError),
    #[error("`{value}` is neither an email address nor a domain: {reason}")]
    Domain { value: String, reason: String },
}

impl BlacklistValue {
    pub fn parse(input: &str) -> Result<Self, BlacklistValueError> {
        let trimmed = input.trim();
        if trimmed.contains('@') && !trimmed.contains("://") {
            return Ok(Self::Email(Email::parse(trimmed)?));
        }
        Domain::parse(trimmed)
            .map(Self::Domain)
            .map_err(|e| BlacklistValueError::Domain {
                value: trimmed.to_string(),
                reason: e.to_string(),
            })
    }

    pub fn kind(&self) -> BlacklistKind {
        match self {
            Self::Email(_) => BlacklistKind::Email,
            Self::Domain(_) => BlacklistKind::Domain,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Email(e) => e.as_str(),
            Self::Domain(d) => d.as_str(),
        }
    }
}

impl fmt::Display for BlacklistValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The blacklist keys that would block contact with a lead: its email, its
/// email's domain, and its website's domain. A lead is blocked when any of
/// them is listed.
pub fn keys_for(domain: &Domain, email: Option<&Email>) -> Vec<(BlacklistKind, String)> {
    let mut keys = vec![(BlacklistKind::Domain, domain.as_str().to_string())];
    if let Some(email) = email {
        keys.push((BlacklistKind::Email, email.as_str().to_string()));
        let mail_domain = email.domain();
        if &mail_domain != domain {
            keys.push((BlacklistKind::Domain, mail_domain.as_str().to_string()));
        }
    }
    keys
}

/// The blacklist held in memory, for checks over many leads at once (an
/// import of 100,000 rows must not read the store three times a row).
#[derive(Debug, Clone, Default)]
pub struct BlacklistSet {
    entries: std::collections::HashMap<(BlacklistKind, String), BlacklistEntry>,
}

impl BlacklistSet {
    pub fn new(entries: impl IntoIterator<Item = BlacklistEntry>) -> Self {
        Self {
            entries: entries
                .into_iter()
                .map(|e| ((e.kind, e.value.clone()), e))
                .collect(),
        }
    }

    /// The entry that blocks contact with this site/email, if any.
    pub fn blocking(&self, domain: &Domain, email: Option<&Email>) -> Option<&BlacklistEntry> {
        keys_for(domain, email)
            .into_iter()
            .find_map(|key| self.entries.get(&key))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_as_email_or_domain() {
        assert_eq!(
            BlacklistValue::parse(" Boss@Example.com ").unwrap(),
            BlacklistValue::Email(Email::parse("boss@example.com").unwrap())
        );
        let d = BlacklistValue::parse("https://WWW.Example.com/contact").unwrap();
        assert_eq!(d.kind(), BlacklistKind::Domain);
        assert_eq!(d.as_str(), "example.com");
        assert!(BlacklistValue::parse("not a domain").is_err());
        assert!(BlacklistValue::parse("bob@").is_err());
    }

    #[test]
    fn the_set_finds_the_blocking_entry() {
        let entry = |kind, value: &str| BlacklistEntry {
            kind,
            value: value.into(),
            reason: BlacklistReason::Manual,
            source: "test".into(),
            created_at: Timestamp::UNIX_EPOCH,
        };
        let set = BlacklistSet::new([
            entry(BlacklistKind::Domain, "gmail.com"),
            entry(BlacklistKind::Email, "a@b.de"),
        ]);
        let d = Domain::parse("shop.de").unwrap();
        assert!(set.blocking(&d, None).is_none());
        assert!(
            set.blocking(&d, Some(&Email::parse("x@gmail.com").unwrap()))
                .is_some()
        );
        assert_eq!(
            set.blocking(
                &Domain::parse("b.de").unwrap(),
                Some(&Email::parse("A@b.de").unwrap())
            )
            .unwrap()
            .value,
            "a@b.de"
        );
    }

    #[test]
    fn lead_keys_cover_email_and_both_domains() {
        let domain = Domain::parse("bakery.de").unwrap();
        let email = Email::parse("owner@gmail.com").unwrap();
        let keys = keys_for(&domain, Some(&email));
        assert_eq!(
            keys,
            vec![
                (BlacklistKind::Domain, "bakery.de".to_string()),
                (BlacklistKind::Email, "owner@gmail.com".to_string()),
                (BlacklistKind::Domain, "gmail.com".to_string()),
            ]
        );
    }
}
