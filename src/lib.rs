//! leadscout: audit-led outreach from the terminal.
//!
//! The map of the code — layers, what each may import, where each concern
//! lives, the invariants and how a lead becomes a sent email — is
//! `ARCHITECTURE.md` at the top of the repository. In short (arrows point
//! at what may be used): `domain` ← `store` ← `jobs` ← `service` ← `cli`,
//! `tui`, `web`; `pipeline` → `domain`; `config` is read by all; `runtime`
//! composes everything, and `host` (workers, page server, control socket,
//! schedulers, shutdown) is the part of it every face starts.

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
