//! The screenshot stage's logic: a pool of WebDriver sessions on Chromium,
//! each behind its own egress proxy and with one window per view
//! ([`windows`]), that loads a page as a phone and as a desktop, takes
//! viewport (and capped full-page) screenshots, and measures
//! what the browser saw: paint timings, layout shift, requests, script
//! errors, overflow, tap targets, font sizes, and (on the phone view)
//! accessibility with axe-core's semantics ([`a11y`]), and (on the phone
//! view) the page-load trace behind the audit's `metrics` and its
//! Lighthouse-style mobile estimate ([`trace`]).

pub mod a11y;
mod auth;
pub mod checks;
mod cleanup;
pub mod driver;
mod errors;
mod path;
pub mod picture;
mod pool;
pub mod proxy;
mod proxy_auth;
mod scripts;
pub mod trace;
mod windows;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use thirtyfour::prelude::*;
use thirtyfour::{ChromeCapabilities, LoggingPrefsLogLevel};
use tokio::sync::Semaphore;
use url::Url;

use crate::config::{Config, WebDriverConfig};
use crate::pipeline::fetch::guard::EgressGuard;
use driver::{Driver, DriverError, find_browser};
pub use path::{Hop, HopResult};
use pool::{Pool, Take};
use proxy::{EgressProxy, ProxyServer};

const DESKTOP: Viewport = Viewport {
    width: 1366,
    height: 768,
    scale: 1,
    mobile: false,
};
const MOBILE: Viewport = Viewport {
    width: 390,
    height: 844,
    // 2, not 3: the same page, 44% of the pixels to render, encode and keep.
    scale: 2,
    mobile: true,
};
const MOBILE_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-quic",
    "--hide-scrollbars",
    "--mute-audio",
    // No crash reporter: its handler detaches and outlives the browser.
    "--disable-crash-reporter",
    "--disable-breakpad",
    // Memory: the GPU work in the browser process, no extra renderers for
    // cross-site frames (pages are only looked at, never logged in to).
    "--in-process-gpu",
    "--disable-site-isolation-trials",
    "--disable-features=site-per-process,Translate,OptimizationHints,MediaRouter,BackForwardCache",
    "--renderer-process-limit=2",
    // WebRTC could reach the network over UDP, around the proxy.
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
];

/// Whether Chromium runs in its sandbox. It does, unless leadscout runs as
/// root: Chromium refuses to start as root with a sandbox, so there (and
/// only there) it gets `--no-sandbox`, and `doctor` says so.
pub fn sandbox_off_reason() -> Option<&'static str> {
    let root = uzers::get_effective_uid() == 0;
    root.then_some("running as root")
}

#[derive(Debug, Clone, Copy)]
struct Viewport {
    width: u32,
    height: u32,
    scale: u32,
    mobile: bool,
}

/// What the browser measured on one page load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PageMetrics {
    pub ttfb_ms: Option<f64>,
    pub fcp_ms: Option<f64>,
    pub lcp_ms: Option<f64>,
    pub cls: Option<f64>,
    pub dcl_ms: Option<f64>,
    pub load_ms: Option<f64>,
    pub requests: u64,
    pub transfer_bytes: u64,
    pub scroll_width: u32,
    pub viewport_width: u32,
    pub tap_targets: u32,
    pub small_tap_targets: u32,
    pub text_elements: u32,
    pub small_text_elements: u32,
    /// The accessibility rules' results; measured on the phone view only
    /// (Lighthouse's default run is a phone), `None` on the desktop view
    /// or when the script failed.
    #[serde(default)]
    pub a11y: Option<a11y::A11yReport>,
    /// Elements in the DOM once the page settled.
    #[serde(default)]
    pub dom_elements: Option<u64>,
    /// The page-load trace for the mobile estimate: phone view only, parsed
    /// from the script's `trace` by [`trace::parse`].
    #[serde(skip)]
    pub trace: Option<crate::pipeline::lab::Trace>,
}

