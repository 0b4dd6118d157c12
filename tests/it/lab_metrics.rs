//! The audit's `metrics`: what the HTTP fetch measured, then what the
//! screenshot stage's phone view measured and the Lighthouse-style mobile
//! estimate, as `audit show --json` lists them. One fixture page on
//! loopback with a render-blocking stylesheet, an image and a ~120 ms long
//! task; one browser session.
//!
//! Needs `chromium` and `chromedriver` (skipped with a reason without
//! them, failing under `CI`).

use crate::browser::{browser_available, one_at_a_time};
use crate::helpers::Cli;

const PAGE: &str = "<!doctype html><html lang=en><head><meta name=viewport content='width=device-width'>\
<title>Joe's Bakery</title><link rel=stylesheet href=/style.css></head><body>\
<h1>Joe's Bakery</h1><img src=/hero.png width=300 height=200 alt='Our bread'>\
<p>Fresh bread every morning.</p>\
<script>const began = performance.now(); while (performance.now() - began < 120) {}</script>\
</body></html>";

fn png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(300, 200, |x, y| image::Rgb([x as u8, y as u8, 90]));
    crate::helpers::png(&image)
}

/// Serves the page at `/`, `/style.css` and `/hero.png` on loopback.
fn serve() -> u16 {
    crate::helpers::serve_pages(|path| {
        let (kind, body) = match path {
            "/hero.png" => ("image/png", png()),
            "/style.css" => (
                "text/css",
                b"body{font:16px sans-serif;color:#111}".to_vec(),
            ),
            _ => ("text/html", PAGE.as_bytes().to_vec()),
        };
        ("200 OK", kind, body)
    })
}

