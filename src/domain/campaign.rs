//! Campaigns: a named group of leads with one template, sender and limits.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::sequence::Sequence;
use super::{CampaignId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: CampaignId,
    pub slug: Slug,
    pub name: String,
    pub status: CampaignStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The first email and its follow-ups; `None` for a campaign made
    /// before sequences existed or never given one: the first email alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<Sequence>,
}

impl Campaign {
    /// The campaign's steps; the first email alone when none were set.
    pub fn sequence(&self) -> Sequence {
        self.sequence
            .clone()
            .unwrap_or_else(Sequence::first_email_only)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Active,
    Paused,
    Archived,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Archived => "archived",
        }
    }
}

impl fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The short name operators type: lowercase ASCII letters, digits and single
/// hyphens, 1–48 characters.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{value}` is not a valid campaign slug: {reason} (use lowercase letters, digits and hyphens, e.g. dentists-berlin)"
)]
pub struct SlugError {
    pub value: String,
    pub reason: &'static str,
}

impl Slug {
    pub const MAX_LEN: usize = 48;

    pub fn parse(input: &str) -> Result<Self, SlugError> {
        let fail = |reason| SlugError {
            value: input.to_string(),
            reason,
        };
        if input.is_empty() {
            return Err(fail("it is empty"));
        }
        if input.len() > Self::MAX_LEN {
            return Err(fail("it is longer than 48 characters"));
        }
        if !input
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(fail("it has characters other than a-z, 0-9 and -"));
        }
        if input.starts_with('-') || input.ends_with('-') || input.contains("--") {
            return Err(fail("hyphens must separate words"));
        }
        Ok(Self(input.to_string()))
    }

    /// Derives a slug from a display name: `Dentists Berlin (Q3)` becomes
    /// `dentists-berlin-q3`. Letters outside ASCII are transliterated for the
    /// common Latin accents and dropped otherwise.
    pub fn from_name(name: &str) -> Result<Self, SlugError> {
        let mut out = String::new();
        for c in name.chars().flat_map(fold_accent) {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        while out.ends_with('-') {
            out.pop();
        }
        out.truncate(Self::MAX_LEN);
        while out.ends_with('-') {
            out.pop();
        }
        if out.is_empty() {
            return Err(SlugError {
                value: name.to_string(),
                reason: "the name has no letters or digits to make one from; pass --slug",
            });
        }
        Self::parse(&out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn fold_accent(c: char) -> Vec<char> {
    let folded: &str = match c {
        'ä' | 'Ä' => "ae",
        'ö' | 'Ö' => "oe",
        'ü' | 'Ü' => "ue",
        'ß' => "ss",
        'à' | 'á' | 'â' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Å' => "a",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'Ù' | 'Ú' | 'Û' => "u",
        'ç' | 'Ç' => "c",
        'ñ' | 'Ñ' => "n",
        'æ' | 'Æ' => "ae",
        _ => return vec![c],
    };
    folded.chars().collect()
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Slug({})", self.0)
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Slug> for String {
    fn from(value: Slug) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_from_names() {
        assert_eq!(
            Slug::from_name("Dentists Berlin (Q3)").unwrap().as_str(),
            "dentists-berlin-q3"
        );
        assert_eq!(
            Slug::from_name("  Bäckereien München ").unwrap().as_str(),
            "baeckereien-muenchen"
        );
        assert!(Slug::from_name("!!!").is_err());
        assert_eq!(
            Slug::from_name(&"x".repeat(100)).unwrap().as_str().len(),
            48
        );
    }

    #[test]
    fn slug_rules() {
        assert!(Slug::parse("ok-1").is_ok());
        for bad in ["", "Upper", "a b", "-a", "a-", "a--b", "ä"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }
}
