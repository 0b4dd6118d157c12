//! The durable job queue: job records, a ready index per stage ordered by
//! run-at time, the set of running jobs, attempts, and per-run and global
//! counters. Every state change of a job (and of what it touches: the next
//! stage's job, the lead's status, the counters) is one transaction.

use jiff::SignedDuration;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::codec::{decode, encode};
use super::keys;
use super::leads::{TxResult, modify_lead_tx};
use super::{Result, Store, StoreError, add_to_counter};
use crate::domain::job::{EffectState, Lease};
use crate::domain::{Attempt, Job, JobId, JobStatus, LeadId, LeadStatus, RunId, Stage, Timestamp};

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The job, now running under the caller's lease.
    Job(Box<Job>),
    /// Nothing is due; `next_due` is when the earliest waiting job is.
    Empty { next_due: Option<Timestamp> },
}

/// How an attempt ended, as decided by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Skipped {
        reason: String,
    },
    /// A transient error with attempts left: run again at `at`.
    Retry {
        error: Vec<String>,
        at: Timestamp,
    },
    /// A permanent error.
    Failed {
        error: Vec<String>,
    },
    /// A transient error on the last attempt.
    Dead {
        error: Vec<String>,
    },
    /// Cancelled while it ran.
    Cancelled,
}

impl Outcome {
    fn status(&self) -> JobStatus {
        match self {
            Self::Succeeded => JobStatus::Succeeded,
            Self::Skipped { .. } => JobStatus::Skipped,
            Self::Retry { .. } => JobStatus::Retrying,
            Self::Failed { .. } => JobStatus::Failed,
            Self::Dead { .. } => JobStatus::Dead,
            Self::Cancelled => JobStatus::Cancelled,
        }
    }

    fn error(&self) -> Vec<String> {
        match self {
            Self::Retry { error, .. } | Self::Failed { error } | Self::Dead { error } => {
                error.clone()
            }
            Self::Skipped { reason } => vec![reason.clone()],
            Self::Succeeded | Self::Cancelled => Vec::new(),
        }
    }
}

/// Everything that changes when an attempt ends, applied in one transaction.
#[derive(Debug, Clone)]
pub struct Finish {
    pub job: JobId,
    pub outcome: Outcome,
    pub now: Timestamp,
    /// The lead's next job (the next stage), enqueued in the same transaction.
    pub next: Option<Job>,
    /// A new status for the lead, e.g. `failed` when its chain stops.
    pub lead_status: Option<LeadStatus>,
}

/// What recovery did with jobs found running.
#[derive(Debug, Clone, Default)]
pub struct Recovered {
    pub requeued: Vec<Job>,
    pub needs_review: Vec<Job>,
}

fn abort<T>(err: StoreError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(err))
}

fn ms(ts: Timestamp) -> u64 {
    u64::try_from(ts.as_millisecond()).unwrap_or(0)
}

fn get_job(jobs: &TransactionalTree, id: JobId) -> TxResult<Option<Job>> {
    let key = id.to_bytes();
    match jobs.get(key)? {
        Some(bytes) => Ok(Some(
            decode("jobs", &key, &bytes).map_err(ConflictableTransactionError::Abort)?,
        )),
        None => Ok(None),
    }
}

/// The trees a push touches, in a transaction.
struct PushTrees<'a> {
    jobs: &'a TransactionalTree,
    ready: &'a TransactionalTree,
    by_run: &'a TransactionalTree,
    by_lead: &'a TransactionalTree,
    run_counts: &'a TransactionalTree,
    job_counts: &'a TransactionalTree,
}

fn push_tx(t: &PushTrees<'_>, job: &Job) -> TxResult<()> {
    t.jobs.insert(&job.id.to_bytes(), encode(job))?;
    t.ready
        .insert(keys::ready(&job.stage, ms(job.run_at), job.id), &[])?;
    t.by_run
        .insert(&keys::parent_job(job.run.to_bytes(), job.id), &[])?;
    t.by_lead
        .insert(&keys::parent_job(job.lead.to_bytes(), job.id), &[])?;
    add_to_counter(t.run_counts, &keys::run_count(job.run, &job.stage, 0), 1)?;
    add_to_counter(t.job_counts, &keys::job_count(&job.stage, 0), 1)?;
    Ok(())
}

