//! Leads: one business with a website, inside one campaign.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{CampaignId, Domain, Email, LeadId, Timestamp, Website};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lead {
    pub id: LeadId,
    pub campaign: CampaignId,
    pub business_name: String,
    pub website: Website,
    pub domain: Domain,
    pub email: Option<Email>,
    /// Where the email came from: `import`, `manual`, or the page it was found on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_source: Option<String>,
    /// Whether `email` can receive mail, as last checked before drafting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_check: Option<super::address_check::AddressCheck>,
    pub phone: Option<String>,
    pub city: Option<String>,
    pub category: Option<String>,
    /// Columns of the import that are not one of the fields above, kept for
    /// templates and exports.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    pub source: LeadSource,
    pub status: LeadStatus,
    /// The status a lead had before it was blacklisted, restored if the
    /// entry is removed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_before_blacklist: Option<LeadStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// Overall audit score 0–100; `None` until the first audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Lead {
    /// A lead as it enters a campaign (imported, typed in or discovered):
    /// new, not audited, named after its domain until the caller names it.
    pub fn new(
        id: LeadId,
        campaign: CampaignId,
        website: Website,
        source: LeadSource,
        now: Timestamp,
    ) -> Self {
        let domain = website.domain();
        Self {
            id,
            campaign,
            business_name: domain.display(),
            website,
            domain,
            email: None,
            email_source: None,
            address_check: None,
            phone: None,
            city: None,
            category: None,
            attributes: BTreeMap::new(),
            source,
            status: LeadStatus::New,
            status_before_blacklist: None,
            tags: Vec::new(),
            notes: String::new(),
            score: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// The lead with every free-text field on one clean line
    /// ([`super::text::single_line`]): names, cities, phones, categories,
    /// notes, tags and import columns come from files, forms and maps, and
    /// end up in email bodies and terminals. A CR/LF becomes a space, other
    /// control characters go. A name left empty falls back to the domain.
    /// Every way a lead enters (import, add, discovery) goes through here.
    pub fn cleaned(mut self) -> Self {
        use super::text::{single_line, single_line_opt};
        self.business_name = single_line(&self.business_name);
        if self.business_name.is_empty() {
            self.business_name = self.domain.display();
        }
        self.email_source = single_line_opt(self.email_source.as_deref());
        self.phone = single_line_opt(self.phone.as_deref());
        self.city = single_line_opt(self.city.as_deref());
        self.category = single_line_opt(self.category.as_deref());
        self.attributes = std::mem::take(&mut self.attributes)
            .into_iter()
            .map(|(k, v)| (single_line(&k), single_line(&v)))
            .filter(|(k, _)| !k.is_empty())
            .collect();
        self.tags = std::mem::take(&mut self.tags)
            .iter()
            .map(|t| single_line(t))
            .filter(|t| !t.is_empty())
            .collect();
        self.notes = single_line(&self.notes);
        self
    }
}

/// How a lead entered leadscout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LeadSource {
    /// A row of an imported file.
    Import { file: String, row: u64 },
    /// Typed in by the operator.
    Manual,
    /// Found by discovery; `reference` is e.g. an OpenStreetMap id, and
    /// `attribution` the licence notice that must travel with the data.
    Discovery {
        reference: String,
        attribution: String,
    },
}

impl fmt::Display for LeadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Import { file, row } => write!(f, "import {file} row {row}"),
            Self::Manual => f.write_str("manual"),
            Self::Discovery {
                reference,
                attribution,
            } => write!(f, "discovery {reference}, {attribution}"),
        }
    }
}

