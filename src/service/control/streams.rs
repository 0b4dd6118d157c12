//! The server side of the streaming calls declared in `api`: each starts
//! its work in a task of its own and answers a channel of frames; the work
//! stops when the client goes away (a write to the channel fails).

use std::io::Write;

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;

use super::wire::{DONE, FeedItem, HEARTBEAT_TAG, ITEM, end_frame, frame};
use crate::domain::event::QueueStats;
use crate::service::export::ExportFormat;
use crate::service::leads::LeadQuery;
use crate::service::outreach::{SendRequest, SendSummary};
use crate::service::{Result, Service, ServiceError};

/// Each lead as an item.
pub(crate) fn leads(service: Service, query: LeadQuery) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    run_writing(tx, move |w| {
        service.for_each_lead_blocking(&query, |lead| {
            w.write_all(&[ITEM])?;
            serde_json::to_writer(&mut *w, &lead)?;
            w.write_all(b"\n")
        })
    });
    rx
}

/// A campaign's leads as CSV or JSONL text.
pub(crate) fn export(
    service: Service,
    campaign: String,
    format: ExportFormat,
) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    run_text(tx, move |out| {
        service.export_blocking(&campaign, format, out)
    });
    rx
}

/// A campaign's emails as CSV text.
pub(crate) fn export_outreach(service: Service, campaign: String) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    run_text(tx, move |out| {
        service.export_outreach_blocking(&campaign, out)
    });
    rx
}

/// A send with progress (see [`send_stream`]).
pub(crate) fn send_outreach(service: Service, request: SendRequest) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    send_stream(service, request, tx);
    rx
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
        tokio::spawn(async move {
            // What would stop the send is told to the client that asked,
            // now, rather than to the server's log after it has gone.
            let check = SendRequest {
                dry_run: true,
                detach: false,
                ..request.clone()
            };
            let problems = match service
                .send_outreach_until(&check, stop.clone(), |_| {})
                .await
            {
                Ok(checked) => checked.would_stop,
                Err(e) => {
                    let _ = tx.send(end_frame::<SendSummary>(Err(e))).await;
                    return;
                }
            };
            if !problems.is_empty() {
                let refused = ServiceError::Invalid(format!(
                    "{}; nothing was sent, and nothing goes on in the background",
                    problems.join("; ")
                ));
                let _ = tx.send(end_frame::<SendSummary>(Err(refused))).await;
                return;
            }
            tokio::spawn(async move {
                let outcome = service.send_outreach_until(&request, stop, |_| {}).await;
                if let Err(e) = outcome {
                    tracing::warn!(campaign = %request.campaign, error = %e, "a detached send ended with an error");
                }
            });
            let summary = SendSummary {
                detached: true,
                ..Default::default()
            };
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
pub(crate) fn events(
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
        if tx.send(frame(ITEM, &FeedItem::Stats(first))).await.is_err() {
            return;
        }
        loop {
            let line = tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => frame(ITEM, &FeedItem::Event(event)),
                    // The client reloads everything when it missed events.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => frame(ITEM, &FeedItem::Lagged),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
                changed = stats.changed() => match changed {
                    Ok(()) => { let s: QueueStats = *stats.borrow_and_update(); frame(ITEM, &FeedItem::Stats(s)) }
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