/// Moves a job's terminal count when it enters or leaves a terminal status.
fn count_status(
    run_counts: &TransactionalTree,
    job_counts: &TransactionalTree,
    job: &Job,
    status: JobStatus,
    delta: i64,
) -> TxResult<()> {
    if status.is_terminal() {
        add_to_counter(
            run_counts,
            &keys::run_count(job.run, &job.stage, status.key_byte()),
            delta,
        )?;
        add_to_counter(
            job_counts,
            &keys::job_count(&job.stage, status.key_byte()),
            delta,
        )?;
    }
    Ok(())
}

fn attempt_record(job: &Job, status: JobStatus, error: Vec<String>, now: Timestamp) -> Attempt {
    let started = job.started_at.unwrap_or(now);
    let duration_ms = now.duration_since(started).as_millis().max(0) as u64;
    Attempt {
        job: job.id,
        run: job.run,
        lead: job.lead,
        stage: job.stage.clone(),
        attempt: job.attempts,
        status,
        error,
        started_at: started,
        finished_at: now,
        duration_ms,
    }
}

impl Store {
    /// Stores a new run with its first jobs in one transaction, so a run
    /// never exists without jobs; further jobs follow in batches of 500. (A
    /// crash while queueing a run of more than 500 leads leaves it with the
    /// batches written so far; `run --status new` queues the rest.)
    pub fn create_run(&self, run: &crate::domain::Run, jobs: &[Job]) -> Result<()> {
        let t = &self.trees;
        let (first, rest) = jobs.split_at(jobs.len().min(500));
        (
            &t.runs,
            &t.jobs,
            &t.jobs_ready,
            &t.jobs_by_run,
            &t.jobs_by_lead,
            &t.run_counts,
            &t.job_counts,
        )
            .transaction(
                |(runs, jobs, ready, by_run, by_lead, run_counts, job_counts)| {
                    runs.insert(&run.id.to_bytes(), encode(run))?;
                    let trees = PushTrees {
                        jobs,
                        ready,
                        by_run,
                        by_lead,
                        run_counts,
                        job_counts,
                    };
                    for job in first {
                        push_tx(&trees, job)?;
                    }
                    Ok(())
                },
            )?;
        self.push_jobs(rest)
    }

    /// Enqueues jobs, in transactions of up to 500.
    pub fn push_jobs(&self, jobs: &[Job]) -> Result<()> {
        let t = &self.trees;
        for chunk in jobs.chunks(500) {
            (
                &t.jobs,
                &t.jobs_ready,
                &t.jobs_by_run,
                &t.jobs_by_lead,
                &t.run_counts,
                &t.job_counts,
            )
                .transaction(
                    |(jobs, ready, by_run, by_lead, run_counts, job_counts)| {
                        let trees = PushTrees {
                            jobs,
                            ready,
                            by_run,
                            by_lead,
                            run_counts,
                            job_counts,
                        };
                        for job in chunk {
                            push_tx(&trees, job)?;
                        }
                        Ok(())
                    },
                )?;
        }
        Ok(())
    }

