//! The config file's schema: one struct per `[section]`, with the
//! built-in defaults. What the values mean for the pipeline is in
//! `policy.rs`; the checks beyond types in `validate.rs`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

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
    /// A reopened demo workspace's sites that could not listen again, so
    /// a fetch of one says that rather than only "loopback address". Set
    /// by the host, never read from a file.
    #[serde(skip)]
    pub demo_unserved: Vec<UnservedDemoSite>,
}

/// A demo site that could not listen on its stored address again.
#[derive(Debug, Clone, PartialEq)]
pub struct UnservedDemoSite {
    /// "host:port", as the lead's URL names it.
    pub addr: String,
    pub business: String,
    pub why: String,
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
            demo_unserved: Vec::new(),
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
    /// How long a request for a new session may wait on a WebDriver at
    /// `url` (a Selenium Grid queues requests while its slots are busy).
    /// The chromedriver leadscout starts itself has no queue and gets 30s.
    #[serde(with = "humantime_serde")]
    pub session_timeout: Duration,
    /// Where the egress proxy listens for browsers on other machines (a
    /// Selenium Grid's nodes), e.g. "0.0.0.0:3128". Empty: each session gets
    /// its own proxy on loopback, for browsers on this machine.
    pub proxy_bind: String,
    /// The address browsers use to reach the proxy, e.g.
    /// "http://scout.internal:3128"; required with `proxy_bind`.
    pub proxy_url: String,
    /// IPs or CIDR networks (the Grid nodes) allowed to connect to the
    /// proxy; required and non-empty with `proxy_bind`.
    pub proxy_allow: Vec<String>,
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
            session_timeout: Duration::from_secs(300),
            proxy_bind: String::new(),
            proxy_url: String::new(),
            proxy_allow: Vec::new(),
        }
    }
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

/// How the IMAP connection is secured. `none` only for a server on this
/// machine, as for SMTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImapTls {
    /// Plain text: only for a server on this machine.
    None,
    Starttls,
    /// Implicit TLS (port 993).
    Tls,
}

/// The inbox watcher: replies, auto-replies and bounces read from one
/// mailbox. Mail is only read (`BODY.PEEK[]`): never flagged, moved or
/// deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImapConfig {
    /// Empty: the inbox is not watched.
    pub host: String,
    pub port: u16,
    pub tls: ImapTls,
    pub username: String,
    /// Name of the environment variable that holds the mailbox password.
    pub password_env: String,
    /// The mailbox replies arrive in.
    pub mailbox: String,
    /// How often the host (`serve`, the TUI) looks for new mail.
    pub poll_secs: u64,
    /// Temporary delivery failures (4.x.x) counted for one address before
    /// it is suppressed (blacklisted as `bounce`).
    pub soft_bounce_limit: u32,
    /// How long connecting, logging in or one command may take.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// How long one IMAP IDLE lasts before the watcher ends and renews it
    /// (RFC 2177: servers may drop an IDLE after 30 minutes).
    #[serde(with = "humantime_serde")]
    pub idle_renew: Duration,
    /// Absolute path of a PEM file of CA certificates trusted in addition
    /// to the system's, for a server with a private CA or a self-signed
    /// certificate. Empty: the system's CAs only.
    pub ca_file: String,
}

impl Default for ImapConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 993,
            tls: ImapTls::Tls,
            username: String::new(),
            password_env: "LEADSCOUT_IMAP_PASSWORD".into(),
            mailbox: "INBOX".into(),
            poll_secs: 60,
            soft_bounce_limit: 3,
            timeout: Duration::from_secs(30),
            idle_renew: Duration::from_secs(25 * 60),
            ca_file: String::new(),
        }
    }
}

impl ImapConfig {
    /// `host:port/mailbox`, as messages name the server.
    pub fn describe(&self) -> String {
        format!("{}:{}/{}", self.host, self.port, self.mailbox)
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

/// Checks of a lead's address before a draft is made: does its domain
/// receive mail (MX, or an address record), is it a role address or a
/// throw-away mailbox. Mailboxes are never probed over SMTP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifyConfig {
    /// Check addresses before drafting. Off: drafts are made unchecked.
    pub enabled: bool,
    /// The DNS server asked, "IP" or "IP:PORT"; empty: the system's
    /// (/etc/resolv.conf). For air-gapped sites and tests.
    pub nameserver: String,
    /// How long one DNS question may take.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// A stored check is trusted this long before it is asked again.
    #[serde(with = "humantime_serde")]
    pub recheck_after: Duration,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            nameserver: String::new(),
            timeout: Duration::from_secs(5),
            recheck_after: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl VerifyConfig {
    /// The configured DNS server with its port (53 unless given); `None`
    /// for the system's. `Err` names what is wrong with the value.
    pub fn nameserver_addr(&self) -> Result<Option<std::net::SocketAddr>, String> {
        let text = self.nameserver.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if let Ok(addr) = text.parse::<std::net::SocketAddr>() {
            return Ok(Some(addr));
        }
        let bare = text.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<std::net::IpAddr>()
            .map(|ip| Some(std::net::SocketAddr::new(ip, 53)))
            .map_err(|_| {
                format!(
                    "`{text}` is not an IP address or IP:PORT, e.g. 127.0.0.1 or 127.0.0.1:5353"
                )
            })
    }
}
