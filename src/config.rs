//! `Config`: embedded defaults, then the config file, then `LEADSCOUT_*`
//! environment overrides (`LEADSCOUT_<SECTION>__<KEY>`). Every error names the
//! key and where its value came from. Secrets are never values here: the
//! config names the environment variable that holds them.
//!
//! Uses `domain` only. Passed around as `Arc<Config>`; there is no global.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::Secret;

/// Prefix of environment overrides; `__` separates the key path.
pub const ENV_PREFIX: &str = "LEADSCOUT_";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[derive(Default)]
pub struct Config {
    pub log: LogConfig,
    pub import: ImportConfig,
    pub smtp: SmtpConfig,
    pub sender: SenderConfig,
    pub sending: SendingConfig,
    pub drafts: DraftsConfig,
    pub llm: LlmConfig,
    pub discovery: DiscoveryConfig,
    pub reaudit: ReauditConfig,
    pub fetch: FetchConfig,
    pub webdriver: WebDriverConfig,
    pub server: ServerConfig,
    pub jobs: JobsConfig,
    /// Per-stage overrides of the `[jobs]` defaults, e.g. `[stages.fetch]`.
    pub stages: BTreeMap<String, StageConfig>,
}

/// How sites are fetched, and what they may not reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchConfig {
    /// Hosts (`intranet.example`) or host:port pairs (`127.0.0.1:8001`)
    /// that may be fetched even though they are private or loopback.
    pub allow_hosts: Vec<String>,
    /// Allow every private and loopback address (never link-local/cloud
    /// metadata or multicast: only an exact `allow_hosts` entry admits
    /// those). Never on a server that can reach anything sensitive.
    pub allow_private: bool,
    /// Internal links checked for breakage per site.
    pub link_sample: usize,
    /// Largest page body, in MiB, counted after decompression.
    pub max_body_mb: u64,
    /// Longest a whole page fetch may take (a trickling server is cut off).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    pub max_redirects: usize,
    /// Largest response head (status line and headers), in KiB.
    pub max_header_kb: u64,
    /// The User-Agent sent to sites; empty for leadscout's own.
    pub user_agent: String,
    /// Trusted for this run only, on top of the system's roots: set by
    /// `leadscout demo` for its own sites. Never read from a file or the
    /// environment, so no normal run trusts it.
    #[serde(skip)]
    pub demo_root: Option<DemoRoot>,
}

/// The demo's throw-away certificate authority, and the key hash that
/// Chromium is told to accept for the certificate its sites serve.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DemoRoot {
    /// The authority's certificate, PEM.
    pub ca_pem: String,
    /// Base64 of the SHA-256 of the sites' SubjectPublicKeyInfo, for
    /// Chromium's `--ignore-certificate-errors-spki-list`.
    pub spki_sha256: String,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            allow_hosts: Vec::new(),
            allow_private: false,
            link_sample: 10,
            max_body_mb: 5,
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_redirects: 5,
            max_header_kb: 64,
            user_agent: String::new(),
            demo_root: None,
        }
    }
}

/// The page server: report pages, screenshots, unsubscribe, health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address the page server listens on.
    pub bind: String,
    /// The address report links in emails start with, when the server sits
    /// behind a reverse proxy or a tunnel (e.g. https://reports.agency.example).
    /// Empty: http://BIND.
    pub public_base_url: String,
    /// Where Prometheus metrics are served (`/metrics`), apart from the
    /// public pages; "off" serves none.
    pub metrics_bind: String,
    /// Allow `metrics_bind` to be an address other machines can reach.
    pub metrics_public: bool,
    /// A client that has not sent a whole request head this long after it
    /// connected (or after its previous request) is disconnected.
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
    /// A connection that moves no bytes either way this long is closed.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Connections served at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// Report links stop working this long after they were made; "0s" never.
    #[serde(with = "humantime_serde")]
    pub report_expiry: Duration,
    /// A report view this soon after the email was sent counts as a mail
    /// scanner's (they open every link on delivery), not a person's.
    #[serde(with = "humantime_serde")]
    pub scanner_window: Duration,
    /// Let other OS users attach to `serve`'s control socket, read-only
    /// (the socket is then mode 0666). Off: only the server's user.
    pub others_read_only: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            public_base_url: String::new(),
            metrics_bind: "127.0.0.1:9464".into(),
            metrics_public: false,
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            report_expiry: Duration::from_secs(180 * 24 * 3600),
            scanner_window: Duration::from_secs(60),
            others_read_only: false,
        }
    }
}

impl ServerConfig {
    /// Where metrics are served; `None` when `metrics_bind` is "off".
    pub fn metrics_addr(&self) -> Option<&str> {
        let bind = self.metrics_bind.trim();
        (!bind.eq_ignore_ascii_case("off") && !bind.is_empty()).then_some(bind)
    }

