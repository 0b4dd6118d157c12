//! Handing one email to the SMTP server (lettre, rustls): the message with
//! its compliance headers, and what the server's answer means for sending
//! at most once.

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
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
    builder
        .body(m.body.replace("\r\n", "\n"))
        .map_err(|e| SendError::Invalid(format!("the message cannot be built: {e}")))
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    server: String,
}

impl Mailer {
    pub fn new(config: &SmtpConfig, password: Option<Secret>) -> Result<Self, String> {
        if config.host.is_empty() {
            return Err("SMTP is not set up: set smtp.host (and smtp.port, smtp.tls, smtp.username) in config.toml".into());
        }
        let builder = match config.tls {
            SmtpTls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
            }
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                .map_err(|e| format!("smtp.host `{}`: {e}", config.host))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)
                .map_err(|e| format!("smtp.host `{}`: {e}", config.host))?,
        };
        let mut builder = builder.port(config.port).timeout(Some(config.timeout));
        if !config.username.is_empty() {
            let password = password.ok_or_else(|| {
                format!(
                    "smtp.username is set but the password variable {} is empty",
                    config.password_env
                )
            })?;
            builder = builder.credentials(Credentials::new(
                config.username.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            server: format!("{}:{}", config.host, config.port),
        })
    }

    /// Whether the server answers; a failure here means nothing was sent.
    pub async fn check(&self) -> Result<(), SendError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SendError::Later(format!(
                "the SMTP server {} does not answer",
                self.server
            ))),
            Err(e) => Err(SendError::Later(format!(
                "cannot reach the SMTP server {}: {e}",
                self.server
            ))),
        }
    }

    /// Hands the message over. Call `check` first: after it, a broken
    /// connection is `Uncertain`.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_transient() => {
                Err(SendError::Later(format!("the server said try later: {e}")))
            }
            Err(e) if e.is_permanent() => {
                let text = e.to_string();
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
                Err(SendError::Refused {
                    message: format!("the server refused it: {text}"),
                    unknown_user,
                })
            }
            Err(e) => Err(SendError::Uncertain(format!(
                "the connection to {} broke while handing the message over ({e}); it may or may not have been sent",
                self.server
            ))),
        }
    }
}
