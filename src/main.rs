//! Parses the command line and hands it to the runtime; nothing else.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = leadscout::cli::Cli::parse();
    leadscout::runtime::run(cli)
}
