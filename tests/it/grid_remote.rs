//! A Grid "on another machine": the Grid and its Chromium in a network
//! namespace this test makes (`unshare -n`, loopback brought up inside),
//! so the browser cannot see leadscout's loopback. The only ways in and
//! out are socat bridges over Unix sockets the test sets up:
//!
//! - host 127.0.0.1:X → `wd.sock` → the Grid's 127.0.0.1:4444 inside
//!   (WebDriver);
//! - inside 127.0.0.1:3128 → `proxy.sock` → a host loopback port (where
//!   leadscout's proxy listens when `webdriver.proxy_bind` is set).
//!
//! No other address is ever a target.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::browser::{PageServer, one_at_a_time};
use crate::grid::{Group, SELENIUM_VERSION, Tools, free_port, grid_tools, http_get};
use crate::grid_runs::{audited_campaign, grid_cli, ports, screenshot_jobs, screenshots, sites};

/// The namespace side of the proxy bridge.
const PROXY_IN_NAMESPACE: u16 = 3128;

/// A standalone Grid in a network namespace of its own.
struct IsolatedGrid {
    url: String,
    dir: tempfile::TempDir,
    // Dropped in this order: bridges, then the namespace's processes.
    _bridges: Vec<Group>,
    _namespace: Group,
}

/// Whether the namespace tests can run here (socat, unshare and ip, and
/// the right to make a network namespace).
fn namespace_tools(test: &str) -> Option<Tools> {
    let tools = grid_tools(test)?;
    let find = leadscout::pipeline::browser::driver::find_program;
    let missing = ["socat", "unshare", "ip"]
        .into_iter()
        .find(|p| find(p).is_none());
    let why = match missing {
        Some(program) => Some(format!(
            "{program} is not installed (apt install socat util-linux iproute2)"
        )),
        None => {
            let probe = Command::new("unshare")
                .args(unshare_args())
                .arg("true")
                .status();
            (!probe.is_ok_and(|s| s.success()))
                .then(|| "this user cannot make a network namespace (unshare -n)".to_string())
        }
    };
    if let Some(why) = why {
        assert!(std::env::var_os("CI").is_none(), "{test}: {why}");
        eprintln!("skipping {test}: {why}");
        return None;
    }
    Some(tools)
}

/// `unshare -n` as root; elsewhere with a user namespace mapping root.
fn unshare_args() -> Vec<&'static str> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        vec!["--net", "--"]
    } else {
        vec!["--user", "--map-root-user", "--net", "--"]
    }
}

impl IsolatedGrid {
    /// Starts the Grid inside; `proxy_target` is the host port the
    /// namespace's 127.0.0.1:3128 leads to, if any.
    fn start(tools: &Tools, slots: usize, proxy_target: Option<u16>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let config = crate::grid::node_config(tools, d, slots);
        let wd_sock = d.join("wd.sock");
        let proxy_sock = d.join("proxy.sock");
        let mut bridges = Vec::new();
        if let Some(port) = proxy_target {
            let mut socat = Command::new("socat");
            socat
                .arg(format!(
                    "UNIX-LISTEN:{},fork,unlink-early",
                    proxy_sock.display()
                ))
                .arg(format!("TCP:127.0.0.1:{port}"));
            bridges.push(Group::spawn(socat, &d.join("bridge-proxy-host.log")));
        }
        let proxy_bridge = if proxy_target.is_some() {
            format!(
                "socat TCP-LISTEN:{PROXY_IN_NAMESPACE},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:{} &",
                proxy_sock.display()
            )
        } else {
            String::new()
        };
        // The host side of the WebDriver bridge; the Grid names it in the
        // WebSocket addresses it hands out (BiDi, CDP), which must lead
        // through the bridge too.
        let port = free_port();
        let script = format!(
            "set -e\nip link set lo up\nsocat UNIX-LISTEN:{wd},fork,unlink-early TCP:127.0.0.1:4444 &\n{proxy_bridge}\nexec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar {jar} standalone --config {config} --host 127.0.0.1 --port 4444 --grid-url http://127.0.0.1:{port} --selenium-manager false --session-request-timeout 600\n",
            wd = wd_sock.display(),
            jar = tools.jar.display(),
            config = config.display(),
        );
        let mut inside = Command::new("unshare");
        inside.args(unshare_args()).args(["sh", "-c", &script]);
        let namespace = Group::spawn(inside, &d.join("namespace.log"));
        let mut socat = Command::new("socat");
        socat
            .arg(format!("TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr"))
            .arg(format!("UNIX-CONNECT:{}", wd_sock.display()));
        bridges.push(Group::spawn(socat, &d.join("bridge-wd-host.log")));
        let grid = Self {
            url: format!("http://127.0.0.1:{port}"),
            dir,
            _bridges: bridges,
            _namespace: namespace,
        };
        grid.wait_ready(port);
        grid
    }