#[test]
fn the_audit_keeps_what_was_measured_and_the_mobile_estimate() {
    if !browser_available("the_audit_keeps_what_was_measured_and_the_mobile_estimate") {
        return;
    }
    let _one = one_at_a_time();
    let port = serve();
    let url = format!("http://127.0.0.1:{port}/");
    let cli = Cli::new().allow_local_site(port).one_browser();
    cli.campaign("c");
    cli.ok(&["leads", "add", "-c", "c", "--website", &url]);
    cli.ok(&["run", "-c", "c", "--stages", "fetch,audit", "--wait"]);

    // Without the browser: what the fetch measured, and no estimate.
    let http = cli.json(&["audit", "show", &url]);
    let m = &http["metrics"];
    assert_eq!(m["source"], "http", "{m}");
    assert_eq!(m["ttfb"]["unit"], "ms", "{m}");
    assert_eq!(m["ttfb"]["measured"], true, "{m}");
    assert_eq!(m["decoded_bytes"]["value"], PAGE.len() as f64, "{m}");
    assert!(m["mobile_estimate"].is_null(), "{m}");
    // `audit show` for people says what the fetch measured and why there
    // is no estimate.
    let text = cli.ok(&["audit", "show", &url]);
    assert!(
        text.contains("Phone estimate: none. A phone estimate needs the page loaded in a browser"),
        "{text}"
    );
    assert!(
        text.contains("Measured here: The HTML document alone"),
        "{text}"
    );

    cli.ok(&["run", "-c", "c", "--stages", "screenshot", "--wait"]);
    let shown = cli.json(&["audit", "show", &url]);
    let m = &shown["metrics"];
    assert_eq!(m["source"], "browser", "{m}");
    let by_type = &m["requests_by_type"];
    assert_eq!(by_type["document"], 1, "{m}");
    assert_eq!(by_type["stylesheet"], 1, "{m}");
    // The image and the favicon Chromium asks for.
    assert!(by_type["image"].as_u64().unwrap() >= 1, "{m}");
    let blocking = &m["render_blocking"];
    assert!(blocking["count"].as_u64().unwrap() >= 1, "{m}");
    assert!(
        blocking["urls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u.as_str().unwrap().ends_with("/style.css")),
        "{m}"
    );
    assert!(
        m["largest_images"][0]["url"]
            .as_str()
            .unwrap()
            .ends_with("/hero.png"),
        "{m}"
    );
    assert!(m["longest_task"]["value"].as_f64().unwrap() > 50.0, "{m}");
    assert_eq!(m["longest_task"]["measured"], true, "{m}");
    assert!(m["dom_size"]["value"].as_f64().unwrap() >= 8.0, "{m}");
    let e = &m["mobile_estimate"];
    let fcp = e["fcp"]["value"].as_f64().expect("an estimated FCP");
    let lcp = e["lcp"]["value"].as_f64().expect("an estimated LCP");
    assert!(lcp >= fcp, "{e}");
    assert_eq!(e["fcp"]["estimated"], true, "{e}");
    assert_eq!(e["lcp"]["unit"], "ms", "{e}");
    let score = e["performance"].as_u64().expect("a score");
    assert!(score <= 100, "{e}");
    assert!(
        e["lighthouse_version"].as_str().unwrap().starts_with("12"),
        "{e}"
    );
    assert_eq!(e["conditions"]["cpu_slowdown"], 4.0, "{e}");

    // And in text: the estimate with its label, then what was measured.
    let text = cli.ok(&["audit", "show", &url]);
    let heading = format!(
        "Phone estimate (Lighthouse {} mobile): performance {score}",
        e["lighthouse_version"].as_str().unwrap()
    );
    assert!(text.contains(&heading), "{heading:?} in\n{text}");
    assert!(text.contains("× slower CPU"), "{text}");
    assert!(text.contains("Measured here: Unthrottled"), "{text}");
    assert!(text.contains("render-blocking"), "{text}");
    assert!(text.contains("/style.css"), "{text}");
}

/// A slider's work after `load`: 300 ms after the load event two long
/// tasks (150 ms each), the second of which puts a banner above the content.
const LATE_PAGE: &str = "<!doctype html><html lang=en><head><meta name=viewport content='width=device-width'>\
<title>Sunny Slides</title></head><body><h1>Sunny Slides</h1><p>This week's offers.</p>\
<div id=slides style='height:600px;background:#ddd'>slides</div><script>\
const busy = (ms) => { const t = performance.now(); while (performance.now() - t < ms) {} };\
addEventListener('load', () => setTimeout(() => { busy(150); setTimeout(() => { busy(150);\
const b = document.createElement('div'); b.style.height = '300px'; b.textContent = 'Sale!';\
document.body.insertBefore(b, document.getElementById('slides')); }, 0); }, 300));\
</script></body></html>";

/// Long tasks that start after the load event (and the layout shift they
/// cause) are counted: the phone view's page keeps being watched while the
/// desktop view loads, and its late look waits for a timer due within a
/// second of `load`. Before, measuring ended two frames after `load` and
/// the estimate's total blocking time was 0 for such a page.
#[test]
fn long_tasks_after_load_are_counted_in_the_estimate() {
    if !browser_available("long_tasks_after_load_are_counted_in_the_estimate") {
        return;
    }
    let _one = one_at_a_time();
    let port =
        crate::helpers::serve_pages(|_| ("200 OK", "text/html", LATE_PAGE.as_bytes().to_vec()));
    let mut config = leadscout::config::Config::default();
    config.fetch.allow_hosts = vec![format!("127.0.0.1:{port}")];
    config.webdriver.sessions = 1;
    let browser = leadscout::pipeline::browser::Browser::new(&config).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let capture = rt.block_on(browser.capture(&url)).unwrap();
    rt.block_on(browser.shutdown());
    let page = &capture.mobile;
    let trace = page.trace.as_ref().expect("a trace of the phone view");
    let load = page.load_ms.expect("the load event");
    let late: Vec<_> = trace
        .tasks
        .iter()
        .filter(|t| t.start_ms >= load + 250.0 && t.duration_ms >= 100.0)
        .collect();
    assert!(
        !late.is_empty(),
        "the long tasks from 300 ms after load ({load} ms): {:?}",
        trace.tasks
    );
    let metrics = leadscout::pipeline::browser::trace::audit_metrics(page, Some(trace));
    let tbt = metrics.tbt.expect("a measured TBT").value;
    assert!(tbt > 0.0, "{metrics:?}");
    let estimate = metrics.mobile_estimate.expect("a mobile estimate");
    assert!(estimate.tbt.value > 0.0, "{estimate:?}");
    let cls = page.cls.expect("CLS measured");
    assert!(
        cls > 0.05,
        "the banner the second task inserts pushes the content down: CLS {cls}"
    );
}
