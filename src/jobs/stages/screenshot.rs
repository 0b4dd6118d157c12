//! The screenshot stage: load the audited page in Chromium as a desktop and
//! as a phone, keep the screenshots (and thumbnails) in the blob cache, and
//! merge the browser's measurements into the latest audit as checks and as
//! its `metrics`. The mobile estimate in those metrics decides the speed
//! checks and is the speed category's score.
//! Without a WebDriver the stage is skipped, with what to install.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::store_error;
use crate::config::Config;
use crate::domain::Hash;
use crate::jobs::stage::{StageContext, StageError, StageFuture, StageHandler, StageOutcome};
use crate::pipeline::audit::score;
use crate::pipeline::browser::{
    Browser, BrowserCapture, BrowserError, a11y, checks, picture, trace,
};

pub struct ScreenshotStage {
    /// The browser pool, or why there is none.
    browser: Result<Arc<Browser>, String>,
    thumbnail_width: u32,
}

impl ScreenshotStage {
    pub fn new(config: &Config) -> Self {
        let browser = Browser::new(config).map_err(|e| e.to_string());
        if let Err(reason) = &browser {
            tracing::warn!(%reason, "screenshots will be skipped");
        }
        Self {
            browser,
            thumbnail_width: config.webdriver.thumbnail_width,
        }
    }
}

/// Why Chromium runs without its sandbox here, if it does; for `doctor`.
pub fn sandbox_off_reason() -> Option<&'static str> {
    crate::pipeline::browser::sandbox_off_reason()
}

/// For `doctor`: each hop of the browser path (WebDriver, session, proxy,
/// test page, screenshot) by name, up to the first that broke; `Err` when
/// there is no WebDriver at all.
pub async fn check_path(
    config: &Config,
) -> Result<Vec<(&'static str, Result<String, String>)>, String> {
    let browser = Browser::new(config).map_err(|e| e.to_string())?;
    let hops = browser.prove_path().await;
    browser.shutdown().await;
    Ok(hops
        .into_iter()
        .map(|hop| (hop.hop.name(), hop.result))
        .collect())
}

impl StageHandler for ScreenshotStage {
    fn run(&self, ctx: StageContext) -> StageFuture<'_> {
        Box::pin(async move {
            let browser = match &self.browser {
                Ok(browser) => browser,
                Err(reason) => return Ok(StageOutcome::Skipped(reason.clone())),
            };
            let audit = ctx
                .store
                .audits_of(ctx.job.lead, 1)
                .map_err(store_error)?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    StageError::permanent("the lead has no audit yet; run the audit stage first")
                })?;
            let url = url::Url::parse(&audit.final_url).map_err(|e| {
                StageError::permanent(format!("bad audited URL {}: {e}", audit.final_url))
            })?;
            // While a Grid has no free slot the job only waits; its run-log
            // line says so instead of showing a silent "running".
            let note = {
                let store = ctx.store.clone();
                let job = ctx.job.id;
                move |text: &str| {
                    if let Err(e) = store.note_running_job(job, text) {
                        tracing::debug!(error = %e, "cannot note the job's wait");
                    }
                    tracing::info!(%job, "{text}");
                }
            };
            let capture = match browser.capture_noting(&url, note).await {
                Ok(capture) => capture,
                Err(BrowserError::Unavailable(e)) => {
                    return Ok(StageOutcome::Skipped(e.to_string()));
                }
                Err(e) if e.is_transient() => return Err(StageError::transient(e.to_string())),
                Err(e) => return Err(StageError::permanent(e.to_string())),
            };
            if !capture.refused.is_empty() {
                tracing::info!(lead = %ctx.job.lead, refused = capture.refused.len(), first = %capture.refused[0], "the page tried to reach addresses the guard refused");
            }
            let store = ctx.store.clone();
            let width = self.thumbnail_width;
            let shots = {
                let capture = capture.clone();
                tokio::task::spawn_blocking(move || save_pictures(&store, &capture, width))
                    .await
                    .map_err(|e| {
                        StageError::transient(format!("saving screenshots failed: {e}"))
                    })??
            };
            // The mobile estimate simulates the load several times: CPU work.
            // It comes first: the speed checks judge its figures.
            let phone = capture.mobile.clone();
            let metrics = tokio::task::spawn_blocking(move || {
                trace::audit_metrics(&phone, phone.trace.as_ref())
            })
            .await
            .map_err(|e| {
                StageError::transient(format!("estimating the mobile load failed: {e}"))
            })?;
            let browser_checks = checks::run(&capture, &metrics);
            let updated = ctx
                .store
                .update_latest_audit(ctx.job.lead, |audit| {
                    audit.screenshots = shots.clone();
                    // The browser's verdicts win over the HTML-only ones.
                    a11y::merge(&mut audit.checks, &browser_checks);
                    audit.metrics = metrics.clone();
                    // With an estimate, speed is scored as Lighthouse's
                    // mobile run would score it.
                    audit.scores = score::scores_with(&audit.checks, Some(&audit.metrics));
                })
                .map_err(store_error)?;
            if updated.is_none() {
                return Err(StageError::permanent(
                    "the lead's audit disappeared while its screenshots were taken",
                ));
            }
            Ok(StageOutcome::Done)
        })
    }

    fn stop(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            if let Ok(browser) = &self.browser {
                browser.shutdown().await;
            }
        })
    }
}

/// Puts the screenshots and their thumbnails in the blob cache.
fn save_pictures(
    store: &crate::store::Store,
    capture: &BrowserCapture,
    width: u32,
) -> Result<BTreeMap<String, Hash>, StageError> {
    let mut shots = BTreeMap::new();
    let pictures: [(&str, Option<&Vec<u8>>); 4] = [
        ("desktop", Some(&capture.desktop_png)),
        ("mobile", Some(&capture.mobile_png)),
        ("desktop_full", capture.desktop_full_png.as_ref()),
        ("mobile_full", capture.mobile_full_png.as_ref()),
    ];
    for (name, png) in pictures {
        let Some(png) = png else { continue };
        shots.insert(
            name.to_string(),
            store.blobs().put(png).map_err(store_error)?,
        );
        if name == "desktop" || name == "mobile" {
            let thumb = picture::thumbnail(png, width)
                .map_err(|e| StageError::transient(format!("{name} thumbnail: {e}")))?;
            shots.insert(
                format!("{name}_thumb"),
                store.blobs().put(&thumb).map_err(store_error)?,
            );
        }
    }
    Ok(shots)
}
