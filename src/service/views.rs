//! The shapes the service hands out. Their JSON forms are the `--json`
//! output of the CLI, so field names here are a public interface.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{
    Campaign, CampaignId, CampaignStatus, JobStatus, Lead, LeadId, LeadSource, LeadStatus, Stage,
    Timestamp,
};

/// A campaign with its lead counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSummary {
    pub id: CampaignId,
    pub slug: String,
    pub name: String,
    pub status: CampaignStatus,
    pub leads: u64,
    /// Lead count per status; statuses with no leads are left out.
    pub counts: BTreeMap<LeadStatus, u64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl CampaignSummary {
    pub fn new(campaign: Campaign, counts: BTreeMap<LeadStatus, u64>) -> Self {
        Self {
            id: campaign.id,
            slug: campaign.slug.to_string(),
            name: campaign.name,
            status: campaign.status,
            leads: counts.values().sum(),
            counts,
            created_at: campaign.created_at,
            updated_at: campaign.updated_at,
        }
    }
}

/// One row of `leads list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadView {
    pub id: LeadId,
    pub campaign: String,
    pub business_name: String,
    pub website: String,
    pub domain: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub city: Option<String>,
    pub category: Option<String>,
    pub status: LeadStatus,
    pub score: Option<u8>,
    pub created_at: Timestamp,
    /// Views of the lead's report page by people (not bots or scanners).
    #[serde(default)]
    pub views: u64,
    #[serde(default)]
    pub last_viewed_at: Option<Timestamp>,
    /// A person looked at the report after the email went out.
    #[serde(default)]
    pub hot: bool,
    /// The status a blacklisted lead had before (`bounced` when a hard
    /// bounce blacklisted it), so lists can still tell why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_before_blacklist: Option<LeadStatus>,
    /// A follow-up drafted or approved and not sent yet: its step. Shown
    /// for leads already mailed, from the store's index of follow-ups
    /// waiting (no email is read for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followup_waiting: Option<u32>,
    /// The lead's newest job, read from the store (absent when it has
    /// none, and from servers that predate the field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_job: Option<LastJob>,
}

/// A lead's newest job: its stage, where it stands and when it last
/// moved (finished, else started, else created).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastJob {
    pub stage: Stage,
    pub status: JobStatus,
    pub at: Timestamp,
}

impl From<crate::store::jobs::LastJobRecord> for LastJob {
    fn from(job: crate::store::jobs::LastJobRecord) -> Self {
        Self {
            stage: job.stage,
            status: job.status,
            at: job.at,
        }
    }
}

impl LeadView {
    /// With the report page's view figures, when it was viewed.
    pub fn with_views(mut self, stats: Option<&crate::domain::visits::ViewStats>) -> Self {
        if let Some(stats) = stats {
            self.views = stats.views;
            self.last_viewed_at = stats.last_viewed_at;
            self.hot = stats.is_hot();
        }
        self
    }

    pub fn new(lead: Lead, campaign_slug: &str) -> Self {
        Self {
            id: lead.id,
            campaign: campaign_slug.to_string(),
            business_name: lead.business_name,
            website: lead.website.to_string(),
            domain: lead.domain.to_string(),
            email: lead.email.map(String::from),
            phone: lead.phone,
            city: lead.city,
            category: lead.category,
            status: lead.status,
            score: lead.score,
            created_at: lead.created_at,
            views: 0,
            last_viewed_at: None,
            hot: false,
            status_before_blacklist: lead.status_before_blacklist,
            followup_waiting: None,
            last_job: None,
        }
    }
}

/// Everything about one lead, for `leads show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadDetail {
    #[serde(flatten)]
    pub lead: LeadView,
    pub email_source: Option<String>,
    /// The last check of the lead's current address, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_check: Option<crate::domain::address_check::AddressCheck>,
    pub attributes: BTreeMap<String, String>,
    pub source: LeadSource,
    pub tags: Vec<String>,
    pub notes: String,
    /// Why contact is blocked, when the lead's email or domain is blacklisted.
    pub blacklisted: Option<String>,
    pub updated_at: Timestamp,
    /// Why there is no draft yet, when the draft stage said (a skip
    /// reason such as "no email address ...", or its error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_draft_reason: Option<String>,
}

/// What an import did. `--json` prints exactly these four fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub imported: u64,
    pub duplicates: u64,
    pub blacklisted: u64,
    pub rejected: Vec<RejectedRow>,
    /// Notes for people (e.g. the encoding the file was read as); not part
    /// of the JSON shape.
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// An import's report with its notes, as it crosses the control socket
/// (the report's own JSON leaves the notes out).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportOutcome {
    pub report: ImportReport,
    pub notes: Vec<String>,
}

impl From<ImportReport> for ImportOutcome {
    fn from(report: ImportReport) -> Self {
        Self {
            notes: report.notes.clone(),
            report,
        }
    }
}

impl From<ImportOutcome> for ImportReport {
    fn from(outcome: ImportOutcome) -> Self {
        Self {
            notes: outcome.notes,
            ..outcome.report
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    pub row: u64,
    pub reason: String,
}

/// File contents sent with a call: a file on the operator's machine going
/// to a server that may run elsewhere. Base64 on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upload(pub Vec<u8>);

impl Serialize for Upload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use base64::Engine;
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Upload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use base64::Engine;
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(Upload)
            .map_err(serde::de::Error::custom)
    }
}
