//! The fetch stage's logic: one guarded GET of the site, a probe of its
//! `http://` address, robots.txt, sitemap.xml, and a sample of internal
//! links, all through the egress guard and within size and time limits.

pub mod guard;
pub mod http;
mod timing;

use std::time::Duration;

use futures::StreamExt;
use url::Url;

use crate::config::FetchConfig;
use crate::domain::audit::{LinkCheck, Resource, SiteFetch};
use crate::domain::{LeadId, Timestamp};
use guard::EgressGuard;
pub use http::{FetchError, Limits, Page};

/// What a site fetch produced: the record and the page body.
#[derive(Debug, Clone)]
pub struct SiteOutcome {
    pub fetch: SiteFetch,
    pub body: Vec<u8>,
}

/// A reusable fetcher: two HTTP clients (one that checks certificates, one
/// used only to audit a site whose certificate is broken) behind one guard.
pub struct Fetcher {
    strict: reqwest::Client,
    lenient: reqwest::Client,
    guard: EgressGuard,
    config: FetchConfig,
    user_agent: String,
}

const SIDE_TIMEOUT: Duration = Duration::from_secs(5);
const ROBOTS_MAX: u64 = 512 * 1024;
const SITEMAP_MAX: u64 = 5 * 1024 * 1024;
const LINK_MAX: u64 = 16 * 1024;

impl Fetcher {
    pub fn new(config: &FetchConfig) -> Result<Self, FetchError> {
        let guard = EgressGuard::new(config);
        let build = |lenient: bool| {
            let mut builder = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .dns_resolver(guard.resolver())
                .connect_timeout(config.connect_timeout)
                .connector_layer(timing::ConnectTimingLayer)
                .pool_max_idle_per_host(2)
                .pool_idle_timeout(Duration::from_secs(15))
                .http1_max_headers(200);
            if lenient {
                builder = builder
                    .tls_danger_accept_invalid_certs(true)
                    .tls_danger_accept_invalid_hostnames(true);
            }
            if let Some(root) = &config.demo_root {
                let ca = reqwest::Certificate::from_pem(root.ca_pem.as_bytes()).map_err(|e| {
                    FetchError::Protocol {
                        url: String::new(),
                        reason: format!("the demo's certificate authority is unusable: {e}"),
                    }
                })?;
                builder = builder.tls_certs_merge([ca]);
            }
            builder.build().map_err(|e| FetchError::Protocol {
                url: String::new(),
                reason: format!("cannot build the HTTP client: {e}"),
            })
        };
        let user_agent = if config.user_agent.trim().is_empty() {
            format!(
                "Mozilla/5.0 (compatible; leadscout/{}; website audit)",
                env!("CARGO_PKG_VERSION")
            )
        } else {
            config.user_agent.trim().to_string()
        };
        Ok(Self {
            strict: build(false)?,
            lenient: build(true)?,
            guard,
            config: config.clone(),
            user_agent,
        })
    }

    fn page_limits(&self) -> Limits {
        Limits {
            max_body: self.config.max_body_mb * 1024 * 1024,
            max_head: self.config.max_header_kb * 1024,
            timeout: self.config.timeout,
            max_redirects: self.config.max_redirects,
        }
    }

    fn side_limits(&self, max_body: u64) -> Limits {
        Limits {
            max_body,
            max_head: self.config.max_header_kb * 1024,
            timeout: SIDE_TIMEOUT.min(self.config.timeout),
            max_redirects: self.config.max_redirects,
        }
    }

    /// One guarded GET with the page limits.
    pub async fn get(&self, url: &Url) -> Result<Page, FetchError> {
        http::get(
            &self.strict,
            &self.guard,
            url,
            &self.user_agent,
            self.page_limits(),
        )
        .await
    }

    /// Fetches everything the audit looks at for one site.
    pub async fn fetch_site(
        &self,
        lead: LeadId,
        website: &Url,
        now: Timestamp,
    ) -> Result<SiteOutcome, FetchError> {
        let (mut page, tls_problem) = match self.get(website).await {
            Ok(page) => (page, None),
            Err(FetchError::Certificate { reason, .. }) => {
                // Audit the site anyway, and report the certificate.
                let page = http::get(
                    &self.lenient,
                    &self.guard,
                    website,
                    &self.user_agent,
                    self.page_limits(),
                )
                .await?;
                (page, Some(reason))
            }
            Err(e) => return Err(e),
        };
        let origin = page.final_url.origin().ascii_serialization();
        let client = if tls_problem.is_some() {
            &self.lenient
        } else {
            &self.strict
        };

        let http_probe = if page.final_url.scheme() == "https" {
            let mut plain = page.final_url.clone();
            let _ = plain.set_scheme("http");
            let _ = plain.set_port(None);
            plain.set_path("/");
            plain.set_query(None);
            Some(self.probe(&plain).await)
        } else {
            None
        };
        let robots = self
            .side(client, &format!("{origin}/robots.txt"), ROBOTS_MAX)
            .await;
        let sitemap_url = robots
            .as_ref()
            .and_then(|(r, _)| {
                crate::pipeline::robots::sitemaps(&r.text)
                    .into_iter()
                    .next()
            })
            .unwrap_or_else(|| format!("{origin}/sitemap.xml"));
        let sitemap =
            self.side(client, &sitemap_url, SITEMAP_MAX)
                .await
                .map(|(mut resource, body)| {
                    if resource.status.is_some_and(|s| s < 400) {
                        match count_sitemap_entries(&body) {
                            Ok(n) => resource.entries = Some(n),
                            Err(e) => resource.error = Some(e),
                        }
                    }
                    resource.text.clear();
                    resource
                });
        let body = std::sync::Arc::new(std::mem::take(&mut page.body));
        let links = self.check_links(client, &page, body.clone()).await;
        // The link check is done with its copy; this hands the bytes over
        // without duplicating a page of up to max_body_mb.
        let body =
            std::sync::Arc::try_unwrap(body).unwrap_or_else(|shared| shared.as_ref().clone());

        let fetch = SiteFetch {
            lead,
            fetched_at: now,
            requested_url: website.to_string(),
            final_url: page.final_url.to_string(),
            status: page.status,
            http_version: page.http_version.clone(),
            headers: page.headers.clone(),
            redirects: page.redirects.clone(),
            timings: page.timings,
            bytes_wire: page.bytes_wire,
            bytes_decoded: page.bytes_decoded,
            truncated: page.truncated,
            body: None,
            tls_problem,
            http_probe,
            robots: robots.map(|(r, _)| r),
            sitemap,
            links,
        };
        Ok(SiteOutcome { fetch, body })
    }

