//! Integration tests: the real binary and the real store, in temp dirs.

/// Runs each named test body twice: `embedded::NAME` with the store opened
/// by each command, and `attached::NAME` with every command attached to a
/// `leadscout serve` child. Same body, same expected output.
macro_rules! both_modes {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[test] fn $name() { super::$name(crate::helpers::Cli::new()) })*
        }
        mod attached {
            $(#[test] fn $name() { super::$name(crate::helpers::Cli::new().attached()) })*
        }
    };
}

mod a11y;
mod action_log;
mod attach;
mod attach_guard;
mod backup;
mod browser;
mod browser_driver;
mod cli_basics;
mod crash_import;
mod demo;
mod discover;
mod effective_settings;
mod engine;
mod engine_crash;
mod fetch_audit;
mod grid;
mod grid_remote;
mod grid_runs;
mod helpers;
mod host;
mod hostile;
mod hostile_text;
mod imap;
mod import_files;
mod inbox;
mod inbox_watch;
mod journey;
mod lab_metrics;
mod layers;
mod operator_view;
mod outreach;
mod page_server;
mod reaudit;
mod remote_proxy;
mod repair;
mod report;
mod report_export;
mod secrets;
mod send_race;
mod sequence;
mod smtp;
mod smtp_tls;
mod smtp_tls_server;
mod speed_draft;
mod testbed;
mod tui;
mod tui_answers;
mod tui_inbox;
mod tui_messages;
mod undo;
mod unsubscribe;
mod verify;
mod views;
