//! The screenshot stage with Debian's Chromium and chromedriver: exact
//! viewport sizes, a known colour where it should be, LCP and CLS on pages
//! built to produce them, the egress guard in the browser, bounded loads,
//! a browser killed mid-job, and what happens without a WebDriver.
//!
//! These tests need `chromium` and `chromedriver` on PATH. Without them
//! they say so and pass, except under CI (`CI` set), where they fail:
//! `.ci/run` installs both.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use leadscout::config::Config;
use leadscout::pipeline::browser::{Browser, BrowserError, checks, picture};
use leadscout::service::Opener;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::Cli;

/// Browser tests run one at a time: each starts Chromium, and several at
/// once on two cores only measure the machine.
static ONE_BROWSER_TEST: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_BROWSER_TEST.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether the browser tests can run here.
pub fn browser_available(test: &str) -> bool {
    let found = ["chromedriver", "chromium"]
        .iter()
        .all(|p| leadscout::pipeline::browser::driver::find_program(p).is_some());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: chromium and chromedriver are required in CI (.ci/run installs them)"
        );
        eprintln!(
            "skipping {test}: chromium and chromedriver are not installed (apt install chromium chromium-driver)"
        );
    }
    found
}

/// Pages for the browser, each at its own path; `/late.png` arrives late.
const TEST_PAGES: &[(&str, &str)] = &[
    (
        "/colour",
        "<!doctype html><html><head><meta name=viewport content='width=device-width'><style>body{margin:0}#top{height:300px;background:rgb(220,20,60)}</style></head><body><div id=top></div><p>below</p></body></html>",
    ),
    (
        "/vitals",
        "<!doctype html><html><head><meta name=viewport content='width=device-width'><style>body{margin:0;font:16px sans-serif}</style></head><body><div id=top>start</div><img src='/late.png' width=300 height=200 style='display:block'><div style='height:500px;background:#ddd'>block</div><script>addEventListener('load',()=>{const d=document.createElement('div');d.style.height='300px';d.textContent='banner';document.body.insertBefore(d,document.getElementById('top'));})</script><p>text</p></body></html>",
    ),
    (
        "/egress",
        "<!doctype html><html><body><h1>outside</h1><img src='http://127.0.0.1:SECRET/secret.png'><img src='http://169.254.169.254/latest/meta-data/x.png'><script>fetch('http://127.0.0.1:SECRET/api').catch(()=>{})</script></body></html>",
    ),
    (
        "/escape",
        "<!doctype html><html><head><meta http-equiv=refresh content='0;url=http://127.0.0.1:SECRET/private'></head><body>moving</body></html>",
    ),
    (
        "/loop",
        "<!doctype html><html><head><script>while(true){}</script></head><body>never</body></html>",
    ),
    ("/slow", "SLOW"),
    (
        "/wide",
        "<!doctype html><html><head><meta name=viewport content='width=device-width'></head><body><div style='width:1200px'>wide</div></body></html>",
    ),
];

pub struct PageServer {
    pub port: u16,
    pub secret_port: u16,
    pub secret_touched: Arc<AtomicBool>,
}

impl PageServer {
    pub fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("http://127.0.0.1:{}{path}", self.port)).unwrap()
    }

    pub fn start() -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        let touched = Arc::new(AtomicBool::new(false));
        let flag = touched.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let secret = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let secret_port = secret.local_addr().unwrap().port();
                tokio::spawn(async move {
                    while secret.accept().await.is_ok() {
                        flag.store(true, Ordering::SeqCst);
                    }
                });
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send((listener.local_addr().unwrap().port(), secret_port)).unwrap();
                while let Ok((mut stream, _)) = listener.accept().await {
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; 8192];
                        let n = stream.read(&mut buf).await.unwrap_or(0);
                        let request = String::from_utf8_lossy(&buf[..n]).to_string();
                        let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                        let (content_type, body): (&str, Vec<u8>) = if path == "/late.png" {
                            tokio::time::sleep(Duration::from_millis(900)).await;
                            ("image/png", png(300, 200, [30, 90, 200]))
                        } else if path == "/slow" {
                            tokio::time::sleep(Duration::from_secs(4)).await;
                            ("text/html", b"<html><body><h1>slow but fine</h1></body></html>".to_vec())
                        } else {
                            let page = TEST_PAGES.iter().find(|(p, _)| *p == path).map(|(_, b)| *b).unwrap_or("<html><body>404</body></html>");
                            ("text/html; charset=utf-8", page.replace("SECRET", &secret_port.to_string()).into_bytes())
                        };
                        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                        let _ = stream.write_all(head.as_bytes()).await;
                        let _ = stream.write_all(&body).await;
                    });
                }
            });
        });
        let (port, secret_port) = rx.recv().unwrap();
        Self {
            port,
            secret_port,
            secret_touched: touched,
        }
    }
}

