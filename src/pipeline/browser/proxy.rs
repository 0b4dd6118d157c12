//! The browser's egress proxy. Chromium fetches the page and every
//! subresource itself, so it is pointed at this forward proxy, which applies
//! the fetcher's guard to every request: CONNECT tunnels for https, plain
//! forwarding for http. It connects only to the addresses the guard checked.
//!
//! One [`ProxyServer`] listens either on loopback for one local browser
//! session, or on `webdriver.proxy_bind` for every session of browsers on
//! other machines (a Selenium Grid). Either way a connection must come from
//! an allowed address ([`proxy_auth::Allow`]) and every request must carry
//! a live session's credentials, so the proxy is never open: others get
//! 407. What a session was refused is kept per session. The proxy also
//! answers [`PROBE_HOST`] itself, so `doctor` can prove the path.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Body as _, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

pub use super::proxy_auth::Credentials;
use super::proxy_auth::{Allow, Entry, Registry};
use crate::pipeline::fetch::guard::EgressGuard;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DNS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an idle connection to a site is kept for the next request.
const UPSTREAM_IDLE: Duration = Duration::from_secs(20);
/// Browsers open at most six connections to one host.
const UPSTREAM_IDLE_PER_ADDRESS: usize = 6;

/// A host that cannot exist (RFC 6761 `.invalid`): the proxy answers it
/// itself with a small page naming the path's token, without any network.
pub const PROBE_HOST: &str = "leadscout-probe.invalid";

/// The realm in the 407 challenge.
const REALM: &str = "leadscout";

type ProxyBody = BoxBody<Bytes, hyper::Error>;

/// A running proxy listener; stops when the last handle is dropped.
pub struct ProxyServer {
    addr: SocketAddr,
    /// What browsers are told (`--proxy-server`).
    url: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl ProxyServer {
    /// A proxy on a free loopback port, for a browser on this machine.
    pub async fn local(guard: EgressGuard) -> std::io::Result<Arc<Self>> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        Self::serve(listener, url, guard, Allow::loopback())
    }

    /// The shared proxy for remote browsers: on `bind`, announced as
    /// `url`, open to `allow` only.
    pub async fn remote(
        bind: SocketAddr,
        url: &str,
        allow: Vec<ipnet::IpNet>,
        guard: EgressGuard,
    ) -> std::io::Result<Arc<Self>> {
        let listener = TcpListener::bind(bind).await?;
        let url = url.trim().trim_end_matches('/').to_string();
        Self::serve(listener, url, guard, Allow::new(allow))
    }

    fn serve(
        listener: TcpListener,
        url: String,
        guard: EgressGuard,
        allow: Allow,
    ) -> std::io::Result<Arc<Self>> {
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            guard,
            sessions: Registry::default(),
            allow,
            upstream: upstream_client(),
        });
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    continue;
                };
                if !shared.allow.admits(peer.ip()) {
                    drop(stream);
                    continue;
                }
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(state.handle(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .preserve_header_case(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades()
                        .await;
                });
            }
        });
        Ok(Arc::new(Self {
            addr,
            url,
            state,
            task,
        }))
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Issues credentials for a new browser session; they are revoked when
    /// the returned session is dropped.
    pub fn session(self: &Arc<Self>) -> EgressProxy {
        let (credentials, entry) = self.state.sessions.issue();
        EgressProxy {
            server: self.clone(),
            credentials,
            entry,
        }
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One browser session's use of a proxy: its credentials and what it was
/// refused. Dropping it revokes the credentials.
pub struct EgressProxy {
    server: Arc<ProxyServer>,
    credentials: Credentials,
    entry: Arc<Entry>,
}

impl EgressProxy {
    /// A proxy of its own on loopback, for one local session.
    pub async fn start(guard: EgressGuard) -> std::io::Result<Self> {
        Ok(ProxyServer::local(guard).await?.session())
    }

    /// For Chromium's `--proxy-server` (no credentials: Chromium ignores
    /// them there; the browser answers the 407 challenge instead).
    pub fn url(&self) -> String {
        self.server.url.clone()
    }

    /// The credentials the browser answers the proxy's challenge with.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The requests refused since the last call (what the page tried to
    /// reach and was not allowed to).
    pub fn take_refused(&self) -> Vec<String> {
        std::mem::take(&mut *self.entry.refused.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Whether this session's browser fetched the probe page with `token`.
    pub fn saw_probe(&self, token: &str) -> bool {
        self.entry
            .probes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|t| t == token)
    }
}

impl Drop for EgressProxy {
    fn drop(&mut self) {
        self.server.state.sessions.revoke(&self.credentials.user);
    }
}

struct State {
    guard: EgressGuard,
    sessions: Registry,
    allow: Allow,
    /// Plain-http requests go on over kept connections, one pool per
    /// checked address (a page's subresources would otherwise each open
    /// a connection to the site).
    upstream: Client<HttpConnector, ProxyBody>,
}

/// The client for plain-http requests: it connects only to the IP
/// literal in each request's URI, which the guard has just cleared.
fn upstream_client() -> Client<HttpConnector, ProxyBody> {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(UPSTREAM_IDLE)
        .pool_max_idle_per_host(UPSTREAM_IDLE_PER_ADDRESS)
        .build(connector)
}

fn text(status: StatusCode, message: String) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from(message))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response
}

