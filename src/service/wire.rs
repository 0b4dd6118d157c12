//! The control socket's protocol, both ends of it: what a server says
//! about itself, how errors travel, and the line frames of the streaming
//! calls (a lead list, an export, a send with progress, the event feed).
//!
//! Plain calls are `POST /v1/call/NAME` with a JSON array of arguments
//! (see `api`). Streams answer with lines, each a one-byte tag and a JSON
//! payload: `i` an item, `o` the final result, `e` an error; the event
//! feed uses `v` (an event) and `s` (queue stats).

use std::io::Write;
use std::path::PathBuf;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::export::ExportFormat;
use super::leads::LeadQuery;
use super::outreach::{SendRequest, SendSummary};
use super::{Result, Service, ServiceError};
use crate::domain::event::{Event, QueueStats};

/// Bumped whenever a call changes shape; client and server must agree.
pub const PROTOCOL: u32 = 1;

/// The socket's file name in the data dir.
pub const SOCKET_NAME: &str = "control.sock";

/// Headers a client sends with each call: how it shows in the action log,
/// and that it only browses.
pub const VIA_HEADER: &str = "x-leadscout-via";
pub const READ_ONLY_HEADER: &str = "x-leadscout-read-only";

pub const ITEM: u8 = b'i';
pub const DONE: u8 = b'o';
pub const ERROR: u8 = b'e';
pub const EVENT: u8 = b'v';
pub const STATS: u8 = b's';
/// A frame that only says the server is still there (a long send).
pub const HEARTBEAT_TAG: u8 = b'h';

/// What `GET /v1/hello` answers: enough to check versions and show the
/// operator where they are attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// `leadscout --version` of the server (package version and commit).
    pub version: String,
    pub package: String,
    pub protocol: u32,
    pub pid: u32,
    pub data_dir: PathBuf,
    /// Where report links point (`server.public_base_url` or the page
    /// server's own address).
    pub pages_url: String,
    /// Whether `server.public_base_url` is set, i.e. links work elsewhere.
    pub public_links: bool,
    /// The server's `import.max_file_mb`: a client checks a file against
    /// it before sending it.
    #[serde(default = "default_max_import_mb")]
    pub max_import_mb: u64,
    /// Which command hosts: `serve`, `tui` or `demo`.
    #[serde(default = "default_host")]
    pub host: String,
}

fn default_host() -> String {
    "serve".to_string()
}

fn default_max_import_mb() -> u64 {
    crate::config::Config::default().import.max_file_mb
}

impl ServerInfo {
    pub fn of(service: &Service) -> Self {
        let server = &service.config().server;
        Self {
            version: crate::VERSION.to_string(),
            package: env!("CARGO_PKG_VERSION").to_string(),
            protocol: PROTOCOL,
            pid: std::process::id(),
            data_dir: service.data_dir().to_path_buf(),
            pages_url: server.base_url(),
            public_links: !server.public_base_url.is_empty(),
            max_import_mb: service.config().import.max_file_mb,
            host: crate::store::lock::read_holder(service.data_dir())
                .map_or_else(default_host, |holder| holder.command),
        }
    }

    /// `Err` with both versions when this client cannot talk to the server.
    pub fn check_compatible(&self) -> Result<()> {
        if self.protocol == PROTOCOL && self.package == env!("CARGO_PKG_VERSION") {
            return Ok(());
        }
        Err(ServiceError::Invalid(format!(
            "version mismatch: this is leadscout {}, the server (pid {}) runs leadscout {}; use the same version on both sides (restart `leadscout serve` after an upgrade)",
            crate::VERSION,
            self.pid,
            self.version
        )))
    }
}

/// An error on the wire: its kind (so the client rebuilds the same
/// `ServiceError`, and the CLI prints the same line) and its message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireError {
    pub kind: String,
    pub message: String,
}

impl WireError {
    pub fn of(error: &ServiceError) -> Self {
        let kind = match error {
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Invalid(_) => "invalid",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::Disconnected(_) => "disconnected",
            ServiceError::ReadOnly(_) => "read_only",
            _ => "failed",
        };
        Self {
            kind: kind.to_string(),
            message: error.to_string(),
        }
    }

    pub fn forbidden(message: String) -> Self {
        Self {
            kind: "forbidden".to_string(),
            message,
        }
    }