    fn check_listeners(&self) -> Result<(), (&'static str, String)> {
        if self.header_timeout.is_zero() {
            return Err((
                "server.header_timeout",
                "must be longer than 0s, e.g. \"30s\"".into(),
            ));
        }
        if self.idle_timeout.is_zero() {
            return Err((
                "server.idle_timeout",
                "must be longer than 0s, e.g. \"60s\"".into(),
            ));
        }
        if !(1..=65_536).contains(&self.max_connections) {
            return Err((
                "server.max_connections",
                format!(
                    "{} is out of range; use 1 to 65536, e.g. 1024",
                    self.max_connections
                ),
            ));
        }
        let Some(bind) = self.metrics_addr() else {
            return Ok(());
        };
        let Ok(addr) = bind.parse::<std::net::SocketAddr>() else {
            return Err((
                "server.metrics_bind",
                format!("`{bind}` is not an address like 127.0.0.1:9464 (or \"off\")"),
            ));
        };
        if !addr.ip().is_loopback() && !self.metrics_public {
            return Err((
                "server.metrics_bind",
                format!(
                    "`{bind}` is reachable from other machines and metrics describe your campaigns; use a loopback address such as 127.0.0.1:9464, or set server.metrics_public = true to mean it"
                ),
            ));
        }
        if addr.port() != 0 && self.bind.parse::<std::net::SocketAddr>().ok() == Some(addr) {
            return Err((
                "server.metrics_bind",
                format!(
                    "`{bind}` is server.bind's address; metrics need a port of their own, e.g. 127.0.0.1:9464"
                ),
            ));
        }
        Ok(())
    }

    /// The base of public links, without a trailing slash.
    pub fn base_url(&self) -> String {
        if self.public_base_url.is_empty() {
            format!("http://{}", self.bind)
        } else {
            self.public_base_url.trim_end_matches('/').to_string()
        }
    }
}

/// The browser used for screenshots and browser-measured metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebDriverConfig {
    /// A running WebDriver (chromedriver, or a Selenium Grid to scale
    /// browsers across machines). Empty: leadscout starts `chromedriver`
    /// itself.
    pub url: String,
    /// The chromedriver program to start when `url` is empty.
    pub chromedriver: String,
    /// The Chromium binary; empty finds chromium, chromium-browser or
    /// google-chrome on PATH.
    pub browser: String,
    /// Browser sessions kept open and reused across leads.
    pub sessions: usize,
    /// A session is replaced after this many pages.
    pub recycle_after: u32,
    /// Longest a page may take to load.
    #[serde(with = "humantime_serde")]
    pub page_timeout: Duration,
    /// After the load event, how long to wait for the network to go quiet
    /// (at most), so late images and fonts are in the screenshot.
    #[serde(with = "humantime_serde")]
    pub settle: Duration,
    /// Full-page screenshots, capped at this height in CSS pixels; 0 (the
    /// default) takes viewport screenshots only. Each full page costs about
    /// 150 ms per view.
    pub full_page_max_height: u32,
    /// Width of the thumbnails kept for report pages and the TUI.
    pub thumbnail_width: u32,
}

impl Default for WebDriverConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            chromedriver: "chromedriver".into(),
            browser: String::new(),
            sessions: 2,
            recycle_after: 50,
            page_timeout: Duration::from_secs(20),
            settle: Duration::from_millis(500),
            full_page_max_height: 0,
            thumbnail_width: 400,
        }
    }
}

/// The job engine's defaults for every stage, and its own timings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Jobs of one stage that run at the same time.
    pub concurrency: usize,
    /// Longest one attempt may take before it is cut off (and retried).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Attempts before a job with transient errors is dead.
    pub max_attempts: u32,
    /// Wait before the first retry; doubles with each attempt.
    #[serde(with = "humantime_serde")]
    pub backoff: Duration,
    /// The longest wait between retries.
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    /// How long a running job's claim lasts without a heartbeat.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    /// How often running jobs' leases are renewed.
    #[serde(with = "humantime_serde")]
    pub heartbeat: Duration,
    /// On shutdown, how long running jobs may take to finish before they
    /// are put back in the queue.
    #[serde(with = "humantime_serde")]
    pub grace: Duration,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            concurrency: 2,
            timeout: Duration::from_secs(60),
            max_attempts: 3,
            backoff: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(5),
            grace: Duration::from_secs(10),
        }
    }
}

/// Overrides for one stage; anything left out comes from `[jobs]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StageConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Duration>,
}

/// The settings one stage runs with, after overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageSettings {
    pub concurrency: usize,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub backoff: Duration,
    pub backoff_max: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A level (`error`, `warn`, `info`, `debug`, `trace`) or a tracing
    /// filter such as `leadscout=debug,sled=warn`.
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportConfig {
    /// Files larger than this are refused before reading.
    pub max_file_mb: u64,
    /// Leads written per store transaction.
    pub batch_size: usize,
}

impl Default for ImportConfig {
    fn default() -> Self {
        Self {
            max_file_mb: 256,
            batch_size: 100,
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text: only for a server on this machine.
    None,
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// Empty: sending is not set up.
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: String,
    /// Name of the environment variable that holds the SMTP password.
    pub password_env: String,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Absolute path of a PEM file of CA certificates trusted in addition
    /// to the system's, for a relay with a private CA. Empty: the system's
    /// CAs only.
    pub ca_file: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            tls: SmtpTls::Starttls,
            username: String::new(),
            password_env: "LEADSCOUT_SMTP_PASSWORD".into(),
            timeout: Duration::from_secs(30),
            ca_file: String::new(),
        }
    }
}

