//! The use cases: campaigns, leads, import, blacklist, settings, export,
//! backup. The single door to the store for the CLI, the TUI and the web.
//!
//! Uses `domain` and `store` (and `jobs` once runs exist); never `cli`, `tui`
//! or `web`. Results are plain serialisable views.

pub mod actions;
pub mod admin;
mod api;
pub mod audits;
pub mod blacklist;
pub mod campaigns;
mod client;
pub mod control;
pub mod dashboard;
pub mod discover;
pub mod export;
mod hosted;
pub mod import;
pub mod inbox;
mod inbox_watch;
pub mod jobs;
pub mod leads;
mod metrics;
pub use metrics::METRICS_CONTENT_TYPE;
pub mod outreach;
pub mod reaudit;
pub mod report;
pub mod sending;
pub mod sequence;
mod sequence_funnel;
#[cfg(test)]
mod sequence_tests;
pub mod settings;
mod site_export;
mod undo;
pub mod views;

/// Private output files (backups, exports) for the faces that write them.
pub use crate::store::files;

use std::path::Path;
use std::sync::Arc;

use crate::config::Config;
use crate::domain::{Campaign, Clock, IdGen, Lead, LeadId, Slug, Stage, Timestamp};
use crate::jobs::{EngineHandle, EventBus};
use crate::store::{Store, StoreError};

pub use api::{
    Api, CALLS, CallMode, STREAMS, Streams, call_mode, carries_file, dispatch, stream_mode,
};
pub use client::Client;
pub use control::{ControlError, ControlServer, Link, Remote, wire};
pub use hosted::{Attachments, HostAddrs, HostOptions, Hosted, HostedParts, Stopper};
pub use site_export::{ExportSummary, SiteExport};
pub use views::*;

