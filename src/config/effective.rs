//! The one answer to "what is the effective setting": for every key that
//! `leadscout settings` knows, the campaign's own setting, else the global
//! setting, else the config (file or environment), else the built-in
//! default. Drafts, report pages, sending, re-audits and `settings list`
//! all read through here, so they cannot disagree about the order.
//!
//! Uses `domain` only: the stored layers come in through
//! [`StoredSettings`], which the store implements.

use std::sync::LazyLock;
use std::time::Duration;

use super::{Config, SenderConfig, SendingConfig};
use crate::domain::CampaignId;
use crate::domain::settings::{SettingSource, StoredSettings};

/// A setting's value in force and the layer it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub value: Option<String>,
    pub source: SettingSource,
}

/// Built once: every lookup compares the config's value with it.
static DEFAULTS: LazyLock<Config> = LazyLock::new(Config::default);

/// Stand-in text for a call to action whose text is not set.
pub const DEFAULT_CTA_TEXT: &str = "Book a free call";

impl Config {
    /// The config's value for a setting key, in the form `settings set`
    /// takes it; `None` when the config has no such key or leaves it empty.
    pub fn setting_value(&self, key: &str) -> Option<String> {
        let text = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
        match key {
            "sender.name" => text(&self.sender.name),
            "sender.company" => text(&self.sender.company),
            "sender.email" => text(&self.sender.email),
            "sender.reply_to" => text(&self.sender.reply_to),
            "sender.postal_address" => text(&self.sender.postal_address),
            "email.template_file" => text(&self.drafts.template),
            "sending.campaign_daily_cap" => Some(self.sending.campaign_daily_cap.to_string()),
            "sending.window" => text(&self.sending.window),
            "sending.weekdays" => text(&self.sending.weekdays.join(",")),
            "sending.min_spacing_secs" => Some(self.sending.min_spacing_secs.to_string()),
            // The config has no `[report]` section; the page's own default.
            "report.cta_text" => Some(DEFAULT_CTA_TEXT.into()),
            "reaudit_every" => Some(match self.reaudit.every {
                Some(every) => humantime::format_duration(every).to_string(),
                None => "off".into(),
            }),
            _ => None,
        }
    }

    /// The value in force for `key` in `campaign` (or globally, for
    /// `None`), and where it came from. A config value equal to the
    /// built-in default counts as the default: the operator changed
    /// nothing by writing it out.
    pub fn effective_setting<S: StoredSettings>(
        &self,
        stored: &S,
        campaign: Option<CampaignId>,
        key: &str,
    ) -> Result<Effective, S::Error> {
        if let Some(id) = campaign
            && let Some(value) = stored.stored_setting(Some(id), key)?
        {
            return Ok(Effective {
                value: Some(value),
                source: SettingSource::Campaign,
            });
        }
        if let Some(value) = stored.stored_setting(None, key)? {
            return Ok(Effective {
                value: Some(value),
                source: SettingSource::Global,
            });
        }
        let default = DEFAULTS.setting_value(key);
        Ok(match self.setting_value(key) {
            Some(value) if Some(&value) != default.as_ref() => Effective {
                value: Some(value),
                source: SettingSource::Config,
            },
            _ => Effective {
                value: default,
                source: SettingSource::Default,
            },
        })
    }

    /// Just the value of [`effective_setting`](Self::effective_setting).
    pub fn effective_value<S: StoredSettings>(
        &self,
        stored: &S,
        campaign: Option<CampaignId>,
        key: &str,
    ) -> Result<Option<String>, S::Error> {
        Ok(self.effective_setting(stored, campaign, key)?.value)
    }

    /// The sender's identity in force for a campaign, field by field.
    pub fn effective_sender<S: StoredSettings>(
        &self,
        stored: &S,
        campaign: Option<CampaignId>,
    ) -> Result<SenderConfig, S::Error> {
        let get = |key: &str| -> Result<String, S::Error> {
            Ok(self
                .effective_value(stored, campaign, key)?
                .unwrap_or_default())
        };
        Ok(SenderConfig {
            name: get("sender.name")?,
            company: get("sender.company")?,
            email: get("sender.email")?,
            reply_to: get("sender.reply_to")?,
            postal_address: get("sender.postal_address")?,
        })
    }

    /// `[sending]` with the effective `sending.*` settings in place; keys
    /// with no setting (the inbox-wide cap, the time zone) stay as
    /// configured. Stored values were validated when they were set; one
    /// that no longer parses keeps the configured value.
    pub fn effective_sending<S: StoredSettings>(
        &self,
        stored: &S,
        campaign: Option<CampaignId>,
    ) -> Result<SendingConfig, S::Error> {
        let mut sending = self.sending.clone();
        let get = |key: &str| self.effective_value(stored, campaign, key);
        if let Some(v) = get("sending.campaign_daily_cap")? {
            sending.campaign_daily_cap = v.parse().unwrap_or(sending.campaign_daily_cap);
        }
        if let Some(v) = get("sending.window")? {
            sending.window = v;
        }
        if let Some(v) = get("sending.weekdays")? {
            sending.weekdays = v.split(',').map(|d| d.trim().to_string()).collect();
        }
        if let Some(v) = get("sending.min_spacing_secs")? {
            sending.min_spacing_secs = v.parse().unwrap_or(sending.min_spacing_secs);
        }
        Ok(sending)
    }

