//! The client end of the control socket: HTTP/1 over a Unix socket to the
//! host of a data dir (`serve`, an open TUI, the demo), one connection per call (a connect on a local socket
//! costs microseconds, and a restarted server needs no reconnect logic in
//! the calls). The event feed is one long request that a background task
//! re-opens after the server restarts; its state is the [`Link`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::UnixStream;
use tokio::sync::{broadcast, watch};

use super::wire::{self, FeedItem, ServerInfo, WireError};
use crate::domain::event::{Event, QueueStats};
use crate::service::{Result, ServiceError, Streams};

/// How a client stands with the process that holds the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The store is open in this process.
    Embedded,
    /// Attached to the host (`host`: `serve`, `tui` or `demo`);
    /// `generation` changes on every (re)connect and whenever events were
    /// missed, so a watcher reloads what it shows.
    Attached {
        pid: u32,
        host: String,
        generation: u64,
    },
    /// The server is gone; the feed retries on its own.
    Disconnected { reason: String },
}

/// A running `serve`, reached through its control socket.
#[derive(Clone)]
pub struct Remote {
    inner: Arc<Inner>,
    /// How this client shows in the server's action log, and whether it
    /// only browses.
    via: Arc<str>,
    read_only: bool,
}

struct Inner {
    socket: PathBuf,
    info: Mutex<ServerInfo>,
    feed: OnceLock<Feed>,
}

struct Feed {
    events: broadcast::Sender<Event>,
    stats: watch::Sender<QueueStats>,
    link: watch::Sender<Link>,
}

const RETRY_EVERY: Duration = Duration::from_millis(500);

impl Remote {
    /// Connects, asks the server who it is and checks that both sides speak
    /// the same version.
    pub async fn connect(socket: &Path) -> Result<Self> {
        let info = hello(socket).await?;
        info.check_compatible()?;
        Ok(Self {
            inner: Arc::new(Inner {
                socket: socket.to_path_buf(),
                info: Mutex::new(info),
                feed: OnceLock::new(),
            }),
            via: "control socket".into(),
            read_only: false,
        })
    }

