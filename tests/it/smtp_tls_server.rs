//! A small SMTP server on loopback that speaks TLS the way real providers
//! do: STARTTLS after EHLO (port 587 style) or TLS from the first byte
//! (port 465 style), AUTH PLAIN and LOGIN only once the connection is
//! encrypted, and no MAIL before a login. It keeps each delivered message
//! with the login it came under. Certificates come from a throw-away CA
//! made here with rcgen.
//!
//! A refused login is answered with what the client sent, decoded, as a
//! careless server might: the tests show leadscout never repeats it.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A CA of our own and what it signs.
pub struct TestCa {
    pub pem: String,
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = rcgen::CertifiedIssuer::self_signed(params, key).unwrap();
        Self {
            pem: issuer.pem(),
            issuer,
        }
    }

    /// A server certificate for `names` (DNS names or IP addresses), signed
    /// by this CA, as a TLS acceptor.
    pub fn acceptor(&self, names: &[&str]) -> tokio_rustls::TlsAcceptor {
        let key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = rcgen::CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "smtp.test");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &*self.issuer).unwrap();
        let der = rustls_pki_types::CertificateDer::from(cert.der().to_vec());
        let key = rustls_pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plain text first; STARTTLS offered after EHLO.
    Starttls,
    /// TLS from the first byte.
    Implicit,
    /// No TLS at all: STARTTLS is never offered (as when a man in the
    /// middle strips it from the EHLO answer).
    Plain,
}

#[derive(Debug, Clone)]
pub struct Delivered {
    /// (user, password) of the login the message came under.
    pub login: (String, String),
    /// The AUTH mechanism used.
    pub mechanism: String,
    pub from: String,
    pub to: Vec<String>,
    /// The message as received, dot-stuffing undone, CRLF line ends.
    pub data: String,
}

pub struct TlsSmtpServer {
    pub port: u16,
    delivered: Arc<Mutex<Vec<Delivered>>>,
    /// Every connection that reached a finished TLS handshake.
    handshakes: Arc<Mutex<usize>>,
    /// AUTH commands received without TLS.
    clear_logins: Arc<Mutex<usize>>,
}

#[derive(Clone)]
struct Shared {
    mode: Mode,
    acceptor: tokio_rustls::TlsAcceptor,
    user: String,
    password: String,
    delivered: Arc<Mutex<Vec<Delivered>>>,
    handshakes: Arc<Mutex<usize>>,
    clear_logins: Arc<Mutex<usize>>,
}

impl TlsSmtpServer {
    /// Serves on 127.0.0.1 with the given certificate, accepting only
    /// `user` / `password`.
    pub fn start(
        mode: Mode,
        acceptor: tokio_rustls::TlsAcceptor,
        user: &str,
        password: &str,
    ) -> Self {
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let handshakes = Arc::new(Mutex::new(0));
        let clear_logins = Arc::new(Mutex::new(0));
        let shared = Shared {
            mode,
            acceptor,
            user: user.into(),
            password: password.into(),
            delivered: delivered.clone(),
            handshakes: handshakes.clone(),
            clear_logins: clear_logins.clone(),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap().port()).unwrap();
                while let Ok((stream, _)) = listener.accept().await {
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let _ = connection(stream, shared).await;
                    });
                }
            });
        });
        Self {
            port: rx.recv().unwrap(),
            delivered,
            handshakes,
            clear_logins,
        }
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.delivered.lock().unwrap().clone()
    }

    pub fn handshakes(&self) -> usize {
        *self.handshakes.lock().unwrap()
    }

    pub fn clear_logins(&self) -> usize {
        *self.clear_logins.lock().unwrap()
    }
}

async fn connection(stream: tokio::net::TcpStream, shared: Shared) -> std::io::Result<()> {
    match shared.mode {
        Mode::Implicit => {
            let tls = shared.acceptor.accept(stream).await?;
            *shared.handshakes.lock().unwrap() += 1;
            session(BufReader::new(tls), true, &shared, true).await?;
        }
        Mode::Plain => {
            session(BufReader::new(stream), false, &shared, true).await?;
        }
        Mode::Starttls => {
            if let Some(plain) = session(BufReader::new(stream), false, &shared, true).await? {
                let tls = shared.acceptor.accept(plain).await?;
                *shared.handshakes.lock().unwrap() += 1;
                session(BufReader::new(tls), true, &shared, false).await?;
            }
        }
    }
    Ok(())
}

struct Envelope {
    login: Option<(String, String, String)>,
    from: Option<String>,
    to: Vec<String>,
}

