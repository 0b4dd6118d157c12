//! The command-line interface: clap definitions (`args`) and one handler
//! module per command group. Handlers talk to `service` only and print
//! tables for people or JSON with `--json`.
//!
//! Must not import `store`, `jobs` or `pipeline`.

pub mod args;
mod blacklist;
mod campaign;
mod data;
mod leads;
mod output;
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
    match command {
        Command::Restore { dir } => return data::restore(&dir, opener, &out),
        Command::Doctor => return data::doctor(opener, &out).await,
        _ => {}
    }
    let service = opener.open(name)?;
    match command {
        Command::Campaign(c) => campaign::run(c, &service, &out).await?,
        Command::Import(args) => data::import(args, &service, &out).await?,
        Command::Leads(c) => leads::run(c, &service, &out).await?,
        Command::Blacklist(c) => blacklist::run(c, &service, &out).await?,
        Command::Settings(c) => settings::run(c, &service, &out).await?,
        Command::Export(args) => data::export(args, &service).await?,
        Command::Backup { dir } => data::backup(&dir, &service, &out).await?,
        Command::Restore { .. } | Command::Doctor => {
            unreachable!("handled before the store is opened")
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// The subcommand's name, recorded as the holder of the data dir.
pub fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Campaign(_) => "campaign",
        Command::Import(_) => "import",
        Command::Leads(_) => "leads",
        Command::Blacklist(_) => "blacklist",
        Command::Settings(_) => "settings",
        Command::Export(_) => "export",
        Command::Backup { .. } => "backup",
        Command::Restore { .. } => "restore",
        Command::Doctor => "doctor",
    }
}
