//! fetch + audit of realistic local pages (50–300 KB of HTML), through the
//! real engine and stages: leads per minute (target ≥ 600) and p95 latency
//! per lead (target ≤ 300 ms); then memory growth while auditing the
//! hostile pages (target ≤ 50 MiB). With `LIGHTHOUSE=/path/to/lighthouse`
//! and `CHROME_PATH` set, the Lighthouse CLI audits a few of the same pages
//! and the per-URL times are compared.

mod common;
#[path = "../tests/it/hostile.rs"]
#[allow(dead_code)]
mod hostile;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use leadscout::config::Config;
use leadscout::domain::{IdGen, JobStatus, SystemClock};
use leadscout::jobs::{EngineHandle, EngineParts, EventBus};
use leadscout::service::jobs::RunRequest;
use leadscout::service::{Service, ServiceParts};
use leadscout::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SITES: usize = 300;

/// A small business's home page of roughly `kb` kilobytes.
fn page(n: usize, kb: usize) -> String {
    const WORDS: &[&str] = &[
        "family",
        "dentist",
        "appointment",
        "Berlin",
        "quality",
        "service",
        "repair",
        "fresh",
        "bread",
        "garden",
        "team",
        "experience",
        "friendly",
        "emergency",
        "opening",
        "hours",
        "prices",
        "quote",
        "customers",
        "local",
    ];
    let mut html = format!(
        "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\"><title>Business {n} – local service</title>\
         <meta name=\"description\" content=\"Business {n} offers friendly local service with fair prices and quick appointments.\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"stylesheet\" href=\"/s.css\">\
         <script src=\"/jquery.js\"></script><script src=\"/app.js\" defer></script>\
         <script type=\"application/ld+json\">{{\"@type\":\"LocalBusiness\",\"name\":\"Business {n}\",\"telephone\":\"+49 30 555{n:04}\"}}</script>\
         <style>body{{font-family:sans-serif}} .hero{{padding:2em}}</style></head><body>\
         <nav><a href=\"/\">Home</a><a href=\"/leistungen\">Leistungen</a><a href=\"/team\">Team</a><a href=\"/kontakt\">Kontakt</a><a href=\"/impressum\">Impressum</a></nav>\
         <h1>Business {n}</h1>"
    );
    let mut i = 0;
    while html.len() < kb * 1024 {
        html.push_str("<section class=\"block\"><h2>");
        html.push_str(WORDS[i % WORDS.len()]);
        html.push_str("</h2><p>");
        for j in 0..60 {
            html.push_str(WORDS[(i * 7 + j) % WORDS.len()]);
            html.push(' ');
        }
        html.push_str(&format!("</p><img src=\"/img/{i}.jpg\" alt=\"photo {i}\" width=\"400\" height=\"300\"><div class=\"card\"><span>info@business{n}.example</span></div></section>"));
        i += 1;
    }
    html.push_str(&format!("<footer><address>Hauptstr. {n}, 10115 Berlin</address><a href=\"tel:+4930555{n:04}\">030 555{n:04}</a> © 2026</footer></body></html>"));
    html
}

