//! Campaign use cases.

use super::{CampaignSummary, Result, Service, ServiceError};
use crate::domain::{Campaign, CampaignId, CampaignStatus, Slug};

impl Service {
    pub async fn create_campaign(&self, name: &str, slug: Option<&str>) -> Result<CampaignSummary> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ServiceError::Invalid("a campaign needs a name".into()));
        }
        let slug = match slug {
            Some(s) => Slug::parse(s.trim()),
            None => Slug::from_name(name),
        }
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let now = self.now();
        let campaign = Campaign {
            id: CampaignId::from_ulid(self.new_ulid()),
            slug,
            name: name.to_string(),
            status: CampaignStatus::Active,
            created_at: now,
            updated_at: now,
            sequence: None,
        };
        self.store()
            .insert_campaign(&campaign)
            .map_err(|e| match e {
                crate::store::StoreError::Conflict(m) => ServiceError::Conflict(m),
                other => other.into(),
            })?;
        self.store().flush().await?;
        Ok(CampaignSummary::new(campaign, Default::default()))
    }

    pub async fn list_campaigns(&self) -> Result<Vec<CampaignSummary>> {
        let mut out = Vec::new();
        for campaign in self.store().campaigns()? {
            let counts = self.store().lead_counts(campaign.id)?;
            out.push(CampaignSummary::new(campaign, counts));
        }
        Ok(out)
    }

    pub async fn campaign(&self, slug: &str) -> Result<CampaignSummary> {
        let campaign = self.campaign_by_slug(slug)?;
        let counts = self.store().lead_counts(campaign.id)?;
        Ok(CampaignSummary::new(campaign, counts))
    }

    pub async fn set_campaign_status(
        &self,
        slug: &str,
        status: CampaignStatus,
    ) -> Result<CampaignSummary> {
        let mut campaign = self.campaign_by_slug(slug)?;
        if campaign.status != status {
            campaign.status = status;
            campaign.updated_at = self.now();
            self.store().update_campaign(&campaign)?;
            self.store().flush().await?;
        }
        let counts = self.store().lead_counts(campaign.id)?;
        Ok(CampaignSummary::new(campaign, counts))
    }

    /// The campaign for a write: refuses archived ones.
    pub(crate) fn writable_campaign(&self, slug: &str) -> Result<Campaign> {
        let campaign = self.campaign_by_slug(slug)?;
        if campaign.status == CampaignStatus::Archived {
            return Err(ServiceError::Invalid(format!(
                "campaign `{slug}` is archived; create a new campaign or unarchive it with `leadscout campaign activate {slug}`"
            )));
        }
        Ok(campaign)
    }
}
