//! Operator settings, global (`*/key`) or per campaign (`<id>/key`).

use super::codec::{decode, encode};
use super::keys;
use super::{Result, Store};
use crate::domain::CampaignId;
use crate::domain::settings::{Setting, StoredSettings};

impl Store {
    pub fn put_setting(&self, setting: &Setting) -> Result<()> {
        self.trees.settings.insert(
            keys::setting(setting.campaign, &setting.key),
            encode(setting),
        )?;
        Ok(())
    }

    pub fn setting(&self, campaign: Option<CampaignId>, key: &str) -> Result<Option<Setting>> {
        let k = keys::setting(campaign, key);
        self.trees
            .settings
            .get(&k)?
            .map(|v| decode("settings", &k, &v))
            .transpose()
    }

    pub fn remove_setting(&self, campaign: Option<CampaignId>, key: &str) -> Result<bool> {
        Ok(self
            .trees
            .settings
            .remove(keys::setting(campaign, key))?
            .is_some())
    }

    /// All settings of one scope (global when `campaign` is `None`).
    pub fn settings(&self, campaign: Option<CampaignId>) -> Result<Vec<Setting>> {
        let prefix = keys::setting(campaign, "");
        self.trees
            .settings
            .scan_prefix(prefix)
            .map(|item| {
                let (k, v) = item?;
                decode("settings", &k, &v)
            })
            .collect()
    }
}

/// The stored layers of the effective-setting resolver
/// (`Config::effective_setting`).
impl StoredSettings for Store {
    type Error = super::StoreError;

    fn stored_setting(&self, campaign: Option<CampaignId>, key: &str) -> Result<Option<String>> {
        Ok(self.setting(campaign, key)?.map(|s| s.value))
    }
}
