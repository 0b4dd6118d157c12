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
mod capture;
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
mod session;
pub mod trace;
mod windows;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use thirtyfour::prelude::*;
use tokio::sync::Semaphore;
use url::Url;

use crate::config::{Config, WebDriverConfig};
use crate::pipeline::fetch::guard::EgressGuard;
use driver::{Driver, DriverError, find_browser};
pub use path::{Hop, HopResult};
use pool::{Pool, Take};
use proxy::{EgressProxy, ProxyServer};
use session::close;

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

    /// Closes every session and stops a managed chromedriver.
    pub async fn shutdown(&self) {
        for session in self.pool.drain() {
            close(session).await;
        }
        self.driver.stop().await;
    }
}
