//! A session's two windows, one per view: the phone view's (the window the
//! session started with) and the desktop view's, each emulating its screen,
//! touch and user agent once, when the session starts. A capture then
//! switches windows (1–2 ms) instead of switching emulation (30–50 ms per
//! switch on this 2-core machine: the page shown is laid out and painted
//! again at the new size), and the phone view's page keeps running in its
//! window while the desktop view loads, so work after its `load` event is
//! seen without waiting for it (see `scripts::SETTLE_AND_MEASURE`, mode
//! `late`). The desktop view's page stays in its window after the capture
//! with its timers cleared (`quiesce`), so it does not slow the next load.
//!
//! They are separate windows, not tabs of one: a background tab is hidden,
//! and a hidden page gets no frames (no layout shifts) and throttled timers.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use thirtyfour::prelude::*;

use super::{MOBILE_UA, Viewport, scripts};

/// The windows of one session and which one WebDriver commands go to.
pub(super) struct Windows {
    phone: WindowHandle,
    desktop: WindowHandle,
    /// Whether the session's current window is the desktop view's.
    on_desktop: AtomicBool,
}

/// Makes the current window the phone view's (`phone`) and opens the
/// desktop view's next to it, each with the page setup every window needs
/// (the error watcher, hidden scrollbars, the blank page marked as
/// measured). Ends with the phone view's window current.
pub(super) async fn open(
    driver: &WebDriver,
    phone: Viewport,
    desktop: Viewport,
    desktop_agent: &str,
) -> WebDriverResult<Windows> {
    let first = driver.window().await?;
    emulate(driver, phone, desktop_agent).await?;
    let second = driver.new_window().await?;
    driver.switch_to_window(second.clone()).await?;
    prepare(driver).await?;
    emulate(driver, desktop, desktop_agent).await?;
    driver.switch_to_window(first.clone()).await?;
    Ok(Windows {
        phone: first,
        desktop: second,
        on_desktop: AtomicBool::new(false),
    })
}

/// What every window's pages get: the watcher of errors, requests, long
/// tasks and timers before any page script, no scrollbars, and its blank
/// first page marked as measured, so the first navigation can be told
/// apart from it.
pub(super) async fn prepare(driver: &WebDriver) -> WebDriverResult<()> {
    let cdp = driver.cdp();
    cdp.send_raw(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": scripts::WATCH_ERRORS }),
    )
    .await?;
    cdp.send_raw("Emulation.setScrollbarsHidden", json!({"hidden": true}))
        .await?;
    driver
        .execute("window.__leadscout_previous = true", Vec::new())
        .await?;
    Ok(())
}

/// Sets the current window's screen, touch and user agent for `view`.
async fn emulate(driver: &WebDriver, view: Viewport, desktop_agent: &str) -> WebDriverResult<()> {
    let cdp = driver.cdp();
    let screen = json!({"width": view.width, "height": view.height, "deviceScaleFactor": view.scale, "mobile": view.mobile});
    cdp.send_raw("Emulation.setDeviceMetricsOverride", screen)
        .await?;
    let touch = json!({"enabled": view.mobile, "maxTouchPoints": if view.mobile { 5 } else { 1 }});
    cdp.send_raw("Emulation.setTouchEmulationEnabled", touch)
        .await?;
    let agent = if view.mobile {
        json!({"userAgent": MOBILE_UA, "platform": "iPhone"})
    } else {
        json!({"userAgent": desktop_agent})
    };
    cdp.send_raw("Emulation.setUserAgentOverride", agent)
        .await?;
    Ok(())
}

impl Windows {
    /// The window `view` is shown in, if commands do not go to it already:
    /// the caller switches to it (within its own bound) and then calls
    /// [`Windows::switched`].
    pub(super) fn to_show(&self, view: Viewport) -> Option<WindowHandle> {
        let desktop = !view.mobile;
        (self.on_desktop.load(Ordering::Relaxed) != desktop).then(|| {
            if desktop {
                self.desktop.clone()
            } else {
                self.phone.clone()
            }
        })
    }

    /// Commands now go to `view`'s window.
    pub(super) fn switched(&self, view: Viewport) {
        self.on_desktop.store(!view.mobile, Ordering::Relaxed);
    }
}