fn png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb(rgb));
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn config_for(server: &PageServer) -> Config {
    let mut config = Config::default();
    config.fetch.allow_hosts = vec![format!("127.0.0.1:{}", server.port)];
    config.webdriver.sessions = 1;
    config.webdriver.page_timeout = Duration::from_secs(5);
    config
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn screenshots_have_exact_sizes_and_the_right_colours() {
    if !browser_available("screenshots_have_exact_sizes_and_the_right_colours") {
        return;
    }
    let _one = one_at_a_time();
    let server = PageServer::start();
    let browser = Browser::new(&config_for(&server)).unwrap();
    let rt = runtime();
    let capture = rt
        .block_on(browser.capture(&server.url("/colour")))
        .unwrap();
    assert_eq!(
        picture::png_size(&capture.desktop_png),
        Some((1366, 768)),
        "desktop viewport, not window"
    );
    assert_eq!(
        picture::png_size(&capture.mobile_png),
        Some((780, 1688)),
        "390x844 at device pixel ratio 2"
    );
    let desktop = image::load_from_memory(&capture.desktop_png)
        .unwrap()
        .to_rgb8();
    assert_eq!(
        desktop.get_pixel(100, 100).0,
        [220, 20, 60],
        "the red block at the top"
    );
    assert_eq!(
        desktop.get_pixel(100, 600).0,
        [255, 255, 255],
        "white below it"
    );
    let mobile = image::load_from_memory(&capture.mobile_png)
        .unwrap()
        .to_rgb8();
    assert_eq!(
        mobile.get_pixel(300, 300).0,
        [220, 20, 60],
        "300 CSS px of red is 600 device px"
    );
    assert_eq!(mobile.get_pixel(300, 900).0, [255, 255, 255]);
    assert!(
        capture.desktop_full_png.is_none(),
        "full pages are off by default"
    );
    rt.block_on(browser.shutdown());
    let mut tall = config_for(&server);
    tall.webdriver.full_page_max_height = 1000;
    let browser = Browser::new(&tall).unwrap();
    let wide = rt.block_on(browser.capture(&server.url("/wide"))).unwrap();
    let full = wide
        .mobile_full_png
        .as_ref()
        .expect("a full-page shot when enabled and the page is taller than the screen");
    let (w, h) = picture::png_size(full).unwrap();
    assert!(
        w >= 390 && h == 1000,
        "capped at 1000 CSS px, one pixel per CSS px: {w}x{h}"
    );
    assert!(
        wide.mobile.scroll_width >= 1200 && wide.mobile.viewport_width == 390,
        "{:?}",
        wide.mobile
    );
    let overflow = checks::run(&wide, &Default::default())
        .into_iter()
        .find(|c| c.id == "mobile.browser.overflow")
        .unwrap();
    assert!(!overflow.passed, "{overflow:?}");
    assert_eq!(
        overflow.evidence,
        format!(
            "content is {} px wide on a 390 px screen",
            wide.mobile.scroll_width
        )
    );
    let thumb = picture::thumbnail(&capture.desktop_png, 400).unwrap();
    assert_eq!(picture::png_size(&thumb), Some((400, 224)));
    assert!(
        capture.mobile.scroll_width <= capture.mobile.viewport_width,
        "{:?}",
        capture.mobile
    );
    rt.block_on(browser.shutdown());
}

#[test]
fn lcp_and_cls_are_measured_on_a_page_built_to_produce_them() {
    if !browser_available("lcp_and_cls_are_measured_on_a_page_built_to_produce_them") {
        return;
    }
    let _one = one_at_a_time();
    let server = PageServer::start();
    let browser = Browser::new(&config_for(&server)).unwrap();
    let rt = runtime();
    let capture = rt
        .block_on(browser.capture(&server.url("/vitals")))
        .unwrap();
    for metrics in [&capture.desktop, &capture.mobile] {
        let lcp = metrics.lcp_ms.expect("LCP measured");
        assert!(
            (800.0..5000.0).contains(&lcp),
            "the image arrives after 900 ms: LCP {lcp}"
        );
        let cls = metrics.cls.expect("CLS measured");
        assert!(
            (0.05..1.0).contains(&cls),
            "a 300 px banner after load pushes the content down: CLS {cls}"
        );
        assert!(metrics.fcp_ms.is_some_and(|f| f < lcp), "{metrics:?}");
        assert!(metrics.requests >= 2, "{metrics:?}");
    }
    let results = checks::run(&capture, &Default::default());
    let cls = results
        .iter()
        .find(|c| c.id == "performance.browser.cls")
        .unwrap();
    assert!(
        !cls.passed && cls.evidence.starts_with("layout shift score"),
        "{cls:?}"
    );
    assert!(
        results
            .iter()
            .all(|c| c.measured_by == leadscout::domain::audit::MeasuredBy::Browser)
    );
    rt.block_on(browser.shutdown());
}

#[test]
fn the_browser_cannot_reach_what_the_guard_refuses() {
    if !browser_available("the_browser_cannot_reach_what_the_guard_refuses") {
        return;
    }
    let _one = one_at_a_time();
    let server = PageServer::start();
    let browser = Browser::new(&config_for(&server)).unwrap();
    let rt = runtime();
    let capture = rt
        .block_on(browser.capture(&server.url("/egress")))
        .unwrap();
    assert!(
        capture
            .refused
            .iter()
            .any(|r| r.contains(&format!("127.0.0.1:{}", server.secret_port))),
        "{:?}",
        capture.refused
    );
    assert!(
        capture
            .refused
            .iter()
            .any(|r| r.contains("169.254.169.254")),
        "{:?}",
        capture.refused
    );
    let escape = rt.block_on(browser.capture(&server.url("/escape")));
    match escape {
        Ok(capture) => assert!(!capture.refused.is_empty(), "the redirect was refused"),
        Err(BrowserError::Page(detail)) => assert!(
            detail.contains("refused") || detail.contains("ERR_"),
            "{detail}"
        ),
        Err(other) => panic!("unexpected: {other}"),
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !server.secret_touched.load(Ordering::SeqCst),
        "the browser reached a port that was not allowed"
    );
    rt.block_on(browser.shutdown());
}

#[test]
fn an_endless_script_ends_in_a_clear_error_within_the_limit() {
    if !browser_available("an_endless_script_ends_in_a_clear_error_within_the_limit") {
        return;
    }
    let _one = one_at_a_time();
    let server = PageServer::start();
    let mut config = config_for(&server);
    config.webdriver.page_timeout = Duration::from_secs(3);
    let browser = Browser::new(&config).unwrap();
    let rt = runtime();
    let started = Instant::now();
    let err = rt
        .block_on(browser.capture(&server.url("/loop")))
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "bounded: {:?}",
        started.elapsed()
    );
    assert!(err.is_transient(), "{err}");
    // The pool replaced the stuck session: the next page works.
    let capture = rt
        .block_on(browser.capture(&server.url("/colour")))
        .unwrap();
    assert_eq!(picture::png_size(&capture.desktop_png), Some((1366, 768)));
    rt.block_on(browser.shutdown());
}