    /// How often a campaign's contacted leads are audited again; `None`:
    /// never.
    pub fn effective_reaudit_every<S: StoredSettings>(
        &self,
        stored: &S,
        campaign: Option<CampaignId>,
    ) -> Result<Option<Duration>, S::Error> {
        Ok(
            match self.effective_value(stored, campaign, "reaudit_every")? {
                Some(v) if v != "off" => humantime::parse_duration(&v).ok(),
                _ => None,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::convert::Infallible;

    use super::*;

    #[derive(Default)]
    struct Stored(HashMap<(Option<CampaignId>, String), String>);

    impl StoredSettings for Stored {
        type Error = Infallible;
        fn stored_setting(
            &self,
            campaign: Option<CampaignId>,
            key: &str,
        ) -> Result<Option<String>, Infallible> {
            Ok(self.0.get(&(campaign, key.to_string())).cloned())
        }
    }

    fn resolve(config: &Config, stored: &Stored, c: Option<CampaignId>, key: &str) -> Effective {
        let Ok(e) = config.effective_setting(stored, c, key);
        e
    }

    #[test]
    fn campaign_then_global_then_config_then_default() {
        let campaign = CampaignId::from_ulid(ulid::Ulid::from(1u128));
        let other = CampaignId::from_ulid(ulid::Ulid::from(2u128));
        let mut config = Config::default();
        let mut stored = Stored::default();
        let key = "sender.company";
        let at = |config: &Config, stored: &Stored, c| {
            let e = resolve(config, stored, c, key);
            (e.value, e.source)
        };

        assert_eq!(
            at(&config, &stored, Some(campaign)),
            (None, SettingSource::Default)
        );
        config.sender.company = "Config Co".into();
        assert_eq!(
            at(&config, &stored, Some(campaign)),
            (Some("Config Co".into()), SettingSource::Config)
        );
        stored.0.insert((None, key.into()), "Global Co".into());
        assert_eq!(
            at(&config, &stored, Some(campaign)),
            (Some("Global Co".into()), SettingSource::Global)
        );
        stored
            .0
            .insert((Some(campaign), key.into()), "Campaign Co".into());
        assert_eq!(
            at(&config, &stored, Some(campaign)),
            (Some("Campaign Co".into()), SettingSource::Campaign)
        );
        // Another campaign, and the global view, skip this campaign's own.
        assert_eq!(
            at(&config, &stored, Some(other)),
            (Some("Global Co".into()), SettingSource::Global)
        );
        assert_eq!(
            at(&config, &stored, None),
            (Some("Global Co".into()), SettingSource::Global)
        );
    }

    #[test]
    fn a_config_value_equal_to_the_default_is_the_default() {
        let mut config = Config::default();
        let stored = Stored::default();
        let e = resolve(&config, &stored, None, "sending.window");
        assert_eq!(
            (e.value.as_deref(), e.source),
            (Some("09:00-17:00"), SettingSource::Default)
        );
        config.sending.window = "08:00-12:00".into();
        let e = resolve(&config, &stored, None, "sending.window");
        assert_eq!(
            (e.value.as_deref(), e.source),
            (Some("08:00-12:00"), SettingSource::Config)
        );
    }

    #[test]
    fn every_known_key_resolves_and_the_composites_agree() {
        let mut config = Config::default();
        config.sender.name = "Jana".into();
        config.reaudit.every = Some(Duration::from_secs(86_400));
        let mut stored = Stored::default();
        let campaign = CampaignId::from_ulid(ulid::Ulid::from(7u128));
        stored.0.insert(
            (Some(campaign), "sending.weekdays".into()),
            "mon,wed".into(),
        );
        stored
            .0
            .insert((None, "sender.email".into()), "jana@example.com".into());
        for spec in crate::domain::settings::KNOWN {
            resolve(&config, &stored, Some(campaign), spec.key);
        }
        let Ok(sender) = config.effective_sender(&stored, Some(campaign));
        assert_eq!(
            (sender.name.as_str(), sender.email.as_str()),
            ("Jana", "jana@example.com")
        );
        let Ok(sending) = config.effective_sending(&stored, Some(campaign));
        assert_eq!(sending.weekdays, ["mon", "wed"]);
        assert_eq!(sending.window, "09:00-17:00");
        let Ok(every) = config.effective_reaudit_every(&stored, Some(campaign));
        assert_eq!(every, Some(Duration::from_secs(86_400)));
    }
}
