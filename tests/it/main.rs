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
mod engine;
mod engine_crash;
mod fetch_audit;
mod helpers;
mod hostile;
mod import_files;
mod outreach;
mod reaudit;
mod report;
mod report_export;
mod secrets;
mod smtp;
mod testbed;
mod tui;
mod views;
