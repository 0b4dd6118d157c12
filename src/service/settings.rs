//! Settings use cases: known keys only, no secrets, global or per campaign.

use serde::{Deserialize, Serialize};

use super::{Result, Service, ServiceError};
use crate::domain::settings::{self, KNOWN, Setting, SettingSource};

/// A setting as `settings list` shows it: the effective value and where it
/// comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingView {
    pub key: String,
    pub value: Option<String>,
    /// `campaign`, `global`, `config` or `default` (see
    /// `Config::effective_setting`).
    pub source: SettingSource,
    pub help: String,
}

impl Service {
    pub async fn settings_list(&self, campaign: Option<&str>) -> Result<Vec<SettingView>> {
        let campaign_id = campaign
            .map(|slug| self.campaign_by_slug(slug).map(|c| c.id))
            .transpose()?;
        KNOWN
            .iter()
            .map(|spec| self.effective_setting(campaign_id, spec.key))
            .collect()
    }

    pub async fn settings_get(&self, key: &str, campaign: Option<&str>) -> Result<SettingView> {
        if settings::spec(key).is_none() {
            return Err(unknown(key));
        }
        let campaign_id = campaign
            .map(|slug| self.campaign_by_slug(slug).map(|c| c.id))
            .transpose()?;
        self.effective_setting(campaign_id, key)
    }

    pub async fn settings_set(
        &self,
        key: &str,
        value: &str,
        campaign: Option<&str>,
    ) -> Result<SettingView> {
        let normalised =
            settings::validate(key, value).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let campaign_id = campaign
            .map(|slug| self.campaign_by_slug(slug).map(|c| c.id))
            .transpose()?;
        self.store().put_setting(&Setting {
            key: key.trim().to_string(),
            value: normalised.clone(),
            campaign: campaign_id,
            updated_at: self.now(),
        })?;
        self.log_action(
            "settings_set",
            campaign,
            key.trim(),
            format!("set to `{normalised}`"),
        )?;
        self.store().flush().await?;
        self.effective_setting(campaign_id, key.trim())
    }

    pub async fn settings_unset(&self, key: &str, campaign: Option<&str>) -> Result<SettingView> {
        if settings::spec(key).is_none() {
            return Err(unknown(key));
        }
        let campaign_id = campaign
            .map(|slug| self.campaign_by_slug(slug).map(|c| c.id))
            .transpose()?;
        self.store().remove_setting(campaign_id, key)?;
        self.log_action("settings_unset", campaign, key, "unset")?;
        self.store().flush().await?;
        self.effective_setting(campaign_id, key)
    }

    /// The value in force for a campaign (or globally) and where it came
    /// from, through the one resolver drafts, pages and sending use.
    pub(crate) fn effective_setting(
        &self,
        campaign: Option<crate::domain::CampaignId>,
        key: &str,
    ) -> Result<SettingView> {
        let help = settings::spec(key)
            .map(|s| s.help.to_string())
            .unwrap_or_default();
        let effective = self
            .config()
            .effective_setting(self.store(), campaign, key)?;
        Ok(SettingView {
            key: key.into(),
            value: effective.value,
            source: effective.source,
            help,
        })
    }
}

fn unknown(key: &str) -> ServiceError {
    ServiceError::Invalid(
        settings::validate(key, "")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| format!("unknown setting `{key}`")),
    )
}
