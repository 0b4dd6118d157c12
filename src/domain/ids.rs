//! Sortable identifiers (ULIDs) wrapped per entity so a lead id can never be
//! passed where a campaign id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ulid::Ulid;

/// Defines a ULID newtype: displayed and serialised as the 26-character
/// Crockford string, stored in keys as 16 big-endian bytes so that byte order
/// is creation order.
macro_rules! ulid_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Ulid);

        impl $name {
            pub fn from_ulid(ulid: Ulid) -> Self {
                Self(ulid)
            }
            pub fn ulid(self) -> Ulid {
                self.0
            }
            pub fn to_bytes(self) -> [u8; 16] {
                self.0.to_bytes()
            }
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(Ulid::from_bytes(bytes))
            }
            /// Reads 16 key bytes; `None` when the slice is not exactly 16 long.
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                let array: [u8; 16] = bytes.try_into().ok()?;
                Some(Self::from_bytes(array))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ulid::from_string(s.trim())
                    .map(Self)
                    .map_err(|_| IdParseError { what: $what, value: s.to_string() })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

ulid_id!(
    /// Identifies a campaign.
    CampaignId,
    "campaign id"
);
ulid_id!(
    /// Identifies a lead across all campaigns.
    LeadId,
    "lead id"
);
ulid_id!(
    /// Identifies a pipeline run.
    RunId,
    "run id"
);
ulid_id!(
    /// Identifies one job: a (lead, stage) pair within a run.
    JobId,
    "job id"
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{value}` is not a valid {what} (expected a 26-character id such as 01JD8X0R6Q3ZJ5S6M9W2B4C7DE)"
)]
pub struct IdParseError {
    pub what: &'static str,
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_bytes_and_json() {
        let id = LeadId::from_ulid(Ulid::from_parts(1_700_000_000_000, 42));
        assert_eq!(id.to_string().parse::<LeadId>().unwrap(), id);
        assert_eq!(LeadId::from_bytes(id.to_bytes()), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<LeadId>(&json).unwrap(), id);
    }

    #[test]
    fn bad_id_names_what_was_expected() {
        let err = "nope".parse::<CampaignId>().unwrap_err();
        assert!(
            err.to_string()
                .contains("`nope` is not a valid campaign id")
        );
    }

    #[test]
    fn byte_order_is_creation_order() {
        let a = LeadId::from_ulid(Ulid::from_parts(1, u128::MAX >> 48));
        let b = LeadId::from_ulid(Ulid::from_parts(2, 0));
        assert!(a.to_bytes() < b.to_bytes());
    }
}
