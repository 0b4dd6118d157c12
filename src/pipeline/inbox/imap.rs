//! The IMAP conversation: connect (plain on loopback, STARTTLS or implicit
//! TLS), log in, SELECT the mailbox, list the UIDs above the last one seen
//! and fetch them in batches with `BODY.PEEK[]`, so nothing is marked seen.
//! Nothing here flags, moves, expunges or deletes mail.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::{Client, Session};
use futures::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;

use crate::config::{ImapConfig, ImapTls};
use crate::domain::Secret;

/// A failure, worded for the operator: the server, what failed, what to
/// check. Never the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ImapError(pub String);

/// One message as the server holds it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub uid: u32,
    pub raw: Vec<u8>,
}

/// The selected mailbox.
#[derive(Debug, Clone, Copy)]
pub struct Selected {
    pub uid_validity: u32,
    pub exists: u32,
}

/// Plain TCP (loopback only, the config refuses it elsewhere) or TLS.
#[derive(Debug)]
pub(super) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A logged-in connection to the configured mailbox.
pub struct Mailbox {
    pub(super) session: Session<Stream>,
    pub(super) server: String,
    pub(super) mailbox: String,
    pub(super) timeout: Duration,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailbox")
            .field("server", &self.server)
            .finish()
    }
}

async fn within<T>(
    timeout: Duration,
    what: impl FnOnce() -> String,
    work: impl Future<Output = Result<T, ImapError>>,
) -> Result<T, ImapError> {
    tokio::time::timeout(timeout, work).await.map_err(|_| {
        ImapError(format!(
            "{} took longer than imap.timeout ({timeout:?})",
            what()
        ))
    })?
}

/// The system's CAs, plus those of `imap.ca_file` when it is set (a
/// private CA or a self-signed server the operator chose to trust).
fn tls_connector(ca_file: &str) -> Result<TlsConnector, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut extra = Vec::new();
    if !ca_file.is_empty() {
        let pem = crate::config::read_ca_file(ca_file)
            .map_err(|e| format!("config key `imap.ca_file`: {e}"))?;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            extra.push(cert.map_err(|e| {
                format!("config key `imap.ca_file`: `{ca_file}` holds no usable certificate ({e})")
            })?);
        }
    }
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// A TLS failure in the operator's terms: which server, what is wrong with
/// its certificate, and what to set.
fn tls_failure(e: &std::io::Error, host: &str, server: &str, ca_file: &str) -> String {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    let at = format!("TLS with the IMAP server {server} failed");
    if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        let fix = if ca_file.is_empty() {
            "if the server uses a private CA or a self-signed certificate, set imap.ca_file to that CA's PEM file".to_string()
        } else {
            format!("neither imap.ca_file `{ca_file}` nor the system holds the CA that signed it")
        };
        return format!(
            "{at}: the certificate of {host} is not trusted (issued by an unknown CA); {fix}"
        );
    }
    if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        return format!(
            "{at}: its certificate is not valid for the name {host} ({text}); set imap.host to a name the certificate is for"
        );
    }
    if lower.contains("expired") {
        return format!("{at}: the certificate of {host} has expired ({text})");
    }
    format!(
        "{at}: {text}; check imap.tls (\"tls\" for port 993, \"starttls\" for 143) and the server's certificate"
    )
}

async fn wrap_tls(
    tcp: TcpStream,
    host: &str,
    server: &str,
    ca_file: &str,
) -> Result<Stream, ImapError> {
    let connector = tls_connector(ca_file)
        .map_err(|e| ImapError(format!("cannot set up TLS for {server}: {e}")))?;
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| ImapError(format!("`{host}` is not a valid TLS server name: {e}")))?;
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| ImapError(tls_failure(&e, host, server, ca_file)))?;
    Ok(Stream::Tls(Box::new(tls)))
}