/// Everything one capture produced.
#[derive(Debug, Clone, Default)]
pub struct BrowserCapture {
    pub desktop_png: Vec<u8>,
    pub mobile_png: Vec<u8>,
    pub desktop_full_png: Option<Vec<u8>>,
    pub mobile_full_png: Option<Vec<u8>>,
    pub desktop: PageMetrics,
    pub mobile: PageMetrics,
    pub console_errors: Vec<String>,
    /// Requests the page made that the egress guard refused.
    pub refused: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrowserError {
    /// No WebDriver here: the stage is skipped, not failed.
    #[error(transparent)]
    Unavailable(#[from] DriverError),
    /// The browser or its session broke; a fresh session may work.
    #[error("the browser session failed: {0}")]
    Session(String),
    #[error("the page did not load within {0}s (endless scripts or redirects?)")]
    Timeout(u64),
    /// The page itself could not be shown (DNS, refused, too many redirects).
    #[error("the browser could not show the page: {0}")]
    Page(String),
}

impl BrowserError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Session(_) | Self::Timeout(_))
    }
}

/// A session error with WebDriver's whole message (not its stack).
fn session_error(e: impl std::fmt::Display) -> BrowserError {
    BrowserError::Session(errors::describe(&e.to_string()))
}

impl BrowserError {
    /// The session that raised this is gone (crashed, closed, unknown to
    /// the WebDriver or the Grid), as opposed to a page or a command that
    /// failed in a working session.
    pub fn is_broken_session(&self) -> bool {
        matches!(self, Self::Session(text) if errors::classify(text) == errors::Verdict::Broken)
    }
}

/// How long a capture waits for a session before its lead's run log says
/// so: longer than a local session takes to start.
const WAIT_NOTE_AFTER: Duration = Duration::from_secs(3);

const PROFILE_PREFIX: &str = "leadscout-chromium-";
/// The settle-and-measure script with the accessibility rules it calls in
/// its `late` mode (the phone view).
static MEASURE_LATE: LazyLock<String> =
    LazyLock::new(|| format!("{}\n{}", scripts::SETTLE_AND_MEASURE, scripts::A11Y_AUDIT));

/// The start of the egress proxy's answer when it cannot reach a site.
const PROXY_CANNOT_CONNECT: &str = "cannot connect to ";

/// The network counts as quiet after this long without a finished request.
const QUIET_MS: u64 = 100;
/// How long after the phone view's `load` event its work still counts
/// (long tasks, layout shifts): Lighthouse waits at least a second after
/// `load` before it stops tracing. The page keeps running while the desktop
/// view loads, so most of this costs nothing; only a page with a timer due
/// or a request in flight before then is waited for, never past it.
const LATE_MS: u64 = 1000;

/// What the screenshot stage's script does in the page (see
/// `scripts::SETTLE_AND_MEASURE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Wait until the page has settled and mark it.
    Settle,
    /// Settle, wait for the paints, measure and stop the page's timers.
    Measure,
    /// Watch the page's work after `load`, then measure it all, with the
    /// accessibility rules and the page-load trace.
    Late,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Settle => "settle",
            Self::Measure => "measure",
            Self::Late => "late",
        }
    }
}

/// One Chromium session and its proxy.
struct Session {
    driver: WebDriver,
    proxy: EgressProxy,
    /// One window per view, each emulating its screen.
    windows: windows::Windows,
    pages: u32,
    /// Answers the proxy's challenges with this session's credentials.
    _auth: auth::AuthTask,
    /// Removed when the session is dropped; also how its processes are
    /// found. Only for browsers leadscout launched (through its own
    /// chromedriver): a Grid's browsers are the Grid's to manage.
    _profile: Option<tempfile::TempDir>,
}

/// The pool of browser sessions.
pub struct Browser {
    driver: Driver,
    config: WebDriverConfig,
    guard: EgressGuard,
    binary: Option<std::path::PathBuf>,
    /// The demo sites' key hash, which Chromium accepts (demo runs only).
    demo_spki: Option<String>,
    /// Idle sessions and the cap on sessions alive.
    pool: Pool<Session>,
    /// One per capture at a time, so no more captures wait than sessions
    /// may exist.
    permits: Semaphore,
    /// The shared proxy for remote browsers (`webdriver.proxy_bind`).
    remote_proxy: tokio::sync::OnceCell<Arc<ProxyServer>>,
}

