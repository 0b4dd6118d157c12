//! The demo's websites: each folder of `assets/demo-sites/` served on its
//! own loopback port, so each is a separate site (and lead) to audit.
//! Only plain file names in the folder are served; anything else is 404.
//!
//! A data dir the demo made is a demo workspace ([`DemoWorkspace`], a
//! file in it): it records which port each site had, so a host that opens
//! the dir later serves the sites again where the leads' URLs point.
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
use serde::{Deserialize, Serialize};
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
    /// Its folder in `assets/demo-sites/`, which names it in the workspace.
    pub dir: String,
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

/// The demo sites that run now, the stored ones that could not listen
/// again, and the authority to trust for them.
pub struct Served {
    pub sites: Vec<DemoSite>,
    pub taken: Vec<Taken>,
    pub root: DemoRoot,
}

/// A demo site whose stored address could not listen again.
pub struct Taken {
    pub dir: String,
    pub name: String,
    pub addr: SocketAddr,
    pub why: String,
}

/// Starts every site listed in `dir/sites.json` on 127.0.0.1 over https:
/// on the address `stored` gives it, else on a free port. A stored address
/// that cannot listen again is reported in [`Served::taken`], not moved:
/// the leads' URLs name it. They run until the process exits. Call it
/// inside the tokio runtime (it spawns the servers); it does not wait, so
/// synchronous openers use it too.
pub fn serve_sites(dir: &Path, stored: &[StoredSite]) -> Result<Served, String> {
    let listing = dir.join("sites.json");
    let text = std::fs::read_to_string(&listing)
        .map_err(|e| format!("cannot read the demo sites ({}): {e}", listing.display()))?;
    let specs: Vec<SiteSpec> = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a list of sites: {e}", listing.display()))?;
    let (acceptor, root) =
        throwaway_tls().map_err(|e| format!("cannot make the demo's certificate: {e}"))?;
    let mut sites = Vec::new();
    let mut taken = Vec::new();
    for spec in specs {
        let site = Site {
            root: dir.join(&spec.dir),
            delay: Duration::from_millis(spec.delay_ms),
        };
        let app = Router::new()
            .route("/", get(file))
            .route("/{name}", get(file))
            .with_state(site);
        let earlier = stored.iter().find(|s| s.dir == spec.dir).map(|s| s.addr);
        let bind = earlier.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = std::net::TcpListener::bind(bind)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .and_then(tokio::net::TcpListener::from_std);
        let listener = match listener {
            Ok(listener) => listener,
            Err(e) if earlier.is_some() => {
                taken.push(Taken {
                    dir: spec.dir.clone(),
                    name: spec.name.clone(),
                    addr: bind,
                    why: e.to_string(),
                });
                continue;
            }
            Err(e) => {
                return Err(format!(
                    "cannot open a port for the demo site {}: {e}",
                    spec.dir
                ));
            }
        };
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let listener = TlsListener::start(listener, acceptor.clone(), addr);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        sites.push(DemoSite {
            dir: spec.dir,
            name: spec.name,
            email: spec.email,
            addr,
            url: format!("https://{addr}/"),
        });
    }
    Ok(Served { sites, taken, root })
}

/// The file in a data dir that makes it a demo workspace.
pub const WORKSPACE_FILE: &str = "demo-workspace.json";

/// A demo site's place in a workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSite {
    pub dir: String,
    pub addr: SocketAddr,
}

/// What `leadscout demo` leaves in its data dir so that the dir works
/// when opened again: where its sites listened (they are served again
/// there and admitted, only they, through the egress guard), where its
/// report pages were (its drafts link there), and whether its drafts'
/// local unsubscribe links may be sent — only ever to an SMTP server on
/// this machine (a test catcher), never through a real relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoWorkspace {
    /// Says what this file is to whoever finds it in a data dir.
    #[serde(default)]
    pub about: String,
    pub sites: Vec<StoredSite>,
    /// `server.bind` during the demo: the drafts' report and unsubscribe
    /// links point there.
    #[serde(default)]
    pub pages_bind: String,
    #[serde(default)]
    pub allow_local_unsubscribe_links: bool,
}

