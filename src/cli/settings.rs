//! `leadscout settings ...`

use color_eyre::eyre::Result;

use super::args::SettingsCommand;
use super::output::{Out, opt};
use crate::service::settings::SettingView;
use crate::service::{Api, Client};

pub async fn run(command: SettingsCommand, service: &Client, out: &Out) -> Result<()> {
    match command {
        SettingsCommand::List { campaign } => {
            let settings = service.settings_list(campaign.clone()).await?;
            if out.json {
                return out.json(&settings);
            }
            out.table(
                &["key", "value", "from", "meaning"],
                settings.iter().map(|s| {
                    vec![
                        s.key.clone(),
                        opt(&s.value),
                        s.source.to_string(),
                        s.help.clone(),
                    ]
                }),
            )?;
        }
        SettingsCommand::Get { key, campaign } => {
            let s = service.settings_get(key.clone(), campaign.clone()).await?;
            if out.json {
                return out.json(&s);
            }
            print_value(&s);
        }
        SettingsCommand::Set {
            key,
            value,
            campaign,
        } => {
            let s = service
                .settings_set(key.clone(), value.clone(), campaign.clone())
                .await?;
            if out.json {
                return out.json(&s);
            }
            out.say(format!("{} = {} ({})", s.key, opt(&s.value), s.source));
        }
        SettingsCommand::Unset { key, campaign } => {
            let s = service
                .settings_unset(key.clone(), campaign.clone())
                .await?;
            if out.json {
                return out.json(&s);
            }
            out.say(format!(
                "{} is now {} ({})",
                s.key,
                s.value.as_deref().unwrap_or("unset"),
                s.source
            ));
        }
    }
    Ok(())
}

/// `settings get` prints the bare value, so scripts can use it.
fn print_value(s: &SettingView) {
    if let Some(value) = &s.value {
        println!("{value}");
    }
}
