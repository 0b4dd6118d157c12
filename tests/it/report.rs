//! Report pages: the router driven with `oneshot` and a real server on
//! port 0. Scraped markup stays text, every miss is the same 404, request
//! paths never reach the filesystem, unsubscribing is on disk before the
//! answer, and the static export stands on its own.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use leadscout::config::Config;
use leadscout::runtime::LocalOpener;
use leadscout::service::{Opener, Service};
use serde_json::Value;
use tower::ServiceExt;

use crate::helpers::Cli;
use crate::hostile::SwitchSite;

/// A page that tries every trick in its title, description and links.
pub const HOSTILE_PAGE: &str = r#"<!doctype html><html lang="en"><head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Crumbs <script>alert(1)</script> "><img src=x onerror=alert(2)></title>
<meta name="description" content="Fresh bread &quot;&gt;&lt;img src=x onerror=alert(3)&gt; &lt;script&gt;alert(4)&lt;/script&gt; javascript:alert(5)">
</head><body><h1>Crumbs bakery</h1>
<a href="javascript:alert(6)">order</a> <a href="/missing">menu</a>
<img src="/nope.png"></body></html>"#;

const BUSINESS: &str = r#"Crumbs "><svg onload=alert(7)> Bakery"#;

/// A campaign `c` with one lead whose site is `HOSTILE_PAGE`, fetched,
/// audited and published by a real run.
pub struct Published {
    pub cli: Cli,
    pub _site: SwitchSite,
    pub lead: String,
    pub token: String,
}

pub fn publish(extra_env: &[(&str, &str)]) -> Published {
    publish_through(extra_env, "fetch,audit,report")
}

/// Like [`publish`], running the given stages.
pub fn publish_through(extra_env: &[(&str, &str)], stages: &str) -> Published {
    let site = SwitchSite::start(HOSTILE_PAGE);
    let mut cli = Cli::new()
        .env(
            "LEADSCOUT_FETCH__ALLOW_HOSTS",
            &format!("127.0.0.1:{}", site.port),
        )
        .env("LEADSCOUT_FETCH__LINK_SAMPLE", "2");
    for (k, v) in extra_env {
        cli = cli.env(k, v);
    }
    cli.campaign("c");
    let csv = format!(
        "name,website,email\n\"{}\",{},owner@crumbs.example\n",
        BUSINESS.replace('"', "\"\""),
        site.url()
    );
    let file = cli.write("leads.csv", csv);
    cli.ok(&["import", file.to_str().unwrap(), "-c", "c"]);
    cli.ok(&["settings", "set", "sender.name", "Jane <b>Doe</b>"]);
    cli.ok(&["settings", "set", "sender.email", "jane@agency.example"]);
    cli.ok(&[
        "settings",
        "set",
        "report.cta_url",
        "https://agency.example/book",
    ]);
    let summary = cli.json(&["run", "-c", "c", "--stages", stages, "--wait"]);
    assert_eq!(summary["stages"]["report"]["succeeded"], 1, "{summary}");
    let leads = cli.json(&["leads", "list", "-c", "c"]);
    let lead = leads[0]["id"].as_str().unwrap().to_string();
    assert_eq!(leads[0]["status"], "reported", "{leads}");
    let link = cli.json(&["report", "url", &lead]);
    let token = link["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    Published {
        cli,
        _site: site,
        lead,
        token,
    }
}