impl Browser {
    /// Finds the WebDriver (starting nothing yet).
    pub fn new(config: &Config) -> Result<Arc<Self>, DriverError> {
        let driver = Driver::locate(&config.webdriver)?;
        // Only browsers of a chromedriver leadscout starts are its own to
        // clean up; a remote WebDriver's may belong to anyone.
        let orphans = if driver.is_managed() {
            cleanup::kill_orphans(PROFILE_PREFIX)
        } else {
            0
        };
        if orphans > 0 {
            tracing::warn!(
                orphans,
                "killed browser processes left behind by an earlier leadscout"
            );
        }
        let binary = if driver.is_managed() {
            Some(find_browser(&config.webdriver)?)
        } else {
            None
        };
        Ok(Arc::new(Self {
            driver,
            config: config.webdriver.clone(),
            guard: EgressGuard::new(&config.fetch),
            binary,
            demo_spki: config
                .fetch
                .demo_root
                .as_ref()
                .map(|r| r.spki_sha256.clone()),
            pool: Pool::new(config.webdriver.sessions),
            permits: Semaphore::new(config.webdriver.sessions),
            remote_proxy: tokio::sync::OnceCell::new(),
        }))
    }

    /// The browser's version, from a short test session (for `doctor`).
    pub async fn version(&self) -> Result<String, BrowserError> {
        let session = self.new_session().await?;
        let version = session
            .driver
            .cdp()
            .send_raw("Browser.getVersion", json!({}))
            .await
            .map_err(session_error)?;
        close(session).await;
        Ok(version["product"].as_str().unwrap_or("unknown").to_string())
    }

    async fn new_session(&self) -> Result<Session, BrowserError> {
        self.open_session(&path::probe_token())
            .await
            .map_err(|(_, e)| e)
    }

    /// This session's use of the egress proxy: its own on loopback, or the
    /// shared one remote browsers reach.
    async fn proxy_session(&self) -> Result<EgressProxy, BrowserError> {
        if self.config.proxy_bind.trim().is_empty() {
            return EgressProxy::start(self.guard.clone())
                .await
                .map_err(session_error);
        }
        let server = self
            .remote_proxy
            .get_or_try_init(|| proxy::remote(&self.config, self.guard.clone()))
            .await
            .map_err(BrowserError::Session)?;
        Ok(server.session())
    }

    /// Opens a session whose browser has loaded the proxy's probe page
    /// with `token`; a failure says at which hop.
    async fn open_session(&self, token: &str) -> Result<Session, (Hop, BrowserError)> {
        let mut failed_at = Hop::Reachable;
        self.start_session(token, &mut failed_at)
            .await
            .map_err(|e| (failed_at, e))
    }

