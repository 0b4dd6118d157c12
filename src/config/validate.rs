//! Checks that go beyond types: values that parse but make no sense, each
//! reported with the key at fault and what to do.

use std::path::Path;
use std::time::Duration;

use super::{Config, ConfigError, ImapTls, Origin, ServerConfig, SmtpTls};

impl Config {
    /// Checks that go beyond types: values that parse but make no sense.
    pub(super) fn validate(&self, origin_of: &dyn Fn(&str) -> Origin) -> Result<(), ConfigError> {
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
        self.verify
            .nameserver_addr()
            .map_err(|m| bad("verify.nameserver", m))?;
        if self.verify.timeout.is_zero() || self.verify.timeout > std::time::Duration::from_secs(60)
        {
            return Err(bad(
                "verify.timeout",
                "must be between 1ms and 60s, e.g. \"5s\"".into(),
            ));
        }
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
        let imap = &self.imap;
        if imap.tls == ImapTls::None && !imap.host.is_empty() && !is_loopback_host(&imap.host) {
            return Err(bad(
                "imap.tls",
                format!(
                    "\"none\" sends the mailbox password in clear text; it is only accepted for a server on this machine, not `{}`. Use \"tls\" (port 993) or \"starttls\" (port 143)",
                    imap.host
                ),
            ));
        }
        if !imap.host.is_empty() && imap.username.trim().is_empty() {
            return Err(bad(
                "imap.username",
                format!(
                    "imap.host is `{}` but no username is set; set imap.username to the mailbox login",
                    imap.host
                ),
            ));
        }
        if imap.mailbox.trim().is_empty() || imap.mailbox.contains(['\r', '\n', '"']) {
            return Err(bad(
                "imap.mailbox",
                "must name a mailbox such as \"INBOX\" (no quotes or line breaks)".into(),
            ));
        }
        if imap.poll_secs == 0 || imap.poll_secs > 86_400 {
            return Err(bad(
                "imap.poll_secs",
                format!(
                    "{} is out of range; use 1 to 86400, e.g. 60",
                    imap.poll_secs
                ),
            ));
        }
        if imap.idle_renew < Duration::from_secs(10)
            || imap.idle_renew > Duration::from_secs(29 * 60)
        {
            return Err(bad(
                "imap.idle_renew",
                format!(
                    "{} is out of range; use 10s to 29m (servers may end an IDLE after 30 minutes), e.g. \"25m\"",
                    humantime::format_duration(imap.idle_renew)
                ),
            ));
        }
        if imap.soft_bounce_limit == 0 || imap.soft_bounce_limit > 100 {
            return Err(bad(
                "imap.soft_bounce_limit",
                format!(
                    "{} is out of range; use 1 to 100, e.g. 3",
                    imap.soft_bounce_limit
                ),
            ));
        }
        if imap.timeout.is_zero() {
            return Err(bad(
                "imap.timeout",
                "must be more than 0s, e.g. \"30s\"".into(),
            ));
        }
        if !imap.ca_file.is_empty() {
            read_ca_file(&imap.ca_file).map_err(|message| bad("imap.ca_file", message))?;
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
        if wd.session_timeout < Duration::from_secs(1)
            || wd.session_timeout > Duration::from_secs(3600)
        {
            return Err(bad(
                "webdriver.session_timeout",
                format!(
                    "`{}` is out of range: give between 1s and 1h (e.g. \"5m\")",
                    humantime::format_duration(wd.session_timeout)
                ),
            ));
        }
        wd.check_proxy()
            .map_err(|(key, message)| bad(key, message))?;
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
            ("imap.password_env", &self.imap.password_env),
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
}

impl ServerConfig {
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

impl super::WebDriverConfig {
    /// The networks in `proxy_allow`; a bare IP is a network of one.
    pub fn proxy_allow_nets(&self) -> Result<Vec<ipnet::IpNet>, String> {
        self.proxy_allow
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let entry = entry.trim();
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        format!(
                            "entry {} `{entry}` is not an IP or a CIDR network (e.g. \"10.0.0.7\" or \"10.0.0.0/24\")",
                            i + 1
                        )
                    })
            })
            .collect()
    }

    /// The remote-browser proxy keys agree: all empty, or `proxy_bind` a
    /// socket address with an http `proxy_url` and a non-empty
    /// `proxy_allow`. Returns the key at fault and what to do.
    pub(super) fn check_proxy(&self) -> Result<(), (&'static str, String)> {
        if self.proxy_bind.trim().is_empty() {
            if !self.proxy_url.is_empty() || !self.proxy_allow.is_empty() {
                return Err((
                    "webdriver.proxy_bind",
                    "is empty, but proxy_url or proxy_allow is set: set proxy_bind to where remote browsers reach this machine (e.g. \"0.0.0.0:3128\"), or clear proxy_url and proxy_allow".into(),
                ));
            }
            return Ok(());
        }
        if self
            .proxy_bind
            .trim()
            .parse::<std::net::SocketAddr>()
            .is_err()
        {
            return Err((
                "webdriver.proxy_bind",
                format!(
                    "`{}` is not an IP and port to listen on (e.g. \"0.0.0.0:3128\")",
                    self.proxy_bind
                ),
            ));
        }
        let url = url::Url::parse(self.proxy_url.trim()).ok();
        let usable = url.as_ref().is_some_and(|u| {
            u.scheme() == "http"
                && u.host_str().is_some()
                && u.username().is_empty()
                && u.password().is_none()
                && matches!(u.path(), "" | "/")
        });
        if !usable {
            return Err((
                "webdriver.proxy_url",
                format!(
                    "`{}` is not the http://host:port browsers use to reach the proxy (e.g. \"http://scout.internal:3128\"); it is required when proxy_bind is set",
                    self.proxy_url
                ),
            ));
        }
        if self.proxy_allow.is_empty() {
            return Err((
                "webdriver.proxy_allow",
                "is empty: list the Grid nodes' IPs or networks (e.g. [\"10.0.0.0/24\"]); the proxy is never open to everyone".into(),
            ));
        }
        self.proxy_allow_nets()
            .map(|_| ())
            .map_err(|message| ("webdriver.proxy_allow", message))
    }
}
