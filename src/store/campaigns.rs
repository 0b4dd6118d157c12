//! Campaign records and the slug index.

use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::codec::{decode, encode};
use super::{Result, Store, StoreError};
use crate::domain::{Campaign, CampaignId, Slug};

impl Store {
    /// Stores a new campaign; fails when the slug is taken.
    pub fn insert_campaign(&self, campaign: &Campaign) -> Result<()> {
        let t = &self.trees;
        (&t.campaigns, &t.campaign_slugs).transaction(|(campaigns, slugs)| {
            if slugs.get(campaign.slug.as_str())?.is_some() {
                return Err(ConflictableTransactionError::Abort(StoreError::Conflict(
                    format!(
                        "a campaign with slug `{}` already exists; pick another with --slug",
                        campaign.slug
                    ),
                )));
            }
            slugs.insert(campaign.slug.as_str(), &campaign.id.to_bytes())?;
            campaigns.insert(&campaign.id.to_bytes(), encode(campaign))?;
            Ok(())
        })?;
        Ok(())
    }

    /// Replaces a campaign record; the slug never changes.
    pub fn update_campaign(&self, campaign: &Campaign) -> Result<()> {
        self.trees
            .campaigns
            .insert(campaign.id.to_bytes(), encode(campaign))?;
        Ok(())
    }

    pub fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>> {
        let key = id.to_bytes();
        self.trees
            .campaigns
            .get(key)?
            .map(|v| decode("campaigns", &key, &v))
            .transpose()
    }

    pub fn campaign_by_slug(&self, slug: &Slug) -> Result<Option<Campaign>> {
        match self.trees.campaign_slugs.get(slug.as_str())? {
            Some(id) => {
                let id = CampaignId::from_slice(&id).ok_or_else(|| StoreError::Corrupt {
                    tree: "campaign_slugs".into(),
                    key: slug.to_string(),
                    reason: "value is not a campaign id".into(),
                })?;
                self.campaign(id)
            }
            None => Ok(None),
        }
    }

    /// All campaigns, oldest first.
    pub fn campaigns(&self) -> Result<Vec<Campaign>> {
        self.trees
            .campaigns
            .iter()
            .map(|item| {
                let (k, v) = item?;
                decode("campaigns", &k, &v)
            })
            .collect()
    }
}