    /// Starts a session; on failure `failed_at` names the hop that broke.
    async fn start_session(
        &self,
        token: &str,
        failed_at: &mut Hop,
    ) -> Result<Session, BrowserError> {
        let url = self.driver.url().await?;
        *failed_at = Hop::Session;
        let proxy = self.proxy_session().await?;
        // A remote WebDriver gets no local paths: the profile directory
        // and the binary are the node's business.
        let managed = self.driver.is_managed();
        let profile = if managed {
            Some(
                tempfile::Builder::new()
                    .prefix(PROFILE_PREFIX)
                    .tempdir()
                    .map_err(session_error)?,
            )
        } else {
            None
        };
        let mut caps: ChromeCapabilities = DesiredCapabilities::chrome();
        let add =
            |caps: &mut ChromeCapabilities, arg: &str| caps.add_arg(arg).map_err(session_error);
        if let Some(binary) = &self.binary {
            caps.set_binary(&binary.to_string_lossy())
                .map_err(session_error)?;
        }
        for flag in CHROMIUM_FLAGS {
            add(&mut caps, flag)?;
        }
        // Whether a node's Chromium needs --no-sandbox depends on the node's
        // user, which only the node knows (its stereotype's arguments).
        if managed && sandbox_off_reason().is_some() {
            add(&mut caps, "--no-sandbox")?;
        }
        if let Some(profile) = &profile {
            add(
                &mut caps,
                &format!("--user-data-dir={}", profile.path().display()),
            )?;
        }
        add(&mut caps, &format!("--proxy-server={}", proxy.url()))?;
        // The channel the browser answers the proxy's challenge on.
        caps.enable_bidi().map_err(session_error)?;
        // Without this, Chromium sends loopback and link-local addresses
        // around the proxy; with it, everything goes through the guard.
        add(&mut caps, "--proxy-bypass-list=<-loopback>")?;
        if let Some(spki) = &self.demo_spki {
            // Only the demo's own throw-away certificate, not any error.
            add(
                &mut caps,
                &format!("--ignore-certificate-errors-spki-list={spki}"),
            )?;
        }
        caps.set_browser_log_level(LoggingPrefsLogLevel::Severe)
            .map_err(session_error)?;
        // A Grid queues the request while its slots are busy; a local
        // chromedriver answers at once or not at all.
        let (wait, key) = if managed {
            (Duration::from_secs(30), "")
        } else {
            (self.config.session_timeout, " (webdriver.session_timeout)")
        };
        let request = WebDriver::builder(&url, caps)
            .request_timeout(wait.max(Duration::from_secs(120)) + Duration::from_secs(10))
            .connect();
        let driver = tokio::time::timeout(wait, request)
            .await
            .map_err(|_| {
                BrowserError::Session(format!(
                    "no browser session within {}{key}",
                    humantime::format_duration(wait)
                ))
            })?
            .map_err(|e| session_error(format!("start a browser session at {url}: {e}")))?;
        let auth = match auth::answer_challenges(&driver, proxy.credentials().clone()).await {
            Ok(auth) => auth,
            Err(e) => {
                discard(driver).await;
                return Err(BrowserError::Session(format!(
                    "cannot answer the proxy's challenge: {e}"
                )));
            }
        };
        if let Err((hop, e)) =
            path::load_probe(&driver, &proxy, token, self.config.page_timeout).await
        {
            *failed_at = hop;
            discard(driver).await;
            return Err(e);
        }
        *failed_at = Hop::Session;
        // The browser holds the proxy's credentials now. Failing to stop
        // the intercept costs speed, not correctness.
        if let Err(e) = auth.stop_intercepting(&driver).await {
            tracing::debug!(error = %e, "the proxy challenge's intercept stays");
        }
        let setup = async {
            driver
                .set_page_load_timeout(self.config.page_timeout)
                .await?;
            driver.set_script_timeout(self.config.page_timeout).await?;
            windows::prepare(&driver).await?;
            let agent = driver
                .execute("return navigator.userAgent", Vec::new())
                .await?;
            // The browser's own agent, minus the "Headless" that some sites
            // treat differently.
            let desktop_agent = agent
                .json()
                .as_str()
                .unwrap_or("")
                .replace("HeadlessChrome", "Chrome");
            let windows = windows::open(&driver, MOBILE, DESKTOP, &desktop_agent).await?;
            Ok::<_, WebDriverError>(windows)
        };
        let windows = match tokio::time::timeout(Duration::from_secs(30), setup).await {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => {
                discard(driver).await;
                return Err(session_error(e));
            }
            Err(_) => {
                discard(driver).await;
                return Err(BrowserError::Session(
                    "setting up the browser session took longer than 30s".into(),
                ));
            }
        };
        Ok(Session {
            driver,
            proxy,
            windows,
            pages: 0,
            _auth: auth,
            _profile: profile,
        })
    }

    /// Loads `url` as a desktop and as a phone and captures both. The work
    /// runs in its own task, so a caller that gives up (a job timeout) never
    /// drops a live browser session: the task finishes, within its own
    /// bound, and returns or closes the session properly.
    pub async fn capture(self: &Arc<Self>, url: &Url) -> Result<BrowserCapture, BrowserError> {
        self.capture_noting(url, |_| {}).await
    }

