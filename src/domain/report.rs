//! Report links: each lead's report page is reached through a random token
//! (128 bits, never derived from ids), which can be revoked or expire.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{LeadId, Timestamp};

/// 32 lowercase hex digits.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReportToken(String);

impl ReportToken {
    /// A token from 16 random bytes.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(hex::encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a report token")]
pub struct TokenError;

impl FromStr for ReportToken {
    type Err = TokenError;
    /// Strict: exactly 32 lowercase hex digits; anything else is not a token
    /// (and a request for it gets the same 404 as an unknown one).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(TokenError)
        }
    }
}

impl TryFrom<String> for ReportToken {
    type Error = TokenError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<ReportToken> for String {
    fn from(value: ReportToken) -> Self {
        value.0
    }
}

impl fmt::Display for ReportToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ReportToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Tokens are access keys: logs show only a prefix.
        write!(f, "ReportToken({}…)", &self.0[..6])
    }
}

/// What a token grants access to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportLink {
    pub token: ReportToken,
    pub lead: LeadId,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

impl ReportLink {
    /// A new link for a lead, from 16 random bytes.
    pub fn new(
        lead: LeadId,
        random: [u8; 16],
        now: Timestamp,
        expiry: std::time::Duration,
    ) -> Self {
        let expires_at = (!expiry.is_zero())
            .then(|| jiff::SignedDuration::try_from(expiry).ok())
            .flatten()
            .and_then(|d| now.checked_add(d).ok());
        Self {
            token: ReportToken::from_random(random),
            lead,
            created_at: now,
            expires_at,
        }
    }

    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_strict() {
        let t = ReportToken::from_random([0xab; 16]);
        assert_eq!(t.as_str().len(), 32);
        assert_eq!(t.as_str().parse::<ReportToken>().unwrap(), t);
        for bad in [
            "",
            "ABABABABABABABABABABABABABABABAB",
            "../../etc/passwd",
            &"a".repeat(31),
            &"a".repeat(33),
            "g".repeat(32).as_str(),
        ] {
            assert!(bad.parse::<ReportToken>().is_err(), "{bad}");
        }
        assert!(!format!("{t:?}").contains(t.as_str()));
    }

    #[test]
    fn links_expire_after_the_configured_time_or_never() {
        let lead = LeadId::from_ulid(ulid::Ulid::nil());
        let now = Timestamp::UNIX_EPOCH;
        let hour = std::time::Duration::from_secs(3600);
        let link = ReportLink::new(lead, [1; 16], now, hour);
        assert!(link.is_live(now));
        assert!(!link.is_live(now + jiff::SignedDuration::from_secs(3600)));
        let forever = ReportLink::new(lead, [2; 16], now, std::time::Duration::ZERO);
        assert_eq!(forever.expires_at, None);
        assert!(forever.is_live(now + jiff::SignedDuration::from_hours(24 * 365 * 10)));
    }
}
