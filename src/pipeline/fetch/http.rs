//! One guarded GET: redirects followed by hand (each hop cleared by the
//! guard), a deadline over the whole exchange, a cap on the response head,
//! and a body read in chunks, decompressed here so that both the bytes on
//! the wire and the bytes after decompression are counted, and a bomb is cut
//! off at the limit.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_compression::tokio::bufread::{BrotliDecoder, DeflateDecoder, GzipDecoder, ZstdDecoder};
use futures::TryStreamExt;
use reqwest::header::{self, HeaderMap};
use tokio::io::{AsyncRead, AsyncReadExt};
use url::Url;

use super::guard::{EgressGuard, Refused};
use super::timing::{self, ConnectTiming};
use crate::domain::audit::{Redirect, Timings};

/// Limits of one GET.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body: u64,
    pub max_head: u64,
    pub timeout: Duration,
    pub max_redirects: usize,
}

/// A response, after redirects.
#[derive(Debug, Clone)]
pub struct Page {
    pub final_url: Url,
    pub status: u16,
    pub http_version: String,
    pub headers: Vec<(String, String)>,
    pub redirects: Vec<Redirect>,
    pub timings: Timings,
    pub bytes_wire: u64,
    pub bytes_decoded: u64,
    pub truncated: bool,
    pub body: Vec<u8>,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a GET failed. Each says what happened in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("{url} did not finish within {seconds}s")]
    Timeout { url: String, seconds: u64 },
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("TLS certificate problem at {url}: {reason}")]
    Certificate { url: String, reason: String },
    #[error("{url} redirected more than {max} times")]
    TooManyRedirects { url: String, max: usize },
    #[error("{url} redirects in a loop (back to {back_to})")]
    RedirectLoop { url: String, back_to: String },
    #[error("{url} redirected to `{location}`, which is not a valid URL")]
    BadRedirect { url: String, location: String },
    #[error("{url} sent a response head {}, over the {limit}-byte limit", bytes.map_or("far too large".to_string(), |b| format!("of {b} bytes")))]
    HeadTooLarge {
        url: String,
        bytes: Option<u64>,
        limit: u64,
    },
    #[error("{url}: {reason}")]
    Protocol { url: String, reason: String },
    #[error("{url}: the body could not be decoded ({encoding}): {reason}")]
    Decode {
        url: String,
        encoding: String,
        reason: String,
    },
}

impl FetchError {
    /// Worth trying again later (the network), as opposed to the site or
    /// the policy being what it is.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Timeout { .. } | Self::Connect { .. } | Self::Protocol { .. }
        ) || matches!(self, Self::Refused(Refused::Dns { .. }))
    }
}

