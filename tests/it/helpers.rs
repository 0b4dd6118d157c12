//! Shared helpers: run the real binary against an isolated data dir.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_leadscout");

/// An isolated leadscout: its own data dir, home and config dirs, and no
/// LEADSCOUT_* variables from the caller's environment.
pub struct Cli {
    pub root: tempfile::TempDir,
    pub data: PathBuf,
    env: Vec<(String, String)>,
    /// A `leadscout serve` child the commands attach to, when attached.
    server: std::sync::Mutex<Option<std::process::Child>>,
}

impl Drop for Cli {
    fn drop(&mut self) {
        self.stop_server();
    }
}

impl Cli {
    pub fn new() -> Self {
        let root = tempfile::tempdir().expect("tempdir");
        let data = root.path().join("data");
        Self {
            root,
            data,
            env: Vec::new(),
            server: std::sync::Mutex::new(None),
        }
    }

    /// Starts `leadscout serve` on this data dir (with the environment
    /// given so far); every command from now on attaches to it, since the
    /// server holds the store.
    pub fn attached(self) -> Self {
        self.start_server();
        self
    }

    /// Starts (or restarts) the `serve` child and waits for its socket.
    pub fn start_server(&self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("serve.log"))
            .expect("serve log");
        let mut serve = self.command(&["serve"]);
        if !self.env.iter().any(|(k, _)| k == "LEADSCOUT_SERVER__BIND") {
            serve.env("LEADSCOUT_SERVER__BIND", "127.0.0.1:0");
        }
        let child = serve
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start leadscout serve");
        *self.server.lock().unwrap() = Some(child);
        self.wait_for_server();
    }

    /// The pid of the `serve` child, when there is one.
    pub fn server_pid(&self) -> Option<u32> {
        self.server.lock().unwrap().as_ref().map(|c| c.id())
    }

    /// Waits until the control socket answers.
    pub fn wait_for_server(&self) {
        let socket = self.data.join("control.sock");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            if let Some(child) = self.server.lock().unwrap().as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "serve exited with {status}:\n{}",
                    std::fs::read_to_string(self.path("serve.log")).unwrap_or_default()
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "serve did not open {} within 60 s",
                socket.display()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Stops the server child (SIGTERM, then waits), so the store can be
    /// opened directly again. No-op when embedded.
    pub fn stop_server(&self) {
        let Some(mut child) = self.server.lock().map(|mut s| s.take()).unwrap_or(None) else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while matches!(child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Kills the server child with SIGKILL (a crash: nothing is cleaned
    /// up) and waits for it to be gone.
    pub fn kill_server(&self) {
        let Some(mut child) = self.server.lock().map(|mut s| s.take()).unwrap_or(None) else {
            return;
        };
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Adds an environment variable to every command run from now on.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Accepts unsubscribe links on loopback or plain http when sending
    /// (`sending.allow_local_unsubscribe_links`): the explicit opt-out for
    /// tests that send without a public https `server.public_base_url`.
    pub fn allow_local_unsubscribe_links(self) -> Self {
        self.env("LEADSCOUT_SENDING__ALLOW_LOCAL_UNSUBSCRIBE_LINKS", "true")
    }

    /// Lets the fetcher and the browser reach one loopback site, which the
    /// egress guard refuses by default.
    pub fn allow_local_site(self, port: u16) -> Self {
        self.env(
            "LEADSCOUT_FETCH__ALLOW_HOSTS",
            &format!("[\"127.0.0.1:{port}\"]"),
        )
    }

    /// One browser session: browser tests run one at a time on a small
    /// machine.
    pub fn one_browser(self) -> Self {
        self.env("LEADSCOUT_WEBDRIVER__SESSIONS", "1")
    }

    /// The sender drafts need (name, company, email, postal address) and a
    /// public base URL for the report links.
    pub fn with_sender(self) -> Self {
        self.env("LEADSCOUT_SENDER__NAME", "Jane Doe")
            .env("LEADSCOUT_SENDER__COMPANY", "Pixel & Partners")
            .env("LEADSCOUT_SENDER__EMAIL", "jane@agency.example")
            .env(
                "LEADSCOUT_SENDER__POSTAL_ADDRESS",
                "Hauptstr. 1, 10115 Berlin",
            )
            .env(
                "LEADSCOUT_SERVER__PUBLIC_BASE_URL",
                "https://reports.agency.example",
            )
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).expect("write fixture");
        path
    }

    /// Replaces `lead`'s email with `text` ("Subject: …\n\nbody"), as an
    /// operator does with `outreach edit --from-file`; must succeed.
    pub fn edit_email(&self, lead: &str, text: impl AsRef<[u8]>) -> String {
        let file = self.write("edited-email.txt", text);
        self.ok(&[
            "outreach",
            "edit",
            lead,
            "--from-file",
            file.to_str().expect("utf-8 path"),
        ])
    }

    pub fn command(&self, args: &[&str]) -> Command {
        self.prepare(Command::new(BIN), args)
    }

    /// `leadscout ARGS` with the engine's test stages (see `testbed`).
    pub fn testbed(&self, args: &[&str]) -> Command {
        self.prepare(crate::testbed::testbed(args), &[])
    }

    fn prepare(&self, mut cmd: Command, args: &[&str]) -> Command {
        for (key, _) in std::env::vars() {
            if key.starts_with("LEADSCOUT_") {
                cmd.env_remove(key);
            }
        }
        let home = self.root.path().join("home");
        cmd.env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("LEADSCOUT_DATA_DIR", &self.data)
            // Tests run side by side: no fixed metrics port.
            .env("LEADSCOUT_SERVER__METRICS_BIND", "127.0.0.1:0")
            // Test leads live at made-up domains no DNS knows; the address
            // check's own tests turn it on against their DNS server.
            .env("LEADSCOUT_VERIFY__ENABLED", "false")
            .env("NO_COLOR", "1")
            .args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// The environment every command gets, as `KEY=VALUE` pairs (for
    /// starting leadscout through another program, such as tmux).
    pub fn env_pairs(&self) -> Vec<(String, String)> {
        let home = self.root.path().join("home");
        let mut out = vec![
            ("HOME".to_string(), home.display().to_string()),
            (
                "XDG_CONFIG_HOME".into(),
                home.join(".config").display().to_string(),
            ),
            (
                "XDG_DATA_HOME".into(),
                home.join(".local/share").display().to_string(),
            ),
            ("LEADSCOUT_DATA_DIR".into(), self.data.display().to_string()),
            (
                "LEADSCOUT_SERVER__METRICS_BIND".into(),
                "127.0.0.1:0".into(),
            ),
        ];
        out.extend(self.env.iter().cloned());
        out
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run leadscout")
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "`leadscout {}` failed ({}):\nstdout: {}\nstderr: {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs a command that must fail with exit code 1 and one line on
    /// stderr; returns that line.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(1),
            "`leadscout {}` should fail with 1:\nstdout: {}\nstderr: {stderr}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "expected one stderr line, got:\n{stderr}");
        lines[0].to_string()
    }

    /// Runs a command with `--json` and parses its stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let out = self.ok(&with_json);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"))
    }

    /// A campaign with the given slug.
    pub fn campaign(&self, slug: &str) {
        self.ok(&["campaign", "create", slug, "--slug", slug]);
    }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// A small repeatable random source for tests (xorshift); the seed is printed
/// by callers so a failure can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn from_env_or_time() -> (Self, u64) {
        let seed = std::env::var("LEADSCOUT_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(42)
            });
        (Self(seed | 1), seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A CSV of `rows` distinct businesses.
pub fn generated_csv(rows: usize) -> String {
    let mut out = String::from("name,website,email,phone,city,category,rating\n");
    for i in 0..rows {
        out.push_str(&format!(
            "Business {i},https://www.biz{i}.example/,info@biz{i}.example,+49 30 {i:07},City{},cat{},{}\n",
            i % 50,
            i % 20,
            i % 5
        ));
    }
    out
}

/// What the loopback page server answers for one path: the status line
/// (`"200 OK"`), the content type and the body.
pub type Page = (&'static str, &'static str, Vec<u8>);

/// Serves fixture pages on a loopback port from a thread of its own, one
/// HTTP/1.1 response per connection, `answer` choosing it by path. Returns
/// the port.
pub fn serve_pages(answer: impl Fn(&str) -> Page + Send + Sync + 'static) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let answer = std::sync::Arc::new(answer);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().port()).unwrap();
            while let Ok((mut stream, _)) = listener.accept().await {
                let answer = answer.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    let request = String::from_utf8_lossy(&buf[..n]).to_string();
                    let path = request.split_whitespace().nth(1).unwrap_or("/");
                    let (status, kind, body) = answer(path);
                    let head = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(&body).await;
                });
            }
        });
    });
    rx.recv().unwrap()
}

/// A picture as PNG bytes, for fixture pages.
pub fn png(image: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}