/// The sender's identity; the `sender.*` settings (global or per campaign)
/// take precedence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SenderConfig {
    pub name: String,
    pub company: String,
    pub email: String,
    pub reply_to: String,
    pub postal_address: String,
}

/// Sending limits; the `sending.*` settings override them per campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SendingConfig {
    /// Messages per day from the sending inbox, all campaigns together.
    pub daily_cap: u32,
    /// Messages per day for one campaign.
    pub campaign_daily_cap: u32,
    /// Hours when mail goes out, in `timezone`.
    pub window: String,
    /// An IANA time zone, e.g. "Europe/Berlin".
    pub timezone: String,
    pub weekdays: Vec<String>,
    /// Least seconds between two messages; a random 0–50% is added.
    pub min_spacing_secs: u64,
    /// Send mail whose unsubscribe link is local or plain http (unset,
    /// loopback or private `server.public_base_url`). Recipients cannot
    /// use such a link, so sending refuses it unless this is set: for
    /// tests and offline demos only.
    pub allow_local_unsubscribe_links: bool,
}

impl Default for SendingConfig {
    fn default() -> Self {
        Self {
            daily_cap: 30,
            campaign_daily_cap: 30,
            window: "09:00-17:00".into(),
            timezone: "UTC".into(),
            weekdays: ["mon", "tue", "wed", "thu", "fri"]
                .map(String::from)
                .to_vec(),
            min_spacing_secs: 90,
            allow_local_unsubscribe_links: false,
        }
    }
}

/// Drafts: the email template and how much of the audit it cites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DraftsConfig {
    /// A template file for every campaign (the `email.template_file`
    /// setting overrides it per campaign). Empty: the built-in template.
    pub template: String,
    /// Findings the template gets as `findings`.
    pub top_findings: usize,
}

impl Default for DraftsConfig {
    fn default() -> Self {
        Self {
            template: String::new(),
            top_findings: 3,
        }
    }
}

/// Scheduled re-audits of contacted leads, run by `serve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReauditConfig {
    /// How often contacted leads are audited again, for every campaign
    /// without its own `reaudit_every` setting; empty: never.
    #[serde(with = "humantime_serde")]
    pub every: Option<Duration>,
    /// How often `serve` looks for leads that are due.
    #[serde(with = "humantime_serde")]
    pub check_every: Duration,
}

impl Default for ReauditConfig {
    fn default() -> Self {
        Self {
            every: None,
            check_every: Duration::from_secs(10 * 60),
        }
    }
}

/// Finding businesses in OpenStreetMap through an Overpass API server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// The Overpass API interpreter endpoint.
    pub overpass_url: String,
    /// How long Overpass may work on one query (sent as its `timeout`).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Tries per query when the server is busy (HTTP 429, 503, 504).
    pub max_attempts: u32,
    /// The first wait after a busy answer (doubles each try) unless the
    /// server names one with Retry-After.
    #[serde(with = "humantime_serde")]
    pub backoff: Duration,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        Self {
            overpass_url: "https://overpass-api.de/api/interpreter".into(),
            timeout: Duration::from_secs(90),
            max_attempts: 4,
            backoff: Duration::from_secs(10),
        }
    }
}

/// An OpenAI-compatible chat-completions provider that may rewrite drafts.
/// Off while `base_url` is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// e.g. "https://api.openai.com/v1"; empty turns rewriting off.
    pub base_url: String,
    pub model: String,
    /// Name of the environment variable that holds the LLM provider's API key.
    pub api_key_env: String,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            model: String::new(),
            api_key_env: "LEADSCOUT_LLM_API_KEY".into(),
            timeout: Duration::from_secs(30),
        }
    }
}

impl SendingConfig {
    /// The limits as rules; an error names the key at fault and why.
    pub fn limits(&self) -> Result<crate::domain::sending::Limits, (&'static str, String)> {
        use crate::domain::sending::{Limits, parse_weekday};
        let window = self
            .window
            .parse()
            .map_err(|e: crate::domain::sending::WindowError| ("sending.window", e.to_string()))?;
        let timezone = jiff::tz::TimeZone::get(&self.timezone).map_err(|_| {
            (
                "sending.timezone",
                format!(
                    "`{}` is not a time zone name like \"Europe/Berlin\"",
                    self.timezone
                ),
            )
        })?;
        let mut weekdays = Vec::new();
        for day in &self.weekdays {
            weekdays.push(parse_weekday(day).ok_or_else(|| {
                (
                    "sending.weekdays",
                    format!("`{day}` is not a weekday (mon, tue, ...)"),
                )
            })?);
        }
        if weekdays.is_empty() {
            return Err(("sending.weekdays", "name at least one weekday".into()));
        }
        Ok(Limits {
            window,
            weekdays,
            timezone,
            daily_cap: self.daily_cap,
            campaign_daily_cap: self.campaign_daily_cap,
            min_spacing: jiff::SignedDuration::from_secs(self.min_spacing_secs as i64),
        })
    }
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
    /// Loads the config: defaults, then `file` (if any), then overrides from
    /// `env` (normally `std::env::vars()`).
    pub fn load(
        file: Option<&ConfigFile>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Self::load_with_stages(file, env, None)
    }