    /// The HTTP status an error travels with.
    pub fn status(&self) -> u16 {
        match self.kind.as_str() {
            "not_found" => 404,
            "invalid" => 400,
            "conflict" => 409,
            "forbidden" | "read_only" => 403,
            _ => 500,
        }
    }

    pub fn into_error(self) -> ServiceError {
        match self.kind.as_str() {
            "not_found" => ServiceError::NotFound(self.message),
            "invalid" => ServiceError::Invalid(self.message),
            "conflict" => ServiceError::Conflict(self.message),
            "read_only" => ServiceError::ReadOnly(self.message),
            _ => ServiceError::Remote(self.message),
        }
    }
}

/// One frame: tag, JSON, newline.
pub fn frame<T: Serialize>(tag: u8, value: &T) -> Bytes {
    let mut line = vec![tag];
    // Serialising our own views cannot fail; an empty payload would be
    // reported by the reader as a bad frame.
    let _ = serde_json::to_writer(&mut line, value);
    line.push(b'\n');
    Bytes::from(line)
}

fn end_frame<T: Serialize>(result: Result<T>) -> Bytes {
    match result {
        Ok(value) => frame(DONE, &value),
        Err(e) => frame(ERROR, &WireError::of(&e)),
    }
}

/// Whether a streaming call only reads. Any stream not named here counts
/// as a change (so a new stream is refused to read-only clients until it
/// is listed).
pub fn stream_mode(method: &str) -> super::CallMode {
    match method {
        "leads" | "export" | "export_outreach" => super::CallMode::Read,
        _ => super::CallMode::Write,
    }
}

/// The streaming calls by name, for the socket server. Each answers a
/// channel of frames; the work runs in its own task and stops when the
/// client goes away (its sends fail).
pub fn stream_call(service: Service, method: &str, body: &[u8]) -> Result<mpsc::Receiver<Bytes>> {
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    let bad =
        |e: serde_json::Error| ServiceError::Invalid(format!("bad arguments for `{method}`: {e}"));
    match method {
        "leads" => {
            let (query,): (LeadQuery,) = serde_json::from_slice(body).map_err(bad)?;
            run_writing(tx, move |w| {
                service.for_each_lead_blocking(&query, |lead| {
                    w.write_all(&[ITEM])?;
                    serde_json::to_writer(&mut *w, &lead)?;
                    w.write_all(b"\n")
                })
            });
        }
        "export" => {
            let (campaign, format): (String, ExportFormat) =
                serde_json::from_slice(body).map_err(bad)?;
            run_text(tx, move |out| {
                service.export_blocking(&campaign, format, out)
            });
        }
        "export_outreach" => {
            let (campaign,): (String,) = serde_json::from_slice(body).map_err(bad)?;
            run_text(tx, move |out| {
                service.export_outreach_blocking(&campaign, out)
            });
        }
        "send_outreach" => {
            let (request,): (SendRequest,) = serde_json::from_slice(body).map_err(bad)?;
            send_stream(service, request, tx);
        }
        _ => {
            return Err(ServiceError::NotFound(format!(
                "the server has no stream `{method}`; client and server must be the same version"
            )));
        }
    }
    Ok(rx)
}

/// How often a running send tells its client it is alive; a write that
/// fails is how the server learns that the client has gone.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(1);

/// A send for an attached client. It belongs to whoever asked: when the
/// client goes away the send stops after the message in hand, unless it
/// was asked to go on detached (then the answer comes at once and the
/// send goes on in the server, stoppable with `outreach stop`).
fn send_stream(service: Service, request: SendRequest, tx: mpsc::Sender<Bytes>) {
    let stop = std::sync::Arc::new(tokio::sync::watch::channel(false).0);
    if request.detach && !request.dry_run {
        let summary = SendSummary {
            detached: true,
            ..Default::default()
        };
        tokio::spawn(async move {
            let outcome = service.send_outreach_until(&request, stop, |_| {}).await;
            if let Err(e) = outcome {
                tracing::warn!(campaign = %request.campaign, error = %e, "a detached send ended with an error");
            }
        });
        tokio::spawn(async move {
            let _ = tx.send(frame(DONE, &summary)).await;
        });
        return;
    }
    tokio::spawn(async move {
        // Progress is a handful of lines; the send itself never waits on
        // the client.
        let (progress_tx, mut progress_rx) = mpsc::unbounded_channel::<Bytes>();
        let forward_tx = tx.clone();
        let client_gone = stop.clone();
        let forward = tokio::spawn(async move {
            let mut beat = tokio::time::interval(HEARTBEAT);
            loop {
                let line = tokio::select! {
                    line = progress_rx.recv() => match line {
                        Some(line) => line,
                        None => break,
                    },
                    _ = beat.tick() => frame(HEARTBEAT_TAG, &()),
                };
                if forward_tx.send(line).await.is_err() && !*client_gone.borrow() {
                    tracing::info!(
                        "the client of a send went away; it stops after the message in hand"
                    );
                    client_gone.send_replace(true);
                }
            }
        });
        let result = service
            .send_outreach_until(&request, stop, |e| {
                let _ = progress_tx.send(frame(ITEM, e));
            })
            .await;
        drop(progress_tx);
        let _ = forward.await;
        let _ = tx.send(end_frame(result)).await;
    });
}