impl DemoWorkspace {
    pub const ABOUT: &str = "Made by `leadscout demo`: this data dir is a demo workspace. A host opening it (the TUI, serve) serves the bundled demo sites again on these addresses and admits only them through the egress guard; the demo's local unsubscribe links may be sent only to an SMTP server on this machine. Delete this file to make it an ordinary data dir.";

    /// The workspace file in `data_dir`, if the dir is a demo workspace.
    pub fn load(data_dir: &Path) -> Result<Option<Self>, String> {
        let path = data_dir.join(WORKSPACE_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                format!(
                    "{} is not a demo workspace file ({e}); delete it or run `leadscout demo` again",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    pub fn save(&self, data_dir: &Path) -> Result<(), String> {
        let path = data_dir.join(WORKSPACE_FILE);
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(data_dir)
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Sets `config` up for the sites that run: admits exactly them, trusts
    /// their authority, and allows local unsubscribe links when the
    /// workspace does and SMTP (if set) is on this machine.
    pub fn apply(&self, served: &Served, config: &mut crate::config::Config) {
        for site in &served.sites {
            let entry = site.addr.to_string();
            if !config.fetch.allow_hosts.contains(&entry) {
                config.fetch.allow_hosts.push(entry);
            }
        }
        config.fetch.demo_root = Some(served.root.clone());
        config.fetch.demo_unserved = served
            .taken
            .iter()
            .map(|t| crate::config::UnservedDemoSite {
                addr: t.addr.to_string(),
                business: t.name.clone(),
                why: t.why.clone(),
            })
            .collect();
        if self.allow_local_unsubscribe_links && local_smtp(&config.smtp.host) {
            config.sending.allow_local_unsubscribe_links = true;
        }
        // The demo's addresses are at `.example` domains (RFC 2606), which
        // no DNS answers for, and the demo runs offline: its drafts are
        // made unchecked.
        config.verify.enabled = false;
    }
}

/// In a demo workspace whose file allows it, lets the demo's drafts go
/// with their local unsubscribe links when SMTP is on this machine (or not
/// set up): for every command over the dir, not only a host. Any other
/// data dir, or a real SMTP server, keeps the refusal.
pub fn allow_demo_links(data_dir: &Path, config: &mut crate::config::Config) {
    if let Ok(Some(workspace)) = DemoWorkspace::load(data_dir)
        && workspace.allow_local_unsubscribe_links
        && local_smtp(&config.smtp.host)
    {
        config.sending.allow_local_unsubscribe_links = true;
    }
}

/// Whether mail would stay on this machine: no SMTP server set (nothing
/// can be sent) or one on loopback (a test catcher).
pub fn local_smtp(host: &str) -> bool {
    host.trim().is_empty() || crate::config::is_loopback_host(host.trim())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn workspace(allow: bool) -> DemoWorkspace {
        DemoWorkspace {
            about: DemoWorkspace::ABOUT.into(),
            sites: Vec::new(),
            pages_bind: String::new(),
            allow_local_unsubscribe_links: allow,
        }
    }

    /// The demo's allowance never reaches a real SMTP relay, and only a
    /// workspace that keeps it gives it.
    #[test]
    fn local_links_are_allowed_only_in_a_demo_workspace_with_local_smtp() {
        let dir = tempfile::tempdir().unwrap();
        let allowed = |smtp: &str| {
            let mut config = Config::default();
            config.smtp.host = smtp.into();
            allow_demo_links(dir.path(), &mut config);
            config.sending.allow_local_unsubscribe_links
        };
        assert!(!allowed(""), "not a demo workspace");
        workspace(true).save(dir.path()).unwrap();
        assert!(allowed(""));
        assert!(allowed("127.0.0.1"));
        assert!(allowed("localhost"));
        assert!(!allowed("smtp.agency.example"));
        assert!(!allowed("192.168.1.20"));
        workspace(false).save(dir.path()).unwrap();
        assert!(!allowed("127.0.0.1"));
        let loaded = DemoWorkspace::load(dir.path()).unwrap().unwrap();
        assert_eq!(loaded, workspace(false));
    }
}