/// Where a lead stands in the pipeline and the outreach. Each variant has a
/// fixed byte used in index keys; never renumber one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    New = 1,
    Fetched = 2,
    Audited = 3,
    Reported = 4,
    Drafted = 5,
    Approved = 6,
    Sent = 7,
    Replied = 8,
    Won = 9,
    Bounced = 10,
    Rejected = 11,
    Failed = 12,
    Blacklisted = 13,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 13] = [
        Self::New,
        Self::Fetched,
        Self::Audited,
        Self::Reported,
        Self::Drafted,
        Self::Approved,
        Self::Sent,
        Self::Replied,
        Self::Won,
        Self::Bounced,
        Self::Rejected,
        Self::Failed,
        Self::Blacklisted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Fetched => "fetched",
            Self::Audited => "audited",
            Self::Reported => "reported",
            Self::Drafted => "drafted",
            Self::Approved => "approved",
            Self::Sent => "sent",
            Self::Replied => "replied",
            Self::Won => "won",
            Self::Bounced => "bounced",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Blacklisted => "blacklisted",
        }
    }

    pub fn key_byte(self) -> u8 {
        self as u8
    }

    pub fn from_key_byte(byte: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key_byte() == byte)
    }

    /// Whether an automatic step (a pipeline stage, a failed job, a draft,
    /// an approval, a send, a bounce, a rejection) may move a lead from
    /// `self` to `to`. The one place these rules live; the store applies
    /// them inside its transactions through [`advanced_to`](Self::advanced_to).
    ///
    /// - The flow new → fetched → audited → reported → drafted → approved →
    ///   sent only moves forward, so re-auditing an approved or sent lead
    ///   does not move it back.
    /// - A failed lead that succeeds again resumes anywhere in the flow.
    /// - A rejected lead moves on only with a new draft (or later): a
    ///   re-audit alone leaves the operator's rejection visible.
    /// - A job failure marks only a lead still in the pipeline short of a
    ///   draft: a failed re-run (a re-fetch, a re-audit) of a drafted,
    ///   approved or contacted lead keeps its status and its draft; the
    ///   failed job is on record.
    /// - A bounce applies whatever the lead's state, except blacklisted.
    /// - Closed leads (replied, won, bounced) and blacklisted ones stay:
    ///   only the operator moves them (marks, the blacklist).
    pub fn may_move_to(self, to: LeadStatus) -> bool {
        let rank = |s: LeadStatus| Self::FLOW.iter().position(|p| *p == s);
        match (self, to) {
            (from, to) if from == to => false,
            (Self::Blacklisted, _) => false,
            (_, Self::Bounced) => true,
            (from, _) if from.is_closed() => false,
            (_, Self::Rejected) => true,
            (from, Self::Failed) => rank(from).is_some_and(|r| r < Self::DRAFTED_RANK),
            (Self::Failed, to) => rank(to).is_some(),
            (Self::Rejected, to) => rank(to).is_some_and(|r| r >= Self::DRAFTED_RANK),
            (from, to) => matches!((rank(from), rank(to)), (Some(a), Some(b)) if b > a),
        }
    }

    /// `to` when [`may_move_to`](Self::may_move_to) allows it, else `self`.
    pub fn advanced_to(self, to: LeadStatus) -> LeadStatus {
        if self.may_move_to(to) { to } else { self }
    }

    /// The forward flow of a lead through the pipeline and the outreach.
    const FLOW: [LeadStatus; 7] = [
        Self::New,
        Self::Fetched,
        Self::Audited,
        Self::Reported,
        Self::Drafted,
        Self::Approved,
        Self::Sent,
    ];
    /// Up to here the lead is still in the pipeline (nothing approved).
    const DRAFTED_RANK: usize = 4;

    /// Statuses after which no more email may go to the lead.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Self::Replied | Self::Won | Self::Bounced | Self::Blacklisted
        )
    }
}

impl fmt::Display for LeadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a lead status (one of: new, fetched, audited, reported, drafted, approved, sent, replied, won, bounced, rejected, failed, blacklisted)"
)]
pub struct LeadStatusError(pub String);

