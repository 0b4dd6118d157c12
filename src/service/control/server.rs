//! The server end of the control socket, run by the host: `control.sock`
//! in the data dir (mode 0600), HTTP with JSON bodies, for the CLI and the
//! TUI of the same OS user. The peer's uid is checked with SO_PEERCRED on
//! every connection, so a socket made readable by mistake still refuses
//! other users.
//!
//! The calls themselves come from the table in `api` (`dispatch` and
//! `dispatch_stream`); this file is the axum glue, the guard and the caps,
//! and it counts who is attached.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::IncomingStream;
use tokio::net::UnixListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::wire::{self, ServerInfo, WireError};
use crate::service::{Attachments, CallMode, Service, ServiceError};

/// The OS user at the other end of a connection.
#[derive(Debug, Clone, Copy)]
struct Peer {
    uid: Option<u32>,
}

impl Connected<IncomingStream<'_, UnixListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, UnixListener>) -> Self {
        Self {
            uid: stream.io().peer_cred().ok().map(|c| c.uid()),
        }
    }
}

struct Control {
    service: Service,
    stop: watch::Receiver<bool>,
    import_limit: usize,
    /// Who is attached: streams open (event feeds, sends, lists).
    attached: Arc<watch::Sender<Attachments>>,
}

/// Counts one attached client from the start of its stream until the
/// response body is dropped (read to the end, or the client left and a
/// write failed; the event feed's heartbeat makes that within a second).
struct Attachment {
    attached: Arc<watch::Sender<Attachments>>,
}

impl Attachment {
    fn new(attached: &Arc<watch::Sender<Attachments>>) -> Self {
        attached.send_modify(|a| a.clients += 1);
        Self {
            attached: attached.clone(),
        }
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        self.attached
            .send_modify(|a| a.clients = a.clients.saturating_sub(1));
    }
}

type Shared = State<Arc<Control>>;

fn reply_error(error: &ServiceError) -> Response {
    wire_reply(WireError::of(error))
}

fn wire_reply(error: WireError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(error)).into_response()
}

fn json_bytes(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// Refuses every connection from another OS user, unless the server lets
/// them browse (`server.others_read_only`); their calls are then read-only.
async fn same_user_only(
    State(control): Shared,
    ConnectInfo(peer): ConnectInfo<Peer>,
    request: Request,
    next: Next,
) -> Response {
    let own = crate::service::actions::own_uid();
    match peer.uid {
        Some(uid) if uid == own => next.run(request).await,
        Some(_) if control.service.config().server.others_read_only => next.run(request).await,
        Some(uid) => wire_reply(WireError::forbidden(format!(
            "this leadscout server belongs to uid {own}; uid {uid} may not attach to it"
        ))),
        None => wire_reply(WireError::forbidden(
            "the server cannot tell who is connecting, so it refuses".to_string(),
        )),
    }
}

/// The body cap of every call but `import`: arguments are small.
const CALL_BODY_LIMIT: usize = 1024 * 1024;

/// Which table a request's call comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Call,
    Stream,
}

/// The call a request names: its kind and method.
fn named_call(path: &str) -> Option<(Kind, &str)> {
    if let Some(method) = path.strip_prefix("/v1/call/") {
        Some((Kind::Call, method))
    } else {
        path.strip_prefix("/v1/stream/")
            .map(|method| (Kind::Stream, method))
    }
}

/// Whether a call changes something; a call the tables do not name
/// counts as a change (it is refused to read-only clients, then not found).
fn call_mode(kind: Kind, method: &str) -> CallMode {
    match kind {
        Kind::Call => crate::service::call_mode(method),
        Kind::Stream => crate::service::stream_mode(method),
    }
    .unwrap_or(CallMode::Write)
}

/// Runs after the peer check and before any body is read: a change asked
/// by a read-only client is refused by the one read-only guard, and a body
/// larger than the call's cap is refused by its declared length (or cut
/// off at the cap when it declares none). Only `upload` calls carry a file.
async fn gate(
    State(control): Shared,
    ConnectInfo(peer): ConnectInfo<Peer>,
    request: Request,
    next: Next,
) -> Response {
    let Some((kind, method)) = named_call(request.uri().path()) else {
        return next.run(request).await;
    };
    if call_mode(kind, method) == CallMode::Write
        && let Err(e) = acting(&control, peer, request.headers()).refuse_if_read_only(method)
    {
        return reply_error(&e);
    }
    let cap = if kind == Kind::Call && crate::service::carries_file(method) {
        control.import_limit
    } else {
        CALL_BODY_LIMIT
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        let error = WireError::of(&ServiceError::Invalid(format!(
            "the `{method}` call sends {} bytes; the control socket takes at most {} bytes for it",
            declared.unwrap_or_default(),
            cap
        )));
        return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(error)).into_response();
    }
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, cap)));
    next.run(request).await
}

