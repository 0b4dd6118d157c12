//! `Config`: embedded defaults, then the config file, then `LEADSCOUT_*`
//! environment overrides (`LEADSCOUT_<SECTION>__<KEY>`). Every error names the
//! key and where its value came from. Secrets are never values here: the
//! config names the environment variable that holds them.
//!
//! Uses `domain` only. Passed around as `Arc<Config>`; there is no global.
//!
//! `schema.rs` holds the sections and their defaults, `load.rs` the
//! layering (file, then environment), `validate.rs` the checks beyond
//! types, `policy.rs` what the values mean for stages and sending.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::Secret;

mod effective;
mod load;
mod policy;
mod schema;
mod validate;

pub use effective::{DEFAULT_CTA_TEXT, Effective};
pub use policy::{JobsConfig, StageConfig, StageSettings};
pub use schema::*;
pub use validate::{is_loopback_host, read_ca_file};

/// Prefix of environment overrides; `__` separates the key path.
pub const ENV_PREFIX: &str = "LEADSCOUT_";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[derive(Default)]
pub struct Config {
    pub log: LogConfig,
    pub import: ImportConfig,
    pub smtp: SmtpConfig,
    pub imap: ImapConfig,
    pub sender: SenderConfig,
    pub sending: SendingConfig,
    pub drafts: DraftsConfig,
    pub llm: LlmConfig,
    pub discovery: DiscoveryConfig,
    pub reaudit: ReauditConfig,
    pub fetch: FetchConfig,
    pub webdriver: WebDriverConfig,
    pub server: ServerConfig,
    pub verify: VerifyConfig,
    pub jobs: JobsConfig,
    /// Per-stage overrides of the `[jobs]` defaults, e.g. `[stages.fetch]`.
    pub stages: BTreeMap<String, StageConfig>,
}

/// Where a configuration value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    Env(String),
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Env(var) => write!(f, "environment variable {var}"),
            Self::Default => f.write_str("the built-in defaults"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {} is not valid TOML: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    #[error("unknown config key `{key}` in {origin}")]
    UnknownKey { key: String, origin: Origin },
    #[error(
        "config key `{key}` in {origin} would hold a secret; secrets never go in config. Put it in an environment variable and set `{key}_env` to that variable's name"
    )]
    SecretKey { key: String, origin: Origin },
    #[error("bad value for config key `{key}` in {origin}: {message}")]
    BadValue {
        key: String,
        origin: Origin,
        message: String,
    },
}

/// How the config file was chosen: named by the operator (must exist) or the
/// default location (may be absent).
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub explicit: bool,
}

impl ConfigFile {
    /// `$XDG_CONFIG_HOME/leadscout/config.toml`.
    pub fn default_location() -> Option<Self> {
        dirs::config_dir().map(|dir| Self {
            path: dir.join("leadscout").join("config.toml"),
            explicit: false,
        })
    }
}
impl Config {
    /// Reads a secret from the environment variable the config names.
    /// `None` when the variable is unset or empty.
    pub fn secret(&self, env_var: &str) -> Option<Secret> {
        std::env::var(env_var)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret::new)
    }
}

/// The data dir: `--data-dir`, else `LEADSCOUT_DATA_DIR` (clap reads both),
/// else `$XDG_DATA_HOME/leadscout`.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("leadscout")
}

/// Whether `path` is a file a config could be read from, for `doctor`.
pub fn describe_file(file: Option<&ConfigFile>) -> String {
    match file {
        Some(f) if Path::new(&f.path).is_file() => f.path.display().to_string(),
        Some(f) => format!("{} (absent; built-in defaults)", f.path.display()),
        None => "none (built-in defaults)".into(),
    }
}

#[cfg(test)]
mod tests;
