//! Unsubscribe tokens: token → lead (each lead's own token, plus the old
//! tokens that mail delivered before an upgrade carries), and each lead's
//! current token. Nothing here ever removes an entry: a link in delivered
//! mail must work for as long as the data exists.

use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::codec::decode;
use super::{Result, Store, StoreError};
use crate::domain::outreach::{Outreach, OutreachStatus};
use crate::domain::report::ReportLink;
use crate::domain::unsubscribe::UnsubscribeToken;
use crate::domain::unsubscribe::unsubscribe_links_problem;
use crate::domain::{CampaignId, LeadId};

impl Store {
    /// The lead's own token, if it has one yet.
    pub fn unsubscribe_token_of(&self, lead: LeadId) -> Result<Option<UnsubscribeToken>> {
        Ok(self
            .trees
            .lead_unsubscribe
            .get(lead.to_bytes())?
            .and_then(|v| {
                std::str::from_utf8(&v)
                    .ok()
                    .and_then(UnsubscribeToken::parse)
            }))
    }

    /// The lead's token: the one it has, or `fresh`, stored now as its own.
    pub fn ensure_unsubscribe_token(
        &self,
        lead: LeadId,
        fresh: &UnsubscribeToken,
    ) -> Result<UnsubscribeToken> {
        if let Some(token) = self.unsubscribe_token_of(lead)? {
            return Ok(token);
        }
        let t = &self.trees;
        let token =
            (&t.unsubscribe_tokens, &t.lead_unsubscribe).transaction(|(tokens, by_lead)| {
                if let Some(current) = by_lead.get(lead.to_bytes())?
                    && let Some(token) = std::str::from_utf8(&current)
                        .ok()
                        .and_then(UnsubscribeToken::parse)
                {
                    return Ok(token);
                }
                if tokens.get(fresh.as_str())?.is_some() {
                    // 128 random bits never collide in practice; if they
                    // did, taking over another lead's token would be worse.
                    return Err(ConflictableTransactionError::Abort(StoreError::Conflict(
                        "a new unsubscribe token was already taken; try again".into(),
                    )));
                }
                tokens.insert(fresh.as_str(), &lead.to_bytes())?;
                by_lead.insert(&lead.to_bytes(), fresh.as_str())?;
                Ok(fresh.clone())
            })?;
        Ok(token)
    }

    /// The lead a token (own or alias) stands for.
    pub fn unsubscribe_lead(&self, token: &UnsubscribeToken) -> Result<Option<LeadId>> {
        Ok(self
            .trees
            .unsubscribe_tokens
            .get(token.as_str())?
            .and_then(|v| LeadId::from_slice(&v)))
    }

    /// Records `token` as another way to reach the lead's unsubscribe page,
    /// unless it already stands for a lead (never moved to another one).
    /// Returns whether it was added.
    pub fn add_unsubscribe_alias(&self, token: &UnsubscribeToken, lead: LeadId) -> Result<bool> {
        let added = self
            .trees
            .unsubscribe_tokens
            .compare_and_swap(token.as_str(), None::<&[u8]>, Some(&lead.to_bytes()[..]))?
            .is_ok();
        Ok(added)
    }
}

impl Store {
    /// What is wrong with the unsubscribe links of the campaign's approved
    /// emails (see `unsubscribe_links_problem`), checked before a send.
    pub fn approved_unsubscribe_links_problem(
        &self,
        campaign: CampaignId,
        allow_local: bool,
    ) -> Result<Option<String>> {
        if allow_local {
            return Ok(None);
        }
        let approved = self.campaign_outreach(campaign, Some(OutreachStatus::Approved))?;
        Ok(unsubscribe_links_problem(
            approved
                .iter()
                .map(|o| (o.lead.to_string(), o.unsubscribe_url.as_str())),
            false,
        ))
    }
}

/// Schema 1 → 2: before this step the unsubscribe link reused the report
/// token. Every token that mail may carry (each outreach's stored
/// unsubscribe link, and every report token still on record) becomes an
/// alias of its lead, so one-click unsubscribe in mail already delivered
/// keeps working after the report link is revoked, expires or is replaced.
/// Safe to run twice. Returns the aliases added.
pub(super) fn alias_report_tokens(store: &Store) -> Result<u64> {
    let mut added = 0;
    for entry in store.trees.outreach.iter() {
        let (key, value) = entry?;
        let o: Outreach = decode("outreach", &key, &value)?;
        if let Some(token) = UnsubscribeToken::from_url(&o.unsubscribe_url)
            && store.add_unsubscribe_alias(&token, o.lead)?
        {
            added += 1;
        }
    }
    for entry in store.trees.report_tokens.iter() {
        let (key, value) = entry?;
        let link: ReportLink = decode("report_tokens", &key, &value)?;
        if store.add_unsubscribe_alias(&UnsubscribeToken::from(&link.token), link.lead)? {
            added += 1;
        }
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(n: u8) -> LeadId {
        LeadId::from_bytes([n; 16])
    }

    #[test]
    fn a_lead_keeps_its_token_and_aliases_never_move() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test").unwrap();
        let first = UnsubscribeToken::from_random([1; 16]);
        let second = UnsubscribeToken::from_random([2; 16]);
        assert_eq!(store.unsubscribe_token_of(lead(1)).unwrap(), None);
        assert_eq!(
            store.ensure_unsubscribe_token(lead(1), &first).unwrap(),
            first
        );
        assert_eq!(
            store.ensure_unsubscribe_token(lead(1), &second).unwrap(),
            first,
            "the token a lead has is kept"
        );
        assert_eq!(store.unsubscribe_lead(&first).unwrap(), Some(lead(1)));
        assert_eq!(store.unsubscribe_lead(&second).unwrap(), None);
        assert!(
            store
                .ensure_unsubscribe_token(lead(2), &first)
                .unwrap_err()
                .to_string()
                .contains("already taken")
        );

        let old = UnsubscribeToken::from_random([3; 16]);
        assert!(store.add_unsubscribe_alias(&old, lead(2)).unwrap());
        assert!(!store.add_unsubscribe_alias(&old, lead(1)).unwrap());
        assert!(!store.add_unsubscribe_alias(&first, lead(2)).unwrap());
        assert_eq!(store.unsubscribe_lead(&old).unwrap(), Some(lead(2)));
        assert_eq!(store.unsubscribe_lead(&first).unwrap(), Some(lead(1)));
    }
}
