//! The wire format of the control socket: what a server says about
//! itself, how errors travel, and the line frames of the streaming calls.
//!
//! Plain calls are `POST /v1/call/NAME` with a JSON array of arguments,
//! answered with the JSON of the result. Streaming calls are
//! `POST /v1/stream/NAME`, answered with lines, each a one-byte tag and a
//! JSON payload: `i` an item, `o` the final result, `e` an error, `h` a
//! heartbeat. Every call of either kind is declared once in `api`.

use std::path::PathBuf;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::service::{Result, Service, ServiceError};

/// Bumped whenever a call changes shape; client and server must agree.
pub const PROTOCOL: u32 = 2;

/// The socket's file name in the data dir.
pub const SOCKET_NAME: &str = "control.sock";

/// Headers a client sends with each call: how it shows in the action log,
/// and that it only browses.
pub const VIA_HEADER: &str = "x-leadscout-via";
pub const READ_ONLY_HEADER: &str = "x-leadscout-read-only";

pub const ITEM: u8 = b'i';
pub const DONE: u8 = b'o';
pub const ERROR: u8 = b'e';
/// A frame that only says the server is still there (a long send, a
/// quiet event feed).
pub const HEARTBEAT_TAG: u8 = b'h';

/// One item of the event feed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedItem {
    Event(crate::domain::event::Event),
    Stats(crate::domain::event::QueueStats),
    /// The server's own listener fell behind: reload everything.
    Lagged,
}

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
            "version mismatch: this is leadscout {}, the host (`{}`, pid {}) runs leadscout {}; use the same version on both sides (restart the host after an upgrade)",
            crate::VERSION,
            self.host,
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

/// The final frame of a stream: its result or its error.
pub fn end_frame<T: Serialize>(result: Result<T>) -> Bytes {
    match result {
        Ok(value) => frame(DONE, &value),
        Err(e) => frame(ERROR, &WireError::of(&e)),
    }
}