pub fn opener(cli: &Cli, config: Config) -> LocalOpener {
    LocalOpener::new(cli.data.clone(), config)
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

async fn get(service: &Service, uri: &str) -> Answer {
    send(service, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn send(service: &Service, request: Request<Body>) -> Answer {
    let response = leadscout::web::router(service.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn assert_security_headers(answer: &Answer, what: &str) {
    let h = |name: &str| {
        answer
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let csp = h("content-security-policy");
    assert!(
        csp.contains("default-src 'self'") && csp.contains("script-src 'none'"),
        "{what}: {csp}"
    );
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
}

fn assert_plain_404(answer: &Answer, what: &str) {
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{what}");
    assert_eq!(
        answer.text(),
        "Not found\n",
        "{what}: every miss looks the same"
    );
    assert_security_headers(answer, what);
}

#[test]
fn scraped_markup_is_shown_as_text_and_never_becomes_markup() {
    let p = publish(&[]);
    let rt = runtime();
    rt.block_on(async {
        let service = opener(&p.cli, Config::default()).open("test").unwrap();
        let answer = get(&service, &format!("/r/{}", p.token)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        assert_security_headers(&answer, "report page");
        assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
        let html = answer.text();
        let doc = scraper::Html::parse_document(&html);
        let all = scraper::Selector::parse("*").unwrap();
        let mut links = Vec::new();
        for element in doc.select(&all) {
            let name = element.value().name();
            assert!(
                !matches!(name, "script" | "iframe" | "object" | "embed"),
                "a <{name}> element made it into the page"
            );
            if name == "svg" {
                assert!(
                    element
                        .value()
                        .has_class("gauge", scraper::CaseSensitivity::CaseSensitive),
                    "only our gauges are SVG: {}",
                    element.html()
                );
            }
            for (attr, value) in element.value().attrs() {
                assert!(
                    !attr.starts_with("on"),
                    "event handler attribute {attr}={value}"
                );
                if matches!(attr, "href" | "src" | "action") {
                    links.push(value.to_string());
                }
            }
        }
        for link in &links {
            let lower = link.trim().to_ascii_lowercase();
            assert!(
                lower.starts_with('/')
                    || lower.starts_with("http://")
                    || lower.starts_with("https://")
                    || lower.starts_with("mailto:"),
                "unsafe URL in the page: {link}"
            );
        }
        let text: String = doc.root_element().text().collect();
        assert!(
            text.contains("<script>alert(1)</script>"),
            "the title shows as text"
        );
        assert!(
            text.contains("onerror=alert(3)"),
            "the description shows as text"
        );
        assert!(text.contains(BUSINESS), "the business name shows as text");
        assert!(text.contains("Jane <b>Doe</b>"), "settings are text too");
        assert!(
            links.iter().any(|l| l == "https://agency.example/book"),
            "the call to action: {links:?}"
        );
        assert!(
            links
                .iter()
                .any(|l| l.starts_with("/u/") && !l.contains(&p.token)),
            "the lead's own unsubscribe link: {links:?}"
        );
        assert!(links.iter().any(|l| l == "/assets/report.css"), "{links:?}");
        let css = get(&service, "/assets/report.css").await;
        assert_eq!(css.status, StatusCode::OK);
        assert!(
            css.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/css")
        );
        assert!(
            !css.text().contains("http"),
            "no external assets in the stylesheet"
        );
        service.shutdown().await;
    });
}

#[test]
fn the_report_as_data_and_every_kind_of_miss() {
    let p = publish(&[]);
    let rt = runtime();
    rt.block_on(async {
        let service = opener(&p.cli, Config::default()).open("test").unwrap();
        let answer = get(&service, &format!("/r/{}.json", p.token)).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_security_headers(&answer, "report data");
        let data: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(data["business_name"], BUSINESS);
        assert!(data["overall"].as_u64().unwrap() <= 100);
        assert!(!data["problems"].as_array().unwrap().is_empty(), "{data}");
        let unsubscribe = data["unsubscribe_path"].as_str().unwrap();
        assert!(
            unsubscribe.starts_with("/u/") && unsubscribe.len() == 35,
            "{unsubscribe}"
        );
        assert!(
            !unsubscribe.contains(&p.token),
            "the lead's own unsubscribe token, not the report token"
        );
        assert!(
            data["search_preview"]["title"]
                .as_str()
                .unwrap()
                .contains("<script>")
        );
        let unknown = "0123456789abcdef0123456789abcdef";
        for uri in [
            format!("/r/{unknown}"),
            format!("/r/{unknown}.json"),
            format!("/u/{unknown}"),
            format!("/r/{}", p.token.to_uppercase()),
            format!("/r/{}x", p.token),
            format!("/r/{}", &p.token[..31]),
            "/r/".to_string(),
            "/r/..%2f..%2fetc%2fpasswd".to_string(),
            "/assets/../Cargo.toml".to_string(),
            "/assets/".to_string(),
            "/nothing-here".to_string(),
            "/".to_string(),
        ] {
            assert_plain_404(&get(&service, &uri).await, &uri);
        }
        let post = send(
            &service,
            Request::post(format!("/u/{unknown}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_plain_404(&post, "unsubscribe with an unknown token");
        service.shutdown().await;
    });
}

#[test]
fn screenshots_are_served_by_exact_hash_only() {
    let p = publish(&[]);
    let png = {
        let image = image::RgbImage::from_pixel(8, 8, image::Rgb([10, 200, 30]));
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let (png_hash, page_hash, symlinked) = {
        let store = leadscout::store::Store::open(&p.cli.data, "test").unwrap();
        let png_hash = store.blobs().put(&png).unwrap().to_hex();
        let page_hash = store.blobs().put(HOSTILE_PAGE.as_bytes()).unwrap().to_hex();
        // A blob replaced by a symlink to a PNG with the same bytes: the
        // hash would match, but the file is not one we wrote.
        let victim_png = {
            let image = image::RgbImage::from_pixel(9, 9, image::Rgb([1, 2, 3]));
            let mut out = std::io::Cursor::new(Vec::new());
            image.write_to(&mut out, image::ImageFormat::Png).unwrap();
            out.into_inner()
        };
        let victim = store.blobs().put(&victim_png).unwrap().to_hex();
        let path = crate::helpers::files_under(&p.cli.data)
            .into_iter()
            .find(|f| f.file_name().is_some_and(|n| n.to_string_lossy() == victim))
            .expect("the blob file");
        let outside = p.cli.write("outside.png", &victim_png);
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&outside, &path).unwrap();
        (png_hash, page_hash, victim)
    };
    let rt = runtime();
    rt.block_on(async {
        let service = opener(&p.cli, Config::default()).open("test").unwrap();
        let answer = get(&service, &format!("/s/{png_hash}.png")).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, png);
        assert_eq!(answer.headers[header::CONTENT_TYPE], "image/png");
        assert_eq!(answer.headers[header::ETAG], format!("\"{png_hash}\""));
        assert!(
            answer.headers[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        assert_security_headers(&answer, "screenshot");
        let again = send(
            &service,
            Request::get(format!("/s/{png_hash}.png"))
                .header(header::IF_NONE_MATCH, format!("\"{png_hash}\""))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());
        let tries = [
            format!("/s/{page_hash}.png"),
            format!("/s/{symlinked}.png"),
            format!("/s/{}.png", png_hash.to_uppercase()),
            format!("/s/{png_hash}"),
            format!("/s/{png_hash}.PNG"),
            format!("/s/{png_hash}.png.png"),
            format!("/s/{}.png", &png_hash[..63]),
            format!("/s/../s/{png_hash}.png/.."),
            "/s/..".to_string(),
            "/s/%2e%2e".to_string(),
            "/s/%2e%2e%2f%2e%2e%2fetc%2fpasswd".to_string(),
            "/s/..%2f..%2fdata%2fleadscout.pid".to_string(),
            "/s/..%5c..%5cetc%5cpasswd".to_string(),
            "/s/%5c%5c..%5cetc".to_string(),
            "/s/%2fetc%2fpasswd".to_string(),
            format!(
                "/s/{}",
                p.cli
                    .data
                    .join("blobs")
                    .display()
                    .to_string()
                    .replace('/', "%2f")
            ),
            "/s/".to_string(),
        ];
        for uri in &tries {
            assert_plain_404(&get(&service, uri).await, uri);
        }
        service.shutdown().await;
    });
    // The same tries on the wire, where no client normalises the path first.
    rt.block_on(async {
        let service = opener(&p.cli, Config::default()).open("test").unwrap();
        let server = leadscout::web::WebServer::start_on(service.clone(), "127.0.0.1:0")
            .await
            .unwrap();
        for path in [
            "/s/../../etc/passwd",
            "/s/..\\..\\etc\\passwd",
            "/s/./../Cargo.toml",
            "//etc/passwd",
            "/s/%00.png",
        ] {
            let head = raw_get(server.addr(), path).await;
            assert!(
                head.starts_with("HTTP/1.1 404") || head.starts_with("HTTP/1.1 400"),
                "{path}: {head}"
            );
            assert!(!head.contains("root:"), "{path}");
        }
        server.stop().await;
        service.shutdown().await;
    });
}

/// A request written by hand: the path goes out exactly as given.
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).to_string()
}

#[test]
fn unsubscribing_on_a_real_server_blacklists_the_lead_on_disk() {
    let p = publish(&[]);
    let rt = runtime();
    let base = rt.block_on(async {
        let service = opener(&p.cli, Config::default())
            .open_with_workers("serve")
            .unwrap();
        let server = leadscout::web::WebServer::start_with(
            service.clone(),
            "127.0.0.1:0",
            Some("127.0.0.1:0"),
        )
        .await
        .unwrap();
        let base = format!("http://{}", server.addr());
        let http = reqwest::Client::new();
        let health = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 503, "workers are not started yet");
        service.start_workers();
        let health = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let metrics_at = format!("http://{}/metrics", server.metrics_addr().unwrap());
        let metrics = http.get(&metrics_at).send().await.unwrap();
        assert_eq!(metrics.status(), 200);
        let metrics_type = metrics.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        let text = metrics.text().await.unwrap();
        assert!(
            text.contains("leadscout_jobs_total{stage=\"report\",status=\"succeeded\"} 1"),
            "{text}"
        );
        assert!(text.contains("# TYPE leadscout_jobs counter"), "{text}");
        assert!(
            text.contains("leadscout_jobs_created_total{stage=\"report\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert_eq!(
            metrics_type,
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        assert!(
            text.contains("# TYPE leadscout_jobs_queued gauge"),
            "{text}"
        );
        let public = http.get(format!("{base}/metrics")).send().await.unwrap();
        assert_eq!(
            public.status(),
            404,
            "metrics are not on the public port, where a proxy makes every caller local"
        );

        let data = http
            .get(format!("{base}/r/{}.json", p.token))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let data: Value = serde_json::from_str(&data).unwrap();
        let unsubscribe = data["unsubscribe_path"].as_str().unwrap().to_string();
        let form = http
            .get(format!("{base}{unsubscribe}"))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 200);
        assert!(form.text().await.unwrap().contains("method=\"post\""));
        assert!(
            service.blacklist_list().await.unwrap().is_empty(),
            "opening the link changes nothing"
        );

        let done = http
            .post(format!("{base}{unsubscribe}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
        assert!(done.text().await.unwrap().contains("unsubscribed"));
        server.stop().await;
        service.shutdown().await;
        base
    });
    assert!(
        std::net::TcpStream::connect(base.trim_start_matches("http://")).is_err(),
        "the server stopped"
    );
    // What the operator sees afterwards, from a new process.
    let entries = p.cli.json(&["blacklist", "list"]);
    let entries = entries.as_array().unwrap();
    let values: Vec<&str> = entries
        .iter()
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    assert!(values.contains(&"owner@crumbs.example"), "{entries:?}");
    assert!(
        values.iter().any(|v| v.starts_with("127.0.0.1")),
        "the site's domain: {entries:?}"
    );
    assert!(
        entries.iter().all(|e| e["reason"] == "unsubscribe"),
        "{entries:?}"
    );
    let lead = p.cli.json(&["leads", "show", &p.lead]);
    assert_eq!(
        lead["status"], "blacklisted",
        "no draft or send may go to it: {lead}"
    );
}

#[test]
fn revoked_and_expired_links_answer_404() {
    let p = publish(&[]);
    let out = p.cli.json(&["report", "revoke", &p.lead]);
    assert_eq!(out["revoked"], true);
    let rt = runtime();
    rt.block_on(async {
        let service = opener(&p.cli, Config::default()).open("test").unwrap();
        for uri in [format!("/r/{}", p.token), format!("/r/{}.json", p.token)] {
            assert_plain_404(&get(&service, &uri).await, &uri);
        }
        // The unsubscribe link is the lead's own and outlives the report
        // link (tests/it/unsubscribe.rs); the report token never was one.
        assert_plain_404(
            &get(&service, &format!("/u/{}", p.token)).await,
            "a report token as an unsubscribe link",
        );
        service.shutdown().await;
    });
    let again = p.cli.json(&["report", "url", &p.lead]);
    let fresh = again["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(fresh, p.token, "a new link, never the revoked one");
    let mut short = Config::default();
    short.server.report_expiry = Duration::from_secs(3600);
    // Time moves when the test says so, not while it sleeps.
    let clock = std::sync::Arc::new(leadscout::domain::FixedClock::new(jiff::Timestamp::now()));
    rt.block_on(async {
        let service = opener(&p.cli, short)
            .with_clock(clock.clone())
            .open("test")
            .unwrap();
        assert_eq!(
            get(&service, &format!("/r/{fresh}")).await.status,
            StatusCode::OK
        );
        service.revoke_report(&p.lead).await.unwrap();
        let (link, url) = service.report_link(&p.lead).await.unwrap();
        let token = link.token.to_string();
        assert!(url.ends_with(&token));
        assert_eq!(
            get(&service, &format!("/r/{token}")).await.status,
            StatusCode::OK
        );
        clock.advance(jiff::SignedDuration::from_secs(3601));
        assert_plain_404(
            &get(&service, &format!("/r/{token}")).await,
            "an expired link",
        );
        service.shutdown().await;
    });
}

/// One router, as a running server keeps it: the page server remembers a
/// live link and its page between requests. A revocation must still be
/// seen by the first request after it returns, even while others hammer the
/// link, and an expiry by the first request after the clock passes it.
#[test]
fn a_remembered_link_dies_the_moment_it_is_revoked_or_expires() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let p = publish(&[]);
    let mut short = Config::default();
    short.server.report_expiry = Duration::from_secs(3600);
    let clock = Arc::new(leadscout::domain::FixedClock::new(jiff::Timestamp::now()));
    let rt = runtime();
    rt.block_on(async {
        let service = opener(&p.cli, short)
            .with_clock(clock.clone())
            .open("test")
            .unwrap();
        let router = leadscout::web::router(service.clone());
        let status = |uri: String| {
            let router = router.clone();
            async move {
                router
                    .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                    .await
                    .unwrap()
                    .status()
            }
        };
        let page = format!("/r/{}", p.token);
        assert_eq!(status(page.clone()).await, StatusCode::OK);
        assert_eq!(status(page.clone()).await, StatusCode::OK, "from memory");

        // Readers keep asking while the link is revoked; every request
        // that starts after the revocation returned must get a 404.
        let revoked = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let (revoked, page, router) = (revoked.clone(), page.clone(), router.clone());
                tokio::spawn(async move {
                    let mut after = 0;
                    while after < 50 {
                        let started_after = revoked.load(Ordering::SeqCst);
                        let answer = router
                            .clone()
                            .oneshot(Request::get(page.as_str()).body(Body::empty()).unwrap())
                            .await
                            .unwrap()
                            .status();
                        if started_after {
                            assert_eq!(answer, StatusCode::NOT_FOUND, "a page after revoke");
                            after += 1;
                        }
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        tokio::task::yield_now().await;
        assert!(service.revoke_report(&p.lead).await.unwrap());
        revoked.store(true, Ordering::SeqCst);
        for reader in readers {
            reader.await.unwrap();
        }

        // A new link, remembered, then expired by the clock alone.
        let (link, _) = service.report_link(&p.lead).await.unwrap();
        let fresh = format!("/r/{}", link.token);
        assert_eq!(status(fresh.clone()).await, StatusCode::OK);
        assert_eq!(status(fresh.clone()).await, StatusCode::OK, "from memory");
        clock.advance(jiff::SignedDuration::from_secs(3601));
        assert_eq!(
            status(fresh.clone()).await,
            StatusCode::NOT_FOUND,
            "expired"
        );
        assert_eq!(status(page).await, StatusCode::NOT_FOUND, "still revoked");
        service.shutdown().await;
    });
}

#[test]
fn report_urls_use_the_public_base_url() {
    let p = publish(&[(
        "LEADSCOUT_SERVER__PUBLIC_BASE_URL",
        "https://reports.agency.example/",
    )]);
    let out = p.cli.ok(&["report", "url", &p.lead]);
    assert_eq!(
        out.trim(),
        format!("https://reports.agency.example/r/{}", p.token)
    );
    let local = p
        .cli
        .command(&["report", "url", &p.lead])
        .env_remove("LEADSCOUT_SERVER__PUBLIC_BASE_URL")
        .env("LEADSCOUT_SERVER__PUBLIC_BASE_URL", "")
        .output()
        .unwrap();
    assert!(local.status.success());
    assert_eq!(
        String::from_utf8_lossy(&local.stdout).trim(),
        format!("http://127.0.0.1:8080/r/{}", p.token)
    );
    assert!(String::from_utf8_lossy(&local.stderr).contains("server.public_base_url is not set"));
}

#[test]
fn export_writes_a_static_site_that_stands_alone() {
    let p = publish(&[]);
    let out_dir = p.cli.path("site");
    let summary = p.cli.json(&[
        "report",
        "export",
        "--campaign",
        "c",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(summary["pages"], 1, "{summary}");
    let page =
        std::fs::read_to_string(out_dir.join("r").join(&p.token).join("index.html")).unwrap();
    let doc = scraper::Html::parse_document(&page);
    let hrefs: Vec<&str> = doc
        .select(&scraper::Selector::parse("[href]").unwrap())
        .filter_map(|e| e.value().attr("href"))
        .collect();
    assert!(
        hrefs.contains(&"../../assets/report.css"),
        "relative links work on any host: {hrefs:?}"
    );
    assert!(
        hrefs.contains(&"mailto:jane@agency.example?subject=Unsubscribe"),
        "no server to POST to, so unsubscribing is by email: {hrefs:?}"
    );
    assert_eq!(
        doc.select(&scraper::Selector::parse("script").unwrap())
            .count(),
        0,
        "no script in the export either"
    );
    let data: Value = serde_json::from_slice(
        &std::fs::read(out_dir.join("r").join(format!("{}.json", p.token))).unwrap(),
    )
    .unwrap();
    assert_eq!(data["business_name"], BUSINESS);
    assert!(out_dir.join("assets/report.css").is_file());
    assert_eq!(
        std::fs::read_to_string(out_dir.join("robots.txt")).unwrap(),
        "User-agent: *\nDisallow: /\n"
    );
    p.cli.campaign("empty");
    let err = p.cli.fails(&[
        "report",
        "export",
        "--campaign",
        "empty",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        err.contains("no published reports") && err.contains("--stages report"),
        "{err}"
    );
}