fn is_certificate_error(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "certificate",
        "unknownissuer",
        "notvalidforname",
        "expired",
        "self-signed",
        "self signed",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Follows redirects from `url` and reads the final body within `limits`.
pub async fn get(
    client: &reqwest::Client,
    guard: &EgressGuard,
    url: &Url,
    user_agent: &str,
    limits: Limits,
) -> Result<Page, FetchError> {
    let deadline = Instant::now() + limits.timeout;
    let timed_out = || FetchError::Timeout {
        url: url.to_string(),
        seconds: limits.timeout.as_secs().max(1),
    };
    match tokio::time::timeout_at(
        deadline.into(),
        get_inner(client, guard, url, user_agent, limits),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(timed_out()),
    }
}

async fn get_inner(
    client: &reqwest::Client,
    guard: &EgressGuard,
    url: &Url,
    user_agent: &str,
    limits: Limits,
) -> Result<Page, FetchError> {
    let started = Instant::now();
    let mut timings = Timings::default();
    let mut current = url.clone();
    let mut redirects = Vec::new();
    let mut seen = HashSet::from([current.to_string()]);
    loop {
        let cleared = guard.clear(&current, limits.timeout).await?;
        timings.dns_ms += cleared.dns.as_millis() as u64;
        let sent = Instant::now();
        let (response, connect) = timing::measure_connect(
            client
                .get(current.clone())
                .header(header::USER_AGENT, user_agent)
                .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
                .header(header::ACCEPT_ENCODING, "gzip, deflate, br, zstd")
                .send(),
        )
        .await;
        let response = response.map_err(|e| {
            let text = crate::pipeline::error_text(&e);
            if text.contains("message head is too large") || text.contains("too many headers") {
                FetchError::HeadTooLarge {
                    url: current.to_string(),
                    bytes: None,
                    limit: limits.max_head,
                }
            } else if is_certificate_error(&text) {
                FetchError::Certificate {
                    url: current.to_string(),
                    reason: text,
                }
            } else {
                FetchError::Connect {
                    url: current.to_string(),
                    reason: text,
                }
            }
        })?;
        let ConnectTiming(connect) = connect;
        timings.connect_ms += connect.as_millis() as u64;
        timings.ttfb_ms = sent.elapsed().saturating_sub(connect).as_millis() as u64;

        let head_bytes = head_size(response.headers());
        if head_bytes > limits.max_head {
            return Err(FetchError::HeadTooLarge {
                url: current.to_string(),
                bytes: Some(head_bytes),
                limit: limits.max_head,
            });
        }
        let status = response.status();
        if status.is_redirection() && status != reqwest::StatusCode::NOT_MODIFIED {
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let next = current
                .join(&location)
                .map_err(|_| FetchError::BadRedirect {
                    url: current.to_string(),
                    location: location.clone(),
                })?;
            if location.is_empty() {
                return Err(FetchError::BadRedirect {
                    url: current.to_string(),
                    location,
                });
            }
            redirects.push(Redirect {
                status: status.as_u16(),
                from: current.to_string(),
                to: next.to_string(),
            });
            if !seen.insert(next.to_string()) {
                return Err(FetchError::RedirectLoop {
                    url: url.to_string(),
                    back_to: next.to_string(),
                });
            }
            if redirects.len() > limits.max_redirects {
                return Err(FetchError::TooManyRedirects {
                    url: url.to_string(),
                    max: limits.max_redirects,
                });
            }
            current = next;
            continue;
        }
        let http_version = format!("{:?}", response.version());
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let encoding = response
            .headers()
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let body = read_body(response, &encoding, limits.max_body, &current).await?;
        timings.total_ms = started.elapsed().as_millis() as u64;
        return Ok(Page {
            final_url: current,
            status: status.as_u16(),
            http_version,
            headers,
            redirects,
            timings,
            bytes_wire: body.wire,
            bytes_decoded: body.bytes.len() as u64,
            truncated: body.truncated,
            body: body.bytes,
        });
    }
}

/// Approximate size of the response head as sent.
fn head_size(headers: &HeaderMap) -> u64 {
    headers
        .iter()
        .map(|(k, v)| (k.as_str().len() + v.len() + 4) as u64)
        .sum::<u64>()
        + 20
}

struct Body {
    bytes: Vec<u8>,
    wire: u64,
    truncated: bool,
}

/// Reads at most `max` decompressed bytes, counting the wire bytes too.
async fn read_body(
    response: reqwest::Response,
    encoding: &str,
    max: u64,
    url: &Url,
) -> Result<Body, FetchError> {
    let wire = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = wire.clone();
    let stream = response
        .bytes_stream()
        .inspect_ok(move |chunk| {
            counted.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
        })
        .map_err(std::io::Error::other);
    let raw = tokio::io::BufReader::new(tokio_util::io::StreamReader::new(stream));
    let mut decoded: Box<dyn AsyncRead + Unpin + Send> = match encoding {
        "gzip" | "x-gzip" => Box::new(GzipDecoder::new(raw)),
        "br" => Box::new(BrotliDecoder::new(raw)),
        "zstd" => Box::new(ZstdDecoder::new(raw)),
        "deflate" => Box::new(DeflateDecoder::new(raw)),
        _ => Box::new(raw),
    };
    let mut bytes = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut truncated = false;
    loop {
        let n = decoded.read(&mut buffer).await.map_err(|e| {
            if encoding.is_empty() || encoding == "identity" {
                FetchError::Protocol {
                    url: url.to_string(),
                    reason: format!("the connection broke while reading the body: {e}"),
                }
            } else {
                FetchError::Decode {
                    url: url.to_string(),
                    encoding: encoding.to_string(),
                    reason: e.to_string(),
                }
            }
        })?;
        if n == 0 {
            break;
        }
        let room = max.saturating_sub(bytes.len() as u64) as usize;
        if n > room {
            bytes.extend_from_slice(&buffer[..room]);
            truncated = true;
            break;
        }
        bytes.extend_from_slice(&buffer[..n]);
    }
    Ok(Body {
        bytes,
        wire: wire.load(std::sync::atomic::Ordering::Relaxed),
        truncated,
    })
}

/// One request, not followed: its status and `Location` header.
pub async fn first_redirect(
    client: &reqwest::Client,
    guard: &EgressGuard,
    url: &Url,
    user_agent: &str,
    limits: Limits,
) -> Result<(u16, String), FetchError> {
    let exchange = async {
        guard.clear(url, limits.timeout).await?;
        let response = client
            .get(url.clone())
            .header(header::USER_AGENT, user_agent)
            .send()
            .await
            .map_err(|e| FetchError::Connect {
                url: url.to_string(),
                reason: crate::pipeline::error_text(&e),
            })?;
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Ok((response.status().as_u16(), location))
    };
    tokio::time::timeout(limits.timeout, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(FetchError::Timeout {
                url: url.to_string(),
                seconds: limits.timeout.as_secs().max(1),
            })
        })
}
