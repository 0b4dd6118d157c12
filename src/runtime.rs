//! The composition root: loads the config, sets up logging, builds the tokio
//! runtime, and opens the store behind the service for each command. The
//! only module (with `main.rs`) that sees every other module.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::{Cli, Command};
use crate::config::{Config, ConfigFile, default_data_dir, describe_file};
use crate::domain::{Clock, IdGen, SystemClock};
use crate::service::{Opener, Service, ServiceError};
use crate::store::Store;

/// Runs the parsed command line to completion and returns the exit code.
/// Errors are printed as one line on stderr.
pub fn run(cli: Cli) -> ExitCode {
    // The panic hook prints a readable report; the TUI adds terminal
    // restoration in front of it.
    let _ = color_eyre::install();
    let data_dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
    let config_file = match &cli.config {
        Some(path) => Some(ConfigFile {
            path: path.clone(),
            explicit: true,
        }),
        None => ConfigFile::default_location(),
    };
    let (config, config_problem) = match Config::load(config_file.as_ref(), std::env::vars()) {
        Ok(config) => (config, None),
        Err(e) if matches!(cli.command, Command::Doctor) => {
            (Config::default(), Some(e.to_string()))
        }
        Err(e) => {
            eprintln!("leadscout: {e}");
            return ExitCode::FAILURE;
        }
    };
    init_cli_logging(&config, cli.verbose);
    let opener = LocalOpener {
        data_dir,
        config: Arc::new(config),
        config_file: describe_file(config_file.as_ref()),
        config_problem,
        clock: Arc::new(SystemClock),
        ids: Arc::new(IdGen::new()),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("leadscout: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(crate::cli::run(cli.command, &opener, cli.json));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("leadscout: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line.
fn one_line(err: &color_eyre::eyre::Report) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ").replace('\n', " ")
}

/// One-shot commands log warnings to stderr; `-v` shows the configured
/// level, `-vv` debug.
fn init_cli_logging(config: &Config, verbose: u8) {
    let filter = match verbose {
        0 => "warn".to_string(),
        1 => config.log.level.clone(),
        _ => "debug".to_string(),
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match config.log.format {
        crate::config::LogFormat::Json => builder.json().try_init(),
        crate::config::LogFormat::Text => builder.try_init(),
    };
}

/// Opens the store in this process.
pub struct LocalOpener {
    data_dir: PathBuf,
    config: Arc<Config>,
    config_file: String,
    config_problem: Option<String>,
    clock: Arc<dyn Clock>,
    ids: Arc<IdGen>,
}

impl Opener for LocalOpener {
    fn open(&self, command: &str) -> Result<Service, ServiceError> {
        let store = Store::open(&self.data_dir, command)?;
        Ok(Service::new(
            Arc::new(store),
            self.config.clone(),
            self.clock.clone(),
            self.ids.clone(),
        ))
    }

    fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn config_file(&self) -> String {
        self.config_file.clone()
    }

    fn config_problem(&self) -> Option<&str> {
        self.config_problem.as_deref()
    }
}
