//! The composition root: loads the config, sets up logging, builds the tokio
//! runtime, and opens the store behind the service for each command. The
//! only module (with `main.rs`) that sees every other module.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::{Cli, Command};
use crate::config::{Config, ConfigFile, LogFormat, default_data_dir, describe_file};
use crate::domain::{Clock, IdGen, Stage, SystemClock};
use crate::jobs::{EngineHandle, EngineParts, EventBus, StageSet};
use crate::service::{HostOptions, Hosted, Opener, Service, ServiceError, ServiceParts};
use crate::store::Store;

/// Runs the parsed command line to completion and returns the exit code.
/// Errors are printed as one line on stderr.
pub fn run(cli: Cli) -> ExitCode {
    run_with(cli, None)
}

/// Like [`run`], with the stages a run can use given by the caller (the
/// engine's own tests run it with test stages) instead of the pipeline.
pub fn run_with(mut cli: Cli, stages: Option<StageSet>) -> ExitCode {
    // The panic hook prints a readable report; the TUI adds terminal
    // restoration in front of it.
    let _ = color_eyre::install();
    let command = cli.command.take().unwrap_or(Command::Tui);
    let data_dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
    let config_file = match &cli.config {
        Some(path) => Some(ConfigFile {
            path: path.clone(),
            explicit: true,
        }),
        None => ConfigFile::default_location(),
    };
    let given_names = stages.as_ref().map(StageSet::names).unwrap_or_default();
    let stage_names: Vec<&str> = match &stages {
        Some(_) => given_names.iter().map(|s| s.as_str()).collect(),
        None => crate::jobs::stages::PIPELINE.to_vec(),
    };
    let (config, config_problem) = match Config::load_with_stages(
        config_file.as_ref(),
        std::env::vars(),
        Some(&stage_names),
    ) {
        Ok(config) => (config, None),
        Err(e) if matches!(command, Command::Doctor { .. }) => {
            (Config::default(), Some(e.to_string()))
        }
        Err(e) => {
            eprintln!("leadscout: {e}");
            return ExitCode::FAILURE;
        }
    };
    match &command {
        Command::Serve { log_format } => {
            let format = match log_format {
                Some(crate::cli::args::LogFormatArg::Json) => LogFormat::Json,
                Some(crate::cli::args::LogFormatArg::Text) => LogFormat::Text,
                None => config.log.format,
            };
            init_logging(&config.log.level, format, Writer::Stdout);
        }
        Command::Demo {
            headless: false, ..
        } => {
            let path = std::env::temp_dir().join("leadscout-demo.log");
            init_logging(&config.log.level, config.log.format, Writer::File(path));
        }
        Command::Tui => {
            // The screen is the TUI's; logs go to a file in the data dir.
            let _ = std::fs::create_dir_all(&data_dir);
            init_logging(
                &config.log.level,
                config.log.format,
                Writer::File(data_dir.join("leadscout.log")),
            );
        }
        _ => {
            let level = match cli.verbose {
                0 => "warn".to_string(),
                1 => config.log.level.clone(),
                _ => "debug".to_string(),
            };
            init_logging(&level, config.log.format, Writer::Stderr);
        }
    }
    let stage_names: Vec<Stage> = stage_names
        .iter()
        .filter_map(|n| Stage::new(n).ok())
        .collect();
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
    let config_file = describe_file(config_file.as_ref());
    let make_opener = |data_dir: PathBuf, config: Config| LocalOpener {
        data_dir,
        socket: cli.socket.clone(),
        read_only: cli.read_only,
        stages: stages.clone(),
        stage_names: stage_names.clone(),
        bus: Arc::new(EventBus::new()),
        config: Arc::new(config),
        config_file: config_file.clone(),
        config_problem: config_problem.clone(),
        clock: Arc::new(SystemClock),
        ids: Arc::new(IdGen::new()),
    };
    let config = match &command {
        Command::Demo { .. } => config,
        _ => {
            let mut config = config;
            crate::web::demo::allow_demo_links(&data_dir, &mut config);
            config
        }
    };
    let result = match command {
        Command::Demo { headless, serve } => runtime.block_on(async {
            let (data_dir, config, sites) = prepare_demo(cli.data_dir.clone(), config).await?;
            let opener = make_opener(data_dir, config);
            crate::cli::demo::run(&opener, &sites, headless, serve, cli.json).await
        }),
        command => {
            let opener = make_opener(data_dir, config);
            runtime.block_on(crate::cli::run(command, &opener, cli.json))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("leadscout: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The demo's setting: its sites served on loopback and allowed (only
/// them) through the egress guard, a data dir of its own unless one was
/// given, a free port for the page server and its metrics. A new or empty
/// data dir (or one the demo made before) becomes a demo workspace, so
/// opening it again later serves the sites again where its leads point.
async fn prepare_demo(
    data_dir: Option<PathBuf>,
    mut config: Config,
) -> color_eyre::eyre::Result<(PathBuf, Config, Vec<crate::web::demo::DemoSite>)> {
    use crate::web::demo::{DemoWorkspace, StoredSite};
    let dir = data_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "leadscout-demo-{}",
            jiff::Timestamp::now().as_second()
        ))
    });
    let earlier = DemoWorkspace::load(&dir).map_err(|e| color_eyre::eyre::eyre!(e))?;
    // A data dir with other data in it is not marked: its own sending and
    // fetching must not pick up the demo's allowances later.
    let fresh = std::fs::read_dir(&dir).map_or(true, |mut entries| entries.next().is_none());
    let stored = earlier
        .as_ref()
        .map(|w| w.sites.clone())
        .unwrap_or_default();
    let served = crate::web::demo::serve_sites(&crate::web::demo::bundled_sites(), &stored)
        .map_err(|e| color_eyre::eyre::eyre!(e))?;
    for t in &served.taken {
        eprintln!(
            "leadscout: the demo site of {} cannot listen on {} again ({}); re-running that lead's stages needs port {} free",
            t.name,
            t.addr,
            t.why,
            t.addr.port()
        );
    }
    let workspace = DemoWorkspace {
        about: DemoWorkspace::ABOUT.into(),
        sites: served
            .sites
            .iter()
            .map(|s| StoredSite {
                dir: s.dir.clone(),
                addr: s.addr,
            })
            .chain(served.taken.iter().map(|t| StoredSite {
                dir: t.dir.clone(),
                addr: t.addr,
            }))
            .collect(),
        pages_bind: String::new(),
        // The demo's report pages live on this machine by design; its
        // drafts may go with local unsubscribe links only to an SMTP
        // server on this machine too (see `DemoWorkspace::apply`).
        allow_local_unsubscribe_links: true,
    };
    workspace.apply(&served, &mut config);
    let earlier_pages = earlier.as_ref().map(|w| w.pages_bind.as_str());
    match earlier_pages {
        Some(bind) if !bind.is_empty() && std::net::TcpListener::bind(bind).is_ok() => {
            config.server.bind = bind.to_string();
        }
        _ if std::net::TcpListener::bind(&config.server.bind).is_err() => {
            let free = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
            config.server.bind = free.to_string();
        }
        _ => {}
    }
    if let Some(metrics) = config.server.metrics_addr()
        && std::net::TcpListener::bind(metrics).is_err()
    {
        let free = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        config.server.metrics_bind = free.to_string();
    }
    if earlier.is_some() || fresh {
        let workspace = DemoWorkspace {
            pages_bind: config.server.bind.clone(),
            ..workspace
        };
        workspace
            .save(&dir)
            .map_err(|e| color_eyre::eyre::eyre!(e))?;
    }
    Ok((dir, config, served.sites))
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

enum Writer {
    Stdout,
    Stderr,
    File(PathBuf),
}

/// Headless mode logs to stdout; one-shot commands log warnings to stderr
/// (`-v` shows the configured level, `-vv` debug).
fn init_logging(filter: &str, format: LogFormat, writer: Writer) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if let Writer::File(path) = &writer {
        let Ok(file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        else {
            return;
        };
        let file = std::sync::Mutex::new(file);
        let _ = match format {
            LogFormat::Json => builder.json().with_ansi(false).with_writer(file).try_init(),
            LogFormat::Text => builder.with_ansi(false).with_writer(file).try_init(),
        };
        return;
    }
    let _ = match (format, writer) {
        (LogFormat::Json, Writer::Stdout) => builder.json().with_writer(std::io::stdout).try_init(),
        (LogFormat::Json, Writer::Stderr) => builder.json().with_writer(std::io::stderr).try_init(),
        (LogFormat::Text, Writer::Stdout) => builder.with_writer(std::io::stdout).try_init(),
        (LogFormat::Text, Writer::Stderr) => builder.with_writer(std::io::stderr).try_init(),
        (_, Writer::File(_)) => Ok(()),
    };
}

/// A service with what only the composition root can give it: the page
/// renderer for `report export`.
fn service(parts: ServiceParts) -> Service {
    Service::new(parts).with_site_export(Arc::new(crate::web::SiteExporter))
}

/// Opens the store in this process.
pub struct LocalOpener {
    data_dir: PathBuf,
    /// `--socket`: attach to this server instead of looking in the data dir.
    socket: Option<PathBuf>,
    /// `--read-only`.
    read_only: bool,
    /// Stages given by the caller; `None` builds the pipeline's when
    /// workers start (building HTTP clients is not free, and most commands
    /// never run jobs).
    stages: Option<StageSet>,
    stage_names: Vec<Stage>,
    bus: Arc<EventBus>,
    config: Arc<Config>,
    config_file: String,
    config_problem: Option<String>,
    clock: Arc<dyn Clock>,
    ids: Arc<IdGen>,
}

impl LocalOpener {
    /// An opener over `data_dir` with the pipeline's stages, for programs
    /// that embed leadscout (the tests and benchmarks do).
    /// Attaches to the server on `socket` instead of opening the store.
    pub fn with_socket(mut self, socket: PathBuf) -> Self {
        self.socket = Some(socket);
        self
    }

    /// Uses `clock` for "now" (tests move time, e.g. past a link's expiry).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn new(data_dir: PathBuf, config: Config) -> Self {
        Self {
            data_dir,
            socket: None,
            read_only: false,
            stages: None,
            stage_names: crate::jobs::stages::PIPELINE
                .iter()
                .filter_map(|n| Stage::new(n).ok())
                .collect(),
            bus: Arc::new(EventBus::new()),
            config: Arc::new(config),
            config_file: "(given by the caller)".into(),
            config_problem: None,
            clock: Arc::new(SystemClock),
            ids: Arc::new(IdGen::new()),
        }
    }

    fn parts(
        &self,
        store: Arc<Store>,
        engine: Option<Arc<EngineHandle>>,
        config: Arc<Config>,
    ) -> ServiceParts {
        ServiceParts {
            store,
            config,
            clock: self.clock.clone(),
            ids: self.ids.clone(),
            stages: self.stage_names.clone(),
            bus: self.bus.clone(),
            engine,
        }
    }

    /// A service over the opened `store` with workers whose stages run
    /// under `config` (a reopened demo workspace adds its sites to the
    /// operator's config).
    fn with_workers(
        &self,
        store: Arc<Store>,
        config: Arc<Config>,
    ) -> Result<Service, ServiceError> {
        let stages = match &self.stages {
            Some(stages) => stages.clone(),
            None => crate::jobs::stages::pipeline(&config)
                .map_err(|e| ServiceError::Invalid(format!("cannot set up the pipeline: {e}")))?,
        };
        let engine = EngineHandle::start(EngineParts {
            store: store.clone(),
            config: config.clone(),
            clock: self.clock.clone(),
            ids: self.ids.clone(),
            stages,
            bus: self.bus.clone(),
        })?;
        Ok(service(self.parts(store, Some(Arc::new(engine)), config)))
    }
}

