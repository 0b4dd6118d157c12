//! The speed category is the mobile estimate, and the draft says so
//! honestly: a page built to be slow on a phone (a render-blocking script in
//! its head and a large hero image), served on loopback, taken through
//! fetch, audit, screenshot, report and draft. Its speed score is the
//! estimate's Lighthouse-style performance score, the draft cites the
//! estimate with its label, and every number in the draft's body is one
//! `audit show --json` holds (in `metrics`, a finding or the scores).
//!
//! Needs `chromium` and `chromedriver` (skipped with a reason without
//! them, failing under `CI`).

use std::collections::BTreeSet;

use leadscout::pipeline::draft::gate::figures_in;
use serde_json::Value;

use crate::browser::{browser_available, one_at_a_time};
use crate::helpers::Cli;

const PAGE: &str = "<!doctype html><html lang=en><head><meta charset=utf-8>\
<meta name=viewport content='width=device-width'><title>Crumbs Bakery</title>\
<meta name=description content='Fresh bread and cakes every morning.'>\
<script src=/app.js></script></head><body>\
<h1>Crumbs Bakery</h1><img src=/hero.png width=360 height=270 alt='Our shop window'>\
<p>Fresh bread every morning, cakes to order.</p><a href=/about>About us</a>\
</body></html>";

