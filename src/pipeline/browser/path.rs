//! `doctor`'s proof that the browser path works, hop by hop: the WebDriver
//! (or Grid) answers, a session opens, its browser reaches the egress proxy
//! and authenticates, the proxy's probe page loads, a screenshot is taken.
//! Every new session loads the probe page too, before any classic command
//! (see [`super::auth`]).

use std::time::Duration;

use base64::Engine as _;
use serde_json::json;
use thirtyfour::WebDriver;

use super::proxy::{EgressProxy, PROBE_HOST};
use super::{Browser, BrowserError, auth, close};

/// One hop of the path, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    Reachable,
    Session,
    Proxy,
    Page,
    Screenshot,
}

impl Hop {
    /// How `doctor` names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reachable => "webdriver",
            Self::Session => "webdriver: session created",
            Self::Proxy => "webdriver: proxy reachable from the browser",
            Self::Page => "webdriver: page loaded",
            Self::Screenshot => "webdriver: screenshot taken",
        }
    }
}

/// A hop and what became of it.
#[derive(Debug, Clone)]
pub struct HopResult {
    pub hop: Hop,
    pub result: Result<String, String>,
}

/// A fresh random token for a probe page's path.
pub(super) fn probe_token() -> String {
    hex::encode(rand::random::<[u8; 12]>())
}

fn probe_title(token: &str) -> String {
    format!("leadscout probe {token}")
}

/// Loads the proxy's probe page with `token` over BiDi. A failure before
/// the proxy saw the request is the proxy hop's (unreachable, refused,
/// credentials not taken); after it, the page hop's.
pub(super) async fn load_probe(
    driver: &WebDriver,
    proxy: &EgressProxy,
    token: &str,
    limit: Duration,
) -> Result<(), (Hop, BrowserError)> {
    let url = format!("http://{PROBE_HOST}/{token}");
    match auth::navigate(driver, &url, limit).await {
        Ok(()) if proxy.saw_probe(token) => Ok(()),
        result => {
            let error = result
                .err()
                .unwrap_or_else(|| "the page came from elsewhere".into());
            if proxy.saw_probe(token) {
                return Err((
                    Hop::Page,
                    BrowserError::Page(format!("the proxy's test page did not load: {error}")),
                ));
            }
            Err((
                Hop::Proxy,
                BrowserError::Session(format!(
                    "the browser did not reach leadscout's proxy at {} ({error}); check webdriver.proxy_url (the address browsers are given), webdriver.proxy_bind (where the proxy listens), webdriver.proxy_allow (who may connect) and any firewall between the browser and this machine",
                    proxy.url()
                )),
            ))
        }
    }
}

impl Browser {
    /// Walks the path once with a fresh probe token and reports each hop
    /// up to the first that broke.
    pub async fn prove_path(&self) -> Vec<HopResult> {
        let mut hops = Vec::new();
        let url = match self.driver.url().await {
            Ok(url) => url,
            Err(e) => {
                hops.push(HopResult {
                    hop: Hop::Reachable,
                    result: Err(e.to_string()),
                });
                return hops;
            }
        };
        let ready = status(&url).await;
        let broke = ready.is_err();
        hops.push(HopResult {
            hop: Hop::Reachable,
            result: ready,
        });
        if broke {
            return hops;
        }
        let token = probe_token();
        let session = match self.open_session(&token).await {
            Ok(session) => session,
            Err((hop, e)) => {
                for before in [Hop::Session, Hop::Proxy, Hop::Page] {
                    if before == hop {
                        break;
                    }
                    hops.push(HopResult {
                        hop: before,
                        result: Ok(passed(before, &token)),
                    });
                }
                hops.push(HopResult {
                    hop,
                    result: Err(e.to_string()),
                });
                return hops;
            }
        };
        let version = session
            .driver
            .cdp()
            .send_raw("Browser.getVersion", json!({}))
            .await
            .ok()
            .and_then(|v| v["product"].as_str().map(str::to_string))
            .unwrap_or_else(|| "version unknown".into());
        hops.push(HopResult {
            hop: Hop::Session,
            result: Ok(format!(
                "{version}; the browser uses the proxy at {}",
                session.proxy.url()
            )),
        });
        hops.push(HopResult {
            hop: Hop::Proxy,
            result: Ok(passed(Hop::Proxy, &token)),
        });
        let title = session.driver.title().await.map_err(|e| e.to_string());
        let page = match title {
            Ok(title) if title == probe_title(&token) => Ok(passed(Hop::Page, &token)),
            Ok(title) => Err(format!(
                "the browser showed `{title}`, not the proxy's test page"
            )),
            Err(e) => Err(e),
        };
        let page_ok = page.is_ok();
        hops.push(HopResult {
            hop: Hop::Page,
            result: page,
        });
        if page_ok {
            let shot = session
                .driver
                .cdp()
                .send_raw("Page.captureScreenshot", json!({"format": "png"}))
                .await
                .map_err(|e| e.to_string())
                .and_then(|answer| {
                    base64::engine::general_purpose::STANDARD
                        .decode(answer["data"].as_str().unwrap_or(""))
                        .map_err(|e| e.to_string())
                })
                .and_then(|png| {
                    if png.starts_with(b"\x89PNG") {
                        Ok(format!("{} bytes of PNG", png.len()))
                    } else {
                        Err("the browser's answer was not a PNG".into())
                    }
                });
            hops.push(HopResult {
                hop: Hop::Screenshot,
                result: shot,
            });
        }
        close(session).await;
        hops
    }
}

fn passed(hop: Hop, token: &str) -> String {
    match hop {
        Hop::Proxy => "the browser reached the proxy with its session's credentials".into(),
        Hop::Page => format!("the proxy's test page ({})", probe_title(token)),
        _ => "ok".into(),
    }
}

/// The WebDriver's `/status`: a Grid says whether it has a free node.
async fn status(url: &str) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let answer = client
        .get(format!("{url}/status"))
        .send()
        .await
        .map_err(|e| format!("{url} does not answer: {e}; check webdriver.url"))?;
    let body: serde_json::Value = answer
        .json()
        .await
        .map_err(|e| format!("{url}/status is not WebDriver's answer: {e}"))?;
    let message = body["value"]["message"].as_str().unwrap_or("").to_string();
    if body["value"]["ready"].as_bool() == Some(false) {
        return Err(format!("{url} is not ready: {message}"));
    }
    Ok(format!(
        "{url} ready{}",
        if message.is_empty() {
            String::new()
        } else {
            format!(" ({message})")
        }
    ))
}
