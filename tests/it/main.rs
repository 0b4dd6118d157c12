//! Integration tests: the real binary and the real store, in temp dirs.

mod backup;
mod browser;
mod cli_basics;
mod crash_import;
mod demo;
mod engine;
mod engine_crash;
mod fetch_audit;
mod helpers;
mod hostile;
mod import_files;
mod outreach;
mod report;
mod secrets;
mod smtp;
mod testbed;
mod tui;
