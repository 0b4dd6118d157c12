//! The browser's side of the proxy's credentials. Chromium ignores
//! credentials in `--proxy-server`, so each session answers the proxy's 407
//! challenge over WebDriver BiDi (`network.authRequired`, answered with
//! `network.continueWithAuth`): it works the same through chromedriver and
//! through a Selenium Grid, which forwards the session's BiDi socket. One
//! task per session answers; it ends with the session's socket.
//!
//! chromedriver runs a session's commands one at a time, so a BiDi answer
//! cannot overtake a classic navigation that waits for it. The session
//! therefore loads the proxy's probe page over BiDi first ([`navigate`]):
//! Chromium keeps the answered credentials for the proxy and sends them
//! with every later request, so classic commands never meet a challenge.
//! The intercept is then removed ([`AuthTask::stop_intercepting`]): while
//! it stands, the browser's BiDi side follows every request of every page,
//! and a site's own 401 is shown as a visitor without a password sees it.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use thirtyfour::WebDriver;
use thirtyfour::bidi::modules::browsing_context::ReadinessState;

use super::proxy::Credentials;

/// Aborts the answering task when the session goes.
pub(super) struct AuthTask {
    task: tokio::task::JoinHandle<()>,
    intercept: String,
}

impl Drop for AuthTask {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AuthTask {
    /// Stops intercepting once the browser holds the credentials: with an
    /// intercept in place, the browser's BiDi side watches every request
    /// of every page the session loads.
    pub(super) async fn stop_intercepting(&self, driver: &WebDriver) -> Result<(), String> {
        let bidi = driver.bidi().await.map_err(|e| e.to_string())?;
        bidi.send_raw(
            "network.removeIntercept",
            json!({"intercept": self.intercept}),
        )
        .await
        .map_err(|e| format!("remove the intercept: {e}"))?;
        bidi.send_raw(
            "session.unsubscribe",
            json!({"events": ["network.authRequired"]}),
        )
        .await
        .map_err(|e| format!("unsubscribe from network.authRequired: {e}"))?;
        Ok(())
    }
}

/// Starts answering the session's authentication challenges: the proxy's
/// with the session's credentials; anything else (a site's own 401) is
/// cancelled, never answered with them.
pub(super) async fn answer_challenges(
    driver: &WebDriver,
    credentials: Credentials,
) -> Result<AuthTask, String> {
    let bidi = driver
        .bidi()
        .await
        .map_err(|e| format!("open the BiDi connection: {e}"))?;
    // The stream first, so no event is missed between subscribing and
    // listening.
    let mut events = bidi.subscribe_raw();
    bidi.send_raw(
        "session.subscribe",
        json!({"events": ["network.authRequired"]}),
    )
    .await
    .map_err(|e| format!("subscribe to network.authRequired: {e}"))?;
    let added = bidi
        .send_raw("network.addIntercept", json!({"phases": ["authRequired"]}))
        .await
        .map_err(|e| format!("intercept authRequired: {e}"))?;
    let intercept = added["intercept"].as_str().unwrap_or_default().to_string();
    let task = tokio::spawn(async move {
        while let Some(event) = events.next().await {
            if event.method != "network.authRequired" {
                continue;
            }
            let Some(request) = event.params["request"]["request"].as_str() else {
                continue;
            };
            // Chromium reports a proxy's challenge with status -1 (407 in
            // the spec); a site's own 401 is never given the credentials.
            let status = event.params["response"]["status"].as_i64();
            let answer = if matches!(status, Some(407) | Some(-1)) {
                json!({
                    "request": request,
                    "action": "provideCredentials",
                    "credentials": {
                        "type": "password",
                        "username": credentials.user,
                        "password": credentials.secret,
                    },
                })
            } else {
                json!({"request": request, "action": "cancel"})
            };
            let bidi = bidi.clone();
            // Not awaited in the loop: one slow answer must not hold the
            // next challenge.
            tokio::spawn(async move {
                if let Err(e) = bidi.send_raw("network.continueWithAuth", answer).await {
                    tracing::debug!(error = %e, "answering an authentication challenge failed");
                }
            });
        }
    });
    Ok(AuthTask { task, intercept })
}

/// Loads `url` in the session's tab over BiDi, within `limit`.
pub(super) async fn navigate(driver: &WebDriver, url: &str, limit: Duration) -> Result<(), String> {
    let go = async {
        let bidi = driver.bidi().await.map_err(|e| e.to_string())?;
        let context = bidi
            .browsing_context()
            .top_level()
            .await
            .map_err(|e| e.to_string())?;
        bidi.browsing_context()
            .navigate(context, url, Some(ReadinessState::Complete))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    match tokio::time::timeout(limit, go).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {}s", limit.as_secs())),
    }
}