    /// The same connection acting as `via` (for the action log), read-only
    /// or not.
    pub fn acting(self, via: &str, read_only: bool) -> Self {
        Self {
            via: via.into(),
            read_only,
            ..self
        }
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    pub fn socket(&self) -> &Path {
        &self.inner.socket
    }

    /// What the server said about itself when last (re)connected.
    pub fn info(&self) -> ServerInfo {
        self.inner
            .info
            .lock()
            .map(|i| i.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// A plain call: the arguments as a JSON array, the result as JSON.
    pub(crate) async fn call<A: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        args: &A,
    ) -> Result<R> {
        let body = serde_json::to_vec(args)
            .map_err(|e| ServiceError::Invalid(format!("cannot encode `{method}`: {e}")))?;
        let response = send(
            &self.inner.socket,
            self.post(&format!("/v1/call/{method}"), body),
        )
        .await?;
        let status = response.status();
        let bytes = read_all(&self.inner.socket, response).await?;
        if status != StatusCode::OK {
            return Err(error_from(status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            ServiceError::Remote(format!(
                "the server's answer to `{method}` is not understood: {e}"
            ))
        })
    }

    /// A streaming call: `item` gets each item frame's JSON as it arrives;
    /// the final frame is the result.
    pub(crate) async fn stream<A: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        args: &A,
        mut item: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<R> {
        let body = serde_json::to_vec(args)
            .map_err(|e| ServiceError::Invalid(format!("cannot encode `{method}`: {e}")))?;
        let response = send(
            &self.inner.socket,
            self.post(&format!("/v1/stream/{method}"), body),
        )
        .await?;
        let status = response.status();
        if status != StatusCode::OK {
            let bytes = read_all(&self.inner.socket, response).await?;
            return Err(error_from(status, &bytes));
        }
        let mut end: Option<Result<R>> = None;
        let socket = self.inner.socket.clone();
        read_lines(&socket, response.into_body(), |tag, payload| {
            match tag {
                wire::ITEM => item(payload)?,
                wire::DONE => {
                    end = Some(serde_json::from_slice(payload).map_err(|e| {
                        ServiceError::Remote(format!(
                            "the server's answer to `{method}` is not understood: {e}"
                        ))
                    }));
                }
                wire::ERROR => end = Some(Err(wire_error(payload))),
                _ => {}
            }
            Ok(())
        })
        .await?;
        end.unwrap_or_else(|| {
            Err(ServiceError::Disconnected(format!(
                "the server at {} stopped in the middle of `{method}`",
                self.inner.socket.display()
            )))
        })
    }

    /// The streaming calls (declared in `api`).
    pub fn streams(&self) -> Streams<'_> {
        Streams(self)
    }

    /// A screenshot or thumbnail from the server's blob cache.
    pub async fn blob(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let request = Request::get(format!("/v1/blob/{name}"))
            .header(hyper::header::HOST, "leadscout")
            .body(Full::new(Bytes::new()))
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let response = send(&self.inner.socket, request).await?;
        let status = response.status();
        let bytes = read_all(&self.inner.socket, response).await?;
        match status {
            StatusCode::OK => Ok(Some(bytes.to_vec())),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(error_from(status, &bytes)),
        }
    }

    fn post(&self, path: &str, body: Vec<u8>) -> Request<Full<Bytes>> {
        let mut request = post(path, body);
        let headers = request.headers_mut();
        if let Ok(via) = hyper::header::HeaderValue::from_str(&self.via) {
            headers.insert(wire::VIA_HEADER, via);
        }
        if self.read_only {
            headers.insert(
                wire::READ_ONLY_HEADER,
                hyper::header::HeaderValue::from_static("1"),
            );
        }
        request
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.feed().events.subscribe()
    }

    pub fn queue_stats(&self) -> watch::Receiver<QueueStats> {
        self.feed().stats.subscribe()
    }

    pub fn link(&self) -> watch::Receiver<Link> {
        self.feed().link.subscribe()
    }

    /// The event feed, started on first use. The task that follows it is
    /// spawned only once the feed is stored: spawned inside the init, it
    /// could look for the feed before it is there and end for good, leaving
    /// a client that hears no events.
    fn feed(&self) -> &Feed {
        let mut created = false;
        let feed = self.inner.feed.get_or_init(|| {
            created = true;
            let info = self.info();
            Feed {
                events: broadcast::channel(1024).0,
                stats: watch::channel(QueueStats::default()).0,
                link: watch::channel(Link::Attached {
                    pid: info.pid,
                    host: info.host.clone(),
                    generation: 0,
                })
                .0,
            }
        });
        if created {
            tokio::spawn(follow(Arc::downgrade(&self.inner)));
        }
        feed
    }
}

/// Keeps the event feed open, reconnecting after the server went away,
/// until every `Remote` of this connection is dropped.
async fn follow(inner: std::sync::Weak<Inner>) {
    let mut generation = 0;
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let socket = strong.socket.clone();
        let outcome = async {
            let info = hello(&socket).await?;
            info.check_compatible()?;
            let Some(feed) = strong.feed.get() else {
                return Ok(());
            };
            let (pid, host) = (info.pid, info.host.clone());
            if let Ok(mut current) = strong.info.lock() {
                *current = info;
            }
            let remote = Remote {
                inner: strong.clone(),
                via: "control socket".into(),
                read_only: false,
            };
            let mut connected = false;
            remote
                .streams()
                .events(|payload| {
                    if !connected {
                        // The server answers with the queue stats at once:
                        // from here on the feed is live.
                        connected = true;
                        generation += 1;
                        feed.link.send_replace(Link::Attached {
                            pid,
                            host: host.clone(),
                            generation,
                        });
                    }
                    match serde_json::from_slice::<FeedItem>(payload) {
                        Ok(FeedItem::Event(event)) => {
                            let _ = feed.events.send(event);
                        }
                        Ok(FeedItem::Stats(stats)) => {
                            feed.stats.send_replace(stats);
                        }
                        // The server's own listener fell behind, or sent
                        // what this client does not know: reload.
                        Ok(FeedItem::Lagged) | Err(_) => {
                            generation += 1;
                            feed.link.send_replace(Link::Attached {
                                pid,
                                host: host.clone(),
                                generation,
                            });
                        }
                    }
                    Ok(())
                })
                .await
        }
        .await;
        let reason = match outcome {
            Ok(()) => return,
            Err(e) => e.to_string(),
        };
        if let Some(feed) = strong.feed.get() {
            feed.link.send_if_modified(|link| {
                let next = Link::Disconnected {
                    reason: reason.clone(),
                };
                let changed = *link != next;
                *link = next;
                changed
            });
        }
        drop(strong);
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

async fn hello(socket: &Path) -> Result<ServerInfo> {
    let request = Request::get("/v1/hello")
        .header(hyper::header::HOST, "leadscout")
        .body(Full::new(Bytes::new()))
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let response = send(socket, request).await?;
    let status = response.status();
    let bytes = read_all(socket, response).await?;
    if status != StatusCode::OK {
        return Err(error_from(status, &bytes));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ServiceError::Remote(format!(
            "{} does not answer like a leadscout server: {e}",
            socket.display()
        ))
    })
}

fn post(path: &str, body: Vec<u8>) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(Bytes::from(body)));
    *request.method_mut() = hyper::Method::POST;
    *request.uri_mut() = path.parse().unwrap_or_default();
    let headers = request.headers_mut();
    headers.insert(
        hyper::header::HOST,
        hyper::header::HeaderValue::from_static("leadscout"),
    );
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    request
}

