//! Runs and jobs: start a run over a campaign's leads, follow it, list and
//! retry or cancel jobs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Result, Service, ServiceError};
use crate::domain::StageCounts;
use crate::domain::{
    Attempt, CampaignStatus, Job, JobId, JobStatus, LeadId, LeadStatus, Run, RunId, Stage,
    Timestamp,
};

/// What `run` asks for.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunRequest {
    pub campaign: String,
    /// Stage names, in any order; they run in pipeline order. All when empty.
    pub stages: Vec<String>,
    /// Only these leads (ids or websites). All when empty.
    pub leads: Vec<String>,
    /// Only leads with this status.
    pub status: Option<LeadStatus>,
}

/// A run and how far it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub id: RunId,
    pub campaign: String,
    pub stages: Vec<Stage>,
    pub selection: String,
    pub leads: u64,
    /// Leads left out because they are blacklisted or already queued.
    #[serde(default)]
    pub skipped_leads: u64,
    pub created_at: Timestamp,
    pub counts: BTreeMap<Stage, StageCounts>,
    /// Jobs queued, retrying or running.
    pub pending: u64,
    pub finished: bool,
}

/// One job as `jobs list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub id: JobId,
    pub run: RunId,
    pub lead: LeadId,
    pub stage: Stage,
    pub status: JobStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

impl From<Job> for JobView {
    fn from(job: Job) -> Self {
        Self {
            id: job.id,
            run: job.run,
            lead: job.lead,
            stage: job.stage,
            status: job.status,
            attempts: job.attempts,
            last_error: job.last_error,
            started_at: job.started_at,
            finished_at: job.finished_at,
        }
    }
}

/// Which jobs `jobs list` and `jobs retry --failed` look at.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobQuery {
    pub run: Option<String>,
    pub lead: Option<String>,
    pub status: Option<JobStatus>,
    pub stage: Option<String>,
    pub limit: Option<usize>,
}

impl Service {
    /// Creates a run and queues the first stage for each selected lead.
    pub async fn start_run(&self, request: &RunRequest) -> Result<RunView> {
        let campaign = self.campaign_by_slug(&request.campaign)?;
        if campaign.status != CampaignStatus::Active {
            return Err(ServiceError::Invalid(format!(
                "campaign `{}` is {}; activate it first: leadscout campaign activate {}",
                campaign.slug, campaign.status, campaign.slug
            )));
        }
        let stages = self.choose_stages(&request.stages)?;
        let first = stages[0].clone();
        let now = self.now();
        let run_id = RunId::from_ulid(self.new_ulid());

        let mut selection = Vec::new();
        let candidates: Vec<LeadId> = if request.leads.is_empty() {
            self.store()
                .campaign_lead_ids(campaign.id, request.status)
                .collect::<std::result::Result<_, _>>()?
        } else {
            selection.push(format!("{} chosen leads", request.leads.len()));
            let mut ids = Vec::new();
            for reference in &request.leads {
                let lead = self.resolve_lead(reference)?;
                if lead.campaign != campaign.id {
                    return Err(ServiceError::Invalid(format!(
                        "lead {reference} is in another campaign, not `{}`",
                        campaign.slug
                    )));
                }
                if request.status.is_none_or(|s| s == lead.status) {
                    ids.push(lead.id);
                }
            }
            ids
        };
        if let Some(status) = request.status {
            selection.push(format!("status {status}"));
        }
        if selection.is_empty() {
            selection.push("all leads".into());
        }

        let settings = self.config().stage(first.as_str());
        let mut jobs = Vec::new();
        let mut skipped = 0u64;
        for lead_id in candidates {
            let Some(lead) = self.store().lead(lead_id)? else {
                continue;
            };
            if lead.status == LeadStatus::Blacklisted || self.has_pending_job(lead_id)? {
                skipped += 1;
                continue;
            }
            jobs.push(Job {
                id: JobId::from_ulid(self.new_ulid()),
                run: run_id,
                campaign: campaign.id,
                lead: lead_id,
                stage: first.clone(),
                status: JobStatus::Queued,
                attempts: 0,
                attempt_base: 0,
                max_attempts: settings.max_attempts,
                run_at: now,
                lease: None,
                last_error: None,
                effect: Default::default(),
                cancel_requested: false,
                created_at: now,
                started_at: None,
                finished_at: None,
            });
        }
        if jobs.is_empty() {
            return Err(ServiceError::Invalid(if skipped > 0 {
                format!(
                    "no lead to run: {skipped} selected lead(s) are blacklisted or already queued"
                )
            } else {
                format!(
                    "no lead in `{}` matches ({})",
                    campaign.slug,
                    selection.join(", ")
                )
            }));
        }
        let run = Run {
            id: run_id,
            campaign: campaign.id,
            stages,
            selection: selection.join(", "),
            leads: jobs.len() as u64,
            created_at: now,
        };
        self.store().create_run(&run, &jobs)?;
        self.store().flush().await?;
        if let Some(engine) = self.engine() {
            engine.notify_pushed(&jobs);
        }
        let mut view = self.run_view_of(run)?;
        view.skipped_leads = skipped;
        Ok(view)
    }