/// A 800×600 picture of noise: about 1.4 MB that PNG cannot shrink.
fn hero() -> Vec<u8> {
    let mut state: u32 = 0x1234_5678;
    let image = image::RgbImage::from_fn(800, 600, |_, _| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    crate::helpers::png(&image)
}

/// 600 KB of script that the page must fetch and run before it can paint,
/// ending in 250 ms of busy work. On its own enough to make the page slow
/// on a phone (about 3 s of download on slow 4G before anything shows),
/// whether or not the browser saw the hero image paint.
fn script() -> Vec<u8> {
    let mut js = format!("/*{}*/\n", "x".repeat(600_000));
    js.push_str("const began = performance.now(); while (performance.now() - began < 250) {}\n");
    js.into_bytes()
}

/// Serves the page at `/`, with `/app.js` and `/hero.png`, on loopback.
fn serve() -> u16 {
    let hero = hero();
    crate::helpers::serve_pages(move |path| match path {
        "/hero.png" => ("200 OK", "image/png", hero.clone()),
        "/app.js" => ("200 OK", "text/javascript", script()),
        "/" => ("200 OK", "text/html", PAGE.as_bytes().to_vec()),
        _ => ("404 Not Found", "text/plain", b"not here".to_vec()),
    })
}

/// The figures in a text, links left out, spelled as the gate spells them.
fn numbers(text: &str) -> BTreeSet<String> {
    figures_in(text)
}

/// Every figure in `metrics`, raw and the ways it is shown: milliseconds
/// as seconds with one decimal and whole ms, bytes as MB with one decimal
/// and whole KB (decimal units, as every face shows them), layout shift
/// with two decimals, metric scores out of 100.
fn metric_numbers(metrics: &Value, out: &mut BTreeSet<String>) {
    match metrics {
        Value::Object(map) => {
            if let (Some(value), Some(unit)) = (map.get("value"), map.get("unit")) {
                let v = value.as_f64().unwrap();
                let shown = match unit.as_str().unwrap() {
                    "ms" => format!("{:.1} {v:.0}", v / 1000.0),
                    "bytes" => format!("{:.1} {:.0}", v / 1e6, v / 1e3),
                    "unitless" => format!("{v:.2}"),
                    _ => format!("{v:.0}"),
                };
                out.extend(numbers(&shown));
                if let Some(score) = map.get("score").and_then(Value::as_f64) {
                    out.insert(format!("{:.0}", score * 100.0));
                }
            }
            for (key, value) in map {
                if key.ends_with("bytes") && value.is_number() {
                    let v = value.as_f64().unwrap();
                    out.extend(numbers(&format!("{:.1} {:.0}", v / 1e6, v / 1e3)));
                }
                if key == "throughput_kbps" {
                    out.extend(numbers(&format!("{:.1}", value.as_f64().unwrap() / 1000.0)));
                }
                metric_numbers(value, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| metric_numbers(i, out)),
        Value::Number(n) => {
            out.extend(numbers(&n.to_string()));
        }
        Value::String(s) => out.extend(numbers(s)),
        _ => {}
    }
}

#[test]
fn a_slow_phone_page_is_scored_and_drafted_by_its_mobile_estimate() {
    if !browser_available("a_slow_phone_page_is_scored_and_drafted_by_its_mobile_estimate") {
        return;
    }
    let _one = one_at_a_time();
    let port = serve();
    let url = format!("http://127.0.0.1:{port}/");
    let cli = Cli::new()
        .allow_local_site(port)
        .env("LEADSCOUT_FETCH__LINK_SAMPLE", "1")
        .env("LEADSCOUT_WEBDRIVER__SESSIONS", "1")
        .with_sender();
    cli.campaign("c");
    let csv = cli.write(
        "leads.csv",
        format!("name,website,email,city\nCrumbs Bakery,{url},owner@crumbs.example,Berlin\n"),
    );
    cli.ok(&["import", csv.to_str().unwrap(), "-c", "c"]);
    let summary = cli.json(&[
        "run",
        "-c",
        "c",
        "--stages",
        "fetch,audit,screenshot,report,draft",
        "--wait",
    ]);
    assert_eq!(summary["stages"]["screenshot"]["succeeded"], 1, "{summary}");
    assert_eq!(summary["stages"]["draft"]["succeeded"], 1, "{summary}");
    let lead = cli.json(&["leads", "list", "-c", "c"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let audit = cli.json(&["audit", "show", &lead]);
    let estimate = &audit["metrics"]["mobile_estimate"];
    let performance = estimate["performance"].as_u64().expect("an estimate");
    assert_eq!(
        audit["scores"]["categories"]["performance"].as_u64(),
        Some(performance),
        "the speed category is the estimate: {audit}"
    );
    assert!(
        performance < 90,
        "a blocking script and a large hero are slow on a phone: {}",
        audit["metrics"]
    );
    let lcp = audit["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "performance.browser.lcp")
        .unwrap_or_else(|| panic!("a late largest paint is a finding: {audit}"));
    let evidence = lcp["evidence"].as_str().unwrap();
    assert!(
        evidence.starts_with("largest content after about ")
            && evidence.contains("on a mid-range phone on slow 4G")
            && evidence.contains("estimated as Lighthouse 12."),
        "{evidence}"
    );
    // The unthrottled figure beside it, when the browser saw the paint.
    assert_eq!(
        evidence.contains("measured here, unthrottled"),
        !audit["metrics"]["lcp"].is_null(),
        "{evidence}"
    );

    let outreach = cli.json(&["outreach", "show", &lead]);
    let body = outreach["body"].as_str().unwrap();
    eprintln!(
        "estimate: {estimate}\nmeasured LCP: {}\n{body}",
        audit["metrics"]["lcp"]
    );
    assert!(
        body.contains("On a mid-range phone on slow 4G its main content appears after about")
            && body.contains(&format!("its speed scores {performance}/100")),
        "the draft cites the estimate with its label:\n{body}"
    );

    // Every number the email states (outside links, and the footer with the
    // sender's postal address) is one the audit holds; "/100" is the scale.
    let mut allowed = BTreeSet::new();
    metric_numbers(&audit["metrics"], &mut allowed);
    for finding in audit["findings"].as_array().unwrap() {
        for field in ["title", "evidence", "fix"] {
            allowed.extend(numbers(finding[field].as_str().unwrap()));
        }
    }
    allowed.extend(numbers(&audit["scores"].to_string()));
    let text = body.split("\n--\n").next().unwrap().replace("/100", " ");
    let stray: Vec<String> = numbers(&text)
        .into_iter()
        .filter(|n| !allowed.contains(n))
        .collect();
    assert!(
        stray.is_empty(),
        "numbers in the draft that the audit does not hold: {stray:?}\n{body}"
    );
}
