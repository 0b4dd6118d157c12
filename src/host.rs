//! The host: whatever process holds the data dir runs one. It owns the job
//! workers, the page server (and its metrics listener), the control socket
//! other processes attach to, the schedulers (scheduled re-audits and
//! follow-ups; the inbox watcher beside them) and graceful shutdown (signals, then
//! draining in a fixed order). A host over a demo workspace serves the
//! demo's sites again ([`reopen_demo`]). `serve`, the embedded TUI and `demo` each
//! start one through `Opener::start_host`; they get a [`Hosted`]: a client
//! and addresses, nothing of `web` or `jobs`.
//!
//! Part of the composition root: uses `service` and `web`; nothing but
//! `runtime` uses it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::service::{
    Api, Attachments, Client, ControlServer, HostAddrs, HostOptions, Hosted, HostedParts, Service,
    ServiceError, Stopper,
};
use crate::web::WebServer;
use crate::web::demo::{DemoWorkspace, bundled_sites, local_smtp, serve_sites};

/// The parts of a running host, in the order they stop.
struct Host {
    service: Service,
    /// Turns true when the host stops: the schedulers and the signal
    /// watcher end.
    stopping: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    control: Option<ControlServer>,
    web: Option<WebServer>,
}

/// A demo workspace opened again: the config its stages run under (the
/// sites admitted, their authority trusted) and what the operator should
/// know about it.
pub struct Reopened {
    pub config: Arc<Config>,
    pub notes: Vec<String>,
}

/// When `data_dir` is a demo workspace, serves the bundled demo sites
/// again on the addresses it stored (the leads' URLs name them) and
/// returns the config that admits exactly those; `None` for any other
/// data dir. A site whose port is taken is not moved: the note says which
/// port, and that re-running its stages needs it free or `leadscout demo`.
pub fn reopen_demo(data_dir: &Path, config: &Arc<Config>) -> Option<Reopened> {
    let same = |notes: Vec<String>| {
        Some(Reopened {
            config: config.clone(),
            notes,
        })
    };
    let workspace = match DemoWorkspace::load(data_dir) {
        Ok(Some(workspace)) => workspace,
        Ok(None) => return None,
        Err(e) => return same(vec![e]),
    };
    let served = match serve_sites(&bundled_sites(), &workspace.sites) {
        Ok(served) => served,
        Err(e) => {
            return same(vec![format!(
                "the demo sites are not served again ({e}); re-running their stages needs `leadscout demo` again"
            )]);
        }
    };
    let mut next = (**config).clone();
    workspace.apply(&served, &mut next);
    let pages = workspace.pages_bind.as_str();
    if !pages.is_empty()
        && !pages.ends_with(":0")
        && next.server.public_base_url.is_empty()
        && std::net::TcpListener::bind(pages).is_ok()
    {
        // The demo's drafts link to its report pages there.
        next.server.bind = pages.to_string();
    }
    // What went wrong first: the action log's column shows the start.
    let mut notes = Vec::new();
    for t in &served.taken {
        notes.push(format!(
            "the demo site of {} cannot listen on {} again ({}): re-running that lead's stages needs port {} free, or `leadscout demo` again",
            t.name,
            t.addr,
            t.why,
            t.addr.port()
        ));
    }
    if !served.sites.is_empty() {
        let addrs: Vec<String> = served.sites.iter().map(|s| s.addr.to_string()).collect();
        notes.push(format!(
            "demo workspace: the {} demo sites are served again on {} and admitted, only they, through the egress guard",
            served.sites.len(),
            addrs.join(", ")
        ));
    }
    if workspace.allow_local_unsubscribe_links {
        notes.push(if local_smtp(&next.smtp.host) {
            "the demo's drafts may be sent with their local unsubscribe links, to an SMTP server on this machine only".to_string()
        } else {
            format!(
                "the demo's drafts have local unsubscribe links; smtp.host `{}` is not on this machine, so sending refuses them",
                next.smtp.host
            )
        });
    }
    Some(Reopened {
        config: Arc::new(next),
        notes,
    })
}

/// `server.bind` with port 0 ("any free port") and no public base URL:
/// report and unsubscribe links are built from the bind address, so the
/// port is chosen here, before anything builds a link, rather than by the
/// page server's listener later (links would name port 0).
pub fn pin_page_port(config: Arc<Config>) -> Arc<Config> {
    let bind = config.server.bind.as_str();
    if !config.server.public_base_url.is_empty() || !bind.ends_with(":0") {
        return config;
    }
    let Ok(addr) = std::net::TcpListener::bind(bind).and_then(|l| l.local_addr()) else {
        // The page server's own bind reports the error, naming the key.
        return config;
    };
    let mut next = (*config).clone();
    next.server.bind = addr.to_string();
    Arc::new(next)
}

/// Says what reopening a demo workspace did: in the log and in the action
/// log (`leadscout log`, the TUI's `L`), where the operator looks.
pub fn tell_reopened(service: &Service, reopened: &Reopened) {
    if reopened.notes.is_empty() {
        return;
    }
    for note in &reopened.notes {
        tracing::warn!("{note}");
    }
    if let Err(e) = service.log_action(
        "demo_reopen",
        Some("demo"),
        "demo workspace",
        reopened.notes.join("; "),
    ) {
        tracing::warn!(error = %e, "the demo workspace note is not in the action log");
    }
}

