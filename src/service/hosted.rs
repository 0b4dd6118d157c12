//! What a face (the `serve` log, the TUI, the demo) holds of the host that
//! runs in its process: a client, the addresses the host listens on, who
//! is attached to it, the shutdown signal, and a way to stop it.
//!
//! The host itself (workers, page server, control socket, schedulers) is
//! built by the composition root (`crate::host`); this type lets the faces
//! use it without importing `web`, `jobs` or `store`.

use std::net::SocketAddr;
use std::path::PathBuf;

use futures::future::BoxFuture;
use tokio::sync::{broadcast, watch};

use super::Client;
use crate::domain::event::Event;

/// What the host of this process serves, and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostAddrs {
    /// The page server, when it runs.
    pub pages: Option<SocketAddr>,
    /// The metrics listener, when it runs.
    pub metrics: Option<SocketAddr>,
    /// The control socket other processes attach to, when it listens.
    pub control: Option<PathBuf>,
}

/// Who uses the host from another process right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attachments {
    /// Streams open: another TUI or a command following events, a send
    /// with progress, a list or an export in flight.
    pub clients: usize,
}

impl Attachments {
    pub fn any(&self) -> bool {
        self.clients > 0
    }
}

/// How a face asks the host for what it needs.
#[derive(Debug, Clone, Copy)]
pub struct HostOptions {
    /// A page server that cannot listen fails the start (`serve`); without
    /// this the host goes on without pages and says why in the log.
    pub pages_required: bool,
}

/// Stops a host: the composition root's side of [`Hosted::stop`].
pub trait Stopper: Send {
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// A running host, as a face sees it.
pub struct Hosted {
    client: Client,
    addrs: HostAddrs,
    attached: watch::Receiver<Attachments>,
    signal: watch::Receiver<bool>,
    stopper: Box<dyn Stopper>,
    /// Subscribed before the workers started, so the first face to ask
    /// sees every job they touched (jobs queued before the start can end
    /// before the face gets to subscribe).
    events_from_start: Option<broadcast::Receiver<Event>>,
}

/// What the composition root hands [`Hosted::new`].
pub struct HostedParts {
    pub client: Client,
    pub addrs: HostAddrs,
    pub attached: watch::Receiver<Attachments>,
    pub signal: watch::Receiver<bool>,
    pub stopper: Box<dyn Stopper>,
    /// A receiver subscribed before the workers started.
    pub events_from_start: broadcast::Receiver<Event>,
}

impl Hosted {
    pub fn new(parts: HostedParts) -> Self {
        Self {
            client: parts.client,
            addrs: parts.addrs,
            attached: parts.attached,
            signal: parts.signal,
            stopper: parts.stopper,
            events_from_start: Some(parts.events_from_start),
        }
    }

    /// Every event since the workers started, the first time it is
    /// called; a later call gets the events from then on.
    pub fn events(&mut self) -> broadcast::Receiver<Event> {
        self.events_from_start
            .take()
            .unwrap_or_else(|| self.client.subscribe())
    }

    /// The client over this process's store.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn addrs(&self) -> &HostAddrs {
        &self.addrs
    }

    /// Who is attached now.
    pub fn attachments(&self) -> Attachments {
        *self.attached.borrow()
    }

    /// Turns true once SIGTERM, SIGINT or SIGHUP arrived: the face winds
    /// down and then calls [`Hosted::stop`].
    pub fn signal(&self) -> watch::Receiver<bool> {
        self.signal.clone()
    }

    /// Waits for a shutdown signal.
    pub async fn signalled(&self) {
        let mut signal = self.signal.clone();
        let _ = signal.wait_for(|s| *s).await;
    }

    /// Stops the schedulers, the control socket (attached clients are told
    /// by their feed ending), the page server, and the workers (running
    /// jobs get their grace period, the rest go back to the queue).
    pub async fn stop(self) {
        self.stopper.stop().await;
    }
}
