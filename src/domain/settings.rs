//! Operator settings kept in the store (sender identity, report call to
//! action, ...), global or per campaign, and the guard that keeps secrets out.
//!
//! Secrets never live in the store or the config file: the config names the
//! environment variable that holds them.

use serde::{Deserialize, Serialize};

use super::{CampaignId, Email, Timestamp, Website};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    pub key: String,
    pub value: String,
    /// `None` for a global setting, else the campaign it overrides.
    #[serde(default)]
    pub campaign: Option<CampaignId>,
    pub updated_at: Timestamp,
}

/// Where the value in force for a setting came from, most specific first:
/// the campaign's own setting, the global setting, the config file (or
/// its environment overrides), else leadscout's built-in default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingSource {
    Campaign,
    Global,
    Config,
    Default,
}

impl SettingSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Campaign => "campaign",
            Self::Global => "global",
            Self::Config => "config",
            Self::Default => "default",
        }
    }
}

impl std::fmt::Display for SettingSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stored settings as the effective-setting resolver reads them: a
/// campaign's own (`Some(campaign)`) or the global one (`None`). The store
/// implements it; the resolver itself lives with the config, which holds
/// the layers under these two.
pub trait StoredSettings {
    type Error;
    fn stored_setting(
        &self,
        campaign: Option<CampaignId>,
        key: &str,
    ) -> Result<Option<String>, Self::Error>;
}

/// The value type of a known setting, used to validate what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    Text,
    Email,
    Url,
    Count,
    /// `09:00-17:00`
    Window,
    /// `mon,tue,wed`
    Weekdays,
    /// `30d`, `12h`, `2w`
    Duration,
}

/// A setting leadscout understands.
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    pub key: &'static str,
    pub kind: SettingKind,
    pub help: &'static str,
}

/// Every setting key. `settings set` refuses keys not listed here.
pub const KNOWN: &[SettingSpec] = &[
    SettingSpec {
        key: "sender.name",
        kind: SettingKind::Text,
        help: "the person the emails come from",
    },
    SettingSpec {
        key: "sender.company",
        kind: SettingKind::Text,
        help: "the sender's company, shown in emails and report pages",
    },
    SettingSpec {
        key: "sender.email",
        kind: SettingKind::Email,
        help: "the From address",
    },
    SettingSpec {
        key: "sender.reply_to",
        kind: SettingKind::Email,
        help: "where replies go",
    },
    SettingSpec {
        key: "sender.postal_address",
        kind: SettingKind::Text,
        help: "the sender's physical postal address; required in every email",
    },
    SettingSpec {
        key: "email.template_file",
        kind: SettingKind::Text,
        help: "the email template file (subject line, blank line, body; minijinja)",
    },
    SettingSpec {
        key: "sending.campaign_daily_cap",
        kind: SettingKind::Count,
        help: "messages per day for the campaign",
    },
    SettingSpec {
        key: "sending.window",
        kind: SettingKind::Window,
        help: "hours when mail goes out, e.g. 09:00-17:00 (in sending.timezone)",
    },
    SettingSpec {
        key: "sending.weekdays",
        kind: SettingKind::Weekdays,
        help: "days when mail goes out, e.g. mon,tue,wed,thu,fri",
    },
    SettingSpec {
        key: "sending.min_spacing_secs",
        kind: SettingKind::Count,
        help: "least seconds between two messages",
    },
    SettingSpec {
        key: "report.cta_text",
        kind: SettingKind::Text,
        help: "the call to action on report pages",
    },
    SettingSpec {
        key: "report.cta_url",
        kind: SettingKind::Url,
        help: "where the call to action links (a booking page, say)",
    },
    SettingSpec {
        key: "reaudit_every",
        kind: SettingKind::Duration,
        help: "re-audit contacted leads this often while a host runs (serve, the TUI, demo; e.g. 30d); `off` stops it",
    },
];

pub fn spec(key: &str) -> Option<&'static SettingSpec> {
    KNOWN.iter().find(|s| s.key == key)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error(
        "`{0}` looks like a secret key; secrets are never stored. Put the secret in an environment variable and name that variable in config.toml (e.g. `password_env = \"LEADSCOUT_SMTP_PASSWORD\"`)"
    )]
    SecretKey(String),
    #[error(
        "the value for `{0}` looks like a secret (an API key or token); secrets are never stored. Put it in an environment variable and name that variable in config.toml (e.g. `api_key_env = \"LEADSCOUT_LLM_KEY\"`)"
    )]
    SecretValue(String),
    #[error("unknown setting `{key}`; known settings: {known}")]
    Unknown { key: String, known: String },
    #[error("invalid value for `{key}`: {reason}")]
    Invalid { key: String, reason: String },
}