impl Mailbox {
    /// Connects, logs in and selects the configured mailbox (read-write,
    /// though nothing is written: EXAMINE would hide UIDs of mail that
    /// arrives while the session is open on some servers).
    pub async fn open(
        config: &ImapConfig,
        password: &Secret,
    ) -> Result<(Self, Selected), ImapError> {
        let server = format!("{}:{}", config.host, config.port);
        let timeout = config.timeout;
        let connect = async {
            let tcp = TcpStream::connect((config.host.as_str(), config.port))
                .await
                .map_err(|e| {
                    ImapError(format!(
                        "cannot reach the IMAP server {server}: {e}; check imap.host and imap.port, and that the server is up"
                    ))
                })?;
            let mut client = match config.tls {
                ImapTls::Tls => {
                    Client::new(wrap_tls(tcp, &config.host, &server, &config.ca_file).await?)
                }
                ImapTls::None | ImapTls::Starttls => Client::new(Stream::Plain(tcp)),
            };
            let greeting = client
                .read_response()
                .await
                .map_err(|e| ImapError(format!("the IMAP server {server} did not greet: {e}")))?;
            if greeting.is_none() {
                return Err(ImapError(format!(
                    "the IMAP server {server} closed the connection before greeting; check imap.port and imap.tls"
                )));
            }
            if config.tls == ImapTls::Starttls {
                client.run_command_and_check_ok("STARTTLS", None).await.map_err(|e| {
                    ImapError(format!(
                        "the IMAP server {server} refused STARTTLS ({e}); use imap.tls = \"tls\" (port 993) if it only offers implicit TLS"
                    ))
                })?;
                let Stream::Plain(tcp) = client.into_inner() else {
                    return Err(ImapError("STARTTLS over TLS".into()));
                };
                client = Client::new(wrap_tls(tcp, &config.host, &server, &config.ca_file).await?);
            }
            client
                .login(&config.username, password.expose())
                .await
                .map_err(|(e, _)| {
                    ImapError(format!(
                        "the IMAP server {server} refused the login of `{}`: {e}; check imap.username and the password in ${}",
                        config.username, config.password_env
                    ))
                })
        };
        let mut session = within(timeout, || format!("connecting to {server}"), connect).await?;
        let mailbox = config.mailbox.clone();
        let selected = within(timeout, || format!("selecting {mailbox} on {server}"), async {
            session.select(&mailbox).await.map_err(|e| {
                ImapError(format!(
                    "the IMAP server {server} cannot open mailbox `{mailbox}` ({e}); check imap.mailbox"
                ))
            })
        })
        .await?;
        let uid_validity = selected.uid_validity.ok_or_else(|| {
            ImapError(format!(
                "the IMAP server {server} gives mailbox `{mailbox}` no UIDVALIDITY, so new mail cannot be told from old"
            ))
        })?;
        Ok((
            Self {
                session,
                server,
                mailbox,
                timeout,
            },
            Selected {
                uid_validity,
                exists: selected.exists,
            },
        ))
    }

    /// Whether the server announces IDLE (RFC 2177) after login.
    pub async fn supports_idle(&mut self) -> Result<bool, ImapError> {
        let timeout = self.timeout;
        let caps = tokio::time::timeout(timeout, self.session.capabilities())
            .await
            .map_err(|_| self.context("no answer within imap.timeout", "asking for capabilities"))?
            .map_err(|e| self.context(e, "asking for capabilities"))?;
        Ok(caps.has_str("IDLE"))
    }

    pub(super) fn context(&self, e: impl std::fmt::Display, what: &str) -> ImapError {
        ImapError(format!(
            "{what} in mailbox `{}` on {} failed: {e}",
            self.mailbox, self.server
        ))
    }

    /// The UIDs above `after`, in order.
    pub async fn uids_after(&mut self, after: u32) -> Result<Vec<u32>, ImapError> {
        let timeout = self.timeout;
        let query = format!("UID {}:*", after.saturating_add(1));
        let found = tokio::time::timeout(timeout, self.session.uid_search(&query))
            .await
            .map_err(|_| self.context("no answer within imap.timeout", "listing new mail"))?
            .map_err(|e| self.context(e, "listing new mail"))?;
        // `N:*` also names the highest UID when every UID is below N.
        let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > after).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The messages with these UIDs (sorted), read without marking them
    /// seen. A message deleted in between is simply not returned.
    pub async fn fetch(&mut self, uids: &[u32]) -> Result<Vec<Fetched>, ImapError> {
        let (Some(first), Some(last)) = (uids.first(), uids.last()) else {
            return Ok(Vec::new());
        };
        let set = format!("{first}:{last}");
        let timeout = self.timeout;
        let work = async {
            let stream = self
                .session
                .uid_fetch(&set, "(UID BODY.PEEK[])")
                .await
                .map_err(|e| e.to_string())?;
            let fetched: Vec<_> = stream.try_collect().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(fetched)
        };
        let fetched = tokio::time::timeout(timeout.max(Duration::from_secs(5)) * 4, work)
            .await
            .map_err(|_| self.context("no answer within imap.timeout", "reading new mail"))?
            .map_err(|e| self.context(e, "reading new mail"))?;
        let mut out: Vec<Fetched> = fetched
            .iter()
            .filter_map(|f| {
                let uid = f.uid?;
                let raw = f.body()?;
                (uid >= *first && uid <= *last).then(|| Fetched {
                    uid,
                    raw: raw.to_vec(),
                })
            })
            .collect();
        out.sort_by_key(|f| f.uid);
        Ok(out)
    }

    /// Says goodbye; a failure here changes nothing already read.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.session.logout()).await;
    }
}
