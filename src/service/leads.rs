//! Lead queries and manual entry.

use super::views::LastJob;
use super::{LeadDetail, LeadView, Result, Service, ServiceError};
use crate::domain::{CampaignId, Email, Lead, LeadId, LeadSource, LeadStatus, Website};

/// Which leads `leads list` shows.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct LeadQuery {
    pub campaign: String,
    pub status: Option<LeadStatus>,
    pub limit: Option<usize>,
}

/// A lead typed in by the operator.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct NewLead {
    pub campaign: String,
    pub website: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub city: Option<String>,
    pub category: Option<String>,
}

impl Service {
    pub async fn list_leads(&self, query: &LeadQuery) -> Result<Vec<LeadView>> {
        let mut out = Vec::new();
        self.for_each_lead(query, |lead| {
            out.push(lead);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Hands each matching lead to `sink` as it is read, so that 100,000
    /// leads stream out without being held in memory at once.
    pub async fn for_each_lead(
        &self,
        query: &LeadQuery,
        sink: impl FnMut(LeadView) -> std::io::Result<()>,
    ) -> Result<u64> {
        self.for_each_lead_blocking(query, sink)
    }

    /// The same without a runtime, for a blocking thread whose sink may
    /// wait (the control socket's stream).
    pub(crate) fn for_each_lead_blocking(
        &self,
        query: &LeadQuery,
        mut sink: impl FnMut(LeadView) -> std::io::Result<()>,
    ) -> Result<u64> {
        let campaign = self.campaign_by_slug(&query.campaign)?;
        let slug = campaign.slug.to_string();
        // Only viewed leads have a summary, and only leads with a follow-up
        // in hand an index entry: small maps, read once. No email is read.
        let views = self.store().all_view_stats()?;
        let waiting = self.store().followups_waiting(campaign.id)?;
        let mut count = 0;
        for id in self.store().campaign_lead_ids(campaign.id, query.status) {
            if query.limit.is_some_and(|limit| count >= limit as u64) {
                break;
            }
            let id = id?;
            let Some(lead) = self.store().lead(id)? else {
                continue;
            };
            let mut view = LeadView::new(lead, &slug).with_views(views.get(&id));
            view.last_job = self.store().last_job_of_lead(id)?.map(LastJob::from);
            if view.status == LeadStatus::Sent {
                view.followup_waiting = waiting.get(&id).copied();
            }
            sink(view).map_err(|e| ServiceError::io("cannot write a lead", e))?;
            count += 1;
        }
        Ok(count)
    }

    pub async fn lead(&self, reference: &str) -> Result<LeadDetail> {
        let lead = self.resolve_lead(reference)?;
        self.detail(lead)
    }

    pub(crate) fn detail(&self, lead: Lead) -> Result<LeadDetail> {
        let slug = self.campaign_slug(lead.campaign)?;
        let blacklisted = self
            .store()
            .blocking_entry(&lead.domain, lead.email.as_ref())?
            .map(|e| format!("{} {} ({})", e.kind, e.value, e.reason));
        let views = self.store().view_stats(lead.id)?;
        let no_draft_reason = self.no_draft_reason(lead.id)?;
        let last_job = self.store().last_job_of_lead(lead.id)?;
        Ok(LeadDetail {
            no_draft_reason,
            email_source: lead.email_source.clone(),
            address_check: lead
                .address_check
                .clone()
                .filter(|check| lead.email.as_ref() == Some(&check.address)),
            attributes: lead.attributes.clone(),
            source: lead.source.clone(),
            tags: lead.tags.clone(),
            notes: lead.notes.clone(),
            blacklisted,
            updated_at: lead.updated_at,
            lead: LeadView {
                last_job: last_job.map(LastJob::from),
                ..LeadView::new(lead, &slug).with_views(views.as_ref())
            },
        })
    }

    /// Why a lead has no draft, from its newest draft job: the reason the
    /// stage skipped it (no email address, blacklisted, ...), the error it
    /// failed with, or that it is still to run. `None` when there is a
    /// draft or the draft stage has not been asked for.
    fn no_draft_reason(&self, lead: LeadId) -> Result<Option<String>> {
        if self.store().outreach(lead)?.is_some() {
            return Ok(None);
        }
        let mut newest: Option<crate::domain::Job> = None;
        for id in self.store().job_ids_of_lead(lead) {
            if let Some(job) = self.store().job(id?)?
                && job.stage.as_str() == "draft"
                && newest.as_ref().is_none_or(|n| n.id < job.id)
            {
                newest = Some(job);
            }
        }
        use crate::domain::JobStatus as S;
        Ok(newest.map(|job| {
            let said = job.last_error.as_deref().map(str::trim).unwrap_or("");
            match job.status {
                S::Skipped if !said.is_empty() => format!("skipped: {said}"),
                S::Queued | S::Retrying => "the draft stage is queued for it".to_string(),
                S::Running => "the draft stage is writing it now".to_string(),
                S::Cancelled => "its draft job was cancelled; `r` runs it again".to_string(),
                S::Failed | S::Dead | S::NeedsReview if !said.is_empty() => {
                    format!("the draft stage failed: {said}")
                }
                status => format!("its draft job is {status} without a draft"),
            }
        }))
    }

    pub async fn add_lead(&self, new: &NewLead) -> Result<LeadDetail> {
        let campaign = self.writable_campaign(&new.campaign)?;
        let website = Website::parse(&new.website)
            .map_err(|e| ServiceError::Invalid(format!("--website: {e}")))?;
        let email = new
            .email
            .as_deref()
            .map(Email::parse)
            .transpose()
            .map_err(|e| ServiceError::Invalid(format!("--email: {e}")))?;
        let domain = website.domain();
        if let Some(entry) = self.store().blocking_entry(&domain, email.as_ref())? {
            return Err(ServiceError::Conflict(format!(
                "{} {} is on the blacklist ({}); not adding it",
                entry.kind, entry.value, entry.reason
            )));
        }
        let clean = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let id = LeadId::from_ulid(self.new_ulid());
        let lead = Lead {
            business_name: clean(&new.name).unwrap_or_else(|| domain.display()),
            email_source: email.as_ref().map(|_| "manual".to_string()),
            email,
            phone: clean(&new.phone),
            city: clean(&new.city),
            category: clean(&new.category),
            ..Lead::new(id, campaign.id, website, LeadSource::Manual, self.now())
        }
        .cleaned();
        match self
            .store()
            .insert_leads(std::slice::from_ref(&lead))?
            .first()
        {
            Some(crate::store::leads::Inserted::Duplicate(existing)) => {
                Err(ServiceError::Conflict(format!(
                    "campaign `{}` already has a lead for {} ({existing})",
                    campaign.slug, lead.domain
                )))
            }
            _ => {
                self.store().flush().await?;
                self.detail(lead)
            }
        }
    }

    pub(crate) fn campaign_slug(&self, id: CampaignId) -> Result<String> {
        Ok(self
            .store()
            .campaign(id)?
            .map(|c| c.slug.to_string())
            .unwrap_or_else(|| id.to_string()))
    }
}
