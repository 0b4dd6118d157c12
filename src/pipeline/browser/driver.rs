//! Where WebDriver comes from: a configured URL (a chromedriver or a
//! Selenium Grid), or a chromedriver that leadscout starts itself on a
//! loopback port chromedriver picks, restarts if it dies, and stops on exit.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use tokio::sync::Mutex;

use crate::config::WebDriverConfig;

/// What to install when there is no WebDriver.
pub const INSTALL_HINT: &str = "install Chromium and its driver (Debian/Ubuntu: apt install chromium chromium-driver) or set webdriver.url to a running WebDriver";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    #[error(
        "no WebDriver: `{program}` is not on PATH and webdriver.url is not set; {INSTALL_HINT}"
    )]
    Missing { program: String },
    #[error(
        "no Chromium: none of chromium, chromium-browser, google-chrome is on PATH and webdriver.browser is not set; {INSTALL_HINT}"
    )]
    NoBrowser,
    #[error("cannot start {program}: {reason}")]
    Start { program: String, reason: String },
    #[error("{program} did not become ready within {seconds}s")]
    NotReady { program: String, seconds: u64 },
}

/// A program on PATH (or the path itself, when it contains a slash).
pub fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let path = PathBuf::from(name);
        return path.is_file().then_some(path);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The Chromium binary to use.
pub fn find_browser(config: &WebDriverConfig) -> Result<PathBuf, DriverError> {
    if !config.browser.is_empty() {
        return find_program(&config.browser).ok_or(DriverError::NoBrowser);
    }
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .find_map(|name| find_program(name))
    .ok_or(DriverError::NoBrowser)
}

/// A WebDriver endpoint: configured, or a child chromedriver.
pub struct Driver {
    configured: Option<String>,
    program: PathBuf,
    child: Mutex<Option<(Child, String)>>,
}

impl Driver {
    /// Finds the WebDriver to use, without starting anything yet.
    pub fn locate(config: &WebDriverConfig) -> Result<Self, DriverError> {
        if !config.url.is_empty() {
            return Ok(Self {
                configured: Some(config.url.trim_end_matches('/').to_string()),
                program: PathBuf::new(),
                child: Mutex::new(None),
            });
        }
        let program = find_program(&config.chromedriver).ok_or_else(|| DriverError::Missing {
            program: config.chromedriver.clone(),
        })?;
        find_browser(config)?;
        Ok(Self {
            configured: None,
            program,
            child: Mutex::new(None),
        })
    }

    pub fn is_managed(&self) -> bool {
        self.configured.is_none()
    }

    /// The WebDriver URL, starting (or restarting) the child if needed.
    pub async fn url(&self) -> Result<String, DriverError> {
        if let Some(url) = &self.configured {
            return Ok(url.clone());
        }
        let mut child = self.child.lock().await;
        if let Some((process, url)) = child.as_mut() {
            match process.try_wait() {
                Ok(None) => return Ok(url.clone()),
                Ok(Some(status)) => {
                    tracing::warn!(%status, "chromedriver exited; starting it again")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot check chromedriver; starting it again")
                }
            }
        }
        let started = start(&self.program).await?;
        let url = started.1.clone();
        *child = Some(started);
        Ok(url)
    }

    /// Stops a managed chromedriver.
    pub async fn stop(&self) {
        if let Some((mut process, _)) = self.child.lock().await.take() {
            let _ = process.kill().await;
        }
    }
}

/// Starts chromedriver on a port it picks itself (`--port=0`) and reports
/// on stdout, so no other process can take the port between a choice and
/// the bind. Without `--allowed-ips`/`--allowed-origins` chromedriver
/// listens on loopback only (127.0.0.1 and ::1): it has no
/// authentication, so another interface would let anyone who can reach it
/// start a browser binary of their choosing.
async fn start(program: &Path) -> Result<(Child, String), DriverError> {
    // chromedriver has been seen to exit at once, before it listened, on a
    // busy machine (with exit status 1; a port taken on ::1 is the likely
    // cause). A new start picks another port, so a few tries are enough.
    let mut tries = 0;
    loop {
        tries += 1;
        match start_once(program).await {
            Err(DriverError::Start { reason, .. })
                if tries < START_TRIES && reason.starts_with(EXITED_EARLY) =>
            {
                tracing::debug!(%reason, "chromedriver exited before it listened; starting it again");
            }
            other => return other,
        }
    }
}

const START_TRIES: u32 = 3;
const EXITED_EARLY: &str = "it exited before saying its port";

async fn start_once(program: &Path) -> Result<(Child, String), DriverError> {
    use tokio::io::AsyncBufReadExt;
    let shown = program.display().to_string();
    let mut command = Command::new(program);
    command
        .arg("--port=0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    // If leadscout dies (even by SIGKILL), the kernel sends chromedriver
    // SIGTERM, and chromedriver closes its browsers: no orphans.
    // SAFETY: prctl is async-signal-safe and touches no Rust state.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(|e| DriverError::Start {
        program: shown.clone(),
        reason: e.to_string(),
    })?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill().await;
        return Err(DriverError::Start {
            program: shown,
            reason: "no stdout to read its port from".into(),
        });
    };
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = String::new();
    let port = loop {
        let line = match tokio::time::timeout_at(deadline.into(), lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) | Ok(Err(_)) => {
                let status = child.wait().await.map(|s| s.to_string());
                return Err(DriverError::Start {
                    program: shown,
                    reason: format!(
                        "{EXITED_EARLY} ({}){}",
                        status.unwrap_or_else(|e| e.to_string()),
                        if last.is_empty() {
                            String::new()
                        } else {
                            format!("; it said: {last}")
                        }
                    ),
                });
            }
            Err(_) => {
                let _ = child.kill().await;
                return Err(DriverError::NotReady {
                    program: shown,
                    seconds: 15,
                });
            }
        };
        if let Some(port) = reported_port(&line) {
            break port;
        }
        last = line;
    };
    // Keep reading stdout so chromedriver never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let url = format!("http://127.0.0.1:{port}");
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(DriverError::Start {
                program: shown,
                reason: format!("it exited at once ({status})"),
            });
        }
        if ready(port).await {
            return Ok((child, url));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill().await;
    Err(DriverError::NotReady {
        program: shown,
        seconds: 15,
    })
}

/// The port in chromedriver's "ChromeDriver was started successfully on
/// port 44311." line.
fn reported_port(line: &str) -> Option<u16> {
    let rest = line.split("started successfully on port ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|p| *p != 0)
}

/// Whether chromedriver answers `/status` with ready: a tiny raw request,
/// so no HTTP client (and no proxy or egress rules) is involved.
async fn ready(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(Ok(mut stream)) = tokio::time::timeout(
        Duration::from_millis(500),
        tokio::net::TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    else {
        return false;
    };
    let request =
        format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    // chromedriver says `Connection: close` but keeps the socket open, so
    // read until the answer is in, not until the end.
    let mut body = Vec::new();
    let mut chunk = [0u8; 2048];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
        if String::from_utf8_lossy(&body)
            .replace(' ', "")
            .contains("\"ready\":true")
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_comes_from_chromedriver_s_own_line() {
        assert_eq!(
            reported_port("ChromeDriver was started successfully on port 44311."),
            Some(44311)
        );
        assert_eq!(reported_port("Starting ChromeDriver 148 on port 0"), None);
        assert_eq!(reported_port("Only local connections are allowed."), None);
    }
}
