//! The screenshot stage's browser work on local pages with a warm pool of 2
//! sessions: leads per minute with desktop + mobile screenshots and metrics
//! (target ≥ 240/min), time per lead (target p50 ≤ 500 ms), and total
//! browser memory (target ≤ 600 MiB). Side by side, a bare WebDriver loop
//! over the same pages with 2 sessions (navigate + screenshot, desktop and
//! mobile, nothing else) as the anchor. Also the time the accessibility
//! rules take inside the page (measured by the page's own clock).
//! `SCREENSHOT_BENCH_ROUNDS=N` alternates the two N times and reports the
//! median ratio.
//! `LEADSCOUT_BROWSER_TIMING=1` logs each capture's steps (and the bare
//! loop's) to stderr.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use leadscout::config::Config;
use leadscout::pipeline::browser::Browser;
use serde_json::json;
use thirtyfour::prelude::*;

const PAGES: usize = 30;
const LEADS: usize = 80;

/// Resident and proportional memory of all Chromium processes, in KiB.
fn chromium_memory() -> (u64, u64) {
    let (mut rss, mut pss) = (0, 0);
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if !comm.starts_with("chrom") || comm.starts_with("chromedriver") {
            continue;
        }
        let field = |text: &str, name: &str| -> u64 {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
                .unwrap_or(0)
        };
        rss += field(
            &std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default(),
            "VmRSS:",
        );
        pss += field(
            &std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default(),
            "Pss:",
        );
    }
    (rss, pss)
}

