//! The page server's routes: report pages and their data, screenshots by
//! hash, one-click unsubscribe, health; and the metrics listener's route.
//! Every miss (unknown, malformed, revoked or expired token, a name that is
//! not a hash) gets the same plain 404. Unsubscribe tokens are the lead's
//! own and never expire: mail already delivered must keep its link.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::headers;
use super::page_cache::{Known, PageCache};
use super::render::{PageLinks, REPORT_CSS, Templates};
use crate::domain::visits::{self, ClientKind};
use crate::service::{Service, ServiceError};

pub(super) struct Pages {
    pub service: Service,
    pub templates: Templates,
    cache: PageCache,
}

pub(super) type AppState = Arc<Pages>;

impl Pages {
    pub fn new(service: Service) -> Self {
        Self {
            service,
            templates: Templates::new(),
            cache: PageCache::default(),
        }
    }
}

/// The kind of client asking, from its `User-Agent` alone: a view is
/// counted by kind, and the header itself is neither kept nor copied.
pub(super) struct Client(ClientKind);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Ok(Self(visits::classify(agent)))
    }
}

/// A failure inside the server: logged with its cause, answered with a
/// plain 500 that gives nothing away.
pub(super) struct Failure(String);

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Self {
        Self(e.to_string())
    }
}

impl From<minijinja::Error> for Failure {
    fn from(e: minijinja::Error) -> Self {
        Self(format!("template: {e:#}"))
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        tracing::error!(error = %self.0, "page server request failed");
        plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong. Please try again later.\n",
        )
    }
}

type Answer = Result<Response, Failure>;

fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

pub(super) async fn not_found() -> Response {
    plain(StatusCode::NOT_FOUND, "Not found\n")
}

/// Private pages are not kept by browsers or proxies.
const NO_STORE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "no-store");

/// `/r/{token}` (the page) and `/r/{token}.json` (the same as data).
/// Whether the link is live is decided per request: from memory while no
/// report link was written since it was read, else from the store.
pub(super) async fn report(
    State(pages): State<AppState>,
    Path(name): Path<String>,
    Client(client): Client,
) -> Answer {
    if let Some(token) = name.strip_suffix(".json") {
        return Ok(match pages.service.report_page(token).await? {
            Some(view) => ([NO_STORE], Json(view)).into_response(),
            None => not_found().await,
        });
    }
    let token = name.as_str();
    let generation = pages.service.report_links_generation();
    let (lead, page) = match pages.cache.lookup(token, generation, pages.service.now()) {
        Known::Live(lead, page) => (lead, page),
        Known::Expired => return Ok(not_found().await),
        Known::Unknown => match pages.service.live_report_link(token)? {
            Some(link) => {
                pages.cache.remember_link(token, generation, &link);
                (link.lead, None)
            }
            None => {
                pages.cache.forget(token);
                return Ok(not_found().await);
            }
        },
    };
    // A view that cannot be recorded must not cost the visitor the page.
    if let Err(e) = pages.service.record_view_as(lead, client) {
        tracing::warn!(error = %e, "a report view was not recorded");
    }
    if let Some(html) = page {
        return Ok(html_page(html));
    }
    let Some(view) = pages.service.report_page(token).await? else {
        return Ok(not_found().await);
    };
    let unsubscribe = view.unsubscribe_path.clone();
    let html = Bytes::from(pages.templates.report(
        &view,
        &PageLinks {
            root: "/",
            unsubscribe: &unsubscribe,
        },
    )?);
    pages.cache.remember_page(token, generation, html.clone());
    Ok(html_page(html))
}

/// A private HTML page: its whole head is built once and copied.
fn html_page(html: Bytes) -> Response {
    let mut response = Response::new(Body::from(html));
    *response.headers_mut() = headers::private_html().clone();
    response
}

/// `GET /u/{token}`: a confirmation with one button. Following the link
/// changes nothing (mail scanners open links); only the POST does.
pub(super) async fn unsubscribe_form(
    State(pages): State<AppState>,
    Path(token): Path<String>,
) -> Answer {
    let Some(lead) = pages.service.lead_for_unsubscribe(&token)? else {
        return Ok(not_found().await);
    };
    let html = pages
        .templates
        .unsubscribe(&lead.business_name, &token, false)?;
    Ok(([NO_STORE], Html(html)).into_response())
}

/// `POST /u/{token}`, from the confirmation's button or a mail client's
/// RFC 8058 one-click POST (`List-Unsubscribe=One-Click`): the body is not
/// needed, the token says who. The blacklist entry is on disk before the
/// answer goes out.
pub(super) async fn unsubscribe(
    State(pages): State<AppState>,
    Path(token): Path<String>,
) -> Answer {
    let Some(lead) = pages.service.unsubscribe(&token).await? else {
        return Ok(not_found().await);
    };
    tracing::info!(lead = %lead.id, "unsubscribed through the report page");
    let html = pages
        .templates
        .unsubscribe(&lead.business_name, &token, true)?;
    Ok(([NO_STORE], Html(html)).into_response())
}

/// `/s/{sha256}.png`: content-addressed, so cached forever, with the hash
/// as the ETag.
pub(super) async fn screenshot(
    State(pages): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let Some(hash) = name.strip_suffix(".png") else {
        return Ok(not_found().await);
    };
    let etag = format!("\"{hash}\"");
    let Some(bytes) = pages.service.screenshot(&name).await? else {
        return Ok(not_found().await);
    };
    let Ok(etag) = HeaderValue::from_str(&etag) else {
        return Ok(not_found().await);
    };
    let cache = (
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| {
        v.as_bytes()
            .split(|b| *b == b',')
            .any(|t| t.trim_ascii() == etag.as_bytes())
    }) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag), cache]).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/png")),
            (header::ETAG, etag),
            cache,
        ],
        bytes,
    )
        .into_response())
}

pub(super) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        REPORT_CSS,
    )
        .into_response()
}

/// Ready once the store is open (it is, or there would be no server) and
/// the workers run.
pub(super) async fn healthz(State(pages): State<AppState>) -> Response {
    if pages.service.is_ready() {
        plain(StatusCode::OK, "ok\n")
    } else {
        plain(StatusCode::SERVICE_UNAVAILABLE, "workers are not running\n")
    }
}

/// Prometheus metrics, on the metrics listener only (`server.metrics_bind`,
/// loopback unless the operator opened it): never on the public pages'
/// port, where a reverse proxy or tunnel makes every caller look local.
pub(super) async fn metrics(State(service): State<Service>) -> Answer {
    let text = service.metrics_text().await?;
    Ok((
        [(header::CONTENT_TYPE, crate::service::METRICS_CONTENT_TYPE)],
        text,
    )
        .into_response())
}