    /// Like [`load`](Self::load), and refuses `[stages.NAME]` sections for
    /// stages not in `stages`.
    pub fn load_with_stages(
        file: Option<&ConfigFile>,
        env: impl IntoIterator<Item = (String, String)>,
        stages: Option<&[&str]>,
    ) -> Result<Self, ConfigError> {
        let mut table = toml::Table::new();
        let mut file_origin = Origin::Default;
        if let Some(file) = file {
            match std::fs::read_to_string(&file.path) {
                Ok(text) => {
                    table = text
                        .parse::<toml::Table>()
                        .map_err(|e| ConfigError::Syntax {
                            path: file.path.clone(),
                            message: e.to_string().trim().replace('\n', " "),
                        })?;
                    file_origin = Origin::File(file.path.clone());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !file.explicit => {}
                Err(source) => {
                    return Err(ConfigError::Read {
                        path: file.path.clone(),
                        source,
                    });
                }
            }
        }
        let env_keys = apply_env(&mut table, env)?;
        // A key set by an env var, or a section that only env vars created.
        let origin_of = |key: &str| {
            let section = format!("{key}.");
            env_keys
                .get(key)
                .or_else(|| {
                    env_keys
                        .iter()
                        .find(|(k, _)| k.starts_with(&section))
                        .map(|(_, v)| v)
                })
                .map(|var| Origin::Env(var.clone()))
                .unwrap_or_else(|| file_origin.clone())
        };
        let config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|err| {
                let path = err.path().to_string();
                let message = err.inner().to_string();
                if let Some(field) = unknown_field(&message) {
                    // The path already ends in the unknown field, except at the top.
                    let key = if path == "." || path.is_empty() {
                        field
                    } else {
                        path
                    };
                    let origin = origin_of(&key);
                    if crate::domain::settings::key_looks_secret(&key) && !key.ends_with("_env") {
                        ConfigError::SecretKey { key, origin }
                    } else {
                        ConfigError::UnknownKey { key, origin }
                    }
                } else {
                    let origin = origin_of(&path);
                    ConfigError::BadValue {
                        key: path,
                        origin,
                        message: first_line(&message),
                    }
                }
            })?;
        config.validate(&origin_of)?;
        if let Some(known) = stages
            && let Some(name) = config
                .stages
                .keys()
                .find(|name| !known.contains(&name.as_str()))
        {
            let key = format!("stages.{name}");
            return Err(ConfigError::BadValue {
                origin: origin_of(&key),
                key,
                message: format!("there is no stage `{name}` (stages: {})", known.join(", ")),
            });
        }
        Ok(config)
    }

