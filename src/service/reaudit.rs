//! Scheduled re-audits: contacted leads (sent, replied) whose last audit
//! is older than their campaign's `reaudit_every` (or `[reaudit] every`)
//! get a run of fetch, audit and screenshot. The new audit's diff against
//! the previous one (new problems, fixed ones, score changes) is what the
//! TUI, the report page and a follow-up draft show. `serve` calls this on
//! a timer; it is safe to call at any time (leads already queued are
//! left out by the run).

use std::time::Duration;

use super::jobs::{RunRequest, RunView};
use super::{Result, Service};
use crate::domain::{CampaignStatus, LeadStatus};

/// The stages a re-audit runs.
pub const REAUDIT_STAGES: [&str; 3] = ["fetch", "audit", "screenshot"];

impl Service {
    /// How often a campaign's contacted leads are re-audited, if at all.
    fn reaudit_every(&self, campaign: crate::domain::CampaignId) -> Result<Option<Duration>> {
        Ok(self
            .config()
            .effective_reaudit_every(self.store(), Some(campaign))?)
    }

    /// Starts a re-audit run for each campaign with leads that are due.
    pub async fn start_due_reaudits(&self) -> Result<Vec<RunView>> {
        let now = self.now();
        let stages: Vec<String> = REAUDIT_STAGES
            .iter()
            .filter(|s| self.pipeline_stages().iter().any(|p| p.as_str() == **s))
            .map(|s| s.to_string())
            .collect();
        let mut runs = Vec::new();
        for campaign in self.store().campaigns()? {
            if campaign.status != CampaignStatus::Active {
                continue;
            }
            let Some(every) = self.reaudit_every(campaign.id)? else {
                continue;
            };
            let every = jiff::SignedDuration::try_from(every).unwrap_or(jiff::SignedDuration::MAX);
            let mut due = Vec::new();
            for status in [LeadStatus::Sent, LeadStatus::Replied] {
                for id in self.store().campaign_lead_ids(campaign.id, Some(status)) {
                    let id = id?;
                    // The newer of the last audit and the last job: a site
                    // that keeps failing is tried once per period, not on
                    // every check.
                    let audited = self.store().audits_of(id, 1)?.first().map(|a| a.created_at);
                    let tried = match self.store().job_ids_of_lead(id).last() {
                        Some(job) => self.store().job(job?)?.map(|j| j.created_at),
                        None => None,
                    };
                    let last = audited.max(tried);
                    let is_due = match last {
                        None => true,
                        Some(at) => at.checked_add(every).is_ok_and(|next| next <= now),
                    };
                    if is_due {
                        due.push(id.to_string());
                    }
                }
            }
            if due.is_empty() {
                continue;
            }
            let run = self
                .start_run(&RunRequest {
                    campaign: campaign.slug.to_string(),
                    stages: stages.clone(),
                    leads: due,
                    status: None,
                })
                .await;
            match run {
                Ok(run) if run.leads > 0 => runs.push(run),
                Ok(_) => {}
                // Every due lead already had queued jobs.
                Err(super::ServiceError::Invalid(reason)) if reason.starts_with("no lead") => {}
                Err(e) => return Err(e),
            }
        }
        Ok(runs)
    }
}
