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