/// One SMTP conversation on `io`. Returns the plain stream when the client
/// asked for STARTTLS (the caller upgrades it and talks on).
async fn session<S>(
    mut io: BufReader<S>,
    tls: bool,
    shared: &Shared,
    greet: bool,
) -> std::io::Result<Option<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if greet {
        reply(&mut io, "220 smtp.test ESMTP ready").await?;
    }
    let mut env = Envelope {
        login: None,
        from: None,
        to: Vec::new(),
    };
    loop {
        let Some(line) = read_line(&mut io).await? else {
            return Ok(None);
        };
        let upper = line.to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or("");
        match verb {
            "EHLO" | "HELO" => {
                let mut lines = vec!["250-smtp.test".to_string()];
                if !tls && shared.mode == Mode::Starttls {
                    lines.push("250-STARTTLS".into());
                }
                if tls {
                    lines.push("250-AUTH PLAIN LOGIN".into());
                }
                lines.push("250 8BITMIME".into());
                reply(&mut io, &lines.join("\r\n")).await?;
            }
            "STARTTLS" if !tls && shared.mode == Mode::Starttls => {
                reply(&mut io, "220 2.0.0 go ahead").await?;
                return Ok(Some(io.into_inner()));
            }
            "AUTH" if !tls => {
                *shared.clear_logins.lock().unwrap() += 1;
                reply(&mut io, "538 5.7.11 encryption required").await?
            }
            "AUTH" => {
                let mut words = line.split(' ').skip(1);
                let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
                let (user, password) = match mechanism.as_str() {
                    "PLAIN" => {
                        let blob = match words.next() {
                            Some(b) => b.to_string(),
                            None => ask(&mut io, "334 ").await?,
                        };
                        let text = decode(&blob);
                        let mut parts = text.split('\0').skip(1);
                        (
                            parts.next().unwrap_or("").to_string(),
                            parts.next().unwrap_or("").to_string(),
                        )
                    }
                    "LOGIN" => {
                        let user = match words.next() {
                            Some(b) => decode(b),
                            None => decode(&ask(&mut io, "334 VXNlcm5hbWU6").await?),
                        };
                        (user, decode(&ask(&mut io, "334 UGFzc3dvcmQ6").await?))
                    }
                    _ => {
                        reply(&mut io, "504 5.5.4 unknown mechanism").await?;
                        continue;
                    }
                };
                if user == shared.user && password == shared.password {
                    env.login = Some((user, password, mechanism));
                    reply(&mut io, "235 2.7.0 authenticated").await?;
                } else {
                    let echo = format!("535 5.7.8 bad login {user} / {password}");
                    reply(&mut io, &echo).await?;
                }
            }
            "MAIL" if env.login.is_none() => {
                reply(&mut io, "530 5.7.0 authentication required").await?
            }
            "MAIL" => {
                env.from = Some(address(&line));
                env.to.clear();
                reply(&mut io, "250 2.1.0 ok").await?;
            }
            "RCPT" if env.from.is_some() => {
                env.to.push(address(&line));
                reply(&mut io, "250 2.1.5 ok").await?;
            }
            "DATA" if !env.to.is_empty() => {
                reply(&mut io, "354 end with <CRLF>.<CRLF>").await?;
                let mut data = String::new();
                while let Some(l) = read_line(&mut io).await? {
                    if l == "." {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').unwrap_or(&l));
                    data.push_str("\r\n");
                }
                let (user, password, mechanism) = env.login.clone().unwrap_or_default();
                shared.delivered.lock().unwrap().push(Delivered {
                    login: (user, password),
                    mechanism,
                    from: env.from.take().unwrap_or_default(),
                    to: std::mem::take(&mut env.to),
                    data,
                });
                reply(&mut io, "250 2.0.0 queued").await?;
            }
            "RSET" => {
                env.from = None;
                env.to.clear();
                reply(&mut io, "250 2.0.0 ok").await?;
            }
            "NOOP" => reply(&mut io, "250 2.0.0 ok").await?,
            "QUIT" => {
                reply(&mut io, "221 2.0.0 bye").await?;
                return Ok(None);
            }
            _ => reply(&mut io, "503 5.5.1 bad sequence of commands").await?,
        }
    }
}

fn decode(b64: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map(|b| String::from_utf8_lossy(&b).to_string())
        .unwrap_or_default()
}

/// The address between `<` and `>` in `MAIL FROM:<a@b> ...`.
fn address(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(a, _)| a.to_string())
        .unwrap_or_default()
}

async fn ask<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    prompt: &str,
) -> std::io::Result<String> {
    reply(io, prompt).await?;
    Ok(read_line(io).await?.unwrap_or_default())
}

async fn reply<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    text: &str,
) -> std::io::Result<()> {
    let stream = io.get_mut();
    stream.write_all(format!("{text}\r\n").as_bytes()).await?;
    stream.flush().await
}

/// One line without its CRLF; `None` at the end of the stream.
async fn read_line<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    if io.read_until(b'\n', &mut buf).await? == 0 {
        return Ok(None);
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).to_string()))
}
