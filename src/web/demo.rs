//! The demo's websites: each folder of `assets/demo-sites/` served on its
//! own loopback port, so each is a separate site (and lead) to audit.
//! Only plain file names in the folder are served; anything else is 404.
//!
//! They are served over https with a certificate made at start by a
//! throw-away authority ([`DemoRoot`]), which only the demo run's fetcher
//! and browser trust: over plain http every site would top its list with
//! "not served over HTTPS" instead of showing its own worst problem.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use crate::config::DemoRoot;

/// The demo sites that ship with leadscout.
pub fn bundled_sites() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-sites")
}

#[derive(Debug, Clone, Deserialize)]
struct SiteSpec {
    dir: String,
    name: String,
    email: String,
    /// Extra time before every answer: the slow site.
    #[serde(default)]
    delay_ms: u64,
}

/// A running demo site.
#[derive(Debug, Clone)]
pub struct DemoSite {
    pub name: String,
    pub email: String,
    pub addr: SocketAddr,
    /// Its home page, `https://127.0.0.1:PORT/`.
    pub url: String,
}

#[derive(Clone)]
struct Site {
    root: PathBuf,
    delay: Duration,
}

async fn file(State(site): State<Site>, name: Option<UrlPath<String>>) -> Response {
    tokio::time::sleep(site.delay).await;
    let name = name
        .map(|UrlPath(n)| n)
        .unwrap_or_else(|| "index.html".into());
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
    if !plain {
        return StatusCode::NOT_FOUND.into_response();
    }
    let content_type = match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("xml") => "application/xml",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(site.root.join(&name)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(_) => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<h1>Not found</h1>",
        )
            .into_response(),
    }
}

/// Starts every site listed in `dir/sites.json` on 127.0.0.1 over https and
/// returns them with their addresses, and the authority to trust for them.
/// They run until the process exits.
pub async fn serve_sites(dir: &Path) -> Result<(Vec<DemoSite>, DemoRoot), String> {
    let listing = dir.join("sites.json");
    let text = std::fs::read_to_string(&listing)
        .map_err(|e| format!("cannot read the demo sites ({}): {e}", listing.display()))?;
    let specs: Vec<SiteSpec> = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a list of sites: {e}", listing.display()))?;
    let (acceptor, root) =
        throwaway_tls().map_err(|e| format!("cannot make the demo's certificate: {e}"))?;
    let mut out = Vec::new();
    for spec in specs {
        let site = Site {
            root: dir.join(&spec.dir),
            delay: Duration::from_millis(spec.delay_ms),
        };
        let app = Router::new()
            .route("/", get(file))
            .route("/{name}", get(file))
            .with_state(site);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot open a port for the demo site {}: {e}", spec.dir))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let listener = TlsListener::start(listener, acceptor.clone(), addr);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        out.push(DemoSite {
            name: spec.name,
            email: spec.email,
            addr,
            url: format!("https://{addr}/"),
        });
    }
    Ok((out, root))
}

/// A new authority and a certificate for 127.0.0.1 and localhost signed
/// by it; the authority's key is dropped here, so nothing else can ever
/// be signed by it.
fn throwaway_tls() -> Result<(TlsAcceptor, DemoRoot), Box<dyn std::error::Error>> {
    use rcgen::PublicKeyData as _;
    use sha2::Digest as _;
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "leadscout demo (throw-away)");
    ca.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key)?;

    let key = rcgen::KeyPair::generate()?;
    let mut leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])?;
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, "leadscout demo site");
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = leaf.signed_by(&key, &*ca)?;

    let spki = sha2::Sha256::digest(key.subject_public_key_info());
    let root = DemoRoot {
        ca_pem: ca.pem(),
        spki_sha256: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, spki),
    };
    let chain = vec![cert.der().clone(), ca.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der())?;
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
    Ok((TlsAcceptor::from(std::sync::Arc::new(config)), root))
}

/// Connections whose TLS handshake is done. Handshakes run side by side,
/// so a client that opens a socket and waits (Chromium preconnects) holds
/// up no one.
struct TlsListener {
    ready: tokio::sync::mpsc::Receiver<(
        tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
        SocketAddr,
    )>,
    addr: SocketAddr,
}

impl TlsListener {
    fn start(tcp: tokio::net::TcpListener, acceptor: TlsAcceptor, addr: SocketAddr) -> Self {
        let (tx, ready) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = tcp.accept().await else {
                    // Out of file descriptors, say: let some close.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let shake =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
                    if let Ok(Ok(tls)) = shake.await {
                        let _ = tx.send((tls, peer)).await;
                    }
                });
            }
        });
        Self { ready, addr }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(next) => next,
            // The accepting task is gone: no more connections, ever.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