    /// Takes the earliest due job of a stage and marks it running under a
    /// lease, or says when the next one is due.
    pub fn claim_job(
        &self,
        stage: &Stage,
        now: Timestamp,
        owner: &str,
        lease: SignedDuration,
    ) -> Result<Claim> {
        let t = &self.trees;
        let prefix = keys::stage(stage);
        loop {
            let Some(first) = t.jobs_ready.scan_prefix(&prefix).next() else {
                return Ok(Claim::Empty { next_due: None });
            };
            let (key, _) = first?;
            let Some((run_at, id)) = keys::split_ready(&key) else {
                tracing::error!(key = %hex::encode(&key), "dropping a malformed ready-queue key");
                t.jobs_ready.remove(&key)?;
                continue;
            };
            if run_at > ms(now) {
                let due = Timestamp::from_millisecond(run_at as i64).ok();
                return Ok(Claim::Empty { next_due: due });
            }
            let claimed =
                (&t.jobs, &t.jobs_ready, &t.jobs_running).transaction(|(jobs, ready, running)| {
                    if ready.remove(key.as_ref())?.is_none() {
                        return Ok(None); // someone else took it; look again
                    }
                    let Some(mut job) = get_job(jobs, id)? else {
                        return Ok(None); // an index entry without a job: dropped with the remove
                    };
                    job.status = JobStatus::Running;
                    job.attempts += 1;
                    job.lease = Some(Lease {
                        owner: owner.to_string(),
                        until: now.checked_add(lease).unwrap_or(now),
                    });
                    job.started_at = Some(now);
                    job.finished_at = None;
                    jobs.insert(&id.to_bytes(), encode(&job))?;
                    running.insert(&id.to_bytes(), &[])?;
                    Ok(Some(job))
                });
            match claimed {
                Ok(Some(job)) => return Ok(Claim::Job(Box::new(job))),
                Ok(None) => continue,
                Err(sled::transaction::TransactionError::Abort(StoreError::Corrupt {
                    tree,
                    key,
                    reason,
                })) => {
                    // A record that cannot be decoded must not stop the queue.
                    tracing::error!(%tree, %key, %reason, "skipping an unreadable job");
                    t.jobs_ready.remove(&key)?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Records how a running job's attempt ended, with everything that goes
    /// with it. Returns the job as stored, or `None` if it was not running
    /// (already recovered or finished).
    pub fn finish_job(&self, finish: &Finish) -> Result<Option<Job>> {
        let t = &self.trees;
        let trees = (
            &t.jobs,
            &t.jobs_ready,
            &t.jobs_running,
            &t.job_attempts,
            &t.run_counts,
            &t.job_counts,
            &t.jobs_by_run,
            &t.jobs_by_lead,
            &t.leads,
            &t.leads_by_status,
            &t.lead_counts,
        );
        let job = trees.transaction(
            |(
                jobs,
                ready,
                running,
                attempts,
                run_counts,
                job_counts,
                by_run,
                by_lead,
                leads,
                by_status,
                lead_counts,
            )| {
                let Some(mut job) = get_job(jobs, finish.job)? else {
                    return Ok(None);
                };
                if job.status != JobStatus::Running || running.remove(&job.id.to_bytes())?.is_none()
                {
                    return Ok(None);
                }
                let mut outcome = finish.outcome.clone();
                if job.cancel_requested
                    && !matches!(outcome, Outcome::Succeeded | Outcome::Skipped { .. })
                {
                    outcome = Outcome::Cancelled;
                }
                let status = outcome.status();
                let error = outcome.error();
                attempts.insert(
                    &keys::attempt(job.id, job.attempts),
                    encode(&attempt_record(&job, status, error.clone(), finish.now)),
                )?;
                job.status = status;
                job.lease = None;
                job.last_error = (!error.is_empty()).then(|| error.join(": "));
                match &outcome {
                    Outcome::Retry { at, .. } => {
                        job.run_at = *at;
                        ready.insert(keys::ready(&job.stage, ms(*at), job.id), &[])?;
                    }
                    _ => {
                        job.finished_at = Some(finish.now);
                        count_status(run_counts, job_counts, &job, status, 1)?;
                    }
                }
                jobs.insert(&job.id.to_bytes(), encode(&job))?;
                let chain_goes_on = matches!(outcome, Outcome::Succeeded | Outcome::Skipped { .. });
                if let (true, Some(next)) = (chain_goes_on, &finish.next) {
                    let push = PushTrees {
                        jobs,
                        ready,
                        by_run,
                        by_lead,
                        run_counts,
                        job_counts,
                    };
                    push_tx(&push, next)?;
                }
                if let Some(lead_status) = finish.lead_status {
                    modify_lead_tx(leads, by_status, lead_counts, job.lead, &|lead| {
                        // The domain's rules: a blacklisted or contacted
                        // lead keeps its status whatever its jobs do.
                        if lead.status.may_move_to(lead_status) {
                            lead.status = lead_status;
                            lead.updated_at = finish.now;
                        }
                    })?;
                }
                Ok(Some(job))
            },
        )?;
        Ok(job)
    }

    /// Extends the leases of jobs this owner is still running.
    pub fn renew_leases(&self, ids: &[JobId], owner: &str, until: Timestamp) -> Result<()> {
        for id in ids {
            self.trees.jobs.transaction(|jobs| {
                let Some(mut job) = get_job(jobs, *id)? else {
                    return Ok(());
                };
                if job.status == JobStatus::Running
                    && job.lease.as_ref().is_some_and(|l| l.owner == owner)
                {
                    job.lease = Some(Lease {
                        owner: owner.to_string(),
                        until,
                    });
                    jobs.insert(&id.to_bytes(), encode(&job))?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Puts jobs found running back in the queue. At startup every running
    /// job is an orphan of a process that died (only one process holds the
    /// store); later, only jobs whose lease ran out. A job whose side effect
    /// was in progress goes to `needs_review` instead: it may have happened.
    pub fn recover_jobs(&self, now: Timestamp, only_expired: bool) -> Result<Recovered> {
        let t = &self.trees;
        let mut recovered = Recovered::default();
        let ids: Vec<JobId> = t
            .jobs_running
            .iter()
            .keys()
            .filter_map(|k| k.ok().and_then(|k| JobId::from_slice(&k)))
            .collect();
        for id in ids {
            let result = (&t.jobs, &t.jobs_ready, &t.jobs_running, &t.job_attempts, &t.run_counts, &t.job_counts)
                .transaction(|(jobs, ready, running, attempts, run_counts, job_counts)| {
                    let Some(mut job) = get_job(jobs, id)? else {
                        running.remove(&id.to_bytes())?;
                        return Ok(None);
                    };
                    if job.status != JobStatus::Running {
                        running.remove(&id.to_bytes())?;
                        return Ok(None);
                    }
                    if only_expired && job.lease.as_ref().is_some_and(|l| l.until > now) {
                        return Ok(None);
                    }
                    running.remove(&id.to_bytes())?;
                    job.lease = None;
                    if job.effect == EffectState::InProgress {
                        let error = vec![
                            "leadscout stopped while this job's side effect was in progress; it may or may not have happened. Check, then `leadscout jobs retry` it or leave it".to_string(),
                        ];
                        attempts.insert(
                            &keys::attempt(job.id, job.attempts),
                            encode(&attempt_record(&job, JobStatus::NeedsReview, error.clone(), now)),
                        )?;
                        job.status = JobStatus::NeedsReview;
                        job.last_error = Some(error.join(": "));
                        job.finished_at = Some(now);
                        count_status(run_counts, job_counts, &job, JobStatus::NeedsReview, 1)?;
                        jobs.insert(&id.to_bytes(), encode(&job))?;
                        return Ok(Some((job, true)));
                    }
                    let why = if only_expired {
                        "the attempt's lease ran out (its worker stopped renewing it)"
                    } else {
                        "interrupted: leadscout stopped while this attempt ran"
                    };
                    attempts.insert(
                        &keys::attempt(job.id, job.attempts),
                        encode(&attempt_record(&job, JobStatus::Retrying, vec![why.to_string()], now)),
                    )?;
                    // An interrupted attempt is not the job's fault: it does
                    // not count against its attempts.
                    job.attempt_base += 1;
                    job.status = JobStatus::Queued;
                    job.run_at = now;
                    ready.insert(keys::ready(&job.stage, ms(now), job.id), &[])?;
                    jobs.insert(&id.to_bytes(), encode(&job))?;
                    Ok(Some((job, false)))
                })?;
            match result {
                Some((job, true)) => recovered.needs_review.push(job),
                Some((job, false)) => recovered.requeued.push(job),
                None => {}
            }
        }
        Ok(recovered)
    }

    /// Records the state of a job's side effect. Callers flush after
    /// `InProgress` before starting the effect.
    pub fn set_job_effect(&self, id: JobId, effect: EffectState) -> Result<()> {
        self.trees.jobs.transaction(|jobs| {
            let Some(mut job) = get_job(jobs, id)? else {
                return abort(StoreError::Invalid(format!("job {id} does not exist")));
            };
            job.effect = effect;
            jobs.insert(&id.to_bytes(), encode(&job))?;
            Ok(())
        })?;
        Ok(())
    }

    /// Says what a running job is doing while it waits (a screenshot job
    /// waiting for a Grid slot), where the run log shows a job's last word:
    /// `last_error`, which the attempt's end replaces. Returns whether the
    /// job was running.
    pub fn note_running_job(&self, id: JobId, note: &str) -> Result<bool> {
        let noted = self.trees.jobs.transaction(|jobs| {
            let Some(mut job) = get_job(jobs, id)? else {
                return Ok(false);
            };
            if job.status != JobStatus::Running {
                return Ok(false);
            }
            job.last_error = Some(note.to_string());
            jobs.insert(&id.to_bytes(), encode(&job))?;
            Ok(true)
        })?;
        Ok(noted)
    }

    /// Cancels a job: a queued one at once, a running one when its attempt
    /// ends. Returns the job, or `None` if it does not exist.
    pub fn cancel_job(&self, id: JobId, now: Timestamp) -> Result<Option<Job>> {
        let t = &self.trees;
        let job = (&t.jobs, &t.jobs_ready, &t.run_counts, &t.job_counts).transaction(
            |(jobs, ready, run_counts, job_counts)| {
                let Some(mut job) = get_job(jobs, id)? else {
                    return Ok(None);
                };
                match job.status {
                    JobStatus::Queued | JobStatus::Retrying => {
                        ready.remove(keys::ready(&job.stage, ms(job.run_at), job.id))?;
                        job.status = JobStatus::Cancelled;
                        job.finished_at = Some(now);
                        count_status(run_counts, job_counts, &job, JobStatus::Cancelled, 1)?;
                    }
                    JobStatus::Running => job.cancel_requested = true,
                    _ => return Ok(Some(job)),
                }
                jobs.insert(&id.to_bytes(), encode(&job))?;
                Ok(Some(job))
            },
        )?;
        Ok(job)
    }

    /// Queues a finished job again (failed, dead, cancelled, needs review,
    /// or skipped), with a fresh set of attempts. Returns `None` when the
    /// job does not exist; a job that is not finished is returned unchanged.
    pub fn retry_job(&self, id: JobId, now: Timestamp) -> Result<Option<Job>> {
        let t = &self.trees;
        let job = (&t.jobs, &t.jobs_ready, &t.run_counts, &t.job_counts).transaction(
            |(jobs, ready, run_counts, job_counts)| {
                let Some(mut job) = get_job(jobs, id)? else {
                    return Ok(None);
                };
                if !job.status.is_terminal() || job.status == JobStatus::Succeeded {
                    return Ok(Some(job));
                }
                count_status(run_counts, job_counts, &job, job.status, -1)?;
                job.status = JobStatus::Queued;
                job.attempt_base = job.attempts;
                job.run_at = now;
                job.finished_at = None;
                job.cancel_requested = false;
                job.effect = EffectState::None;
                ready.insert(keys::ready(&job.stage, ms(now), job.id), &[])?;
                jobs.insert(&id.to_bytes(), encode(&job))?;
                Ok(Some(job))
            },
        )?;
        Ok(job)
    }

    pub fn job(&self, id: JobId) -> Result<Option<Job>> {
        let key = id.to_bytes();
        self.trees
            .jobs
            .get(key)?
            .map(|v| decode("jobs", &key, &v))
            .transpose()
    }

    /// Job ids of a run, oldest first.
    pub fn job_ids_of_run(&self, run: RunId) -> impl Iterator<Item = Result<JobId>> + '_ {
        ids_under(&self.trees.jobs_by_run, run.to_bytes())
    }

    /// Job ids of a lead, oldest first.
    pub fn job_ids_of_lead(&self, lead: LeadId) -> impl Iterator<Item = Result<JobId>> + '_ {
        ids_under(&self.trees.jobs_by_lead, lead.to_bytes())
    }

    /// The lead's newest job (job ids are time-ordered, so the last key
    /// under the lead in the index) and the few fields a list shows of
    /// it. The index is walked forwards: a lead has a handful of jobs,
    /// and sled's backward step costs far more than a few forward ones.
    pub fn last_job_of_lead(&self, lead: LeadId) -> Result<Option<LastJobRecord>> {
        let Some(item) = self.trees.jobs_by_lead.scan_prefix(lead.to_bytes()).last() else {
            return Ok(None);
        };
        let (key, _) = item?;
        let id = JobId::from_slice(&key[16..]).ok_or_else(|| StoreError::Corrupt {
            tree: "job index".into(),
            key: hex::encode(&key),
            reason: "key does not end in a job id".into(),
        })?;
        let key = id.to_bytes();
        let Some(bytes) = self.trees.jobs.get(key)? else {
            return Ok(None);
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            tree: "jobs".into(),
            key: hex::encode(key),
            reason,
        };
        let body = super::codec::json_body(&bytes)
            .ok_or_else(|| corrupt("unknown value encoding".into()))?;
        let glance: JobGlance = serde_json::from_slice(body).map_err(|e| corrupt(e.to_string()))?;
        glance.record().map(Some).map_err(corrupt)
    }

    /// Every job, oldest first.
    pub fn all_jobs(&self) -> impl Iterator<Item = Result<Job>> + '_ {
        self.trees.jobs.iter().map(|item| {
            let (k, v) = item?;
            decode("jobs", &k, &v)
        })
    }

    /// The newest jobs first (ids are time-ordered), at most `limit`.
    pub fn recent_jobs(&self, limit: usize) -> Result<Vec<Job>> {
        self.trees
            .jobs
            .iter()
            .rev()
            .take(limit)
            .map(|item| {
                let (k, v) = item?;
                decode("jobs", &k, &v)
            })
            .collect()
    }

    /// The attempts of a job, first first.
    pub fn attempts(&self, job: JobId) -> Result<Vec<Attempt>> {
        self.trees
            .job_attempts
            .scan_prefix(job.to_bytes())
            .map(|item| {
                let (k, v) = item?;
                decode("job_attempts", &k, &v)
            })
            .collect()
    }

    /// Jobs waiting in the ready queues (including retries backing off).
    pub fn queued_job_count(&self) -> usize {
        self.trees.jobs_ready.len()
    }

    pub fn running_job_count(&self) -> usize {
        self.trees.jobs_running.len()
    }
}

/// A job as a list shows it. Decoding only these fields skips the rest
/// of the record (its error text, lease and effect), and of its three
/// times only the one shown is parsed: 100,000 rows read at about the
/// cost of their leads.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct JobGlance<'a> {
    pub stage: Stage,
    pub status: JobStatus,
    #[serde(borrow)]
    created_at: &'a str,
    #[serde(default, borrow)]
    started_at: Option<&'a str>,
    #[serde(default, borrow)]
    finished_at: Option<&'a str>,
}

/// What a list shows of a lead's newest job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastJobRecord {
    pub stage: Stage,
    pub status: JobStatus,
    /// When it finished, else started, else was queued.
    pub at: Timestamp,
}

impl JobGlance<'_> {
    fn record(self) -> std::result::Result<LastJobRecord, String> {
        let at = self
            .finished_at
            .or(self.started_at)
            .unwrap_or(self.created_at);
        Ok(LastJobRecord {
            stage: self.stage,
            status: self.status,
            at: at.parse().map_err(|e| format!("bad time `{at}`: {e}"))?,
        })
    }
}

fn ids_under(tree: &sled::Tree, parent: [u8; 16]) -> impl Iterator<Item = Result<JobId>> + '_ {
    tree.scan_prefix(parent).map(|item| {
        let (key, _) = item?;
        JobId::from_slice(&key[16..]).ok_or_else(|| StoreError::Corrupt {
            tree: "job index".into(),
            key: hex::encode(&key),
            reason: "key does not end in a job id".into(),
        })
    })
}
