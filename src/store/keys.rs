//! Key layouts, so that range scans answer the common questions: all leads of
//! a campaign, the lead of a campaign with a given domain, leads of a campaign
//! with a given status. Ids are 16 big-endian ULID bytes, so scans come back in
//! creation order.

use crate::domain::{BlacklistKind, CampaignId, Domain, LeadId, LeadStatus};

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