/// Starts the host over `service` (opened with workers, which wait) and
/// hands `face` to the caller. With `options.pages_required` a page server
/// or control socket that cannot listen fails the start; otherwise the
/// host goes on without it and the log says why.
pub async fn start(
    service: Service,
    face: Client,
    options: HostOptions,
) -> Result<Hosted, ServiceError> {
    let web = match WebServer::start(service.clone()).await {
        Ok(web) => Some(web),
        Err(e) if options.pages_required => {
            service.shutdown().await;
            return Err(ServiceError::Invalid(e.to_string()));
        }
        Err(e) => {
            tracing::warn!(error = %e, "the page server is not running");
            None
        }
    };
    let (attached_tx, attached) = watch::channel(Attachments::default());
    let control = match ControlServer::start(service.clone(), attached_tx).await {
        Ok(control) => Some(control),
        Err(e) if options.pages_required => {
            if let Some(web) = web {
                web.stop().await;
            }
            service.shutdown().await;
            return Err(ServiceError::Invalid(e.to_string()));
        }
        Err(e) => {
            // Other commands then find the data dir locked, as before
            // there was a socket; the face itself works.
            tracing::warn!(error = %e, "the control socket is not listening");
            None
        }
    };
    let events_from_start = face.subscribe();
    service.start_workers();
    let addrs = HostAddrs {
        pages: web.as_ref().map(WebServer::addr),
        metrics: web.as_ref().and_then(WebServer::metrics_addr),
        control: control.as_ref().map(|c| c.path().to_path_buf()),
    };
    let (stopping, stopped) = watch::channel(false);
    let (signal_tx, signal) = watch::channel(false);
    let mut tasks = vec![
        tokio::spawn(watch_signals(signal_tx, stopped.clone())),
        tokio::spawn(reaudits(service.clone(), stopped.clone())),
        tokio::spawn(followups(service.clone(), stopped.clone())),
    ];
    if !service.config().imap.host.trim().is_empty() {
        tasks.push(tokio::spawn(inbox_watcher(service.clone(), stopped)));
    }
    let host = Host {
        service,
        stopping,
        tasks,
        control,
        web,
    };
    Ok(Hosted::new(HostedParts {
        client: face,
        addrs,
        attached,
        signal,
        stopper: Box::new(host),
        events_from_start,
    }))
}

impl Stopper for Host {
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let Host {
                service,
                stopping,
                tasks,
                control,
                web,
            } = *self;
            stopping.send_replace(true);
            for task in tasks {
                let _ = task.await;
            }
            // A send an attached client runs would otherwise be cut off
            // by the socket's drain timeout; asked to stop, it ends after
            // the message in hand and its client gets the summary.
            if Api::running_sends(&service)
                .await
                .is_ok_and(|sends| !sends.is_empty())
                && let Err(e) = Api::stop_sends(&service, None).await
            {
                tracing::warn!(error = %e, "running sends could not be stopped");
            }
            if let Some(control) = control {
                control.stop().await;
            }
            if let Some(web) = web {
                web.stop().await;
            }
            service.shutdown().await;
        })
    }
}

/// SIGTERM, SIGINT or SIGHUP turn `signal` true, once.
async fn watch_signals(signal: watch::Sender<bool>, mut stopped: watch::Receiver<bool>) {
    use tokio::signal::unix::{SignalKind, signal as listen};
    let mut kinds = Vec::new();
    for kind in [
        SignalKind::terminate(),
        SignalKind::interrupt(),
        SignalKind::hangup(),
    ] {
        match listen(kind) {
            Ok(s) => kinds.push(s),
            Err(e) => tracing::warn!(error = %e, "cannot listen for a shutdown signal"),
        }
    }
    if kinds.is_empty() {
        let _ = stopped.changed().await;
        return;
    }
    let any = futures::future::select_all(kinds.iter_mut().map(|s| Box::pin(s.recv())));
    tokio::select! {
        _ = any => {
            signal.send_replace(true);
        }
        _ = stopped.changed() => {}
    }
}

/// Starts the re-audits that are due, every `reaudit.check_every`.
async fn reaudits(service: Service, mut stopped: watch::Receiver<bool>) {
    let every = service.config().reaudit.check_every.max(MIN_CHECK);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => match service.start_due_reaudits().await {
                Ok(runs) => {
                    for run in runs {
                        tracing::info!(run = %run.id, campaign = %run.campaign, leads = run.leads, "scheduled re-audit started");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "scheduled re-audits could not start"),
            },
            // The one change there is: stopping.
            _ = stopped.changed() => return,
        }
    }
}

/// Drafts the follow-ups that are due, once at start and every minute
/// (the due times come from the service's clock; a pass is idempotent).
async fn followups(service: Service, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(FOLLOWUP_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => match service.draft_due_followups().await {
                Ok(pass) if pass.drafted > 0 || !pass.failed.is_empty() => tracing::info!(
                    drafted = pass.drafted,
                    approved = pass.approved,
                    stopped = pass.stopped,
                    failed = pass.failed.len(),
                    "follow-ups drafted"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "follow-ups could not be drafted"),
            },
            _ = stopped.changed() => return,
        }
    }
}

/// How often the host looks for follow-ups that became due.
const FOLLOWUP_CHECK: Duration = Duration::from_secs(60);

/// Watches the inbox (IDLE, or polling where the server has none) until
/// the host stops; `Service::watch_inbox` says how.
async fn inbox_watcher(service: Service, stopped: watch::Receiver<bool>) {
    service.watch_inbox(stopped).await;
}

/// A zero `check_every` would make `interval` panic.
const MIN_CHECK: Duration = Duration::from_millis(10);
