//! The command-line interface: clap definitions (`args`) and one handler
//! module per command group. Handlers talk to `service` only and print
//! tables for people or JSON with `--json`.
//!
//! Must not import `store`, `jobs` or `pipeline`; `web` only for the demo's
//! sites. `serve` and `demo` get their host (page server, control socket,
//! workers) from the opener.

pub mod args;
mod audit;
mod blacklist;
mod campaign;
mod data;
pub mod demo;
mod inbox;
mod jobs;
mod leads;
mod output;
mod outreach;
mod report;
mod sequence;
mod settings;

use color_eyre::eyre::Result;

pub use args::{Cli, Command};
use output::Out;

use crate::service::Opener;

/// Runs one command. Returns the process exit code for commands whose
/// outcome is not simply success (e.g. `doctor` with a failing check).
pub async fn run(
    command: Command,
    opener: &dyn Opener,
    json: bool,
) -> Result<std::process::ExitCode> {
    let out = Out::new(json);
    let name = command_name(&command);
    let connect = || crate::service::connect(opener, name);
    match command {
        Command::Restore { dir } => return data::restore(&dir, opener, &out).await,
        Command::Doctor { repair } => return data::doctor(opener, repair, &out).await,
        Command::Run(args) => return jobs::run(args, opener, &out).await,
        Command::Work { until_idle } => return jobs::work(until_idle, opener, &out).await,
        Command::Serve { .. } => return jobs::serve(opener).await,
        Command::Tui => return crate::tui::run(opener).await,
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut command, "leadscout", &mut text);
            return print_generated(&text);
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_mangen::Man::new(command).render(&mut text)?;
            return print_generated(&text);
        }
        Command::Demo { headless, serve } => {
            return demo::run(opener, &[], headless, serve, json).await;
        }
        Command::Campaign(c) => campaign::run(c, &connect().await?, &out).await?,
        Command::Import(args) => data::import(args, &connect().await?, &out).await?,
        Command::Discover(args) => data::discover(args, &connect().await?, &out).await?,
        Command::Log { campaign, limit } => {
            data::action_log(campaign, limit, &connect().await?, &out).await?
        }
        Command::Leads(c) => leads::run(c, &connect().await?, &out).await?,
        Command::Blacklist(c) => blacklist::run(c, &connect().await?, &out).await?,
        Command::Settings(c) => settings::run(c, &connect().await?, &out).await?,
        Command::Export(args) => data::export(args, &connect().await?).await?,
        Command::Backup { dir } => data::backup(&dir, &connect().await?, &out).await?,
        Command::Runs(c) => jobs::runs(c, &connect().await?, &out).await?,
        Command::Jobs(c) => jobs::jobs(c, &connect().await?, &out).await?,
        Command::Audit(c) => audit::run(c, &connect().await?, &out).await?,
        Command::Blobs(args::BlobsCommand::Gc) => data::blobs_gc(&connect().await?, &out).await?,
        Command::Report(c) => report::run(c, &connect().await?, &out).await?,
        Command::Outreach(c) => return outreach::run(c, &connect().await?, &out).await,
        Command::Inbox(c) => inbox::run(c, &connect().await?, &out).await?,
        Command::Sequence(c) => sequence::run(c, &connect().await?, &out).await?,
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Writes generated text to stdout; a reader that stops early (`| head`)
/// is not an error.
fn print_generated(text: &[u8]) -> Result<std::process::ExitCode> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(std::process::ExitCode::SUCCESS),
    }
}

/// The subcommand's name, recorded as the holder of the data dir.
pub fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Campaign(_) => "campaign",
        Command::Import(_) => "import",
        Command::Discover(_) => "discover",
        Command::Log { .. } => "log",
        Command::Leads(_) => "leads",
        Command::Blacklist(_) => "blacklist",
        Command::Settings(_) => "settings",
        Command::Export(_) => "export",
        Command::Backup { .. } => "backup",
        Command::Restore { .. } => "restore",
        Command::Doctor { .. } => "doctor",
        Command::Run(_) => "run",
        Command::Work { .. } => "work",
        Command::Runs(_) => "runs",
        Command::Jobs(_) => "jobs",
        Command::Serve { .. } => "serve",
        Command::Tui => "tui",
        Command::Completions { .. } => "completions",
        Command::Man => "man",
        Command::Demo { .. } => "demo",
        Command::Audit(_) => "audit",
        Command::Blobs(_) => "blobs",
        Command::Report(_) => "report",
        Command::Outreach(_) => "outreach",
        Command::Inbox(_) => "inbox",
        Command::Sequence(_) => "sequence",
    }
}
