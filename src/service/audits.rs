//! Audit queries: the latest audit of a lead, and what changed since the
//! one before.

use serde::{Deserialize, Serialize};

use super::{Result, Service, ServiceError};
use crate::domain::audit::{
    Audit, AuditDiff, Category, CheckResult, Contacts, Scores, Severity, Timings,
};
use crate::domain::{LeadId, Timestamp};

/// One failed check, as `audit show` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingView {
    pub id: String,
    pub category: Category,
    pub severity: Severity,
    pub title: String,
    pub evidence: String,
    pub why: String,
    pub fix: String,
}

impl From<&CheckResult> for FindingView {
    fn from(c: &CheckResult) -> Self {
        Self {
            id: c.id.clone(),
            category: c.category,
            severity: c.severity,
            title: c.title.clone(),
            evidence: c.evidence.clone(),
            why: c.why.clone(),
            fix: c.fix.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    pub lead: LeadId,
    pub business_name: String,
    pub website: String,
    pub audited_at: Timestamp,
    pub final_url: String,
    pub status: u16,
    pub http_version: String,
    pub timings: Timings,
    pub bytes_wire: u64,
    pub bytes_decoded: u64,
    pub scores: Scores,
    /// Failed checks, worst first.
    pub findings: Vec<FindingView>,
    /// Ids of the checks that passed.
    pub passed: Vec<String>,
    pub contacts: Contacts,
    /// How many audits this lead has.
    pub audits: usize,
    /// Screenshot blobs by name (`desktop`, `mobile_thumb`, ...).
    pub screenshots: std::collections::BTreeMap<String, crate::domain::Hash>,
    /// What was measured, and the mobile estimate when a browser loaded the page.
    #[serde(default)]
    pub metrics: crate::domain::metrics::AuditMetrics,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditDiffView {
    pub lead: LeadId,
    pub previous_at: Timestamp,
    pub current_at: Timestamp,
    pub overall_before: u8,
    pub overall_now: u8,
    #[serde(flatten)]
    pub diff: AuditDiff,
}

impl Service {
    pub async fn audit_show(&self, reference: &str) -> Result<AuditView> {
        let lead = self.resolve_lead(reference)?;
        let audits = self.store().audits_of(lead.id, usize::MAX)?;
        let latest = audits
            .first()
            .ok_or_else(|| not_audited(&lead.domain.to_string()))?;
        Ok(view(
            &lead.business_name,
            lead.website.as_str(),
            latest,
            audits.len(),
        ))
    }

    pub async fn audit_diff(&self, reference: &str) -> Result<AuditDiffView> {
        let lead = self.resolve_lead(reference)?;
        let audits = self.store().audits_of(lead.id, 2)?;
        match audits.as_slice() {
            [] => Err(not_audited(&lead.domain.to_string())),
            [_] => Err(ServiceError::Invalid(format!(
                "{} has been audited once; a diff needs a second audit (run the fetch and audit stages again)",
                lead.domain
            ))),
            [current, previous, ..] => Ok(AuditDiffView {
                lead: lead.id,
                previous_at: previous.created_at,
                current_at: current.created_at,
                overall_before: previous.scores.overall,
                overall_now: current.scores.overall,
                diff: AuditDiff::between(previous, current),
            }),
        }
    }

    /// The latest audit of a lead, if any (for the TUI and the report page).
    pub async fn latest_audit(&self, lead: LeadId) -> Result<Option<Audit>> {
        Ok(self.store().audits_of(lead, 1)?.into_iter().next())
    }
}

fn not_audited(domain: &str) -> ServiceError {
    ServiceError::NotFound(format!(
        "{domain} has not been audited yet; `leadscout run --campaign SLUG --stages fetch,audit --wait` audits it"
    ))
}

fn view(business_name: &str, website: &str, audit: &Audit, count: usize) -> AuditView {
    AuditView {
        lead: audit.lead,
        business_name: business_name.to_string(),
        website: website.to_string(),
        audited_at: audit.created_at,
        final_url: audit.final_url.clone(),
        status: audit.status,
        http_version: audit.http_version.clone(),
        timings: audit.timings,
        bytes_wire: audit.bytes_wire,
        bytes_decoded: audit.bytes_decoded,
        scores: audit.scores.clone(),
        findings: audit
            .findings()
            .into_iter()
            .map(FindingView::from)
            .collect(),
        passed: audit
            .checks
            .iter()
            .filter(|c| c.passed)
            .map(|c| c.id.clone())
            .collect(),
        contacts: audit.contacts.clone(),
        audits: count,
        screenshots: audit.screenshots.clone(),
        metrics: audit.metrics.clone(),
    }
}
