//! leadscout: audit-led outreach from the terminal.
//!
//! Module map (arrows point at what may be used; see DESIGN.md):
//! `domain` ← `store` ← `service` ← `cli`; `config` is read by all;
//! `runtime` composes everything; `host` (workers, page server, control
//! socket, schedulers, shutdown) is the part of it every face starts.

pub mod cli;
pub mod config;
pub mod domain;
pub mod host;
pub mod jobs;
pub mod pipeline;
pub mod runtime;
pub mod service;
pub mod store;
pub mod tui;
pub mod web;

/// The version shown by `--version` and recorded in pid files and backups.
/// The version, with the git commit when built from a checkout.
pub const VERSION: &str = env!("LEADSCOUT_VERSION");