impl FromStr for LeadStatus {
    type Err = LeadStatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == wanted)
            .ok_or_else(|| LeadStatusError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_only_move_forward() {
        use LeadStatus::*;
        assert_eq!(New.advanced_to(Fetched), Fetched);
        assert_eq!(Audited.advanced_to(Fetched), Audited);
        assert_eq!(Failed.advanced_to(Fetched), Fetched);
        assert_eq!(Sent.advanced_to(Audited), Sent);
        assert_eq!(Blacklisted.advanced_to(Audited), Blacklisted);
    }

    #[test]
    fn outreach_and_failures_follow_the_same_rules() {
        use LeadStatus::*;
        // Outreach moves forward, never back, never out of a closed state.
        assert_eq!(Drafted.advanced_to(Approved), Approved);
        assert_eq!(Reported.advanced_to(Sent), Sent);
        assert_eq!(Sent.advanced_to(Approved), Sent);
        assert_eq!(Replied.advanced_to(Sent), Replied);
        assert_eq!(Won.advanced_to(Drafted), Won);
        // A bounce always applies, except to a blacklisted lead.
        assert_eq!(Won.advanced_to(Bounced), Bounced);
        assert_eq!(Sent.advanced_to(Bounced), Bounced);
        assert_eq!(Blacklisted.advanced_to(Bounced), Blacklisted);
        // A rejected lead moves on with a new draft, not with a re-audit.
        assert_eq!(Rejected.advanced_to(Drafted), Drafted);
        assert_eq!(Rejected.advanced_to(Audited), Rejected);
        assert_eq!(Approved.advanced_to(Rejected), Rejected);
        assert_eq!(Replied.advanced_to(Rejected), Replied);
        // A job failure marks only a lead still in the pipeline.
        assert_eq!(Audited.advanced_to(Failed), Failed);
        assert_eq!(Reported.advanced_to(Failed), Failed);
        // A failed re-run leaves a draft in place.
        assert_eq!(Drafted.advanced_to(Failed), Drafted);
        assert_eq!(Sent.advanced_to(Failed), Sent);
        assert_eq!(Approved.advanced_to(Failed), Approved);
        assert_eq!(Blacklisted.advanced_to(Failed), Blacklisted);
        assert_eq!(Failed.advanced_to(Drafted), Drafted);
        for s in LeadStatus::ALL {
            assert!(!s.may_move_to(s), "{s} to itself is no move");
        }
    }

    #[test]
    fn status_bytes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for s in LeadStatus::ALL {
            assert!(seen.insert(s.key_byte()));
            assert_eq!(LeadStatus::from_key_byte(s.key_byte()), Some(s));
            assert_eq!(s.as_str().parse::<LeadStatus>().unwrap(), s);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert!("nope".parse::<LeadStatus>().is_err());
    }

    #[test]
    fn a_lead_enters_with_one_line_fields() {
        let website = Website::parse("https://evil.example").unwrap();
        let mut lead = Lead::new(
            LeadId::from_ulid(ulid::Ulid::nil()),
            CampaignId::from_ulid(ulid::Ulid::nil()),
            website,
            LeadSource::Manual,
            Timestamp::UNIX_EPOCH,
        );
        lead.business_name = "Evil\r\nBcc: victim@x.example".into();
        lead.city = Some("Ber\u{1b}[2Jlin\n".into());
        lead.phone = Some(" \r\n ".into());
        lead.notes = "line one\nline two\u{7}".into();
        lead.attributes.insert("owner\n".into(), "A\tB".into());
        let lead = lead.cleaned();
        assert_eq!(lead.business_name, "Evil Bcc: victim@x.example");
        assert_eq!(lead.city.as_deref(), Some("Ber [2Jlin"));
        assert_eq!(lead.phone, None);
        assert_eq!(lead.notes, "line one line two");
        assert_eq!(
            lead.attributes.get("owner").map(String::as_str),
            Some("A B")
        );
        let mut unnamed = lead.clone();
        unnamed.business_name = "\u{7}".into();
        assert_eq!(unnamed.cleaned().business_name, "evil.example");
    }
}
