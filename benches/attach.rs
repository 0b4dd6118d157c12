//! Attached versus embedded: `leads list --json` over 100,000 leads with the
//! store opened by the command and with the command attached to `serve`
//! over the control socket (target: attached within 1.5× of embedded, and
//! the same bytes out); and how long a job event takes from the server to
//! an attached client (target: ≤ 50 ms).
//!
//! The event figure is an upper bound: the time from the job's recorded
//! finish (written just before the event is published) to the client
//! receiving the event through the same feed the TUI uses.
//!
//! `cargo bench --bench attach`

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, machine, measure, median};
use leadscout::domain::event::Event;
use leadscout::service::jobs::{JobQuery, RunRequest};
use leadscout::service::{Api, Remote};

const ROWS: usize = 100_000;
const RUNS: usize = 5;
const EVENTS: usize = 40;

fn start_server(dir: &std::path::Path) -> Child {
    let child = Command::new(BIN)
        .env("LEADSCOUT_DATA_DIR", dir)
        .env("LEADSCOUT_SERVER__BIND", "127.0.0.1:0")
        .env("LEADSCOUT_FETCH__ALLOW_HOSTS", "127.0.0.1:9")
        .env("LEADSCOUT_STAGES__FETCH__MAX_ATTEMPTS", "1")
        .args(["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    let socket = dir.join("control.sock");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn stop_server(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("machine: {}", machine());
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join("data");
    let csv = work.path().join("leads.csv");
    std::fs::write(&csv, common::generated_csv(ROWS)).expect("csv");
    measure(&dir, &["campaign", "create", "Bench", "--slug", "bench"]);
    measure(&dir, &["import", csv.to_str().unwrap(), "-c", "bench"]);
    measure(&dir, &["campaign", "create", "Events", "--slug", "events"]);
    let one = work.path().join("one.csv");
    std::fs::write(&one, "name,website\nClosed port,http://127.0.0.1:9/\n").expect("csv");
    measure(&dir, &["import", one.to_str().unwrap(), "-c", "events"]);

    let list = ["leads", "list", "--campaign", "bench", "--json"];
    let mut embedded = Vec::new();
    let mut embedded_out = Vec::new();
    for _ in 0..RUNS {
        let m = measure(&dir, &list);
        embedded.push(m.wall);
        embedded_out = m.stdout;
    }

    let server = start_server(&dir);
    let mut attached = Vec::new();
    let mut attached_rss = 0;
    for _ in 0..RUNS {
        let m = measure(&dir, &list);
        assert!(
            m.stdout == embedded_out,
            "attached output differs from embedded"
        );
        attached.push(m.wall);
        attached_rss = attached_rss.max(m.max_rss_kib);
    }

    let latencies = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(event_latencies(&dir.join("control.sock")));
    stop_server(server);

    let (e, a) = (median(embedded), median(attached));
    println!("| benchmark | figure | target |");
    println!("|---|---|---|");
    println!(
        "| leads list --json, 100k leads, embedded (median of {RUNS}) | {:.2} s | — |",
        e.as_secs_f64()
    );
    println!(
        "| same, attached to serve (median of {RUNS}) | {:.2} s, {:.0} MiB peak RSS, ratio {:.2} | ≤ 1.5× embedded |",
        a.as_secs_f64(),
        attached_rss as f64 / 1024.0,
        a.as_secs_f64() / e.as_secs_f64()
    );
    println!(
        "| job event, server → attached client ({} events) | p50 {}, p99 {}, max {} | ≤ 50 ms |",
        latencies.len(),
        ms(percentile(latencies.clone(), 0.5)),
        ms(percentile(latencies.clone(), 0.99)),
        ms(percentile(latencies, 1.0)),
    );
}

/// Runs a one-lead fetch (a closed port: it fails at once) again and again
/// on the server and times each finished job's event at the client.
async fn event_latencies(socket: &std::path::Path) -> Vec<Duration> {
    let remote = Remote::connect(socket).await.expect("attach");
    let mut events = remote.subscribe();
    // Let the feed connect before the first run.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut out = Vec::new();
    for _ in 0..EVENTS {
        let run = remote
            .start_run(RunRequest {
                campaign: "events".into(),
                stages: vec!["fetch".into()],
                ..Default::default()
            })
            .await
            .expect("start run");
        let job = loop {
            match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
                Ok(Ok(Event::JobChanged {
                    job,
                    run: r,
                    status,
                    ..
                })) if r == run.id && status.is_terminal() => {
                    break job;
                }
                Ok(Ok(_)) => continue,
                Ok(Err(e)) => panic!("event feed: {e}"),
                Err(_) => panic!("no event within 30 s"),
            }
        };
        let received = jiff::Timestamp::now();
        let jobs = remote
            .list_jobs(JobQuery {
                run: Some(run.id.to_string()),
                ..Default::default()
            })
            .await
            .expect("jobs");
        let view = jobs.iter().find(|j| j.id == job).expect("the job");
        let finished: jiff::Timestamp = serde_json::to_value(view.finished_at)
            .ok()
            .and_then(|v| v.as_str().and_then(|s| s.parse().ok()))
            .expect("finished_at");
        let gap = received.duration_since(finished);
        out.push(Duration::from_micros(gap.as_micros().max(0) as u64));
    }
    out
}