impl State {
    async fn handle(&self, req: Request<Incoming>) -> Response<ProxyBody> {
        let header = req
            .headers()
            .get(hyper::header::PROXY_AUTHORIZATION)
            .map(|v| v.as_bytes());
        let Some(session) = self.sessions.authenticate(header) else {
            return challenge();
        };
        if req.method() == Method::CONNECT {
            return self.tunnel(&session, req).await;
        }
        self.forward(&session, req).await
    }

    /// Checks a target; on refusal records it for the session and says why.
    async fn clear(
        &self,
        session: &Entry,
        url: &Url,
    ) -> Result<Vec<SocketAddr>, Response<ProxyBody>> {
        match self.guard.clear(url, DNS_TIMEOUT).await {
            Ok(cleared) => {
                let port = url.port_or_known_default().unwrap_or(80);
                Ok(cleared
                    .addrs
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, port))
                    .collect())
            }
            Err(refused) => {
                let reason = refused.to_string();
                tracing::debug!(%reason, "browser request refused");
                session
                    .refused
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(reason.clone());
                Err(text(
                    StatusCode::FORBIDDEN,
                    format!("blocked by leadscout's egress guard: {reason}"),
                ))
            }
        }
    }

    /// `CONNECT host:port` for https: check, then splice bytes both ways.
    async fn tunnel(&self, session: &Entry, req: Request<Incoming>) -> Response<ProxyBody> {
        let Some(authority) = req.uri().authority().map(|a| a.to_string()) else {
            return text(StatusCode::BAD_REQUEST, "CONNECT needs host:port".into());
        };
        let Ok(url) = Url::parse(&format!("https://{authority}/")) else {
            return text(
                StatusCode::BAD_REQUEST,
                format!("bad CONNECT target {authority}"),
            );
        };
        let addrs = match self.clear(session, &url).await {
            Ok(addrs) => addrs,
            Err(response) => return response,
        };
        let upstream = match connect(&addrs).await {
            Ok(stream) => stream,
            Err(e) => {
                return text(
                    StatusCode::BAD_GATEWAY,
                    format!("cannot connect to {authority}: {e}"),
                );
            }
        };
        tokio::spawn(async move {
            if let Ok(upgraded) = hyper::upgrade::on(req).await {
                let mut client = TokioIo::new(upgraded);
                let mut upstream = upstream;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
        });
        Response::new(empty())
    }

    /// A plain-http request in absolute form: check, then send it on.
    async fn forward(&self, session: &Entry, req: Request<Incoming>) -> Response<ProxyBody> {
        let Ok(url) = Url::parse(&req.uri().to_string()) else {
            return text(
                StatusCode::BAD_REQUEST,
                "a proxy request needs an absolute URL".into(),
            );
        };
        if url.scheme() != "http" {
            return text(
                StatusCode::BAD_REQUEST,
                format!("refused {url}: only http is forwarded; https goes through CONNECT"),
            );
        }
        if url.host_str() == Some(PROBE_HOST) {
            return probe(session, &url);
        }
        let addrs = match self.clear(session, &url).await {
            Ok(addrs) => addrs,
            Err(response) => return response,
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let (mut parts, body) = req.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        // A request without a body can be tried at the next checked
        // address; one with a body is sent once.
        let bodyless = body.is_end_stream();
        let mut body = Some(body.boxed());
        let mut last_error = format!("{url} has no address to connect to");
        for addr in &addrs {
            let body = match body.take() {
                Some(body) => body,
                None if bodyless => empty(),
                None => break,
            };
            // Addressed by the checked IP, so the pool keeps connections
            // per address the guard cleared; `Host` names the site.
            let Ok(uri) = format!("http://{addr}{path}").parse::<hyper::Uri>() else {
                continue;
            };
            let mut upstream = Request::new(body);
            *upstream.method_mut() = parts.method.clone();
            *upstream.uri_mut() = uri;
            *upstream.headers_mut() = parts.headers.clone();
            match self.upstream.request(upstream).await {
                // A site must not be able to ask the browser for the
                // proxy's credentials.
                Ok(response) if response.status() == StatusCode::PROXY_AUTHENTICATION_REQUIRED => {
                    return text(
                        StatusCode::BAD_GATEWAY,
                        format!("{url} answered 407, which only the proxy may"),
                    );
                }
                Ok(mut response) => {
                    strip_hop_by_hop(response.headers_mut());
                    return response.map(|body| body.boxed());
                }
                Err(e) if e.is_connect() => {
                    last_error = format!(
                        "cannot connect to {url}: {}",
                        crate::pipeline::error_text(&e)
                    );
                }
                Err(e) => {
                    return text(
                        StatusCode::BAD_GATEWAY,
                        format!("{url}: {}", crate::pipeline::error_text(&e)),
                    );
                }
            }
        }
        text(StatusCode::BAD_GATEWAY, last_error)
    }
}

/// The headers that describe one connection, not the message (RFC 9110
/// §7.6.1): the browser's connection to the proxy and the proxy's to the
/// site are separate, so none of them is passed on, in either direction.
/// That includes the headers a `Connection` header names.
fn strip_hop_by_hop(headers: &mut hyper::HeaderMap) {
    let named: Vec<hyper::header::HeaderName> = headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| hyper::header::HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ] {
        headers.remove(name);
    }
}