fn unreachable(socket: &Path, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Disconnected(format!(
        "cannot reach the leadscout server at {}: {e}",
        socket.display()
    ))
}

async fn send(socket: &Path, request: Request<Full<Bytes>>) -> Result<Response<Incoming>> {
    let stream = UnixStream::connect(socket)
        .await
        .map_err(|e| unreachable(socket, e))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| unreachable(socket, e))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender
        .send_request(request)
        .await
        .map_err(|e| unreachable(socket, e))
}

async fn read_all(socket: &Path, response: Response<Incoming>) -> Result<Bytes> {
    Ok(response
        .into_body()
        .collect()
        .await
        .map_err(|e| unreachable(socket, e))?
        .to_bytes())
}

/// Splits a streamed body into frames and hands each (tag, payload) on.
async fn read_lines(
    socket: &Path,
    mut body: Incoming,
    mut each: impl FnMut(u8, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut pending: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| unreachable(socket, e))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        pending.extend_from_slice(&data);
        let mut start = 0;
        while let Some(end) = pending[start..].iter().position(|&b| b == b'\n') {
            let line = &pending[start..start + end];
            if let Some((&tag, payload)) = line.split_first() {
                each(tag, payload)?;
            }
            start += end + 1;
        }
        pending.drain(..start);
    }
    Ok(())
}

fn wire_error(payload: &[u8]) -> ServiceError {
    serde_json::from_slice::<WireError>(payload)
        .map(WireError::into_error)
        .unwrap_or_else(|_| ServiceError::Remote(String::from_utf8_lossy(payload).into_owned()))
}

fn error_from(status: StatusCode, body: &[u8]) -> ServiceError {
    serde_json::from_slice::<WireError>(body)
        .map(WireError::into_error)
        .unwrap_or_else(|_| {
            ServiceError::Remote(format!(
                "the server answered {status}: {}",
                String::from_utf8_lossy(body).trim()
            ))
        })
}