/// Runs `work` on a blocking thread with a writer whose bytes go out as
/// the stream, then sends the final frame.
fn run_writing<T, F>(tx: mpsc::Sender<Bytes>, work: F)
where
    T: Serialize + Send + 'static,
    F: FnOnce(&mut FrameWriter) -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let mut writer = FrameWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(FLUSH_AT),
        };
        let result = work(&mut writer);
        let _ = writer.flush();
        let _ = tx.blocking_send(end_frame(result));
    });
}

/// Like [`run_writing`] for text that may hold newlines (an export): the
/// text goes out as item frames of JSON strings.
fn run_text<F>(tx: mpsc::Sender<Bytes>, work: F)
where
    F: FnOnce(&mut dyn Write) -> Result<u64> + Send + 'static,
{
    run_writing(tx, move |w| {
        let mut chunks = TextChunks {
            out: w,
            buf: Vec::new(),
        };
        let n = work(&mut chunks)?;
        chunks
            .finish()
            .map_err(|e| ServiceError::io("cannot send the export", e))?;
        Ok(n)
    });
}

const FLUSH_AT: usize = 64 * 1024;

/// Buffers whole frames and hands them to the channel in 64 KiB pieces;
/// a full channel makes the producer wait (the client reads slowly).
pub struct FrameWriter {
    tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl Write for FrameWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(FLUSH_AT),
        ));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))
    }
}

/// Export text as item frames holding JSON strings, so that the text's own
/// newlines do not break the line framing.
struct TextChunks<'a> {
    out: &'a mut FrameWriter,
    buf: Vec<u8>,
}

impl TextChunks<'_> {
    fn finish(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        self.buf.clear();
        self.out.write_all(&frame(ITEM, &text))
    }
}

impl Write for TextChunks<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= FLUSH_AT {
            // Cut at the last newline so a multi-byte character is never split.
            let cut = self
                .buf
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(self.buf.len(), |i| i + 1);
            let rest = self.buf.split_off(cut);
            let text = String::from_utf8_lossy(&self.buf).into_owned();
            self.buf = rest;
            self.out.write_all(&frame(ITEM, &text))?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The event feed for one attached client: events and queue stats as
/// frames until `stop` turns true or the client leaves.
pub fn event_feed(
    service: &Service,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let mut events = service.subscribe();
    let mut stats = service.queue_stats();
    tokio::spawn(async move {
        let mut beat = tokio::time::interval(HEARTBEAT);
        beat.tick().await;
        let first: QueueStats = *stats.borrow_and_update();
        if tx.send(frame(STATS, &first)).await.is_err() {
            return;
        }
        loop {
            let line = tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => frame::<Event>(EVENT, &event),
                    // The client reloads everything when it missed events.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => frame(EVENT, &"lagged"),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
                changed = stats.changed() => match changed {
                    Ok(()) => { let s: QueueStats = *stats.borrow_and_update(); frame(STATS, &s) }
                    Err(_) => break,
                },
                // Without traffic a client that left is noticed only on
                // the next write; the beat makes that within a second, so
                // the host knows who is still attached.
                _ = beat.tick() => frame(HEARTBEAT_TAG, &()),
                _ = stop.wait_for(|stop| *stop) => break,
            };
            if tx.send(line).await.is_err() {
                break;
            }
        }
    });
    rx
}
