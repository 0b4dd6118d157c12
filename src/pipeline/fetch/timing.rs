//! Connect timing. reqwest hides which request a new connection is for, so
//! the connector layer records into a slot that the request's own task set
//! up; a pooled connection leaves it at zero, which is the truth.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tower_layer::Layer;
use tower_service::Service;

tokio::task_local! {
    static CONNECT_MICROS: Arc<AtomicU64>;
}

/// Time spent opening connections (TCP, and TLS for https) for a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectTiming(pub Duration);

/// Runs `request`, noting how long any new connection for it took.
pub async fn measure_connect<F: Future>(request: F) -> (F::Output, ConnectTiming) {
    let slot = Arc::new(AtomicU64::new(0));
    let output = CONNECT_MICROS.scope(slot.clone(), request).await;
    (
        output,
        ConnectTiming(Duration::from_micros(slot.load(Ordering::Relaxed))),
    )
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectTimingLayer;

impl<S> Layer<S> for ConnectTimingLayer {
    type Service = ConnectTimingService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ConnectTimingService { inner }
    }
}

#[derive(Debug, Clone)]
pub struct ConnectTimingService<S> {
    inner: S,
}

impl<S, R> Service<R> for ConnectTimingService<S>
where
    S: Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let slot = CONNECT_MICROS.try_with(Arc::clone).ok();
        let connecting = self.inner.call(request);
        Box::pin(async move {
            let started = Instant::now();
            let result = connecting.await;
            if let Some(slot) = slot {
                slot.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            }
            result
        })
    }
}
