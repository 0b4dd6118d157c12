//! One capture in a session's two windows: load the page as a phone and
//! as a desktop, wait for it to settle, measure it with the in-page script,
//! and take the screenshots; plus the time each step took.

use std::sync::LazyLock;
use std::time::Duration;

use base64::Engine as _;
use serde_json::json;
use thirtyfour::prelude::*;
use url::Url;

use super::{
    Browser, BrowserCapture, BrowserError, DESKTOP, MOBILE, PageMetrics, Session, Viewport, errors,
    scripts, session_error, trace,
};

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

impl Browser {
    /// The phone view first, always: it is the one measured for the mobile
    /// estimate, and a second load of the same page comes from the cache
    /// (no transfer sizes) and, in Chromium, often without paint entries.
    /// Its page is loaded and shot, then left running in its window while
    /// the desktop view loads, shoots and measures in the other window;
    /// then the phone view's page is measured, with what it did after
    /// `load` meanwhile (long tasks, layout shifts).
    pub(super) async fn capture_on(
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