/// Everything a use case may fail with. Messages are one line, name the
/// input at fault, and say what to do next where there is something to do.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A change asked of a read-only client.
    #[error("{0}")]
    ReadOnly(String),
    /// The server this client was attached to cannot be reached.
    #[error("{0}")]
    Disconnected(String),
    /// Any other failure reported by the server, as it worded it.
    #[error("{0}")]
    Remote(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl ServiceError {
    /// True when the data dir is held by another leadscout process.
    pub fn is_locked(&self) -> bool {
        matches!(self, Self::Store(StoreError::Locked { .. }))
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Opens the service for a command. The composition root implements it, so
/// the CLI never touches the store directly and a remote implementation can
/// take its place.
pub trait Opener {
    /// Opens the data dir for `command` (recorded as the lock holder).
    fn open(&self, command: &str) -> Result<Service>;
    /// Opens the data dir and starts the job workers in this process.
    fn open_with_workers(&self, command: &str) -> Result<Service>;
    /// Opens the data dir and starts the host in this process: workers,
    /// page server, control socket, schedulers (see `crate::host`). The
    /// face gets a client acting as `command`.
    fn start_host<'a>(
        &'a self,
        command: &'a str,
        options: HostOptions,
    ) -> futures::future::BoxFuture<'a, Result<Hosted>>;
    /// The control socket named with `--socket`, if any.
    fn explicit_socket(&self) -> Option<&Path>;
    /// `--read-only`: browse, refuse every change.
    fn read_only(&self) -> bool;
    fn data_dir(&self) -> &Path;
    /// Where the config came from, for `doctor`.
    fn config_file(&self) -> String;
    /// Why the config could not be loaded, when it could not (only
    /// `doctor` runs with a broken config; it reports this).
    fn config_problem(&self) -> Option<&str>;
}

/// Attaches to the `serve` that holds the data dir, or to the socket given
/// with `--socket`; without a server, opens the store in this process. A
/// socket file left by a server that is gone is not an error: the store
/// is opened as before.
pub async fn connect(opener: &dyn Opener, command: &str) -> Result<Client> {
    connect_or(opener, command, |o| o.open(command)).await
}

/// How a command shows in the action log.
fn via(command: &str) -> String {
    match command {
        "tui" => "tui".to_string(),
        other => format!("cli {other}"),
    }
}

/// Like [`connect`], for commands that run jobs: attached, the server's
/// workers run them; otherwise workers start in this process (they wait
/// for `Client::start_workers`).
pub async fn connect_with_workers(opener: &dyn Opener, command: &str) -> Result<Client> {
    connect_or(opener, command, |o| o.open_with_workers(command)).await
}

/// Attaches, or opens the store with `open`; either way acting as this
/// process's user through `command`.
async fn connect_or(
    opener: &dyn Opener,
    command: &str,
    open: impl FnOnce(&dyn Opener) -> Result<Service>,
) -> Result<Client> {
    let (via, read_only) = (via(command), opener.read_only());
    Ok(match attach(opener).await? {
        Some(remote) => Client::Remote(remote.acting(&via, read_only)),
        None => Client::Local(open(opener)?.with_actor(actions::local_actor(&via, read_only))),
    })
}

/// The client a face of this process holds over `service`: acting as
/// this OS user through `command`, read-only when asked.
pub fn face_client(service: &Service, command: &str, read_only: bool) -> Client {
    Client::Local(service.with_actor(actions::local_actor(&via(command), read_only)))
}

/// What a face runs on: the host another process runs, or one it started.
pub enum Face {
    Attached(Client),
    Hosting(Hosted),
}

/// Attaches to the host of this data dir (or `--socket`); without one,
/// starts the host in this process. Two faces starting at once: the one
/// that finds the data dir taken attaches once the other's socket listens.
pub async fn attach_or_host(
    opener: &dyn Opener,
    command: &str,
    options: HostOptions,
) -> Result<Face> {
    let (via, read_only) = (via(command), opener.read_only());
    let mut waited = std::time::Duration::ZERO;
    loop {
        if let Some(remote) = attach(opener).await? {
            return Ok(Face::Attached(Client::Remote(
                remote.acting(&via, read_only),
            )));
        }
        match opener.start_host(command, options).await {
            Ok(hosted) => return Ok(Face::Hosting(hosted)),
            Err(e) if e.is_locked() && waited < HOST_STARTING => {
                tokio::time::sleep(HOST_POLL).await;
                waited += HOST_POLL;
            }
            Err(e) => return Err(e),
        }
    }
}

/// How long a face waits for a host that holds the lock but does not
/// listen yet (it opens the store before the socket).
const HOST_STARTING: std::time::Duration = std::time::Duration::from_secs(3);
const HOST_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// The running server for this data dir (or `--socket`), if there is one.
pub async fn attach(opener: &dyn Opener) -> Result<Option<Remote>> {
    if let Some(socket) = opener.explicit_socket() {
        return Remote::connect(socket).await.map(Some);
    }
    let socket = opener.data_dir().join(wire::SOCKET_NAME);
    if socket.exists() {
        match Remote::connect(&socket).await {
            Ok(remote) => return Ok(Some(remote)),
            Err(ServiceError::Disconnected(reason)) => {
                tracing::debug!(%reason, "no server behind the socket; opening the store");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// The use cases over one open store.
#[derive(Clone)]
pub struct Service {
    store: Arc<Store>,
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    ids: Arc<IdGen>,
    /// The stages a run can use, in pipeline order.
    stages: Arc<Vec<Stage>>,
    bus: Arc<EventBus>,
    /// The job engine, when this process runs workers.
    engine: Option<Arc<EngineHandle>>,
    /// Who acts through this service (for the action log and read-only).
    actor: Arc<crate::domain::action_log::Actor>,
    /// The one sender of this process (shared by every actor's view).
    sends: Arc<sending::SendDesk>,
    /// Writes report pages as a static site (`report export`).
    site_export: Option<Arc<dyn SiteExport>>,
    /// What this process's inbox watcher is doing (idle, polling, ...).
    inbox_watch: Arc<inbox_watch::WatchCell>,
}

/// What a service is built from.
pub struct ServiceParts {
    pub store: Arc<Store>,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<IdGen>,
    pub stages: Vec<Stage>,
    pub bus: Arc<EventBus>,
    pub engine: Option<Arc<EngineHandle>>,
}

impl Service {
    pub fn new(parts: ServiceParts) -> Self {
        Self {
            store: parts.store,
            config: parts.config,
            clock: parts.clock,
            ids: parts.ids,
            stages: Arc::new(parts.stages),
            bus: parts.bus,
            engine: parts.engine,
            actor: Arc::new(actions::local_actor("leadscout", false)),
            sends: Arc::new(sending::SendDesk::new()),
            site_export: None,
            inbox_watch: Arc::default(),
        }
    }

    /// Events from this process (and its workers, if it runs them).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::domain::event::Event> {
        self.bus.subscribe()
    }

    pub fn queue_stats(&self) -> tokio::sync::watch::Receiver<crate::domain::event::QueueStats> {
        self.bus.stats()
    }

    /// Whether this process runs job workers.
    pub fn runs_workers(&self) -> bool {
        self.engine.is_some()
    }

    /// Lets this process's workers start taking jobs (they wait after
    /// `Opener::open_with_workers` so that callers can look first).
    pub fn start_workers(&self) {
        if let Some(engine) = &self.engine {
            engine.resume();
        }
    }

    /// Stops this process's workers gracefully (running jobs get the grace
    /// period, the rest go back to the queue). No-op without workers.
    pub async fn shutdown(&self) {
        if let Some(engine) = &self.engine {
            engine.shutdown().await;
        }
    }

    pub(crate) fn engine(&self) -> Option<&EngineHandle> {
        self.engine.as_deref()
    }

    pub(crate) fn pipeline_stages(&self) -> &[Stage] {
        &self.stages
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn data_dir(&self) -> &Path {
        self.store.dir()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn new_ulid(&self) -> ulid::Ulid {
        self.ids.next(self.clock.now())
    }

    /// The campaign with this slug, or an error that says how to find one.
    pub(crate) fn campaign_by_slug(&self, slug: &str) -> Result<Campaign> {
        let parsed = Slug::parse(slug.trim()).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        self.store.campaign_by_slug(&parsed)?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "no campaign `{slug}`; `leadscout campaign list` shows them"
            ))
        })
    }

    /// A lead named by its id, or by its website/domain when exactly one
    /// lead has it.
    pub(crate) fn resolve_lead(&self, reference: &str) -> Result<Lead> {
        let reference = reference.trim();
        if let Ok(id) = reference.parse::<LeadId>() {
            return self
                .store
                .lead(id)?
                .ok_or_else(|| ServiceError::NotFound(format!("no lead with id {id}")));
        }
        let domain = crate::domain::Domain::parse(reference).map_err(|_| {
            ServiceError::Invalid(format!(
                "`{reference}` is neither a lead id nor a website; `leadscout leads list --campaign SLUG` shows ids"
            ))
        })?;
        let mut found = Vec::new();
        for campaign in self.store.campaigns()? {
            if let Some(id) = self.store.lead_id_by_domain(campaign.id, &domain)? {
                found.push((campaign.slug.clone(), id));
            }
        }
        match found.as_slice() {
            [] => Err(ServiceError::NotFound(format!(
                "no lead has the website {domain}"
            ))),
            [(_, id)] => self
                .store
                .lead(*id)?
                .ok_or_else(|| ServiceError::NotFound(format!("no lead with id {id}"))),
            many => Err(ServiceError::Invalid(format!(
                "{domain} is a lead in several campaigns ({}); use the lead id",
                many.iter()
                    .map(|(slug, id)| format!("{slug}: {id}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}