    /// Where `url` leads, without following: status and Location.
    async fn probe(&self, url: &Url) -> Resource {
        let limits = Limits {
            max_redirects: 0,
            ..self.side_limits(LINK_MAX)
        };
        let mut resource = Resource {
            url: url.to_string(),
            ..Resource::default()
        };
        match http::get(&self.strict, &self.guard, url, &self.user_agent, limits).await {
            Ok(page) => resource.status = Some(page.status),
            Err(FetchError::TooManyRedirects { .. }) => {
                // The first hop was a redirect: that is what we wanted to see.
                match http::first_redirect(&self.strict, &self.guard, url, &self.user_agent, limits)
                    .await
                {
                    Ok((status, location)) => {
                        resource.status = Some(status);
                        resource.text = location;
                    }
                    Err(e) => resource.error = Some(e.to_string()),
                }
            }
            Err(e) => resource.error = Some(e.to_string()),
        }
        resource
    }

    /// A small side resource; `None` when the URL is not even valid.
    async fn side(
        &self,
        client: &reqwest::Client,
        url: &str,
        max: u64,
    ) -> Option<(Resource, Vec<u8>)> {
        let parsed = Url::parse(url).ok()?;
        let mut resource = Resource {
            url: url.to_string(),
            ..Resource::default()
        };
        let body = match http::get(
            client,
            &self.guard,
            &parsed,
            &self.user_agent,
            self.side_limits(max),
        )
        .await
        {
            Ok(page) => {
                resource.status = Some(page.status);
                if page.status < 400 {
                    let shown = &page.body[..page.body.len().min(64 * 1024)];
                    resource.text = String::from_utf8_lossy(shown).into_owned();
                }
                page.body
            }
            Err(e) => {
                resource.error = Some(e.to_string());
                Vec::new()
            }
        };
        Some((resource, body))
    }

    /// Checks a sample of the page's internal links.
    async fn check_links(
        &self,
        client: &reqwest::Client,
        page: &Page,
        body: std::sync::Arc<Vec<u8>>,
    ) -> Vec<LinkCheck> {
        if self.config.link_sample == 0 || body.is_empty() {
            return Vec::new();
        }
        let base = page.final_url.clone();
        let content_type = page.header("content-type").map(str::to_string);
        let sample = self.config.link_sample;
        let links = tokio::task::spawn_blocking(move || {
            let html =
                crate::pipeline::audit::decode::decode_html(&body, content_type.as_deref()).text;
            crate::pipeline::audit::facts::internal_links(&html, &base, sample)
        })
        .await
        .unwrap_or_default();
        futures::stream::iter(links)
            .map(|link| async move {
                let limits = self.side_limits(LINK_MAX);
                match http::get(client, &self.guard, &link, &self.user_agent, limits).await {
                    Ok(page) => LinkCheck {
                        url: link.to_string(),
                        status: Some(page.status),
                        error: None,
                    },
                    Err(e) => LinkCheck {
                        url: link.to_string(),
                        status: None,
                        error: Some(e.to_string()),
                    },
                }
            })
            .buffer_unordered(4)
            .collect()
            .await
    }
}

/// Counts `<loc>` entries of a sitemap or sitemap index; an error says why
/// it does not parse.
fn count_sitemap_entries(body: &[u8]) -> Result<u64, String> {
    if body.starts_with(&[0x1f, 0x8b]) {
        return Err("the sitemap is gzip-compressed; it was not unpacked".into());
    }
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut buf = Vec::new();
    let mut count = 0u64;
    let mut saw_root = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(e)) => {
                let name = e.local_name();
                let name = name.as_ref();
                if name == b"urlset" || name == b"sitemapindex" {
                    saw_root = true;
                }
                if name == b"loc" {
                    count += 1;
                }
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("not valid XML: {e}")),
        }
        buf.clear();
    }
    if !saw_root {
        return Err("no <urlset> or <sitemapindex> element".into());
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sitemaps_are_counted_or_explained() {
        let xml = br#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://a.example/</loc></url><url><loc>https://a.example/b</loc></url></urlset>"#;
        assert_eq!(count_sitemap_entries(xml), Ok(2));
        assert!(
            count_sitemap_entries(b"<html><body>404</body></html>")
                .unwrap_err()
                .contains("no <urlset>")
        );
        assert!(count_sitemap_entries(b"<urlset><url><loc>x</url>").is_err());
        assert!(
            count_sitemap_entries(&[0x1f, 0x8b, 1, 2])
                .unwrap_err()
                .contains("gzip")
        );
    }
}
