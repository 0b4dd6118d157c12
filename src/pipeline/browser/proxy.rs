//! The browser's egress proxy. Chromium fetches the page and every
//! subresource itself, so it is pointed at this forward proxy, which applies
//! the fetcher's guard to every request: CONNECT tunnels for https, plain
//! forwarding for http. It connects only to the addresses the guard checked.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use crate::pipeline::fetch::guard::EgressGuard;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DNS_TIMEOUT: Duration = Duration::from_secs(5);

type ProxyBody = BoxBody<Bytes, hyper::Error>;

/// A running proxy on loopback; stops when dropped.
pub struct EgressProxy {
    addr: SocketAddr,
    refused: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl EgressProxy {
    pub async fn start(guard: EgressGuard) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let refused = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(State {
            guard,
            refused: refused.clone(),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
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
        Ok(Self {
            addr,
            refused,
            task,
        })
    }

    /// For Chromium's `--proxy-server`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests refused since the last call (what the page tried to
    /// reach and was not allowed to).
    pub fn take_refused(&self) -> Vec<String> {
        std::mem::take(&mut *self.refused.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Drop for EgressProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct State {
    guard: EgressGuard,
    refused: Arc<Mutex<Vec<String>>>,
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
        if req.method() == Method::CONNECT {
            return self.tunnel(req).await;
        }
        self.forward(req).await
    }

    /// Checks a target; on refusal records it and says why.
    async fn clear(&self, url: &Url) -> Result<Vec<SocketAddr>, Response<ProxyBody>> {
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
                self.refused
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
    async fn tunnel(&self, req: Request<Incoming>) -> Response<ProxyBody> {
        let Some(authority) = req.uri().authority().map(|a| a.to_string()) else {
            return text(StatusCode::BAD_REQUEST, "CONNECT needs host:port".into());
        };
        let Ok(url) = Url::parse(&format!("https://{authority}/")) else {
            return text(
                StatusCode::BAD_REQUEST,
                format!("bad CONNECT target {authority}"),
            );
        };
        let addrs = match self.clear(&url).await {
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
        Response::new(
            http_body_util::Empty::new()
                .map_err(|never| match never {})
                .boxed(),
        )
    }

    /// A plain-http request in absolute form: check, then send it on.
    async fn forward(&self, mut req: Request<Incoming>) -> Response<ProxyBody> {
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
        let addrs = match self.clear(&url).await {
            Ok(addrs) => addrs,
            Err(response) => return response,
        };
        let stream = match connect(&addrs).await {
            Ok(stream) => stream,
            Err(e) => {
                return text(
                    StatusCode::BAD_GATEWAY,
                    format!("cannot connect to {url}: {e}"),
                );
            }
        };
        let (mut sender, connection) =
            match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
                Ok(pair) => pair,
                Err(e) => return text(StatusCode::BAD_GATEWAY, format!("{url}: {e}")),
            };
        tokio::spawn(connection);
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        if let Ok(uri) = path.parse() {
            *req.uri_mut() = uri;
        }
        req.headers_mut().remove("proxy-connection");
        req.headers_mut().remove("proxy-authorization");
        match sender.send_request(req).await {
            Ok(response) => response.map(|body| body.boxed()),
            Err(e) => text(StatusCode::BAD_GATEWAY, format!("{url}: {e}")),
        }
    }
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