    /// Checks that go beyond types: values that parse but make no sense.
    fn validate(&self, origin_of: &dyn Fn(&str) -> Origin) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| ConfigError::BadValue {
            key: key.into(),
            origin: origin_of(key),
            message,
        };
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(bad(
                "log.level",
                format!(
                    "`{}` is not a level (error, warn, info, debug, trace) or a filter",
                    self.log.level
                ),
            ));
        }
        if self.import.batch_size == 0 || self.import.batch_size > 10_000 {
            return Err(bad(
                "import.batch_size",
                "must be between 1 and 10000".into(),
            ));
        }
        let fetch = &self.fetch;
        for (i, host) in fetch.allow_hosts.iter().enumerate() {
            if host.is_empty() || host.contains(['/', ' ']) {
                return Err(bad(
                    "fetch.allow_hosts",
                    format!(
                        "entry {} `{host}` is not a host or host:port (e.g. \"127.0.0.1:8001\")",
                        i + 1
                    ),
                ));
            }
        }
        if fetch.max_body_mb == 0 || fetch.max_body_mb > 1024 {
            return Err(bad(
                "fetch.max_body_mb",
                "must be between 1 and 1024".into(),
            ));
        }
        if fetch.timeout.is_zero() || fetch.connect_timeout.is_zero() {
            return Err(bad(
                "fetch.timeout",
                "timeouts must be longer than 0s".into(),
            ));
        }
        if fetch.max_redirects > 20 {
            return Err(bad("fetch.max_redirects", "must be at most 20".into()));
        }
        if fetch.max_header_kb == 0 {
            return Err(bad("fetch.max_header_kb", "must be at least 1".into()));
        }
        if self.server.bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(bad(
                "server.bind",
                format!(
                    "`{}` is not an address like 127.0.0.1:8080",
                    self.server.bind
                ),
            ));
        }
        self.server
            .check_listeners()
            .map_err(|(key, m)| bad(key, m))?;
        let base = &self.server.public_base_url;
        if !base.is_empty()
            && !url::Url::parse(base).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            return Err(bad(
                "server.public_base_url",
                format!("`{base}` is not an http(s) URL"),
            ));
        }
        let smtp = &self.smtp;
        if smtp.tls == SmtpTls::None && !smtp.host.is_empty() && !is_loopback_host(&smtp.host) {
            return Err(bad(
                "smtp.tls",
                format!(
                    "\"none\" sends mail and password in clear text; it is only accepted for a server on this machine, not `{}`. Use \"starttls\" (port 587) or \"tls\" (port 465)",
                    smtp.host
                ),
            ));
        }
        if smtp.timeout.is_zero() {
            return Err(bad("smtp.timeout", "must be more than 0s".into()));
        }
        if !smtp.ca_file.is_empty() {
            read_ca_file(&smtp.ca_file).map_err(|message| bad("smtp.ca_file", message))?;
        }
        if let Err((key, message)) = self.sending.limits() {
            return Err(bad(key, message));
        }
        for (key, value) in [
            ("sender.email", &self.sender.email),
            ("sender.reply_to", &self.sender.reply_to),
        ] {
            if !value.is_empty() && crate::domain::Email::parse(value).is_err() {
                return Err(bad(key, format!("`{value}` is not an email address")));
            }
        }
        if !self.llm.base_url.is_empty() {
            if !url::Url::parse(&self.llm.base_url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
            {
                return Err(bad(
                    "llm.base_url",
                    format!("`{}` is not an http(s) URL", self.llm.base_url),
                ));
            }
            if self.llm.model.is_empty() {
                return Err(bad(
                    "llm.model",
                    "name the model when llm.base_url is set".into(),
                ));
            }
        }
        if !url::Url::parse(&self.discovery.overpass_url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            return Err(bad(
                "discovery.overpass_url",
                format!("`{}` is not an http(s) URL", self.discovery.overpass_url),
            ));
        }
        if self.discovery.max_attempts == 0 {
            return Err(bad("discovery.max_attempts", "must be at least 1".into()));
        }
        if self.drafts.top_findings == 0 || self.drafts.top_findings > 20 {
            return Err(bad(
                "drafts.top_findings",
                "must be between 1 and 20".into(),
            ));
        }
        let wd = &self.webdriver;
        if wd.sessions == 0 || wd.sessions > 32 {
            return Err(bad("webdriver.sessions", "must be between 1 and 32".into()));
        }
        if !wd.url.is_empty() && url::Url::parse(&wd.url).is_err() {
            return Err(bad(
                "webdriver.url",
                format!("`{}` is not a URL (e.g. http://127.0.0.1:4444)", wd.url),
            ));
        }
        if wd.thumbnail_width < 16 || wd.thumbnail_width > 4000 {
            return Err(bad(
                "webdriver.thumbnail_width",
                "must be between 16 and 4000".into(),
            ));
        }
        if wd.page_timeout.is_zero() || wd.recycle_after == 0 {
            return Err(bad(
                "webdriver.page_timeout",
                "page_timeout and recycle_after must be above 0".into(),
            ));
        }
        let jobs = &self.jobs;
        if jobs.concurrency == 0 || jobs.concurrency > 256 {
            return Err(bad("jobs.concurrency", "must be between 1 and 256".into()));
        }
        if jobs.max_attempts == 0 {
            return Err(bad("jobs.max_attempts", "must be at least 1".into()));
        }
        if jobs.timeout.is_zero() {
            return Err(bad("jobs.timeout", "must be longer than 0s".into()));
        }
        if jobs.heartbeat.is_zero() || jobs.heartbeat >= jobs.lease {
            return Err(bad(
                "jobs.heartbeat",
                "must be longer than 0s and shorter than jobs.lease".into(),
            ));
        }
        for (name, stage) in &self.stages {
            if stage.concurrency.is_some_and(|c| c == 0 || c > 256) {
                return Err(bad(
                    &format!("stages.{name}.concurrency"),
                    "must be between 1 and 256".into(),
                ));
            }
            if stage.max_attempts == Some(0) {
                return Err(bad(
                    &format!("stages.{name}.max_attempts"),
                    "must be at least 1".into(),
                ));
            }
            if stage.timeout.is_some_and(|t| t.is_zero()) {
                return Err(bad(
                    &format!("stages.{name}.timeout"),
                    "must be longer than 0s".into(),
                ));
            }
        }
        if self.import.max_file_mb == 0 {
            return Err(bad("import.max_file_mb", "must be at least 1".into()));
        }
        for (key, name) in [
            ("smtp.password_env", &self.smtp.password_env),
            ("llm.api_key_env", &self.llm.api_key_env),
        ] {
            if !is_env_var_name(name) {
                // The value is not echoed: it may be a secret pasted by mistake.
                return Err(bad(
                    key,
                    "must be the NAME of an environment variable (A-Z, 0-9, _), not the secret itself".into(),
                ));
            }
        }
        Ok(())
    }

    /// The settings a stage runs with: its `[stages.NAME]` overrides over
    /// the `[jobs]` defaults.
    /// Without overrides, the pipeline stages use their own defaults where
    /// `[jobs]` would not fit: fetch waits on the network (8 at a time),
    /// screenshots need one browser session each and can take two minutes.
    pub fn stage(&self, name: &str) -> StageSettings {
        let o = self.stages.get(name).cloned().unwrap_or_default();
        let (concurrency, timeout) = match name {
            "fetch" => (8, self.jobs.timeout),
            "screenshot" => (
                self.webdriver.sessions,
                self.jobs.timeout.max(Duration::from_secs(120)),
            ),
            _ => (self.jobs.concurrency, self.jobs.timeout),
        };
        StageSettings {
            concurrency: o.concurrency.unwrap_or(concurrency),
            timeout: o.timeout.unwrap_or(timeout),
            max_attempts: o.max_attempts.unwrap_or(self.jobs.max_attempts),
            backoff: o.backoff.unwrap_or(self.jobs.backoff),
            backoff_max: self.jobs.backoff_max,
        }
    }

    /// Reads a secret from the environment variable the config names.
    /// `None` when the variable is unset or empty.
    pub fn secret(&self, env_var: &str) -> Option<Secret> {
        std::env::var(env_var)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret::new)
    }
}