/// The service acting for the client of this call: its OS user, how it
/// came (a header it sends), and read-only when it asks or is another user.
fn acting(control: &Control, peer: Peer, headers: &axum::http::HeaderMap) -> Service {
    use crate::service::actions::{own_uid, own_user, user_name};
    let uid = peer.uid.unwrap_or(u32::MAX);
    let via = headers
        .get(wire::VIA_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("control socket");
    let same_user = uid == own_uid();
    let read_only = headers.contains_key(wire::READ_ONLY_HEADER) || !same_user;
    control
        .service
        .with_actor(crate::domain::action_log::Actor {
            // The usual caller is the server's own user: no lookup per call.
            user: if same_user {
                own_user().to_string()
            } else {
                user_name(uid)
            },
            via: via.to_string(),
            read_only,
        })
}

async fn hello(State(control): Shared) -> Response {
    axum::Json(ServerInfo::of(&control.service)).into_response()
}

async fn call(
    State(control): Shared,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: axum::http::HeaderMap,
    UrlPath(method): UrlPath<String>,
    body: Bytes,
) -> Response {
    let service = acting(&control, peer, &headers);
    match crate::service::dispatch(&service, &method, &body).await {
        Ok(bytes) => json_bytes(bytes),
        Err(e) => reply_error(&e),
    }
}

fn frames(rx: tokio::sync::mpsc::Receiver<Bytes>, attachment: Attachment) -> Response {
    let stream = futures::stream::unfold((rx, attachment), |(mut rx, attachment)| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), (rx, attachment)))
    });
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn stream(
    State(control): Shared,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: axum::http::HeaderMap,
    UrlPath(method): UrlPath<String>,
    body: Bytes,
) -> Response {
    let service = acting(&control, peer, &headers);
    match crate::service::api::dispatch_stream(service, &method, &body, control.stop.clone()) {
        Ok(rx) => frames(rx, Attachment::new(&control.attached)),
        Err(e) => reply_error(&e),
    }
}

async fn blob(State(control): Shared, UrlPath(name): UrlPath<String>) -> Response {
    match control.service.screenshot(&name).await {
        Ok(Some(png)) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        Ok(None) => reply_error(&ServiceError::NotFound(format!("no screenshot {name}"))),
        Err(e) => reply_error(&e),
    }
}

/// The body cap of `import`: the file (base64) in the call. The service
/// checks the file size limit itself, with a message that names it.
fn import_limit(service: &Service) -> usize {
    let max_mb = service.config().import.max_file_mb as usize;
    (max_mb.saturating_mul(4) / 3 + 1).saturating_mul(1024 * 1024)
}

fn router(control: Arc<Control>) -> Router {
    Router::new()
        .route("/v1/hello", get(hello))
        .route("/v1/call/{method}", post(call))
        .route("/v1/stream/{method}", post(stream))
        .route("/v1/blob/{name}", get(blob))
        // `gate` caps each body by its call; no second, global cap.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(control.clone(), gate))
        .layer(axum::middleware::from_fn_with_state(
            control.clone(),
            same_user_only,
        ))
        .with_state(control)
}

#[derive(Debug, thiserror::Error)]
#[error("cannot listen on the control socket {path}: {source}")]
pub struct ControlError {
    path: String,
    source: std::io::Error,
}

/// The control socket, listening.
pub struct ControlServer {
    path: PathBuf,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ControlServer {
    /// Listens on `control.sock` in the service's data dir. The caller
    /// holds the store's lock, so a socket file already there was left by
    /// a server that died; it is replaced.
    /// `attached` counts who is attached while it listens.
    pub async fn start(
        service: Service,
        attached: watch::Sender<Attachments>,
    ) -> Result<Self, ControlError> {
        let path = service.data_dir().join(wire::SOCKET_NAME);
        if service.config().server.others_read_only {
            // Other users must reach the socket: they may pass through the
            // data dir (0711) but not list it, and its files stay 0600.
            std::fs::set_permissions(service.data_dir(), std::fs::Permissions::from_mode(0o711))
                .map_err(|source| ControlError {
                    path: service.data_dir().display().to_string(),
                    source,
                })?;
        }
        Self::start_at(service, &path, attached).await
    }

    pub async fn start_at(
        service: Service,
        path: &Path,
        attached: watch::Sender<Attachments>,
    ) -> Result<Self, ControlError> {
        let fail = |source| ControlError {
            path: path.display().to_string(),
            source,
        };
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(fail(e)),
            _ => {}
        }
        let listener = UnixListener::bind(path).map_err(fail)?;
        let mode = if service.config().server.others_read_only {
            0o666
        } else {
            0o600
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(fail)?;
        let (stop, stopped) = watch::channel(false);
        let control = Arc::new(Control {
            import_limit: import_limit(&service),
            service,
            stop: stopped.clone(),
            attached: Arc::new(attached),
        });
        let app = router(control).into_make_service_with_connect_info::<Peer>();
        let mut until = stopped;
        let task = tokio::spawn(async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = until.wait_for(|stop| *stop).await;
            });
            if let Err(e) = serving.await {
                tracing::error!(error = %e, "control socket stopped");
            }
        });
        Ok(Self {
            path: path.to_path_buf(),
            stop,
            task,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops listening, ends the event feeds, lets calls in flight finish
    /// (at most 5 s) and removes the socket file.
    pub async fn stop(mut self) {
        self.stop.send_replace(true);
        if tokio::time::timeout(std::time::Duration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}