/// Serves `body` at `/` (and 404 elsewhere) on a fresh loopback port.
async fn serve(body: Arc<Vec<u8>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let home = buf[..n].starts_with(b"GET / ");
                let (status, content): (&str, &[u8]) = if home {
                    ("200 OK", &body)
                } else {
                    ("404 Not Found", b"not found")
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    content.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(content).await;
            });
        }
    });
    port
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn realistic(ports: &[u16]) -> (f64, Duration, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.fetch.allow_hosts = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    config.stages.insert(
        "fetch".into(),
        leadscout::config::StageConfig {
            concurrency: Some(8),
            ..Default::default()
        },
    );
    let config = Arc::new(config);
    let store = Arc::new(Store::open(dir.path(), "bench").expect("store"));
    let bus = Arc::new(EventBus::new());
    let clock = Arc::new(SystemClock);
    let ids = Arc::new(IdGen::new());
    let engine = Arc::new(
        EngineHandle::start(EngineParts {
            store: store.clone(),
            config: config.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            stages: leadscout::jobs::stages::pipeline(&config).expect("pipeline"),
            bus: bus.clone(),
        })
        .expect("engine"),
    );
    let service = Service::new(ServiceParts {
        store: store.clone(),
        config,
        clock,
        ids,
        stages: leadscout::jobs::stages::PIPELINE
            .iter()
            .map(|s| s.parse().expect("stage"))
            .collect(),
        bus,
        engine: Some(engine.clone()),
    });
    service
        .create_campaign("Bench", Some("bench"))
        .await
        .expect("campaign");
    let csv = dir.path().join("sites.csv");
    let mut text = String::from("website\n");
    for port in ports {
        text.push_str(&format!("http://127.0.0.1:{port}/\n"));
    }
    std::fs::write(&csv, text).expect("csv");
    service
        .import(leadscout::service::import::ImportRequest::new(
            csv,
            "bench".into(),
            false,
        ))
        .await
        .expect("import");
    let run = service
        .start_run(&RunRequest {
            campaign: "bench".into(),
            ..Default::default()
        })
        .await
        .expect("run");
    let started = Instant::now();
    service.start_workers();
    loop {
        let view = service
            .run_view(&run.id.to_string())
            .await
            .expect("run view");
        if view.finished {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    engine.shutdown().await;
    // Per lead: the time its fetch job and its audit job took to run (not
    // the time they waited in the queue behind the other 299 leads).
    let mut per_lead: std::collections::HashMap<_, Duration> = std::collections::HashMap::new();
    for job in store.all_jobs().map(|j| j.expect("job")) {
        assert_eq!(
            job.status,
            JobStatus::Succeeded,
            "{} {:?}",
            job.stage,
            job.last_error
        );
        let took = job
            .finished_at
            .expect("finished")
            .duration_since(job.started_at.expect("started"))
            .unsigned_abs();
        *per_lead.entry(job.lead).or_default() += took;
    }
    let mut latencies: Vec<Duration> = per_lead.into_values().collect();
    latencies.sort();
    let p50 = latencies[latencies.len() / 2];
    let p95 = latencies[latencies.len() * 95 / 100];
    (ports.len() as f64 / elapsed.as_secs_f64() * 60.0, p50, p95)
}

async fn hostile_memory() -> f64 {
    let server = hostile::HostileServer::start();
    let config = leadscout::config::FetchConfig {
        allow_hosts: server
            .ports
            .values()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect(),
        timeout: Duration::from_secs(3),
        ..Default::default()
    };
    let fetcher = leadscout::pipeline::fetch::Fetcher::new(&config).expect("fetcher");
    let baseline = rss_kib();
    let peak = Arc::new(AtomicU64::new(baseline));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let lead = leadscout::domain::LeadId::from_ulid(ulid::Ulid::nil());
    for _ in 0..3 {
        for case in hostile::ALL {
            let url = url::Url::parse(&server.url(case)).expect("url");
            if let Ok(outcome) = fetcher
                .fetch_site(lead, &url, leadscout::domain::Timestamp::now())
                .await
            {
                let audit = tokio::task::spawn_blocking(move || {
                    leadscout::pipeline::audit::audit(
                        &outcome.fetch,
                        &outcome.body,
                        leadscout::domain::Timestamp::now(),
                    )
                })
                .await
                .expect("audit");
                assert!(audit.scores.overall <= 100);
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler");
    (peak.load(Ordering::Relaxed).saturating_sub(baseline)) as f64 / 1024.0
}

fn lighthouse(urls: &[String]) -> Option<Duration> {
    let bin = std::env::var("LIGHTHOUSE").ok()?;
    let mut times = Vec::new();
    for url in urls {
        let started = Instant::now();
        let status = std::process::Command::new(&bin)
            .args([url.as_str(), "--quiet", "--output=json", "--output-path=/dev/null", "--only-categories=performance,seo,accessibility,best-practices"])
            .arg("--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --disable-background-networking --disable-component-update --disable-sync")
            .status()
            .ok()?;
        if !status.success() {
            eprintln!("lighthouse failed on {url}: {status}");
            return None;
        }
        times.push(started.elapsed());
    }
    Some(common::median(times))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ports: Vec<u16> = runtime.block_on(async {
        let mut ports = Vec::new();
        for n in 0..SITES {
            let kb = 50 + (n * 37) % 251; // 50–300 KB, spread evenly
            ports.push(serve(Arc::new(page(n, kb).into_bytes())).await);
        }
        ports
    });
    println!("machine: {}", common::machine());
    let growth = runtime.block_on(hostile_memory());
    let (per_minute, p50, p95) = runtime.block_on(realistic(&ports));
    println!("| benchmark | figure | target |");
    println!("|---|---|---|");
    println!(
        "| fetch + audit, {SITES} local pages of 50–300 KB | {per_minute:.0} leads/min; fetch + audit time per lead p50 {} ms, p95 {} ms | ≥ 600/min, p95 ≤ 300 ms |",
        p50.as_millis(),
        p95.as_millis()
    );
    println!("| RSS growth auditing the hostile pages (3 rounds) | {growth:.1} MiB | ≤ 50 MiB |");
    let sample: Vec<String> = ports
        .iter()
        .take(5)
        .map(|p| format!("http://127.0.0.1:{p}/"))
        .collect();
    if let Some(lh) = lighthouse(&sample) {
        let ours = p50;
        println!(
            "| Lighthouse CLI per URL (median of {}) vs leadscout p50 | {:.2} s vs {} ms: leadscout {:.0}x faster | anchor |",
            sample.len(),
            lh.as_secs_f64(),
            ours.as_millis(),
            lh.as_secs_f64() / ours.as_secs_f64().max(0.001)
        );
    } else {
        println!(
            "(Lighthouse comparison skipped: set LIGHTHOUSE=/path/to/lighthouse and CHROME_PATH=/usr/bin/chromium)"
        );
    }
}