    /// [`Browser::capture`], telling `note` once when the capture has
    /// waited a while for a session ("waiting for a Grid slot"), so the
    /// lead's run log can say why nothing happens.
    pub async fn capture_noting(
        self: &Arc<Self>,
        url: &Url,
        note: impl Fn(&str) + Send + Sync + 'static,
    ) -> Result<BrowserCapture, BrowserError> {
        let this = self.clone();
        let url = url.clone();
        tokio::spawn(async move { this.capture_owned(&url, &note).await })
            .await
            .map_err(|e| BrowserError::Session(format!("the capture task failed: {e}")))?
    }

    async fn capture_owned(
        self: &Arc<Self>,
        url: &Url,
        note: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<BrowserCapture, BrowserError> {
        let _permit = self.permits.acquire().await.map_err(session_error)?;
        let session = self.acquire(note).await?;
        let pooled = session.pages > 0;
        let (session, result) = match self.capture_in(session, url).await {
            // A kept session can die while idle (a Grid ends sessions idle
            // longer than its session timeout): one more try on a new one.
            (session, Err(e)) if pooled && e.is_broken_session() => {
                tracing::debug!(error = %e, "a pooled browser session was gone; starting another");
                self.retire(session).await;
                let session = self.acquire(note).await?;
                self.capture_in(session, url).await
            }
            other => other,
        };
        // A page that could not be shown leaves its session as it was; any
        // other error may have left the browser confused, and a fresh
        // session is cheap.
        let healthy = matches!(&result, Ok(_) | Err(BrowserError::Page(_)));
        if healthy && session.pages + 1 < self.config.recycle_after {
            let mut session = session;
            session.pages += 1;
            if let Err(session) = self.pool.give_back(session) {
                self.retire(session).await;
            }
        } else {
            self.retire(session).await;
        }
        result
    }

    /// Captures `url` in `session` within a hard bound above the page
    /// timeouts: a wedged browser must not hold a worker.
    async fn capture_in(
        &self,
        session: Session,
        url: &Url,
    ) -> (Session, Result<BrowserCapture, BrowserError>) {
        let bound = self.config.page_timeout * 3 + self.config.settle * 2 + Duration::from_secs(20);
        let result = match tokio::time::timeout(bound, self.capture_on(&session, url)).await {
            Ok(result) => result,
            Err(_) => Err(BrowserError::Timeout(bound.as_secs())),
        };
        (session, result)
    }

    /// A session for one capture: an idle one, a new one while under
    /// `webdriver.sessions`, or the first to come back. A new session is requested in a task of its
    /// own, so a request queued at a Grid goes on (and its session joins
    /// the pool) even when this capture is served by another session first.
    async fn acquire(
        self: &Arc<Self>,
        note: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<Session, BrowserError> {
        let note_at = tokio::time::Instant::now() + WAIT_NOTE_AFTER;
        let mut noted = false;
        let mut own: Option<tokio::task::JoinHandle<Result<(), BrowserError>>> = None;
        loop {
            let changed = self.pool.changed();
            match self.pool.take(own.is_none()) {
                Take::Idle(session) => return Ok(session),
                Take::Closed => {
                    return Err(BrowserError::Session(
                        "the browser pool is shutting down".into(),
                    ));
                }
                Take::Create => {
                    let this = self.clone();
                    own = Some(tokio::spawn(async move {
                        match this.new_session().await {
                            Ok(session) => {
                                if let Err(session) = this.pool.give_back(session) {
                                    this.retire(session).await;
                                }
                                Ok(())
                            }
                            Err(e) => {
                                this.pool.forget();
                                Err(e)
                            }
                        }
                    }));
                }
                Take::Wait => {}
            }
            let request = async {
                match own.as_mut() {
                    Some(task) => task.await,
                    None => std::future::pending().await,
                }
            };
            let done = tokio::select! {
                _ = changed => None,
                done = request => Some(done),
                _ = tokio::time::sleep_until(note_at), if !noted => {
                    noted = true;
                    if self.driver.is_managed() {
                        note("waiting for a browser session");
                    } else {
                        note(&format!(
                            "waiting for a Grid slot (at most {}, webdriver.session_timeout)",
                            humantime::format_duration(self.config.session_timeout)
                        ));
                    }
                    None
                }
            };
            if let Some(done) = done {
                own = None;
                match done {
                    // Its session is in the pool now (or taken by another
                    // capture): look again.
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return Err(e),
                    Err(e) => {
                        return Err(BrowserError::Session(format!(
                            "the session request failed: {e}"
                        )));
                    }
                }
            }
        }
    }

    /// Closes a session of the pool, making room for another.
    async fn retire(&self, session: Session) {
        close(session).await;
        self.pool.forget();
    }

    /// The phone view first, always: it is the one measured for the mobile
    /// estimate, and a second load of the same page comes from the cache
    /// (no transfer sizes) and, in Chromium, often without paint entries.
    /// Its page is loaded and shot, then left running in its window while
    /// the desktop view loads, shoots and measures in the other window;
    /// then the phone view's page is measured, with what it did after
    /// `load` meanwhile (long tasks, layout shifts).
    async fn capture_on(
        &self,
        session: &Session,
        url: &Url,
    ) -> Result<BrowserCapture, BrowserError> {
        session.proxy.take_refused();
        let mut timing = Timing::start();
        self.show(session, MOBILE).await?;
        self.open_page(session, url, MOBILE, Mode::Settle).await?;
        timing.mark("m.load");
        let (mobile_png, mobile_full_png) = self.shoot(session, MOBILE).await?;
        timing.mark("m.shot");
        self.show(session, DESKTOP).await?;
        timing.mark("switch");
        let measured = self.open_page(session, url, DESKTOP, Mode::Measure).await?;
        timing.mark("d.load");
        let (desktop_png, desktop_full_png) = self.shoot(session, DESKTOP).await?;
        timing.mark("d.shot");
        let (desktop, mut errors) = page_of(&measured);
        self.show(session, MOBILE).await?;
        timing.mark("switch");
        let measured = self
            .settle_and_measure(&session.driver, MOBILE, Mode::Late)
            .await?;
        timing.mark("m.measure");
        let (mut mobile, mobile_errors) = page_of(&measured);
        mobile.trace = trace::parse(&measured["metrics"]["trace"], &mobile);
        errors.extend(mobile_errors);
        errors.dedup();
        timing.log(url, &measured);
        Ok(BrowserCapture {
            desktop_png,
            mobile_png,
            desktop_full_png,
            mobile_full_png,
            desktop,
            mobile,
            console_errors: errors,
            refused: session.proxy.take_refused(),
        })
    }

    /// Sends commands to `view`'s window.
    async fn show(&self, session: &Session, view: Viewport) -> Result<(), BrowserError> {
        if let Some(window) = session.windows.to_show(view) {
            self.step("switch windows", session.driver.switch_to_window(window))
                .await?;
            session.windows.switched(view);
        }
        Ok(())
    }

    /// Runs one browser command within the page timeout. chromedriver can
    /// wait forever on a renderer stuck in a script, whatever its own
    /// timeouts say, so every command gets a bound here.
    async fn step<T, E: std::fmt::Display>(
        &self,
        what: &str,
        command: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, BrowserError> {
        let limit = self.config.page_timeout + Duration::from_secs(2);
        match tokio::time::timeout(limit, command).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                let text = e.to_string();
                match errors::classify(&text) {
                    // The browser is fine; the page is not.
                    errors::Verdict::Page(code) => Err(BrowserError::Page(page_reason(&code))),
                    errors::Verdict::Other if text.to_lowercase().contains("timeout") => {
                        Err(BrowserError::Timeout(self.config.page_timeout.as_secs()))
                    }
                    _ => Err(session_error(format!("{what}: {text}"))),
                }
            }
            Err(_) => Err(BrowserError::Timeout(limit.as_secs())),
        }
    }

    /// Loads `url` in the current window (`view`'s) and runs the script in
    /// `mode` once the page has settled; fails when what is shown is an
    /// error: the browser's error page or the egress proxy's answer for a
    /// site it could not reach.
    async fn open_page(
        &self,
        session: &Session,
        url: &Url,
        view: Viewport,
        mode: Mode,
    ) -> Result<serde_json::Value, BrowserError> {
        let d = &session.driver;
        match self.step("load the page", d.goto(url.as_str())).await {
            // What the guard refused is often why (a redirect to a private
            // address), so it goes with the browser's code.
            Err(BrowserError::Page(detail)) => {
                let detail = match session.proxy.take_refused().first() {
                    Some(reason) => format!("{detail} ({reason})"),
                    None => detail,
                };
                return Err(BrowserError::Page(detail));
            }
            other => other?,
        };
        let measured = self.settle_and_measure(d, view, mode).await?;
        // A site the proxy could not connect to (down, refused,
        // unreachable) comes back to a plain-http load as the proxy's own
        // 502, which Chromium shows as the page, not as a network error.
        // Recognised by the proxy's wording.
        if let Some(text) = measured["proxy"].as_str().map(str::trim)
            && text.starts_with(PROXY_CANNOT_CONNECT)
        {
            return Err(BrowserError::Page(format!(
                "the egress proxy {}",
                errors::describe(text)
            )));
        }
        let href = measured["href"].as_str().unwrap_or("");
        if href.starts_with("chrome-error:") {
            let detail = self
                .step(
                    "read the error page",
                    d.execute(scripts::ERROR_PAGE_CODE, Vec::new()),
                )
                .await
                .ok()
                .and_then(|v| v.json().as_str().map(str::to_string))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "the browser showed an error page".into());
            let refused = session.proxy.take_refused();
            let detail = match refused.first() {
                Some(reason) => format!("{detail} ({reason})"),
                None => detail,
            };
            return Err(BrowserError::Page(detail));
        }
        Ok(measured)
    }