    /// Ready when the Grid answers through the host bridge.
    fn wait_ready(&self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let ready = http_get(port, "/status")
                .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
                .is_some_and(|s| s["value"]["ready"] == true);
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the namespaced Grid (Selenium {SELENIUM_VERSION}) was not ready within 120 s:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn logs(&self) -> String {
        logs_in(self.dir.path())
    }
}

fn logs_in(dir: &Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().extension().is_some_and(|e| e == "log") {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let start = text.len().saturating_sub(3000);
            let start = (start..text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            out.push_str(&format!(
                "== {}\n{}\n",
                entry.path().display(),
                &text[start..]
            ));
        }
    }
    out
}

#[test]
fn a_grid_on_another_machine_cannot_reach_the_loopback_proxy_and_the_run_log_names_that_hop() {
    let test =
        "a_grid_on_another_machine_cannot_reach_the_loopback_proxy_and_the_run_log_names_that_hop";
    let Some(tools) = namespace_tools(test) else {
        return;
    };
    let _one = one_at_a_time();
    let grid = IsolatedGrid::start(&tools, 2, None);
    let (sites, shops) = sites(2, Duration::ZERO);
    let cli = grid_cli(&grid.url, &ports(&sites), 2);
    audited_campaign(&cli, "shops", &shops);
    screenshots(&cli, "shops");
    let jobs = screenshot_jobs(&cli);
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    for job in &jobs {
        // Each new session loads the proxy's probe page before any lead's
        // site, so the broken hop is found there and named, and no lead's
        // page is blamed for it.
        let error = job["last_error"].as_str().unwrap_or("");
        assert!(
            error.contains("did not reach leadscout's proxy")
                && error.contains("ERR_PROXY_CONNECTION_FAILED")
                && error.contains("webdriver.proxy_bind"),
            "the run log says what happened and what to set: {error}\n{}",
            grid.logs()
        );
        assert_ne!(job["status"], "succeeded", "{jobs:?}");
    }
    // doctor walks the same path and stops at the hop that broke.
    let run = cli.run(&["doctor", "--json"]);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(!run.status.success(), "{text}");
    let doctor: serde_json::Value = serde_json::from_str(&text).unwrap();
    let hops = crate::remote_proxy::hops(&doctor);
    let (name, status, detail) = hops.last().unwrap();
    assert_eq!(
        name, "webdriver: proxy reachable from the browser",
        "{doctor}"
    );
    assert_eq!(status, "fail", "{doctor}");
    assert!(
        detail.contains("ERR_PROXY_CONNECTION_FAILED") && detail.contains("webdriver.proxy_bind"),
        "{detail}"
    );
}

#[test]
fn a_grid_on_another_machine_takes_screenshots_through_the_remote_proxy_and_the_guard_holds() {
    let test =
        "a_grid_on_another_machine_takes_screenshots_through_the_remote_proxy_and_the_guard_holds";
    let Some(tools) = namespace_tools(test) else {
        return;
    };
    let _one = one_at_a_time();
    // leadscout's proxy listens on this host port; the namespace reaches
    // it as 127.0.0.1:3128 through the bridge.
    let proxy_port = free_port();
    let grid = IsolatedGrid::start(&tools, 2, Some(proxy_port));
    // Its /egress page reaches for the secret port (not allowed) and a
    // link-local address.
    let server = PageServer::start();
    let (sites, mut pages) = sites(1, Duration::ZERO);
    let mut allowed = ports(&sites);
    allowed.push(server.port);
    let cli = grid_cli(&grid.url, &allowed, 2)
        .env(
            "LEADSCOUT_WEBDRIVER__PROXY_BIND",
            &format!("127.0.0.1:{proxy_port}"),
        )
        .env(
            "LEADSCOUT_WEBDRIVER__PROXY_URL",
            &format!("http://127.0.0.1:{PROXY_IN_NAMESPACE}"),
        )
        .env("LEADSCOUT_WEBDRIVER__PROXY_ALLOW", "[\"127.0.0.1\"]");
    pages.push(server.url("/egress").to_string());
    audited_campaign(&cli, "shops", &pages);
    screenshots(&cli, "shops");
    let jobs = screenshot_jobs(&cli);
    assert!(
        jobs.iter().all(|j| j["status"] == "succeeded"),
        "{jobs:?}\n{}",
        grid.logs()
    );
    let doctor = cli.json(&["doctor"]);
    let hops = crate::remote_proxy::hops(&doctor);
    assert_eq!(
        hops.len(),
        5,
        "every hop, from the Grid to the screenshot: {doctor}"
    );
    assert!(hops.iter().all(|h| h.1 == "ok"), "{doctor}");
    let audit = cli.json(&["audit", "show", &pages[0]]);
    assert!(audit["screenshots"]["desktop"].is_string(), "{audit}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !server
            .secret_touched
            .load(std::sync::atomic::Ordering::SeqCst),
        "a page on the remote browser reached the host's secret port through the proxy"
    );
}
