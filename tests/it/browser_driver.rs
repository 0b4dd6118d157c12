//! The chromedriver leadscout starts: it listens on loopback only (it has
//! no authentication, so any other interface would let anyone who reaches
//! it start a program of their choosing), and `doctor` says whether
//! Chromium keeps its sandbox.

use leadscout::config::Config;
use leadscout::pipeline::browser::Browser;

use crate::browser::{browser_available, one_at_a_time};
use crate::helpers::Cli;

/// Direct children of this process named `chromedriver`.
fn chromedrivers() -> Vec<u32> {
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let name = head.split_once('(').map_or("", |(_, n)| n);
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if name == "chromedriver" && ppid == Some(me) {
            found.push(pid);
        }
    }
    found
}

/// The local addresses (hex, as /proc/net/tcp{,6} spells them) of the
/// listening TCP sockets a process holds.
fn listening_addresses(pid: u32) -> Vec<String> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().to_string();
            target
                .strip_prefix("socket:[")
                .and_then(|t| t.strip_suffix(']'))
                .map(str::to_string)
        })
        .collect();
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local_address is field 1, st field 3 (0A = LISTEN), inode 9.
            if fields.len() > 9 && fields[3] == "0A" && inodes.iter().any(|i| i == fields[9]) {
                found.push(fields[1].to_string());
            }
        }
    }
    found
}

fn is_loopback(hex_address: &str) -> bool {
    let ip = hex_address.split(':').next().unwrap_or("");
    // 127.0.0.0/8 (little-endian: the last byte is the first octet) or ::1.
    ip.len() == 8 && ip.ends_with("7F") || ip == "00000000000000000000000001000000"
}

#[test]
fn chromedriver_listens_on_loopback_only() {
    if !browser_available("chromedriver_listens_on_loopback_only") {
        return;
    }
    let _one = one_at_a_time();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut config = Config::default();
    config.webdriver.sessions = 1;
    rt.block_on(async {
        let browser = Browser::new(&config).unwrap();
        // Opens a session, so chromedriver is up and listening.
        browser.version().await.unwrap();
        let drivers = chromedrivers();
        assert_eq!(drivers.len(), 1, "one chromedriver: {drivers:?}");
        let addresses = listening_addresses(drivers[0]);
        browser.shutdown().await;
        assert!(!addresses.is_empty(), "chromedriver listens somewhere");
        for address in &addresses {
            assert!(
                is_loopback(address),
                "chromedriver listens on {address}, not loopback only: {addresses:?}"
            );
        }
    });
}

#[test]
fn doctor_says_whether_chromium_keeps_its_sandbox() {
    let cli = Cli::new();
    let doctor = cli.json(&["doctor"]);
    let sandbox = doctor
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "chromium sandbox")
        .unwrap_or_else(|| panic!("a chromium sandbox check: {doctor}"));
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        assert_eq!(sandbox["status"], "warn");
        assert!(
            sandbox["detail"]
                .as_str()
                .unwrap()
                .starts_with("off: running as root"),
            "{sandbox}"
        );
    } else {
        assert_eq!(sandbox["status"], "ok");
        assert_eq!(sandbox["detail"], "on");
    }
}
