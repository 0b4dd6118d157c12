//! Starting a browser session (its egress proxy, Chromium's flags and
//! profile, the proxy's challenge answered over BiDi, the probe page that
//! proves the path, one window per view) and closing one so that nothing
//! it launched outlives it.

use std::time::Duration;

use thirtyfour::prelude::*;
use thirtyfour::{ChromeCapabilities, LoggingPrefsLogLevel};

use super::proxy::{self, EgressProxy};
use super::{
    Browser, BrowserError, DESKTOP, Hop, MOBILE, PROFILE_PREFIX, Session, auth, cleanup, path,
    sandbox_off_reason, session_error, windows,
};

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

impl Browser {
    pub(super) async fn new_session(&self) -> Result<Session, BrowserError> {
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
    pub(super) async fn open_session(&self, token: &str) -> Result<Session, (Hop, BrowserError)> {
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
}

/// Closes a session and makes sure the browser processes leadscout
/// launched for it are gone.
pub(super) async fn close(session: Session) {
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
pub(super) async fn discard(driver: WebDriver) {
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
