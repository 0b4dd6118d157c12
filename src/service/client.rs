//! [`Client`]: what the CLI and the TUI hold. Either the store is open in
//! this process (`Local`) or a `serve` holds it and we talk to it over the
//! control socket (`Remote`). The plain calls come from the `Api` trait;
//! the ones that stream, upload or need this process's workers are here.

use std::io::Write;
use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use super::control::wire::ServerInfo;
use super::control::{Link, Remote};
use super::export::ExportFormat;
use super::import::ImportRequest;
use super::leads::LeadQuery;
use super::outreach::{SendEvent, SendRequest, SendSummary};
use super::{Api, ImportReport, Result, Service, ServiceError};
use crate::domain::event::{Event, QueueStats};

#[derive(Clone)]
pub enum Client {
    Local(Service),
    Remote(Remote),
}

impl From<Service> for Client {
    fn from(service: Service) -> Self {
        Self::Local(service)
    }
}

impl Client {
    /// Browse only: every change is refused.
    pub fn is_read_only(&self) -> bool {
        match self {
            Self::Local(service) => service.actor().read_only,
            Self::Remote(remote) => remote.is_read_only(),
        }
    }

    pub fn is_remote(&self) -> bool {
        matches!(self, Self::Remote(_))
    }

    /// The service when the store is open in this process.
    pub fn as_local(&self) -> Option<&Service> {
        match self {
            Self::Local(service) => Some(service),
            Self::Remote(_) => None,
        }
    }

    /// Who holds the store and where report links point.
    pub fn info(&self) -> ServerInfo {
        match self {
            Self::Local(service) => ServerInfo::of(service),
            Self::Remote(remote) => remote.info(),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        match self {
            Self::Local(service) => service.subscribe(),
            Self::Remote(remote) => remote.subscribe(),
        }
    }

    pub fn queue_stats(&self) -> watch::Receiver<QueueStats> {
        match self {
            Self::Local(service) => service.queue_stats(),
            Self::Remote(remote) => remote.queue_stats(),
        }
    }

    /// The connection as the status bar shows it. Embedded never changes.
    pub fn link(&self) -> watch::Receiver<Link> {
        match self {
            Self::Local(_) => watch::channel(Link::Embedded).1,
            Self::Remote(remote) => remote.link(),
        }
    }

    /// Imports `request.path`; for a server the file is read here and its
    /// bytes sent along, so the file may be on this machine only.
    pub async fn import_file(&self, request: ImportRequest) -> Result<ImportReport> {
        match self {
            Self::Local(service) => Api::import(service, request).await.map(ImportReport::from),
            Self::Remote(remote) => {
                let limit = remote.info().max_import_mb;
                Api::import(remote, request.upload(limit)?)
                    .await
                    .map(ImportReport::from)
            }
        }
    }

    /// Each lead as one compact JSON object, streamed: neither side holds
    /// the whole list.
    pub async fn for_each_lead_json(
        &self,
        query: LeadQuery,
        mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<u64> {
        let write_err = |e: std::io::Error| ServiceError::io("cannot write a lead", e);
        match self {
            Self::Local(service) => {
                let mut line = Vec::with_capacity(512);
                service
                    .for_each_lead(&query, |lead| {
                        line.clear();
                        serde_json::to_writer(&mut line, &lead)?;
                        sink(&line)
                    })
                    .await
            }
            Self::Remote(remote) => {
                remote
                    .streams()
                    .leads(query, |json| sink(json).map_err(write_err))
                    .await
            }
        }
    }

    /// A campaign's leads as CSV or JSONL into `out`.
    pub async fn export(
        &self,
        campaign: String,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> Result<u64> {
        match self {
            Self::Local(service) => service.export(&campaign, format, out).await,
            Self::Remote(remote) => {
                remote
                    .streams()
                    .export(campaign, format, |chunk| write_text(out, chunk))
                    .await
            }
        }
    }

    /// A campaign's emails as CSV into `out`.
    pub async fn export_outreach(&self, campaign: String, out: &mut dyn Write) -> Result<u64> {
        match self {
            Self::Local(service) => service.export_outreach(&campaign, out).await,
            Self::Remote(remote) => {
                remote
                    .streams()
                    .export_outreach(campaign, |chunk| write_text(out, chunk))
                    .await
            }
        }
    }

    /// Sends approved emails; a server sends them itself and reports each
    /// one as it goes. `stop` turning true ends the send after the message
    /// in hand: here by telling the sender, attached by leaving (the
    /// server stops a send whose client left, unless it is detached).
    pub async fn send_outreach(
        &self,
        request: SendRequest,
        stop: Arc<watch::Sender<bool>>,
        mut progress: impl FnMut(&SendEvent),
    ) -> Result<SendSummary> {
        match self {
            Self::Local(service) => {
                if request.detach && !request.dry_run {
                    return Err(ServiceError::Invalid(
                        "--detach needs a running host to send from (`leadscout serve`, or an open TUI); nothing holds this data dir, so the send would end with this command. Run it without --detach (Ctrl-C stops it after the message in hand)".into(),
                    ));
                }
                service.send_outreach_until(&request, stop, progress).await
            }
            Self::Remote(remote) => {
                let mut stopped = stop.subscribe();
                let streams = remote.streams();
                let streaming = streams.send_outreach(request, |json| {
                    if let Ok(event) = serde_json::from_slice::<SendEvent>(json) {
                        progress(&event);
                    }
                    Ok(())
                });
                tokio::select! {
                    result = streaming => result,
                    _ = stopped.wait_for(|s| *s) => Ok(SendSummary {
                        stopped: true,
                        ..Default::default()
                    }),
                }
            }
        }
    }

    /// A screenshot or thumbnail by its blob name (`HASH.png`).
    pub async fn screenshot(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Self::Local(service) => service.screenshot(name).await,
            Self::Remote(remote) => remote.blob(name).await,
        }
    }

    /// Lets this process's workers start (no-op when attached: the
    /// server's workers run).
    pub fn start_workers(&self) {
        if let Self::Local(service) = self {
            service.start_workers();
        }
    }

    /// Stops this process's workers; an attached client leaves the
    /// server and its jobs running.
    pub async fn shutdown(&self) {
        if let Self::Local(service) = self {
            service.shutdown().await;
        }
    }
}

fn write_text(out: &mut dyn Write, chunk: &[u8]) -> Result<()> {
    let text: String = serde_json::from_slice(chunk)
        .map_err(|e| ServiceError::Remote(format!("a broken export chunk: {e}")))?;
    out.write_all(text.as_bytes())
        .map_err(|e| ServiceError::io("cannot write the export", e))
}