impl LocalOpener {
    /// Over a demo workspace, serves its sites again and gives the config
    /// that admits them; otherwise the config as it is. The demo itself
    /// has served its sites already (it set their authority).
    fn reopen_demo(&self) -> (Option<crate::host::Reopened>, Arc<Config>) {
        let reopened = match self.config.fetch.demo_root {
            Some(_) => None,
            None => crate::host::reopen_demo(&self.data_dir, &self.config),
        };
        let config = reopened
            .as_ref()
            .map(|r| r.config.clone())
            .unwrap_or_else(|| self.config.clone());
        (reopened, config)
    }
}

impl Opener for LocalOpener {
    fn open(&self, command: &str) -> Result<Service, ServiceError> {
        let store = Arc::new(Store::open(&self.data_dir, command)?);
        Ok(service(self.parts(store, None, self.config.clone())))
    }

    fn open_with_workers(&self, command: &str) -> Result<Service, ServiceError> {
        let store = Arc::new(Store::open(&self.data_dir, command)?);
        // Workers over a demo workspace (`run --wait`, `work`) fetch its
        // sites: they are served again here too.
        let (reopened, config) = self.reopen_demo();
        // A one-shot command says it on stderr; a host records it too.
        for note in reopened.iter().flat_map(|r| &r.notes) {
            tracing::warn!("{note}");
        }
        self.with_workers(store, config)
    }

    fn start_host<'a>(
        &'a self,
        command: &'a str,
        options: HostOptions,
    ) -> futures::future::BoxFuture<'a, Result<Hosted, ServiceError>> {
        Box::pin(async move {
            // The store first: a host that finds the data dir taken
            // attaches instead, and must not have served anything.
            let store = Arc::new(Store::open(&self.data_dir, command)?);
            let (reopened, config) = self.reopen_demo();
            let config = crate::host::pin_page_port(config);
            let service = self.with_workers(store, config)?;
            let face = crate::service::face_client(&service, command, self.read_only);
            let hosted = crate::host::start(service.clone(), face, options).await?;
            if let Some(reopened) = reopened {
                crate::host::tell_reopened(&service, &reopened);
            }
            Ok(hosted)
        })
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

    fn explicit_socket(&self) -> Option<&Path> {
        self.socket.as_deref()
    }

    fn read_only(&self) -> bool {
        self.read_only
    }
}
