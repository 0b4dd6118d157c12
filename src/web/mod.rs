//! The embedded page server (axum): each lead's private report page, its
//! screenshots, one-click unsubscribe, health and metrics; and the same
//! pages written out as a static site. Talks to the service only.

mod control;
pub mod demo;
mod export;
mod headers;
mod pages;
pub mod render;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::middleware::map_response;
use axum::routing::get;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use control::{ControlError, ControlServer};
pub use export::{ExportSummary, export_campaign};

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
        .route("/metrics", get(pages::metrics))
        .fallback(pages::not_found)
        .layer(map_response(headers::add_security_headers))
        .with_state(state)
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
}

/// A running page server.
pub struct WebServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl WebServer {
    /// Starts serving on `server.bind` from the config.
    pub async fn start(service: Service) -> Result<Self, WebError> {
        let bind = service.config().server.bind.clone();
        Self::start_on(service, &bind).await
    }

    /// Starts serving on `addr` (port 0 picks a free port).
    pub async fn start_on(service: Service, addr: &str) -> Result<Self, WebError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| WebError::Bind {
                addr: addr.to_string(),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| WebError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let app = router(service).into_make_service_with_connect_info::<SocketAddr>();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serving.await {
                tracing::error!(error = %e, "page server stopped");
            }
        });
        Ok(Self {
            addr: local,
            stop: Some(stop),
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets requests in flight finish (at most 5 s).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(std::time::Duration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}