#[test]
fn a_browser_killed_mid_job_is_replaced_and_the_job_retried() {
    if !browser_available("a_browser_killed_mid_job_is_replaced_and_the_job_retried") {
        return;
    }
    let _one = one_at_a_time();
    let server = PageServer::start();
    let cli = Cli::new()
        .env(
            "LEADSCOUT_FETCH__ALLOW_HOSTS",
            &format!("[\"127.0.0.1:{}\"]", server.port),
        )
        .env("LEADSCOUT_JOBS__BACKOFF", "50ms")
        .env("LEADSCOUT_WEBDRIVER__SESSIONS", "1");
    cli.campaign("c");
    cli.ok(&[
        "leads",
        "add",
        "-c",
        "c",
        "--website",
        server.url("/slow").as_str(),
    ]);
    cli.ok(&["run", "-c", "c", "--stages", "fetch,audit", "--wait"]);
    let child = cli
        .command(&[
            "run",
            "-c",
            "c",
            "--stages",
            "screenshot",
            "--wait",
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The page takes 4 s; kill the browser while it waits.
    std::thread::sleep(Duration::from_millis(2500));
    let browsers = descendants(child.id())
        .into_iter()
        .filter(|pid| comm(*pid).starts_with("chrom") && !comm(*pid).starts_with("chromedriver"));
    let mut killed = 0;
    for pid in browsers {
        // SAFETY: a signal to a process of our own child's tree.
        if unsafe { libc::kill(pid as i32, libc::SIGKILL) } == 0 {
            killed += 1;
        }
    }
    assert!(killed > 0, "a browser was running to kill");
    let output = child.wait_with_output().unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["stages"]["screenshot"]["succeeded"], 1, "{summary}");
    let jobs = cli.json(&["jobs", "list", "--stage", "screenshot"]);
    assert_eq!(
        jobs[0]["attempts"], 2,
        "one failed attempt, then a fresh session: {jobs}"
    );
    let shown = cli.json(&["jobs", "show", jobs[0]["id"].as_str().unwrap()]);
    assert_eq!(shown["attempts"][0]["status"], "retrying");
    assert!(
        shown["attempts"][0]["error"][0]
            .as_str()
            .unwrap()
            .contains("browser session failed"),
        "{shown}"
    );
    let audit = cli.json(&["audit", "show", server.url("/slow").as_str()]);
    assert!(
        audit["passed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|id| id.as_str().unwrap().contains("browser")),
        "browser checks merged: {audit}"
    );
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Every process below `root`, from /proc.
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The parent pid is the second field after the ")" that ends the name.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        if let Some(ppid) = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok())
        {
            parent_of.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parent_of
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

#[test]
fn without_a_webdriver_the_stage_is_skipped_with_what_to_install() {
    let _one = one_at_a_time();
    let server = PageServer::start();
    let cli = Cli::new()
        .env(
            "LEADSCOUT_FETCH__ALLOW_HOSTS",
            &format!("[\"127.0.0.1:{}\"]", server.port),
        )
        .env("LEADSCOUT_WEBDRIVER__CHROMEDRIVER", "no-such-chromedriver");
    cli.campaign("c");
    cli.ok(&[
        "leads",
        "add",
        "-c",
        "c",
        "--website",
        server.url("/colour").as_str(),
    ]);
    let summary = cli.json(&["run", "-c", "c", "--wait"]);
    assert_eq!(summary["stages"]["screenshot"]["skipped"], 1, "{summary}");
    assert_eq!(
        summary["stages"]["audit"]["succeeded"], 1,
        "everything else keeps working"
    );
    let jobs = cli.json(&["jobs", "list", "--stage", "screenshot"]);
    let reason = jobs[0]["last_error"].as_str().unwrap();
    assert!(
        reason.contains("no-such-chromedriver")
            && reason.contains("apt install chromium chromium-driver"),
        "{reason}"
    );
    let doctor = cli.json(&["doctor"]);
    let webdriver = doctor
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "webdriver")
        .expect("a webdriver check");
    assert_eq!(webdriver["status"], "warn");
    assert!(
        webdriver["detail"]
            .as_str()
            .unwrap()
            .contains("apt install chromium chromium-driver")
    );
}

/// The report page in the browser it is written for: at desktop and phone
/// widths, with the lead's own screenshots on it, nothing wider than the
/// screen. The captures are kept under `target/test-artifacts/`.
#[test]
fn the_report_page_fits_a_phone_and_a_desktop() {
    if !browser_available("the_report_page_fits_a_phone_and_a_desktop") {
        return;
    }
    let _one = one_at_a_time();
    let published = crate::report::publish_through(
        &[("LEADSCOUT_WEBDRIVER__SESSIONS", "1")],
        "fetch,audit,screenshot,report",
    );
    let rt = runtime();
    let capture = rt.block_on(async {
        let service = crate::report::opener(&published.cli, Config::default())
            .open("test")
            .unwrap();
        let data = service
            .report_page(&published.token)
            .await
            .unwrap()
            .unwrap();
        assert!(
            data.desktop.is_some() && data.mobile.is_some(),
            "the page shows the lead's screenshots"
        );
        let server = leadscout::web::WebServer::start_on(service.clone(), "127.0.0.1:0")
            .await
            .unwrap();
        let mut config = Config::default();
        config.fetch.allow_hosts = vec![server.addr().to_string()];
        config.webdriver.sessions = 1;
        let browser = Browser::new(&config).unwrap();
        let url =
            url::Url::parse(&format!("http://{}/r/{}", server.addr(), published.token)).unwrap();
        let capture = browser.capture(&url).await.unwrap();
        // The pictures the page links (lazily loaded, so the browser may
        // not have asked for those below the fold) are served.
        for shot in [&data.desktop, &data.mobile].into_iter().flatten() {
            for path in [&shot.thumbnail, &shot.picture] {
                let got = reqwest::get(format!("http://{}/{path}", server.addr()))
                    .await
                    .unwrap();
                assert_eq!(got.status(), 200, "{path}");
                assert_eq!(got.headers()["content-type"], "image/png");
            }
        }
        browser.shutdown().await;
        server.stop().await;
        service.shutdown().await;
        capture
    });
    let artifacts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("report-desktop.png"), &capture.desktop_png).unwrap();
    std::fs::write(artifacts.join("report-mobile.png"), &capture.mobile_png).unwrap();
    assert!(
        capture.mobile.scroll_width <= capture.mobile.viewport_width,
        "no horizontal overflow on a phone: {:?}",
        capture.mobile
    );
    assert!(
        capture.desktop.scroll_width <= capture.desktop.viewport_width,
        "{:?}",
        capture.desktop
    );
    assert!(
        capture.desktop.requests >= 2,
        "the page and its stylesheet: {:?}",
        capture.desktop
    );
}
