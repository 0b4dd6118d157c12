//! Handing one email to the SMTP server (lettre, rustls): the message with
//! its compliance headers, the TLS and login settings (`[smtp]`, with
//! `smtp.ca_file` for a private CA), what the server's answer means for
//! sending at most once, and failures told in the operator's terms (which
//! certificate check failed, what to set) with the password cut out.

use base64::Engine as _;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{SmtpConfig, SmtpTls};
use crate::domain::Email;
use crate::domain::outreach::single_line;
use crate::domain::secret::Secret;

/// One email, ready to go.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub from_name: String,
    pub from: Email,
    pub reply_to: Option<Email>,
    pub to: Email,
    pub subject: String,
    pub body: String,
    pub message_id: String,
    pub unsubscribe_url: String,
    /// `mailto:` target for List-Unsubscribe (the sender's address).
    pub unsubscribe_mailto: Email,
}

/// What a failed hand-over means.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The message was not accepted and may be tried again later: a 4xx
    /// answer, or no connection at all.
    #[error("{0}")]
    Later(String),
    /// The server refused it for good (5xx).
    #[error("{message}")]
    Refused { message: String, unknown_user: bool },
    /// The connection broke during the hand-over: the message may or may
    /// not have been accepted. Never retried automatically.
    #[error("{0}")]
    Uncertain(String),
    /// The message could not be built (a bad address, say).
    #[error("{0}")]
    Invalid(String),
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

fn mailbox(name: Option<&str>, email: &Email) -> Result<Mailbox, SendError> {
    let address = email
        .as_str()
        .parse()
        .map_err(|e| SendError::Invalid(format!("`{email}` cannot be used as an address: {e}")))?;
    Ok(Mailbox::new(
        name.map(single_line).filter(|n| !n.is_empty()),
        address,
    ))
}

/// The message as it goes on the wire. Every one-line value goes through
/// `single_line`, and lettre encodes what is left, so nothing in a field
/// can start a header of its own.
pub fn build(m: &Outgoing) -> Result<Message, SendError> {
    build_threaded(m, None)
}

/// [`build`] for a follow-up: `thread` is the previous step's Message-ID
/// (`In-Reply-To`) and every earlier one, oldest first (`References`), so
/// mail programs show the steps as one conversation.
pub fn build_threaded(
    m: &Outgoing,
    thread: Option<(&str, &[String])>,
) -> Result<Message, SendError> {
    let url = single_line(&m.unsubscribe_url);
    let mut builder = Message::builder()
        .from(mailbox(Some(&m.from_name), &m.from)?)
        .to(mailbox(None, &m.to)?)
        .subject(single_line(&m.subject))
        .message_id(Some(single_line(&m.message_id)))
        .date_now()
        .header(ListUnsubscribe(format!(
            "<mailto:{}?subject=unsubscribe>, <{url}>",
            m.unsubscribe_mailto
        )))
        .header(ListUnsubscribePost)
        .header(ContentType::TEXT_PLAIN);
    if let Some(reply_to) = &m.reply_to {
        builder = builder.reply_to(mailbox(None, reply_to)?);
    }
    if let Some((previous, references)) = thread {
        let ids: Vec<String> = references
            .iter()
            .map(|id| single_line(id))
            .filter(|id| !id.is_empty())
            .collect();
        builder = builder
            .in_reply_to(single_line(previous))
            .references(ids.join(" "));
    }
    builder
        .body(m.body.replace("\r\n", "\n"))
        .map_err(|e| SendError::Invalid(format!("the message cannot be built: {e}")))
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    server: String,
    host: String,
    ca_file: String,
    username: String,
    password_env: String,
    /// The password as it goes on the wire (plain, and base64 as AUTH LOGIN
    /// and AUTH PLAIN send it): a careless server may echo any of them in
    /// an error reply, so they are cut from every message made here.
    redact: Vec<String>,
}