    /// The current window's screenshot, and its full page when configured.
    async fn shoot(
        &self,
        session: &Session,
        view: Viewport,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), BrowserError> {
        // optimizeForSpeed: faster PNG compression, a bigger file; the
        // thumbnails are what pages show.
        let shot = json!({"format": "png", "optimizeForSpeed": true});
        let png = base64_png(
            &self
                .step(
                    "take the screenshot",
                    session
                        .driver
                        .cdp()
                        .send_raw("Page.captureScreenshot", shot),
                )
                .await?,
        )?;
        let full = self.full_page(session, view).await?;
        Ok((png, full))
    }

    /// Waits until the page shown is the new document and it has settled,
    /// then runs the script in `mode`. goto() now and then returns before
    /// the new document exists; the old one carries a mark, so this looks
    /// again until it is gone.
    async fn settle_and_measure(
        &self,
        d: &WebDriver,
        view: Viewport,
        mode: Mode,
    ) -> Result<serde_json::Value, BrowserError> {
        let deadline = tokio::time::Instant::now() + self.config.page_timeout;
        let script = match mode {
            Mode::Late => MEASURE_LATE.as_str(),
            Mode::Settle | Mode::Measure => scripts::SETTLE_AND_MEASURE,
        };
        let args = || {
            vec![
                json!(QUIET_MS),
                json!(self.config.settle.as_millis() as u64),
                json!(view.width),
                json!(mode.name()),
                json!(LATE_MS),
            ]
        };
        loop {
            let bound =
                self.config.settle + Duration::from_millis(LATE_MS) + Duration::from_secs(3);
            let answer = match tokio::time::timeout(bound, d.execute(script, args())).await {
                Ok(answer) => answer,
                Err(_) => {
                    return Err(BrowserError::Timeout(self.config.page_timeout.as_secs()));
                }
            };
            // An error means the old document is being torn down: look again.
            if let Ok(answer) = answer
                && answer.json()["fresh"].as_bool() == Some(true)
            {
                return Ok(answer.json().clone());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(BrowserError::Timeout(self.config.page_timeout.as_secs()));
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
    /// A full-page screenshot, capped at the configured height; `None` when
    /// turned off or when the page is no taller than the viewport.
    async fn full_page(
        &self,
        session: &Session,
        view: Viewport,
    ) -> Result<Option<Vec<u8>>, BrowserError> {
        if self.config.full_page_max_height == 0 {
            return Ok(None);
        }
        let cdp = session.driver.cdp();
        let layout = cdp
            .send_raw("Page.getLayoutMetrics", json!({}))
            .await
            .map_err(session_error)?;
        let content = layout["cssContentSize"]["height"].as_f64().unwrap_or(0.0);
        if content <= f64::from(view.height) + 1.0 {
            return Ok(None);
        }
        let height = content.min(f64::from(self.config.full_page_max_height));
        // At one image pixel per CSS pixel: a phone's full page at device
        // pixel ratio 3 would be a 12,000-pixel-tall picture.
        let scale = 1.0 / f64::from(view.scale);
        let clip = json!({"format": "png", "captureBeyondViewport": true, "clip": {"x": 0, "y": 0, "width": view.width, "height": height, "scale": scale}});
        let shot = self
            .step(
                "take the full-page screenshot",
                cdp.send_raw("Page.captureScreenshot", clip),
            )
            .await?;
        base64_png(&shot).map(Some)
    }

    /// Closes every session and stops a managed chromedriver.
    pub async fn shutdown(&self) {
        for session in self.pool.drain() {
            close(session).await;
        }
        self.driver.stop().await;
    }
}

/// What the script measured in one view, and the script errors it saw.
fn page_of(measured: &serde_json::Value) -> (PageMetrics, Vec<String>) {
    let page: PageMetrics = serde_json::from_value(measured["metrics"].clone()).unwrap_or_default();
    let errors = measured["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    (page, errors)
}

/// The time each step of one capture took, logged at debug level
/// (`RUST_LOG=leadscout::pipeline::browser=debug`) with the phone view's
/// in-page waits: where a lead's time goes.
struct Timing {
    last: std::time::Instant,
    steps: Vec<(&'static str, Duration)>,
}

impl Timing {
    fn start() -> Self {
        Self {
            last: std::time::Instant::now(),
            steps: Vec::new(),
        }
    }

    fn mark(&mut self, step: &'static str) {
        let now = std::time::Instant::now();
        self.steps.push((step, now - self.last));
        self.last = now;
    }

    fn log(&self, url: &Url, measured: &serde_json::Value) {
        if !tracing::enabled!(tracing::Level::DEBUG) {
            return;
        }
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|(step, took)| format!("{step}={:.1}", took.as_secs_f64() * 1000.0))
            .collect();
        tracing::debug!(
            url = %url,
            steps = %steps.join(" "),
            in_page = %measured["timing"],
            "capture timing (ms)"
        );
    }
}

/// The PNG in a CDP `Page.captureScreenshot` answer.
fn base64_png(answer: &serde_json::Value) -> Result<Vec<u8>, BrowserError> {
    let data = answer["data"].as_str().unwrap_or("");
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| BrowserError::Session(format!("the screenshot was not valid base64: {e}")))
}

/// Chromium's network error code with what it means.
fn page_reason(code: &str) -> String {
    match errors::net_error_meaning(code) {
        Some(meaning) => format!("{code}: {meaning}"),
        None => code.to_string(),
    }
}

/// Closes a session and makes sure the browser processes leadscout
/// launched for it are gone.
async fn close(session: Session) {
    discard(session.driver).await;
    let Some(profile) = &session._profile else {
        return;
    };
    let killed = cleanup::kill_profile(profile.path());
    if killed > 0 {
        tracing::debug!(
            killed,
            "killed browser processes that outlived their session"
        );
    }
}

/// Closes a session, without ever blocking the runtime: a session that
/// cannot be closed in time is let go (the driver cleans it up when it
/// stops), instead of thirtyfour's blocking close on drop.
async fn discard(driver: WebDriver) {
    let handle = driver.clone();
    match tokio::time::timeout(Duration::from_secs(10), driver.quit()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "closing a browser session failed");
            let _ = handle.leak();
        }
        Err(_) => {
            tracing::warn!(
                "closing a browser session took longer than 10s; leaving it to the driver"
            );
            let _ = handle.leak();
        }
    }
}
