//! Key layouts, so that range scans answer the common questions: all leads of
//! a campaign, the lead of a campaign with a given domain, leads of a campaign
//! with a given status. Ids are 16 big-endian ULID bytes, so scans come back in
//! creation order.

use crate::domain::{BlacklistKind, CampaignId, Domain, JobId, LeadId, LeadStatus, RunId, Stage};

/// `campaign ++ lead`
pub fn campaign_lead(campaign: CampaignId, lead: LeadId) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(&campaign.to_bytes());
    key[16..].copy_from_slice(&lead.to_bytes());
    key
}

/// `campaign ++ domain`
pub fn campaign_domain(campaign: CampaignId, domain: &Domain) -> Vec<u8> {
    let mut key = Vec::with_capacity(16 + domain.as_str().len());
    key.extend_from_slice(&campaign.to_bytes());
    key.extend_from_slice(domain.as_str().as_bytes());
    key
}

/// `campaign ++ status`: the prefix of the status index, and the counter key.
pub fn campaign_status(campaign: CampaignId, status: LeadStatus) -> [u8; 17] {
    let mut key = [0u8; 17];
    key[..16].copy_from_slice(&campaign.to_bytes());
    key[16] = status.key_byte();
    key
}

/// `campaign ++ status ++ lead`
pub fn campaign_status_lead(campaign: CampaignId, status: LeadStatus, lead: LeadId) -> [u8; 33] {
    let mut key = [0u8; 33];
    key[..17].copy_from_slice(&campaign_status(campaign, status));
    key[17..].copy_from_slice(&lead.to_bytes());
    key
}

/// The lead id at the end of an index key.
pub fn trailing_lead(key: &[u8]) -> Option<LeadId> {
    key.len()
        .checked_sub(16)
        .and_then(|at| LeadId::from_slice(&key[at..]))
}

/// `kind:value`, e.g. `email:info@example.com`, `domain:example.com`.
pub fn blacklist(kind: BlacklistKind, value: &str) -> Vec<u8> {
    format!("{}:{value}", kind.as_str()).into_bytes()
}

/// `*/key` for global settings, `<campaign id>/key` for campaign overrides.
pub fn setting(campaign: Option<CampaignId>, key: &str) -> Vec<u8> {
    match campaign {
        None => format!("*/{key}").into_bytes(),
        Some(id) => format!("{id}/{key}").into_bytes(),
    }
}

/// A stage as a key prefix: its length byte, then its name, so that no
/// stage's prefix is a prefix of another's.
pub fn stage(stage: &Stage) -> Vec<u8> {
    let name = stage.as_str().as_bytes();
    let mut key = Vec::with_capacity(1 + name.len());
    key.push(name.len() as u8);
    key.extend_from_slice(name);
    key
}

/// `stage ++ run_at (ms, big-endian) ++ job`: the ready queue of a stage,
/// earliest first.
pub fn ready(stage_name: &Stage, run_at_ms: u64, job: JobId) -> Vec<u8> {
    let mut key = stage(stage_name);
    key.extend_from_slice(&run_at_ms.to_be_bytes());
    key.extend_from_slice(&job.to_bytes());
    key
}

/// The run-at time and job id at the end of a ready key.
pub fn split_ready(key: &[u8]) -> Option<(u64, JobId)> {
    let len = key.len();
    if len < 24 {
        return None;
    }
    let run_at = u64::from_be_bytes(key[len - 24..len - 16].try_into().ok()?);
    Some((run_at, JobId::from_slice(&key[len - 16..])?))
}

/// `run ++ stage ++ status byte`; status byte 0 holds the total.
pub fn run_count(run: RunId, stage_name: &Stage, status: u8) -> Vec<u8> {
    let mut key = run.to_bytes().to_vec();
    key.extend_from_slice(&stage(stage_name));
    key.push(status);
    key
}

/// `stage ++ status byte`, the global job counters; byte 0 is the total.
pub fn job_count(stage_name: &Stage, status: u8) -> Vec<u8> {
    let mut key = stage(stage_name);
    key.push(status);
    key
}

/// `parent ++ job`: jobs by run and by lead.
pub fn parent_job(parent: [u8; 16], job: JobId) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(&parent);
    key[16..].copy_from_slice(&job.to_bytes());
    key
}

/// `job ++ attempt number`
pub fn attempt(job: JobId, attempt: u32) -> [u8; 20] {
    let mut key = [0u8; 20];
    key[..16].copy_from_slice(&job.to_bytes());
    key[16..].copy_from_slice(&attempt.to_be_bytes());
    key
}