impl Mailer {
    pub fn new(config: &SmtpConfig, password: Option<Secret>) -> Result<Self, String> {
        if config.host.is_empty() {
            return Err("SMTP is not set up: set smtp.host (and smtp.port, smtp.tls, smtp.username) in config.toml".into());
        }
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str());
        let builder = match config.tls {
            SmtpTls::None => builder,
            SmtpTls::Starttls => builder.tls(Tls::Required(tls_parameters(config)?)),
            SmtpTls::Tls => builder.tls(Tls::Wrapper(tls_parameters(config)?)),
        };
        let mut builder = builder.port(config.port).timeout(Some(config.timeout));
        let mut redact = Vec::new();
        if !config.username.is_empty() {
            let password = password.ok_or_else(|| {
                format!(
                    "smtp.username is set but the password variable {} is empty",
                    config.password_env
                )
            })?;
            let secret = password.expose();
            let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
            redact = vec![
                b64(&format!("\0{}\0{secret}", config.username)),
                b64(secret),
                secret.to_string(),
            ];
            builder = builder.credentials(Credentials::new(
                config.username.clone(),
                secret.to_string(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            server: format!("{}:{}", config.host, config.port),
            host: config.host.clone(),
            ca_file: config.ca_file.clone(),
            username: config.username.clone(),
            password_env: config.password_env.clone(),
            redact,
        })
    }

    /// Whether the server answers, takes TLS with a certificate we trust
    /// and accepts the login; a failure here means nothing was sent.
    pub async fn check(&self) -> Result<(), SendError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SendError::Later(format!(
                "the SMTP server {} does not answer",
                self.server
            ))),
            Err(e) => Err(SendError::Later(self.scrub(match self.explain(&e) {
                Some((message, _)) => message,
                None => format!("cannot reach the SMTP server {}: {e}", self.server),
            }))),
        }
    }

    /// Hands the message over. Call `check` first: after it, a broken
    /// connection is `Uncertain`.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        let e = match self.transport.send(message).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if let Some((message, nothing_sent)) = self.explain(&e) {
            // A certificate or login refused happens before MAIL FROM:
            // the message certainly did not go, so it may be tried again.
            return Err(if nothing_sent {
                SendError::Later(self.scrub(message))
            } else {
                SendError::Uncertain(
                    self.scrub(format!("{message}; it may or may not have been sent")),
                )
            });
        }
        Err(if e.is_transient() {
            SendError::Later(self.scrub(format!("the server said try later: {e}")))
        } else if e.is_permanent() {
            let text = self.scrub(e.to_string());
            let code = e.status().map(|c| c.to_string()).unwrap_or_default();
            let lower = text.to_ascii_lowercase();
            let unknown_user = matches!(code.as_str(), "550" | "551" | "553")
                && [
                    "5.1.1",
                    "5.1.0",
                    "unknown",
                    "no such",
                    "does not exist",
                    "not found",
                ]
                .iter()
                .any(|w| lower.contains(w));
            SendError::Refused {
                message: format!("the server refused it: {text}"),
                unknown_user,
            }
        } else {
            SendError::Uncertain(self.scrub(format!(
                "the connection to {} broke while handing the message over ({e}); it may or may not have been sent",
                self.server
            )))
        })
    }

    /// A TLS or login failure in the operator's terms, and whether it
    /// certainly came before any of the message was sent. `None` for
    /// anything else. lettre wraps rustls' error in an I/O error, so the
    /// chain's text is what tells them apart.
    fn explain(&self, error: &lettre::transport::smtp::Error) -> Option<(String, bool)> {
        let text = super::error_text(error);
        let lower = text.to_ascii_lowercase();
        let at = format!("refused the SMTP server {}", self.server);
        let certificate = |what: String| Some((format!("{at}: its certificate {what}"), true));
        if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
            let fix = if self.ca_file.is_empty() {
                "if the server uses a private CA, set smtp.ca_file to that CA's PEM file".into()
            } else {
                format!(
                    "neither smtp.ca_file `{}` nor the system holds the CA that signed it",
                    self.ca_file
                )
            };
            return certificate(format!("is not trusted (issued by an unknown CA); {fix}"));
        }
        if lower.contains("not valid for name") || lower.contains("notvalidforname") {
            let names = certificate_names(&text);
            let what = if names.is_empty() {
                "names another host".to_string()
            } else {
                format!("is for {}", names.join(", "))
            };
            return certificate(format!(
                "{what}, not {}; set smtp.host to a name the certificate is for",
                self.host
            ));
        }
        let bad_certificate = lower.contains("invalid peer certificate");
        if bad_certificate && lower.contains("expired") {
            return certificate("has expired".into());
        }
        if bad_certificate && (lower.contains("not valid yet") || lower.contains("notvalidyet")) {
            return certificate("is not valid yet (check this machine's clock)".into());
        }
        if bad_certificate {
            return certificate(format!("was refused ({text})"));
        }
        if lower.contains("no ca certificates were loaded") {
            return Some((
                "no CA certificates were found on this system: install the ca-certificates package, or set smtp.ca_file".into(),
                true,
            ));
        }
        if lower.contains("starttls is not supported") {
            return Some((
                format!(
                    "{at}: it does not offer STARTTLS, and nothing goes in clear text; if it expects TLS from the first byte (port 465), set smtp.tls = \"tls\""
                ),
                true,
            ));
        }
        if lower.contains("invalidcontenttype") || lower.contains("corrupt message") {
            return Some((
                format!(
                    "the SMTP server {} did not answer in TLS; if it expects STARTTLS (port 587), set smtp.tls = \"starttls\" ({})",
                    self.server,
                    innermost(error)
                ),
                false,
            ));
        }
        if lower.contains("no compatible authentication mechanism") {
            return Some((
                format!(
                    "{at}: it offers no login method leadscout knows (PLAIN, LOGIN) over this connection"
                ),
                true,
            ));
        }
        let code = error.status().map(|c| c.to_string()).unwrap_or_default();
        if matches!(code.as_str(), "530" | "534" | "535" | "538") {
            if self.username.is_empty() {
                return Some((
                    format!(
                        "the SMTP server {} wants a login ({text}); set smtp.username and put the password in {}",
                        self.server, self.password_env
                    ),
                    true,
                ));
            }
            return Some((
                format!(
                    "the SMTP server {} refused the login of smtp.username `{}` ({text}); check the user name and the password in {}",
                    self.server, self.username, self.password_env
                ),
                true,
            ));
        }
        None
    }

    fn scrub(&self, mut text: String) -> String {
        for secret in &self.redact {
            if !secret.is_empty() {
                text = text.replace(secret.as_str(), "[redacted]");
            }
        }
        text
    }
}

