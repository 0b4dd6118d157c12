//! Screenshots through a real Selenium Grid on loopback (`webdriver.url`):
//! a standalone Grid, a hub with two nodes, a Grid with fewer slots than
//! `webdriver.sessions`, and a page that cannot be loaded. Each test starts
//! one Grid (a JVM takes seconds to start), and they run one at a time with
//! the other browser tests.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::browser::one_at_a_time;
use crate::grid::{Grid, grid_tools};
use crate::helpers::Cli;

/// A loopback site whose every answer waits `delay`, and which can be shut
/// (its port then refuses connections).
pub struct Site {
    pub port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Site {
    pub fn start(delay: Duration) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                port_tx.send(listener.local_addr().unwrap().port()).unwrap();
                let serve = async {
                    while let Ok((mut stream, _)) = listener.accept().await {
                        tokio::spawn(async move {
                            let mut buf = vec![0u8; 8192];
                            let n = stream.read(&mut buf).await.unwrap_or(0);
                            let request = String::from_utf8_lossy(&buf[..n]).to_string();
                            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                            tokio::time::sleep(delay).await;
                            let body = format!(
                                "<!doctype html><html lang=en><head><meta name=viewport content='width=device-width'><title>Shop {path}</title></head><body style='margin:0'><h1 style='background:#2a6;color:#fff;padding:2em'>Shop {path}</h1><p>Hand-made goods.</p></body></html>"
                            );
                            let head = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                body.len()
                            );
                            let _ = stream.write_all(head.as_bytes()).await;
                            let _ = stream.write_all(body.as_bytes()).await;
                        });
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
        });
        Self {
            port: port_rx.recv().unwrap(),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Shuts the site and waits until its port refuses connections.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        assert!(std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err());
    }
}

/// A leadscout whose browser is the Grid at `url`, allowed to reach the
/// given loopback sites.
pub fn grid_cli(url: &str, sites: &[u16], sessions: usize) -> Cli {
    let hosts: Vec<String> = sites.iter().map(|p| format!("\"127.0.0.1:{p}\"")).collect();
    Cli::new()
        .env(
            "LEADSCOUT_FETCH__ALLOW_HOSTS",
            &format!("[{}]", hosts.join(",")),
        )
        .env("LEADSCOUT_WEBDRIVER__URL", url)
        .env("LEADSCOUT_WEBDRIVER__SESSIONS", &sessions.to_string())
        .env("LEADSCOUT_JOBS__BACKOFF", "50ms")
}

/// A campaign with one lead per URL, fetched and audited.
pub fn audited_campaign(cli: &Cli, slug: &str, urls: &[String]) {
    cli.campaign(slug);
    for url in urls {
        cli.ok(&["leads", "add", "-c", slug, "--website", url]);
    }
    cli.ok(&["run", "-c", slug, "--stages", "fetch,audit", "--wait"]);
}

/// Runs the screenshot stage over a campaign and waits for it.
pub fn screenshots(cli: &Cli, slug: &str) {
    // A failed lead makes the exit code non-zero; the jobs say why.
    let _ = cli.run(&["run", "-c", slug, "--stages", "screenshot", "--wait"]);
}