async fn leadscout_pool(port: u16) -> (f64, Duration, Duration, u64, u64, f64) {
    let mut config = Config::default();
    config.fetch.allow_hosts = vec![format!("127.0.0.1:{port}")];
    config.webdriver.sessions = 2;
    if let Ok(h) = std::env::var("FULL_PAGE") {
        config.webdriver.full_page_max_height = h.parse().expect("FULL_PAGE height");
    }
    let browser = Browser::new(&config).expect("WebDriver: apt install chromium chromium-driver");
    let url = |n: usize| {
        url::Url::parse(&format!("http://127.0.0.1:{port}/p{}", n % PAGES)).expect("url")
    };
    // Warm both sessions.
    let warm = futures::future::join(browser.capture(&url(0)), browser.capture(&url(1))).await;
    warm.0.expect("warm capture");
    warm.1.expect("warm capture");
    let sampler = Sampler::start();
    // Time per lead: captures one at a time on a warm session.
    let mut serial = Vec::new();
    let mut a11y_ms = Vec::new();
    for n in 0..20 {
        let t = Instant::now();
        let capture = browser.capture(&url(n + 100)).await.expect("capture");
        serial.push(t.elapsed());
        a11y_ms.push(capture.mobile.a11y.map_or(0.0, |a| a.elapsed_ms));
    }
    serial.sort();
    a11y_ms.sort_by(f64::total_cmp);
    let started = Instant::now();
    let tasks: Vec<_> = (0..LEADS)
        .map(|n| {
            let browser = browser.clone();
            let url = url(n + 2);
            tokio::spawn(async move {
                let capture = browser.capture(&url).await.expect("capture");
                assert!(!capture.desktop_png.is_empty() && !capture.mobile_png.is_empty());
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let elapsed = started.elapsed();
    let (rss, pss) = sampler.finish();
    browser.shutdown().await;
    (
        LEADS as f64 / elapsed.as_secs_f64() * 60.0,
        serial[serial.len() / 2],
        serial[serial.len() * 95 / 100],
        rss,
        pss,
        a11y_ms[a11y_ms.len() / 2],
    )
}

/// Samples Chromium's memory every 100 ms until stopped; returns the
/// peak (RSS, PSS) in KiB.
struct Sampler {
    peak: Arc<(AtomicU64, AtomicU64)>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Sampler {
    fn start() -> Self {
        let peak = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (rss, pss) = chromium_memory();
                    peak.0.fetch_max(rss, Ordering::Relaxed);
                    peak.1.fetch_max(pss, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        Self { peak, stop, thread }
    }

    fn finish(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        (
            self.peak.0.load(Ordering::Relaxed),
            self.peak.1.load(Ordering::Relaxed),
        )
    }
}

async fn bare_webdriver(port: u16) -> (f64, u64) {
    let config = Config::default();
    let driver =
        leadscout::pipeline::browser::driver::Driver::locate(&config.webdriver).expect("driver");
    let url = driver.url().await.expect("chromedriver");
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let mut caps = DesiredCapabilities::chrome();
        for flag in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--hide-scrollbars",
        ] {
            caps.add_arg(flag).expect("flag");
        }
        let profile = tempfile::tempdir().expect("profile");
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))
            .expect("flag");
        sessions.push((WebDriver::new(&url, caps).await.expect("session"), profile));
    }
    let pair = |d: WebDriver, page: String| async move {
        for (w, h, scale, mobile) in [(1366, 768, 1, false), (390, 844, 2, true)] {
            let t0 = Instant::now();
            d.cdp()
                .send_raw(
                    "Emulation.setDeviceMetricsOverride",
                    json!({"width": w, "height": h, "deviceScaleFactor": scale, "mobile": mobile}),
                )
                .await
                .expect("emulate");
            let t1 = Instant::now();
            // Under heavy load chromedriver now and then answers a goto
            // with "aborted by navigation"; the loop is the anchor, so it
            // tries the view again rather than stopping the bench.
            let mut tries = 0;
            while let Err(e) = d.goto(&page).await {
                tries += 1;
                assert!(tries < 3, "goto {page}: {e}");
            }
            let t2 = Instant::now();
            d.screenshot_as_png().await.expect("shot");
            if std::env::var_os("LEADSCOUT_BROWSER_TIMING").is_some() {
                eprintln!(
                    "TIMING-BARE {mobile} emulate={:.1} goto={:.1} shot={:.1}",
                    (t1 - t0).as_secs_f64() * 1e3,
                    (t2 - t1).as_secs_f64() * 1e3,
                    t2.elapsed().as_secs_f64() * 1e3
                );
            }
        }
    };
    // Warm up, then time.
    for (d, _) in &sessions {
        pair(d.clone(), format!("http://127.0.0.1:{port}/p0")).await;
    }
    let sampler = Sampler::start();
    let started = Instant::now();
    let per_session = LEADS / 2;
    let runs = sessions.iter().enumerate().map(|(i, (d, _))| {
        let d = d.clone();
        async move {
            for n in 0..per_session {
                pair(
                    d.clone(),
                    format!("http://127.0.0.1:{port}/p{}", (n * 2 + i) % PAGES),
                )
                .await;
            }
        }
    });
    futures::future::join_all(runs).await;
    let rate = (per_session * 2) as f64 / started.elapsed().as_secs_f64() * 60.0;
    let (_, pss) = sampler.finish();
    for (d, _) in sessions {
        let _ = d.quit().await;
    }
    driver.stop().await;
    // Let the browsers exit before the next measurement counts processes.
    tokio::time::sleep(Duration::from_secs(2)).await;
    (rate, pss)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // Where a lead's time goes: each capture's steps (and the bare loop's)
    // on stderr.
    if std::env::var_os("LEADSCOUT_BROWSER_TIMING").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter("leadscout::pipeline::browser=debug")
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let port = runtime.block_on(common::shop::serve());
    println!("machine: {}", common::machine());
    // Rounds alternate the anchor and leadscout, so a shared machine's
    // swings fall on both; the ratio reported is the median of the rounds'.
    let rounds: usize = std::env::var("SCREENSHOT_BENCH_ROUNDS")
        .ok()
        .map(|v| {
            v.parse()
                .expect("SCREENSHOT_BENCH_ROUNDS: a number of rounds")
        })
        .unwrap_or(1)
        .max(1);
    let mut results = Vec::new();
    for round in 1..=rounds {
        let (bare, bare_pss) = runtime.block_on(bare_webdriver(port));
        let (rate, p50, p95, rss, pss, a11y) = runtime.block_on(leadscout_pool(port));
        eprintln!(
            "round {round}: leadscout {rate:.0} leads/min (p50 {} ms), bare {bare:.0} pairs/min: {:.0}%",
            p50.as_millis(),
            rate / bare * 100.0
        );
        results.push((bare, bare_pss, rate, p50, p95, rss, pss, a11y));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ratios: Vec<f64> = results.iter().map(|r| r.2 / r.0).collect();
    let span = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0, f64::max);
        (lo, hi)
    };
    let rates: Vec<f64> = results.iter().map(|r| r.2).collect();
    let bares: Vec<f64> = results.iter().map(|r| r.0).collect();
    let p50 = median(results.iter().map(|r| r.3.as_secs_f64() * 1e3).collect());
    let p95 = median(results.iter().map(|r| r.4.as_secs_f64() * 1e3).collect());
    let a11y = median(results.iter().map(|r| r.7).collect());
    let rss = results.iter().map(|r| r.5).max().unwrap_or(0);
    let pss = results.iter().map(|r| r.6).max().unwrap_or(0);
    let bare_pss = results.iter().map(|r| r.1).max().unwrap_or(0);
    let (rate_lo, rate_hi) = span(&rates);
    let (bare_lo, bare_hi) = span(&bares);
    let (ratio_lo, ratio_hi) = span(&ratios);
    println!("| benchmark | figure | target |");
    println!("|---|---|---|");
    println!(
        "| screenshot stage, warm pool of 2, {LEADS} local pages ({rounds} round(s), medians) | {:.0} leads/min (rounds {rate_lo:.0}–{rate_hi:.0}); per lead (one at a time) p50 {p50:.0} ms, p95 {p95:.0} ms | ≥ 240/min, p50 ≤ 500 ms |",
        median(rates.clone())
    );
    println!(
        "| accessibility rules in the page (phone view, once per lead) | p50 {a11y:.1} ms | part of the stage's time |"
    );
    println!(
        "| browser memory at peak | {:.0} MiB PSS ({:.0} MiB summed RSS) | ≤ 600 MiB |",
        pss as f64 / 1024.0,
        rss as f64 / 1024.0
    );
    println!(
        "| bare WebDriver loop, same pages, 2 default sessions (emulate, navigate, screenshot; desktop and mobile at DPR 2) | {:.0} pairs/min (rounds {bare_lo:.0}–{bare_hi:.0}), {:.0} MiB PSS; leadscout at {:.0}% of its speed (median of the rounds' ratios; rounds {:.0}–{:.0}%) | anchor |",
        median(bares.clone()),
        bare_pss as f64 / 1024.0,
        median(ratios.clone()) * 100.0,
        ratio_lo * 100.0,
        ratio_hi * 100.0
    );
}