    /// Validates stage names and puts them in pipeline order.
    fn choose_stages(&self, requested: &[String]) -> Result<Vec<Stage>> {
        let available = self.pipeline_stages();
        if available.is_empty() {
            return Err(ServiceError::Invalid(
                "no pipeline stages are available in this build".into(),
            ));
        }
        if requested.is_empty() {
            return Ok(available.to_vec());
        }
        let names: Vec<String> = available.iter().map(ToString::to_string).collect();
        for name in requested {
            if !names.iter().any(|n| n == name.trim()) {
                return Err(ServiceError::Invalid(format!(
                    "`{name}` is not a stage; stages are: {}",
                    names.join(", ")
                )));
            }
        }
        Ok(available
            .iter()
            .filter(|s| requested.iter().any(|r| r.trim() == s.as_str()))
            .cloned()
            .collect())
    }

    fn has_pending_job(&self, lead: LeadId) -> Result<bool> {
        for id in self.store().job_ids_of_lead(lead) {
            if let Some(job) = self.store().job(id?)?
                && !job.status.is_terminal()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub async fn run_view(&self, reference: &str) -> Result<RunView> {
        let id = parse_id::<RunId>(reference, "run")?;
        let run = self.store().run(id)?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "no run with id {id}; `leadscout runs list` shows them"
            ))
        })?;
        self.run_view_of(run)
    }

    pub async fn list_runs(&self) -> Result<Vec<RunView>> {
        self.store()
            .runs()?
            .into_iter()
            .map(|run| self.run_view_of(run))
            .collect()
    }

    fn run_view_of(&self, run: Run) -> Result<RunView> {
        let counts = self.store().run_counts(run.id)?;
        let pending: u64 = counts.values().map(StageCounts::pending).sum();
        Ok(RunView {
            id: run.id,
            campaign: self.campaign_slug(run.campaign)?,
            stages: run.stages,
            selection: run.selection,
            leads: run.leads,
            skipped_leads: 0,
            created_at: run.created_at,
            finished: pending == 0,
            pending,
            counts,
        })
    }

    pub async fn list_jobs(&self, query: &JobQuery) -> Result<Vec<JobView>> {
        Ok(self
            .matching_jobs(query)?
            .into_iter()
            .map(JobView::from)
            .collect())
    }

    /// The run log: running jobs first, then the newest, at most `limit`.
    pub async fn recent_jobs(&self, limit: usize) -> Result<Vec<JobView>> {
        let mut jobs: Vec<JobView> = self
            .store()
            .recent_jobs(limit)?
            .into_iter()
            .map(JobView::from)
            .collect();
        jobs.sort_by_key(|j| {
            (
                j.status != JobStatus::Running,
                std::cmp::Reverse(j.finished_at.or(j.started_at)),
            )
        });
        Ok(jobs)
    }

    fn matching_jobs(&self, query: &JobQuery) -> Result<Vec<Job>> {
        let stage = query
            .stage
            .as_deref()
            .map(|s| {
                s.parse::<Stage>()
                    .map_err(|e| ServiceError::Invalid(e.to_string()))
            })
            .transpose()?;
        let keep = |job: &Job| {
            query.status.is_none_or(|s| job.status == s)
                && stage.as_ref().is_none_or(|s| &job.stage == s)
        };
        let limit = query.limit.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        let mut take = |job: Job| {
            if keep(&job) && out.len() < limit {
                out.push(job);
            }
        };
        match (&query.run, &query.lead) {
            (Some(run), _) => {
                let run = parse_id::<RunId>(run, "run")?;
                for id in self.store().job_ids_of_run(run) {
                    if let Some(job) = self.store().job(id?)? {
                        take(job);
                    }
                }
            }
            (None, Some(lead)) => {
                let lead = self.resolve_lead(lead)?;
                for id in self.store().job_ids_of_lead(lead.id) {
                    if let Some(job) = self.store().job(id?)? {
                        take(job);
                    }
                }
            }
            (None, None) => {
                for job in self.store().all_jobs() {
                    take(job?);
                }
            }
        }
        Ok(out)
    }

    /// A job with every attempt.
    pub async fn job_attempts(&self, reference: &str) -> Result<(JobView, Vec<Attempt>)> {
        let id = parse_id::<JobId>(reference, "job")?;
        let job = self
            .store()
            .job(id)?
            .ok_or_else(|| ServiceError::NotFound(format!("no job with id {id}")))?;
        Ok((job.into(), self.store().attempts(id)?))
    }

    /// Queues one finished job again.
    pub async fn retry_job(&self, reference: &str) -> Result<JobView> {
        let id = parse_id::<JobId>(reference, "job")?;
        let job = self
            .store()
            .retry_job(id, self.now())?
            .ok_or_else(|| ServiceError::NotFound(format!("no job with id {id}")))?;
        if job.status != JobStatus::Queued {
            return Err(ServiceError::Invalid(format!(
                "job {id} is {}; only failed, dead, cancelled, skipped or needs-review jobs can be retried",
                job.status
            )));
        }
        self.after_requeue(std::slice::from_ref(&job)).await?;
        Ok(job.into())
    }

    /// Queues again every failed, dead or needs-review job matching the query.
    pub async fn retry_failed(&self, query: &JobQuery) -> Result<Vec<JobView>> {
        let mut retried = Vec::new();
        for job in self.matching_jobs(query)? {
            if !job.status.is_failure() {
                continue;
            }
            if let Some(job) = self.store().retry_job(job.id, self.now())?
                && job.status == JobStatus::Queued
            {
                retried.push(job);
            }
        }
        self.after_requeue(&retried).await?;
        Ok(retried.into_iter().map(JobView::from).collect())
    }

    /// Cancels one job, or every unfinished job of a run.
    pub async fn cancel(&self, job: Option<&str>, run: Option<&str>) -> Result<Vec<JobView>> {
        let ids: Vec<JobId> = match (job, run) {
            (Some(job), _) => vec![parse_id::<JobId>(job, "job")?],
            (None, Some(run)) => {
                let run = parse_id::<RunId>(run, "run")?;
                self.store()
                    .job_ids_of_run(run)
                    .collect::<std::result::Result<_, _>>()?
            }
            (None, None) => return Err(ServiceError::Invalid("say which job, or --run ID".into())),
        };
        let mut cancelled = Vec::new();
        for id in ids {
            let Some(job) = self.store().cancel_job(id, self.now())? else {
                return Err(ServiceError::NotFound(format!("no job with id {id}")));
            };
            if job.status == JobStatus::Cancelled || job.cancel_requested {
                cancelled.push(job);
            }
        }
        self.store().flush().await?;
        if let Some(engine) = self.engine() {
            engine.notify_requeued(&cancelled, self.store());
        }
        Ok(cancelled.into_iter().map(JobView::from).collect())
    }

    async fn after_requeue(&self, jobs: &[Job]) -> Result<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        // Leads whose chain stopped at these jobs are back in play.
        for job in jobs {
            self.store().modify_lead(job.lead, |lead| {
                if lead.status == LeadStatus::Failed {
                    lead.status = LeadStatus::New;
                }
            })?;
        }
        self.store().flush().await?;
        if let Some(engine) = self.engine() {
            engine.notify_requeued(jobs, self.store());
        }
        Ok(())
    }

    /// Nothing queued and nothing running, in the whole store.
    pub async fn is_idle(&self) -> bool {
        if let Some(engine) = self.engine() {
            let stats = engine.bus().current_stats();
            if stats.queued > 0 || stats.running > 0 {
                return false;
            }
        }
        self.store().queued_job_count() == 0 && self.store().running_job_count() == 0
    }

    /// Jobs finished by stage and status, over every run: what `work` did.
    pub async fn job_totals(&self) -> Result<BTreeMap<Stage, StageCounts>> {
        Ok(self.store().job_counts()?)
    }
}

fn parse_id<T: std::str::FromStr>(reference: &str, what: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    reference
        .trim()
        .parse::<T>()
        .map_err(|_| ServiceError::Invalid(format!("`{reference}` is not a {what} id")))
}