pub fn screenshot_jobs(cli: &Cli) -> Vec<Value> {
    cli.json(&["jobs", "list", "--stage", "screenshot"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// `n` sites (a campaign has one lead per host and port), and their URLs.
pub fn sites(n: usize, delay: Duration) -> (Vec<Site>, Vec<String>) {
    let sites: Vec<Site> = (0..n).map(|_| Site::start(delay)).collect();
    let urls = sites.iter().map(|s| s.url("/")).collect();
    (sites, urls)
}

pub fn ports(sites: &[Site]) -> Vec<u16> {
    sites.iter().map(|s| s.port).collect()
}

fn count(jobs: &[Value], status: &str) -> usize {
    jobs.iter().filter(|j| j["status"] == status).count()
}

#[test]
fn a_standalone_grid_takes_the_screenshots_and_a_page_that_cannot_load_keeps_its_session() {
    let test =
        "a_standalone_grid_takes_the_screenshots_and_a_page_that_cannot_load_keeps_its_session";
    let Some(tools) = grid_tools(test) else {
        return;
    };
    let _one = one_at_a_time();
    let grid = Grid::standalone(&tools, 1);
    let (sites, shops) = sites(3, Duration::ZERO);
    let mut down = Site::start(Duration::ZERO);
    let mut allowed = ports(&sites);
    allowed.push(down.port);
    // One server keeps the pool (and its one session) across both runs.
    let cli = grid_cli(&grid.url, &allowed, 1).attached();
    audited_campaign(&cli, "gone", &[down.url("/closed")]);
    audited_campaign(&cli, "shops", &shops);
    // Audited while up; closed before the browser comes.
    down.stop();

    screenshots(&cli, "gone");
    let jobs = screenshot_jobs(&cli);
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(
        jobs[0]["status"], "failed",
        "a page error, not retried: {jobs:?}"
    );
    assert_eq!(jobs[0]["attempts"], 1, "{jobs:?}");
    let error = jobs[0]["last_error"].as_str().unwrap_or("");
    assert!(
        error.contains("could not show the page")
            && error.contains(&format!("127.0.0.1:{}", down.port))
            && error.contains("Connection refused"),
        "the reason reaches the run log: {error}"
    );

    screenshots(&cli, "shops");
    let jobs = screenshot_jobs(&cli);
    assert_eq!(count(&jobs, "succeeded"), 3, "{jobs:?}\n{}", grid.logs());
    for shop in &shops {
        let audit = cli.json(&["audit", "show", shop]);
        let shots = &audit["screenshots"];
        assert!(
            shots["desktop"].is_string() && shots["mobile"].is_string(),
            "{shop}: {audit}"
        );
    }
    // The page that could not load left its session in the pool: the Grid
    // made one session for all four leads.
    assert_eq!(grid.sessions_created(), vec![1], "{}", grid.logs());
}

#[test]
fn a_hub_with_two_nodes_spreads_the_sessions_over_both() {
    let Some(tools) = grid_tools("a_hub_with_two_nodes_spreads_the_sessions_over_both") else {
        return;
    };
    let _one = one_at_a_time();
    let grid = Grid::hub_and_nodes(&tools, 2, 1);
    let status = grid.status();
    assert_eq!(
        status["value"]["nodes"].as_array().map(Vec::len),
        Some(2),
        "{status}"
    );
    let (sites, shops) = sites(6, Duration::ZERO);
    let cli = grid_cli(&grid.url, &ports(&sites), 2);
    audited_campaign(&cli, "shops", &shops);
    screenshots(&cli, "shops");
    let jobs = screenshot_jobs(&cli);
    assert_eq!(count(&jobs, "succeeded"), 6, "{jobs:?}\n{}", grid.logs());
    // One slot per node and two sessions: one session on each node.
    let created = grid.sessions_created();
    assert!(
        created.iter().all(|n| *n >= 1),
        "sessions per node: {created:?}\n{}",
        grid.logs()
    );
}

#[test]
fn more_sessions_than_grid_slots_make_jobs_wait_for_a_slot_not_fail() {
    let test = "more_sessions_than_grid_slots_make_jobs_wait_for_a_slot_not_fail";
    let Some(tools) = grid_tools(test) else {
        return;
    };
    let _one = one_at_a_time();
    let grid = Grid::standalone(&tools, 1);
    // Slow pages keep the one slot busy well past the 3 s after which a
    // waiting job says so.
    let (sites, shops) = sites(3, Duration::from_millis(1500));
    let cli = grid_cli(&grid.url, &ports(&sites), 2).attached();
    audited_campaign(&cli, "shops", &shops);
    let mut run = cli
        .command(&["run", "-c", "shops", "--stages", "screenshot", "--wait"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut saw_wait = None;
    let deadline = Instant::now() + Duration::from_secs(300);
    while run.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the run did not end:\n{}",
            grid.logs()
        );
        if saw_wait.is_none() {
            saw_wait = screenshot_jobs(&cli).into_iter().find(|j| {
                j["status"] == "running"
                    && j["last_error"]
                        .as_str()
                        .is_some_and(|e| e.contains("waiting for a Grid slot"))
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        saw_wait.is_some(),
        "a running job said it waits for a Grid slot"
    );
    let jobs = screenshot_jobs(&cli);
    assert_eq!(count(&jobs, "succeeded"), 3, "{jobs:?}\n{}", grid.logs());
    assert!(
        jobs.iter()
            .all(|j| j["attempts"] == 1 && j["last_error"].is_null()),
        "waiting is not failing: {jobs:?}"
    );
}
