//! Parses the command line and hands it to the runtime; nothing else.

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Everything leadscout writes (the data dir, sled's files as it grows,
    // logs, backups, exports) holds tokens or personal data: the
    // operator's alone whatever the shell's umask. Paths that must be
    // shared (the control socket) are chmod-ed explicitly.
    // SAFETY: umask only sets this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let cli = leadscout::cli::Cli::parse();
    leadscout::runtime::run(cli)
}