/// Applies `LEADSCOUT_A__B=value` overrides to the table. Values are read as
/// TOML when they parse (`true`, `5`, `["a", "b"]`) and as strings otherwise;
/// a string for a list key is split on commas.
/// Returns dotted key → variable name, for error messages.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<HashMap<String, String>, ConfigError> {
    let mut keys = HashMap::new();
    let defaults = toml::Value::try_from(Config::default())
        .unwrap_or_else(|_| toml::Value::Table(toml::Table::new()));
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX) && k.contains("__"))
        .collect();
    vars.sort();
    for (var, raw) in vars {
        let path: Vec<String> = var[ENV_PREFIX.len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect();
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::UnknownKey {
                key: path.join("."),
                origin: Origin::Env(var),
            });
        }
        let value = format!("v = {raw}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.clone()));
        let dotted = path.join(".");
        let mut cursor = &mut *table;
        for part in &path[..path.len() - 1] {
            let entry = cursor
                .entry(part.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            cursor = match entry {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(ConfigError::BadValue {
                        key: dotted,
                        origin: Origin::Env(var),
                        message: format!("`{part}` is not a section"),
                    });
                }
            };
        }
        let key = path[path.len() - 1].clone();
        // A list key given a plain string takes it as a comma-separated
        // list: `LEADSCOUT_FETCH__ALLOW_HOSTS=127.0.0.1:8001,intranet`.
        let is_list = cursor.get(&key).is_some_and(toml::Value::is_array)
            || path
                .iter()
                .try_fold(&defaults, |node, part| node.get(part))
                .is_some_and(toml::Value::is_array);
        let value = match value {
            toml::Value::String(text) if is_list => toml::Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| toml::Value::String(s.to_string()))
                    .collect(),
            ),
            value => value,
        };
        cursor.insert(key, value);
        keys.insert(dotted, var);
    }
    Ok(keys)
}

