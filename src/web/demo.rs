//! The demo's websites: each folder of `assets/demo-sites/` served on its
//! own loopback port, so each is a separate site (and lead) to audit.
//! Only plain file names in the folder are served; anything else is 404.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

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

/// Starts every site listed in `dir/sites.json` on 127.0.0.1 and returns
/// them with their addresses. They run until the process exits.
pub async fn serve_sites(dir: &Path) -> Result<Vec<DemoSite>, String> {
    let listing = dir.join("sites.json");
    let text = std::fs::read_to_string(&listing)
        .map_err(|e| format!("cannot read the demo sites ({}): {e}", listing.display()))?;
    let specs: Vec<SiteSpec> = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a list of sites: {e}", listing.display()))?;
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
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        out.push(DemoSite {
            name: spec.name,
            email: spec.email,
            addr,
        });
    }
    Ok(out)
}