/// Checks a key and value before they are stored: not secret-looking, a
/// known key, and a value of the right kind. Returns the normalised value.
pub fn validate(key: &str, value: &str) -> Result<String, SettingError> {
    let key = key.trim();
    if key_looks_secret(key) {
        return Err(SettingError::SecretKey(key.to_string()));
    }
    if value_looks_secret(value) {
        return Err(SettingError::SecretValue(key.to_string()));
    }
    let spec = spec(key).ok_or_else(|| SettingError::Unknown {
        key: key.to_string(),
        known: KNOWN.iter().map(|s| s.key).collect::<Vec<_>>().join(", "),
    })?;
    let value = value.trim();
    let invalid = |reason: String| SettingError::Invalid {
        key: key.to_string(),
        reason,
    };
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(invalid("control characters are not allowed".into()));
    }
    match spec.kind {
        SettingKind::Text => Ok(value.to_string()),
        SettingKind::Email => Email::parse(value)
            .map(String::from)
            .map_err(|e| invalid(e.to_string())),
        SettingKind::Url => Website::parse(value)
            .map(String::from)
            .map_err(|e| invalid(e.to_string())),
        SettingKind::Count => value
            .parse::<u32>()
            .map(|n| n.to_string())
            .map_err(|_| invalid(format!("`{value}` is not a whole number"))),
        SettingKind::Window => value
            .parse::<super::sending::SendWindow>()
            .map(|w| w.to_string())
            .map_err(|e| invalid(e.to_string())),
        SettingKind::Duration if value == "off" => Ok(value.to_string()),
        SettingKind::Duration => humantime::parse_duration(value)
            .map_err(|e| invalid(format!("`{value}` is not a duration like 30d or 12h ({e})")))
            .and_then(|d| {
                if d < std::time::Duration::from_secs(1) {
                    Err(invalid("use at least 1s".into()))
                } else {
                    Ok(humantime::format_duration(d).to_string())
                }
            }),
        SettingKind::Weekdays => {
            let days: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .collect();
            if days.is_empty() {
                return Err(invalid("name at least one weekday (mon, tue, ...)".into()));
            }
            for day in &days {
                if super::sending::parse_weekday(day).is_none() {
                    return Err(invalid(format!("`{day}` is not a weekday (mon, tue, ...)")));
                }
            }
            Ok(days.join(","))
        }
    }
}

const SECRET_KEY_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "private_key",
    "privatekey",
    "credential",
    "auth",
];

pub fn key_looks_secret(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    SECRET_KEY_WORDS.iter().any(|w| lower.contains(w))
}

const SECRET_PREFIXES: &[&str] = &[
    "sk-",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "akia",
    "asia",
    "aiza",
    "-----begin",
];

pub fn value_looks_secret(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    if SECRET_PREFIXES.iter().any(|p| lower.starts_with(p)) && v.len() >= 12 {
        return true;
    }
    if lower.contains("-----begin") {
        return true;
    }
    looks_like_random_token(v)
}

/// A long single word made of token characters, with letters and digits mixed
/// and a high character entropy, is almost always a key or a token.
fn looks_like_random_token(v: &str) -> bool {
    if v.len() < 20 || v.len() > 512 {
        return false;
    }
    let token_chars = v
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'));
    if !token_chars {
        return false;
    }
    let has_digit = v.bytes().any(|b| b.is_ascii_digit());
    let has_alpha = v.bytes().any(|b| b.is_ascii_alphabetic());
    has_digit && has_alpha && shannon_entropy(v) >= 3.5
}

fn shannon_entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_refused_before_anything_else() {
        for key in [
            "smtp.password",
            "llm.api_key",
            "x.secret",
            "github_token",
            "sender.private_key",
            "AUTH",
        ] {
            assert!(
                matches!(validate(key, "x"), Err(SettingError::SecretKey(_))),
                "{key}"
            );
        }
    }

    #[test]
    fn secret_values_are_refused_even_for_known_keys() {
        for value in [
            "sk-proj-abcdefghijklmnop1234",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "AKIAIOSFODNN7EXAMPLE",
            "-----BEGIN PRIVATE KEY-----",
            "q8Zt2LxP0vN4mR7kW1sYb9Hc3Jd6Fg5A",
        ] {
            assert!(
                matches!(
                    validate("sender.name", value),
                    Err(SettingError::SecretValue(_))
                ),
                "{value}"
            );
        }
    }

    #[test]
    fn ordinary_values_pass() {
        assert_eq!(validate("sender.name", "  Jane Doe ").unwrap(), "Jane Doe");
        assert!(
            validate(
                "sender.postal_address",
                "Hauptstr. 5, 10115 Berlin, Germany"
            )
            .is_ok()
        );
        assert_eq!(
            validate("sender.email", "Jane@Agency.example").unwrap(),
            "jane@agency.example"
        );
        assert!(
            validate(
                "report.cta_url",
                "https://agency.example/book-a-call?utm_source=leadscout"
            )
            .is_ok()
        );
        assert!(validate("sender.company", "Pixel & Partners GmbH").is_ok());
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let err = validate("sender.nmae", "x").unwrap_err().to_string();
        assert!(
            err.contains("unknown setting `sender.nmae`") && err.contains("sender.name"),
            "{err}"
        );
        let err = validate("sender.email", "nope").unwrap_err().to_string();
        assert!(err.starts_with("invalid value for `sender.email`"), "{err}");
    }
}