fn empty() -> ProxyBody {
    http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed()
}

/// 407 with the challenge the browser answers with its session's
/// credentials.
fn challenge() -> Response<ProxyBody> {
    let mut response = text(
        StatusCode::PROXY_AUTHENTICATION_REQUIRED,
        "leadscout's egress proxy needs this browser session's credentials".into(),
    );
    if let Ok(value) = format!("Basic realm=\"{REALM}\"").parse() {
        response
            .headers_mut()
            .insert(hyper::header::PROXY_AUTHENTICATE, value);
    }
    response
}

/// The probe page: its title names the token in the path, so whoever asked
/// for it knows the page came from this proxy, through this session.
fn probe(session: &Entry, url: &Url) -> Response<ProxyBody> {
    let token: String = url
        .path()
        .trim_matches('/')
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(64)
        .collect();
    session
        .probes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(token.clone());
    let mut response = text(
        StatusCode::OK,
        format!(
            "<!doctype html><html><head><title>leadscout probe {token}</title></head><body style=\"background:#fff\"><h1>leadscout probe {token}</h1><p>This page came from leadscout's egress proxy.</p></body></html>"
        ),
    );
    if let Ok(value) = "text/html; charset=utf-8".parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

/// Connects to the first checked address that answers.
async fn connect(addrs: &[SocketAddr]) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::other("no address");
    for addr in addrs {
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) => last = e,
            Err(_) => last = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
        }
    }
    Err(last)
}

/// The shared remote-browser proxy of this process for the configured
/// `proxy_bind`: started once, and reused while any browser pool holds it
/// (a second pool, such as `doctor`'s inside a running host, would not be
/// able to bind the same address).
pub async fn remote(
    config: &crate::config::WebDriverConfig,
    guard: EgressGuard,
) -> Result<Arc<ProxyServer>, String> {
    static RUNNING: std::sync::Mutex<Vec<(SocketAddr, std::sync::Weak<ProxyServer>)>> =
        std::sync::Mutex::new(Vec::new());
    let bind: SocketAddr = config.proxy_bind.trim().parse().map_err(|_| {
        format!(
            "webdriver.proxy_bind `{}` is not an IP and port",
            config.proxy_bind
        )
    })?;
    let allow = config
        .proxy_allow_nets()
        .map_err(|e| format!("webdriver.proxy_allow: {e}"))?;
    if let Some(server) = RUNNING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(addr, _)| *addr == bind)
        .and_then(|(_, server)| server.upgrade())
    {
        return Ok(server);
    }
    let server = ProxyServer::remote(bind, &config.proxy_url, allow, guard)
        .await
        .map_err(|e| {
            format!(
                "cannot listen on webdriver.proxy_bind {bind} for the browser proxy: {e}; pick a free address and port this machine has"
            )
        })?;
    let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    running.retain(|(_, server)| server.strong_count() > 0);
    running.push((bind, Arc::downgrade(&server)));
    Ok(server)
}
