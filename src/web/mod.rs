//! The embedded page server (axum): each lead's private report page, its
//! screenshots, one-click unsubscribe and health; Prometheus metrics on a
//! listener of their own; and the same pages written out as a static site.
//! Talks to the service only.

pub mod demo;
mod export;
mod headers;
mod page_cache;
mod pages;
pub mod render;
mod serve;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::middleware::map_response;
use axum::routing::get;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use export::{SiteExporter, export_campaign};

use crate::service::Service;

/// The router over a service; tests drive it with `oneshot`.
pub fn router(service: Service) -> Router {
    let state = Arc::new(pages::Pages::new(service));
    Router::new()
        .route("/r/{token}", get(pages::report))
        .route("/s/{name}", get(pages::screenshot))
        .route(
            "/u/{token}",
            get(pages::unsubscribe_form).post(pages::unsubscribe),
        )
        .route("/assets/report.css", get(pages::stylesheet))
        .route("/healthz", get(pages::healthz))
        .fallback(pages::not_found)
        .layer(map_response(headers::add_security_headers))
        .with_state(state)
}

/// The metrics listener's router: `/metrics` and nothing else.
pub fn metrics_router(service: Service) -> Router {
    Router::new()
        .route("/metrics", get(pages::metrics))
        .fallback(pages::not_found)
        .with_state(service)
}

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(
        "the page server cannot listen on {addr} (server.bind): {source}; set server.bind to a free address, e.g. 127.0.0.1:8081"
    )]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(
        "metrics cannot be served on {addr} (server.metrics_bind): {source}; set server.metrics_bind to a free loopback address, e.g. 127.0.0.1:9465, or \"off\""
    )]
    MetricsBind {
        addr: String,
        source: std::io::Error,
    },
}

/// A running page server, and its metrics listener when there is one.
pub struct WebServer {
    addr: SocketAddr,
    metrics: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl WebServer {
    /// Starts serving on `server.bind`, and metrics on
    /// `server.metrics_bind` unless it is "off".
    pub async fn start(service: Service) -> Result<Self, WebError> {
        let server = &service.config().server;
        let (bind, metrics) = (server.bind.clone(), server.metrics_addr().map(String::from));
        Self::start_with(service, &bind, metrics.as_deref()).await
    }

    /// Starts the pages only on `addr` (port 0 picks a free port).
    pub async fn start_on(service: Service, addr: &str) -> Result<Self, WebError> {
        Self::start_with(service, addr, None).await
    }

    /// Starts the pages on `addr` and, given `metrics`, the metrics there.
    pub async fn start_with(
        service: Service,
        addr: &str,
        metrics: Option<&str>,
    ) -> Result<Self, WebError> {
        let (listener, local) = listen(addr).await.map_err(|source| WebError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let metrics_listener = match metrics {
            Some(at) => Some(listen(at).await.map_err(|source| WebError::MetricsBind {
                addr: at.to_string(),
                source,
            })?),
            None => None,
        };
        let server = &service.config().server;
        let limits = serve::Limits {
            header_timeout: server.header_timeout,
            idle_timeout: server.idle_timeout,
            max_connections: server.max_connections,
        };
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut metrics_addr = None;
        if let Some((listener, at)) = metrics_listener {
            metrics_addr = Some(at);
            // Scrapers are few; the cap only keeps a stray client from
            // holding many sockets.
            let limits = serve::Limits {
                max_connections: limits.max_connections.min(METRICS_CONNECTIONS),
                ..limits
            };
            let app = metrics_router(service.clone());
            tasks.push(tokio::spawn(serve::serve(
                listener,
                app,
                limits,
                stopped.clone(),
            )));
        }
        tasks.push(tokio::spawn(serve::serve(
            listener,
            router(service),
            limits,
            stopped,
        )));
        Ok(Self {
            addr: local,
            metrics: metrics_addr,
            stop,
            tasks,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where metrics are served, when they are.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
    }

    /// Stops accepting, lets requests in flight finish (at most 5 s).
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        for task in &mut self.tasks {
            if tokio::time::timeout_at(deadline, &mut *task).await.is_err() {
                task.abort();
            }
        }
    }
}

const METRICS_CONNECTIONS: usize = 16;

async fn listen(addr: &str) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}