/// The TLS settings for `smtp.host`: the system's CAs, plus those in
/// `smtp.ca_file` when it is set.
fn tls_parameters(config: &SmtpConfig) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(config.host.clone());
    if !config.ca_file.is_empty() {
        let pem = crate::config::read_ca_file(&config.ca_file)
            .map_err(|e| format!("config key `smtp.ca_file`: {e}"))?;
        let certificate = Certificate::from_pem(&pem).map_err(|e| {
            format!(
                "config key `smtp.ca_file`: `{}` holds no usable certificate ({e})",
                config.ca_file
            )
        })?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build().map_err(|e| {
        let text = super::error_text(&e);
        if text.to_ascii_lowercase().contains("no ca certificates were loaded") {
            "no CA certificates were found on this system: install the ca-certificates package, or set smtp.ca_file".into()
        } else if config.ca_file.is_empty() {
            format!("cannot set up TLS for smtp.host `{}`: {text}", config.host)
        } else {
            format!(
                "config key `smtp.ca_file`: `{}` cannot be used as a CA: {text}",
                config.ca_file
            )
        }
    })
}

/// The deepest cause: the part of a nested error that says what happened.
fn innermost(error: &dyn std::error::Error) -> String {
    let mut last = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// The names a certificate is for, from rustls' "certificate is only valid
/// for DnsName(\"a\") or IpAddress(1.2.3.4)".
fn certificate_names(text: &str) -> Vec<String> {
    let Ok(re) = regex::Regex::new(r#"(?:DnsName|IpAddress)\("?([^")]+)"?\)"#) else {
        return Vec::new();
    };
    re.captures_iter(text).map(|c| c[1].to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_names_are_read_from_the_rustls_text() {
        let text = r#"invalid peer certificate: certificate not valid for name "127.0.0.1"; certificate is only valid for DnsName("mail.other.example") or IpAddress(10.0.0.1)"#;
        assert_eq!(certificate_names(text), ["mail.other.example", "10.0.0.1"]);
        assert!(certificate_names("certificate not valid for name").is_empty());
    }

    #[test]
    fn a_ca_file_that_is_pem_but_no_certificate_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        // Well-formed PEM around a DER SEQUENCE that is no certificate.
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nMAMBAgM=\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let config = SmtpConfig {
            host: "smtp.example.com".into(),
            ca_file: path.display().to_string(),
            ..SmtpConfig::default()
        };
        let err = Mailer::new(&config, None).err().unwrap();
        assert!(
            err.starts_with("config key `smtp.ca_file`: ")
                && err.contains(&format!("`{}`", path.display())),
            "{err}"
        );
    }

    #[test]
    fn every_wire_form_of_the_password_is_cut_from_messages() {
        let config = SmtpConfig {
            host: "127.0.0.1".into(),
            tls: SmtpTls::None,
            username: "me".into(),
            ..SmtpConfig::default()
        };
        let mailer = Mailer::new(&config, Some(Secret::new("s3cret!"))).unwrap();
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        for form in ["s3cret!".to_string(), b64("s3cret!"), b64("\0me\0s3cret!")] {
            let text = mailer.scrub(format!("535 bad: {form}."));
            assert_eq!(text, "535 bad: [redacted].");
        }
    }
}