/// The PEM text of `smtp.ca_file`, once it is known to hold at least one
/// well-formed certificate block and nothing else that claims to be PEM.
/// Checked when the config loads, so a wrong path stops every command at
/// once rather than the first send; the TLS library parses the
/// certificates themselves when it connects. Errors name the path, not the
/// key: callers add the key.
pub fn read_ca_file(path: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    if !Path::new(path).is_absolute() {
        return Err(format!(
            "`{path}` is not an absolute path; give the full path of the PEM file with your CA's certificate(s)"
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut rest = text.as_ref();
    let mut count = 0;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let label_end = block[11..].find("-----").map(|i| i + 11);
        let label = label_end.map(|e| &block[11..e]).unwrap_or("");
        let Some(body_start) = label_end.map(|e| e + 5) else {
            return Err(format!(
                "`{path}` is not a valid PEM file (a BEGIN line is cut off)"
            ));
        };
        let end_line = format!("-----END {label}-----");
        let Some(body_len) = block[body_start..].find(&end_line) else {
            return Err(format!(
                "`{path}` is not a valid PEM file (`-----BEGIN {label}-----` has no END line)"
            ));
        };
        if label != "CERTIFICATE" {
            return Err(format!(
                "`{path}` holds a {label}, not only certificates; give only your CA's certificate(s) (never a private key)"
            ));
        }
        count += 1;
        let body: String = block[body_start..body_start + body_len]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        // A DER certificate is an ASN.1 SEQUENCE: it starts with 0x30.
        let der = base64::engine::general_purpose::STANDARD.decode(body.as_bytes());
        if !der.is_ok_and(|d| d.first() == Some(&0x30)) {
            return Err(format!(
                "certificate {count} in `{path}` is not valid PEM (bad base64 or not a certificate)"
            ));
        }
        rest = &block[body_start + body_len + end_line.len()..];
    }
    if count == 0 {
        return Err(format!(
            "`{path}` holds no PEM certificate (a `-----BEGIN CERTIFICATE-----` block); give your CA's certificate in PEM form"
        ));
    }
    Ok(bytes)
}

/// `localhost`, `127.0.0.1`, `::1` and the like.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

fn is_env_var_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next().map(str::to_string)
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_string()
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
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, ConfigFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        (
            dir,
            ConfigFile {
                path,
                explicit: true,
            },
        )
    }

    fn no_env() -> Vec<(String, String)> {
        Vec::new()
    }

    #[test]
    fn example_file_parses_to_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml.example");
        let file = ConfigFile {
            path,
            explicit: true,
        };
        let config = Config::load(Some(&file), no_env()).unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn metrics_stay_on_loopback_unless_meant_otherwise() {
        let check = |pairs: &[(&str, &str)]| {
            let env: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Config::load(None, env).map_err(|e| e.to_string())
        };
        let open = [("LEADSCOUT_SERVER__METRICS_BIND", "0.0.0.0:9464")];
        let err = check(&open).unwrap_err();
        assert!(err.contains("server.metrics_bind"), "{err}");
        assert!(err.contains("metrics_public"), "{err}");
        let meant = [open[0], ("LEADSCOUT_SERVER__METRICS_PUBLIC", "true")];
        assert!(check(&meant).is_ok());
        let off = check(&[("LEADSCOUT_SERVER__METRICS_BIND", "off")]).unwrap();
        assert_eq!(off.server.metrics_addr(), None);
        assert_eq!(
            Config::default().server.metrics_addr(),
            Some("127.0.0.1:9464")
        );
        let same = check(&[
            ("LEADSCOUT_SERVER__BIND", "127.0.0.1:9000"),
            ("LEADSCOUT_SERVER__METRICS_BIND", "127.0.0.1:9000"),
        ])
        .unwrap_err();
        assert!(same.contains("port of their own"), "{same}");
        for (key, value) in [
            ("LEADSCOUT_SERVER__HEADER_TIMEOUT", "0s"),
            ("LEADSCOUT_SERVER__MAX_CONNECTIONS", "0"),
        ] {
            let err = check(&[(key, value)]).unwrap_err();
            let name = key.trim_start_matches("LEADSCOUT_SERVER__").to_lowercase();
            assert!(err.contains(&format!("server.{name}")), "{err}");
        }
    }

    #[test]
    fn example_file_documents_every_key() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml.example"),
        )
        .unwrap();
        let example: toml::Table = text.parse().unwrap();
        let defaults = toml::Table::try_from(Config::default()).unwrap();
        for (section, keys) in &defaults {
            if keys.as_table().is_some_and(|t| t.is_empty()) {
                // A map with no default entries, e.g. [stages.NAME]: shown
                // as a commented example.
                assert!(
                    text.contains(&format!("# [{section}.")),
                    "no example of [{section}.NAME] in config.toml.example"
                );
                continue;
            }
            let documented = example.get(section).and_then(|s| s.as_table());
            let documented = documented
                .unwrap_or_else(|| panic!("section [{section}] missing from config.toml.example"));
            for key in keys.as_table().unwrap().keys() {
                assert!(
                    documented.contains_key(key),
                    "`{section}.{key}` missing from config.toml.example"
                );
            }
        }
    }

    #[test]
    fn file_then_env_override_the_defaults() {
        let (_dir, file) = write("[log]\nlevel = \"debug\"\n[import]\nbatch_size = 50\n");
        let env = vec![
            ("LEADSCOUT_IMPORT__BATCH_SIZE".to_string(), "75".to_string()),
            ("LEADSCOUT_LOG__FORMAT".to_string(), "json".to_string()),
            ("LEADSCOUT_DATA_DIR".to_string(), "/ignored".to_string()),
        ];
        let config = Config::load(Some(&file), env).unwrap();
        assert_eq!(config.log.level, "debug");
        assert_eq!(config.log.format, LogFormat::Json);
        assert_eq!(config.import.batch_size, 75);
    }

    #[test]
    fn plain_text_smtp_is_only_for_this_machine() {
        let env = |host: &str| {
            vec![
                ("LEADSCOUT_SMTP__HOST".to_string(), host.to_string()),
                ("LEADSCOUT_SMTP__TLS".to_string(), "none".to_string()),
            ]
        };
        assert!(Config::load(None, env("127.0.0.1")).is_ok());
        assert!(Config::load(None, env("localhost")).is_ok());
        let err = Config::load(None, env("smtp.example.com"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("smtp.tls") && err.contains("only accepted for a server on this machine"),
            "{err}"
        );
        let bad_window = vec![(
            "LEADSCOUT_SENDING__WINDOW".to_string(),
            "17:00-09:00".to_string(),
        )];
        let err = Config::load(None, bad_window).unwrap_err().to_string();
        assert!(err.contains("sending.window"), "{err}");
        let bad_zone = vec![(
            "LEADSCOUT_SENDING__TIMEZONE".to_string(),
            "Mars/Base".to_string(),
        )];
        let err = Config::load(None, bad_zone).unwrap_err().to_string();
        assert!(err.contains("sending.timezone"), "{err}");
    }

    #[test]
    fn a_plain_string_for_a_list_key_is_comma_separated() {
        let env = vec![(
            "LEADSCOUT_FETCH__ALLOW_HOSTS".to_string(),
            "127.0.0.1:8001, intranet.example".to_string(),
        )];
        let config = Config::load(None, env).unwrap();
        assert_eq!(
            config.fetch.allow_hosts,
            ["127.0.0.1:8001", "intranet.example"]
        );
        let env = vec![(
            "LEADSCOUT_FETCH__ALLOW_HOSTS".to_string(),
            r#"["a.example", "b.example"]"#.to_string(),
        )];
        let config = Config::load(None, env).unwrap();
        assert_eq!(config.fetch.allow_hosts, ["a.example", "b.example"]);
    }

    #[test]
    fn unknown_keys_name_the_key_and_the_file() {
        let (_dir, file) = write("[import]\nbatch_sise = 5\n");
        let err = Config::load(Some(&file), no_env()).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "unknown config key `import.batch_sise` in {}",
                file.path.display()
            )
        );
        let (_dir, file) = write("[imports]\nx = 1\n");
        let err = Config::load(Some(&file), no_env()).unwrap_err().to_string();
        assert!(err.starts_with("unknown config key `imports`"), "{err}");
    }

    #[test]
    fn bad_values_name_the_key_and_the_origin() {
        let (_dir, file) = write("[import]\nbatch_size = \"many\"\n");
        let err = Config::load(Some(&file), no_env()).unwrap_err().to_string();
        assert!(
            err.starts_with("bad value for config key `import.batch_size` in "),
            "{err}"
        );
        assert!(err.contains("config.toml"), "{err}");

        let env = vec![("LEADSCOUT_LOG__FORMAT".to_string(), "xml".to_string())];
        let err = Config::load(None, env).unwrap_err().to_string();
        assert!(err.starts_with("bad value for config key `log.format` in environment variable LEADSCOUT_LOG__FORMAT"), "{err}");

        let env = vec![("LEADSCOUT_IMPORT__BATCH_SIZE".to_string(), "0".to_string())];
        let err = Config::load(None, env).unwrap_err().to_string();
        assert!(
            err.contains("`import.batch_size`") && err.contains("between 1 and 10000"),
            "{err}"
        );

        let env = vec![("LEADSCOUT_NOPE__X".to_string(), "1".to_string())];
        let err = Config::load(None, env).unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown config key `nope` in environment variable LEADSCOUT_NOPE__X"
        );
    }

    #[test]
    fn secrets_in_the_file_are_refused_without_echoing_them() {
        let (_dir, file) = write("[smtp]\npassword = \"hunter2\"\n");
        let err = Config::load(Some(&file), no_env()).unwrap_err().to_string();
        assert!(
            err.starts_with("config key `smtp.password`") && err.contains("`smtp.password_env`"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        let (_dir, file) = write("[llm]\napi_key_env = \"sk-live-abc123\"\n");
        let err = Config::load(Some(&file), no_env()).unwrap_err().to_string();
        assert!(
            err.contains("`llm.api_key_env`") && err.contains("NAME of an environment variable"),
            "{err}"
        );
        assert!(!err.contains("sk-live-abc123"), "{err}");
    }

    #[test]
    fn a_bad_ca_file_is_a_config_error_naming_the_key_and_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let load = |path: &Path| {
            let env = vec![(
                "LEADSCOUT_SMTP__CA_FILE".to_string(),
                path.display().to_string(),
            )];
            Config::load(None, env).map_err(|e| e.to_string())
        };
        let ca = rcgen::generate_simple_self_signed(vec!["ca.test".to_string()]).unwrap();
        let good = dir.path().join("ca.pem");
        std::fs::write(&good, format!("# our CA\n{}", ca.cert.pem())).unwrap();
        let config = load(&good).unwrap();
        assert_eq!(config.smtp.ca_file, good.display().to_string());

        let missing = dir.path().join("missing.pem");
        let not_pem = dir.path().join("notes.txt");
        std::fs::write(&not_pem, "just text").unwrap();
        let key = dir.path().join("with-key.pem");
        std::fs::write(
            &key,
            format!("{}{}", ca.cert.pem(), ca.signing_key.serialize_pem()),
        )
        .unwrap();
        let garbled = dir.path().join("garbled.pem");
        std::fs::write(
            &garbled,
            "-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let cut = dir.path().join("cut.pem");
        let pem = ca.cert.pem();
        std::fs::write(&cut, &pem[..pem.len() / 2]).unwrap();
        let relative = PathBuf::from("relative/ca.pem");
        for (path, says) in [
            (&missing, "cannot read"),
            (&not_pem, "holds no PEM certificate"),
            (&key, "never a private key"),
            (&garbled, "certificate 1"),
            (&cut, "has no END line"),
            (&relative, "not an absolute path"),
        ] {
            let err = load(path).unwrap_err();
            assert!(
                err.contains("`smtp.ca_file`")
                    && err.contains("LEADSCOUT_SMTP__CA_FILE")
                    && err.contains(&format!("`{}`", path.display()))
                    && err.contains(says),
                "{err}"
            );
        }
    }

    #[test]
    fn syntax_errors_and_missing_explicit_files_are_reported() {
        let (_dir, file) = write("[log\nlevel = 1");
        let err = Config::load(Some(&file), no_env()).unwrap_err().to_string();
        assert!(err.contains("is not valid TOML"), "{err}");
        let missing = ConfigFile {
            path: "/nonexistent/leadscout.toml".into(),
            explicit: true,
        };
        assert!(matches!(
            Config::load(Some(&missing), no_env()),
            Err(ConfigError::Read { .. })
        ));
        let optional = ConfigFile {
            path: "/nonexistent/leadscout.toml".into(),
            explicit: false,
        };
        assert_eq!(
            Config::load(Some(&optional), no_env()).unwrap(),
            Config::default()
        );
    }
}
