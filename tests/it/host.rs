//! One host for every face: an open TUI and `demo --serve` serve the
//! control socket like `serve` does, so commands run in another terminal
//! attach to them with the same output and exit code as when they open
//! the store themselves; the hosting TUI asks before it quits while
//! others are attached; and it schedules re-audits while it is open.
//!
//! The TUI tests need `tmux` (skipped with a reason without it, failing
//! under CI).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::Cli;
use crate::smtp::SmtpServer;
use crate::tui::{Tmux, tmux_available};

/// Stdout, stderr and exit code: what "the same output" compares.
fn seen(out: &Output) -> (String, String, Option<i32>) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// Runs each command and records what it printed and how it ended.
fn run_all(cli: &Cli, commands: &[Vec<&str>]) -> Vec<(String, String, Option<i32>)> {
    commands.iter().map(|args| seen(&cli.run(args))).collect()
}

/// Whether a command now attaches (rather than opening the store).
fn attached_to(cli: &Cli) -> String {
    cli.ok(&["doctor"])
}

#[test]
fn commands_attach_to_an_open_tui_with_the_output_they_give_embedded() {
    if !tmux_available() {
        return;
    }
    let smtp = SmtpServer::start(Duration::ZERO);
    let s = crate::outreach::setup(
        smtp.port,
        &[
            ("Alpha Bakery", "a@alpha.example"),
            ("Bravo Dental", "b@bravo.example"),
        ],
        &[],
    );
    let cli = s.cli.allow_local_unsubscribe_links();
    cli.ok(&["outreach", "approve", "--all-drafted", "-c", "c"]);
    let alpha = s.leads["a@alpha.example"].clone();
    let commands: Vec<Vec<&str>> = vec![
        vec!["campaign", "list"],
        vec!["leads", "list", "-c", "c"],
        vec!["leads", "list", "-c", "c", "--json"],
        vec!["leads", "show", &alpha, "--json"],
        vec!["outreach", "list", "-c", "c", "--json"],
        vec!["outreach", "send", "-c", "c", "--dry-run"],
        vec!["settings", "list", "--json"],
        // Failures: the same line on stderr and the same exit code.
        vec!["leads", "show", "nosuch.example"],
        vec!["campaign", "show", "nosuch"],
    ];
    let embedded = run_all(&cli, &commands);
    assert!(embedded[1].0.contains("Alpha Bakery"), "{embedded:?}");
    assert_ne!(embedded[7].2, Some(0), "{embedded:?}");

    let tmux = Tmux::start(&cli, 160, 48);
    tmux.wait_for("Alpha Bakery");
    cli.wait_for_server();
    let doctor = attached_to(&cli);
    assert!(doctor.contains("attached to"), "{doctor}");

    let via_tui = run_all(&cli, &commands);
    for ((args, here), there) in commands.iter().zip(&embedded).zip(&via_tui) {
        assert_eq!(here, there, "`leadscout {}` differs", args.join(" "));
    }

    // A real send runs in the TUI's process and reports each message.
    let sent = cli.ok(&["outreach", "send", "-c", "c"]);
    assert!(sent.contains("Sent 2"), "{sent}");
    assert_eq!(smtp.received().len(), 2);

    tmux.quit();
    // The TUI let go of the data dir: commands open the store again.
    let doctor = attached_to(&cli);
    assert!(!doctor.contains("attached to"), "{doctor}");
    let shown = cli.json(&["outreach", "show", &alpha]);
    assert_eq!(shown["status"], "sent", "{shown}");
}

/// An attached client that follows the host's events, as another TUI does.
fn follow_events(cli: &Cli) -> UnixStream {
    let mut feed = UnixStream::connect(cli.data.join("control.sock")).unwrap();
    feed.write_all(
        b"POST /v1/stream/events HTTP/1.1\r\nHost: leadscout\r\nContent-Length: 4\r\n\r\nnull",
    )
    .unwrap();
    let mut first = [0u8; 12];
    feed.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200", "the feed is open");
    feed
}

#[test]
fn a_hosting_tui_asks_before_it_quits_while_others_are_attached() {
    if !tmux_available() {
        return;
    }
    let s = crate::outreach::setup(1, &[("Alpha Bakery", "a@alpha.example")], &[]);
    let cli = s.cli;
    let tmux = Tmux::start(&cli, 120, 40);
    tmux.wait_for("Alpha Bakery");
    cli.wait_for_server();
    let mut feed = follow_events(&cli);

    // Asked, and told no: the TUI stays and still hosts.
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("attached to this TUI");
    assert!(screen.contains("Quit anyway?"), "{screen}");
    tmux.keys(&["n"]);
    wait_until("the question to close", || {
        !tmux.screen().contains("attached to this TUI")
    });
    assert!(tmux.running(), "{}", tmux.screen());
    let listed = cli.ok(&["leads", "list", "-c", "c"]);
    assert!(listed.contains("Alpha Bakery"), "{listed}");

    // Asked again, and told yes: the TUI quits and the feed ends.
    tmux.keys(&["q"]);
    tmux.wait_for("attached to this TUI");
    tmux.keys(&["y"]);
    wait_until("the TUI to quit", || !tmux.running());
    feed.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut rest = Vec::new();
    let ended = feed.read_to_end(&mut rest);
    assert!(ended.is_ok(), "the feed ended cleanly: {ended:?}");
    let doctor = attached_to(&cli);
    assert!(!doctor.contains("attached to"), "{doctor}");
}

#[test]
fn a_second_tui_attaches_to_the_first_and_is_told_when_it_quits() {
    if !tmux_available() {
        return;
    }
    let s = crate::outreach::setup(1, &[("Alpha Bakery", "a@alpha.example")], &[]);
    let cli = s.cli;
    let host = Tmux::start(&cli, 120, 40);
    host.wait_for("Alpha Bakery");
    cli.wait_for_server();
    let second = Tmux::start_named(&cli, "second.sock", 120, 40);
    second.wait_for("Alpha Bakery");
    second.wait_for("attached to tui (pid");

    host.keys(&["q"]);
    let screen = host.wait_for("1 other TUI(s) or command(s) are attached to this TUI");
    assert!(screen.contains("Quit anyway?"), "{screen}");
    host.keys(&["y"]);
    wait_until("the hosting TUI to quit", || !host.running());
    second.wait_for("disconnected, retrying");
    second.quit();
}

#[test]
fn a_hosting_tui_quits_without_asking_when_no_one_is_attached() {
    if !tmux_available() {
        return;
    }
    let s = crate::outreach::setup(1, &[("Alpha Bakery", "a@alpha.example")], &[]);
    let cli = s.cli;
    let tmux = Tmux::start(&cli, 120, 40);
    tmux.wait_for("Alpha Bakery");
    cli.wait_for_server();
    // A feed that came and went does not count once it is gone (the
    // host notices within a heartbeat).
    drop(follow_events(&cli));
    let listed = cli.ok(&["leads", "list", "-c", "c"]);
    assert!(listed.contains("Alpha Bakery"), "{listed}");
    let started = Instant::now();
    loop {
        tmux.keys(&["q"]);
        wait_until("the TUI to quit or ask", || {
            !tmux.running() || tmux.screen().contains("attached to this TUI")
        });
        if !tmux.running() {
            break;
        }
        tmux.keys(&["n"]);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "a closed feed still counts as attached:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The outreach fixture's page with a meta description added.
const CHANGED: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Crumbs</title><meta name="description" content="Fresh bread every morning in Berlin, baked on site since 1998 by the Crumbs family.">
</head><body><h1>Crumbs bakery</h1><img src="/shop.jpg">
<p>Fresh bread every morning.</p><a href="/missing">menu</a></body></html>"#;

#[test]
fn the_tui_host_schedules_re_audits() {
    if !tmux_available() {
        return;
    }
    let s = crate::outreach::setup(
        1,
        &[("Alpha Bakery", "a@alpha.example")],
        &[("LEADSCOUT_REAUDIT__CHECK_EVERY", "200ms")],
    );
    let lead = s.leads["a@alpha.example"].clone();
    let cli = s.cli;
    cli.ok(&["outreach", "mark", &lead, "--replied"]);
    cli.ok(&["settings", "set", "reaudit_every", "1s", "-c", "c"]);
    s.sites[0].set(CHANGED);

    let tmux = Tmux::start(&cli, 120, 40);
    tmux.wait_for("Alpha Bakery");
    cli.wait_for_server();
    let started = Instant::now();
    let diff = loop {
        let out = cli.run(&["audit", "diff", &lead, "--json"]);
        if out.status.success() {
            break serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no re-audit within 60 s under the TUI: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let fixed = diff["fixed"].as_array().unwrap();
    assert!(
        fixed
            .iter()
            .any(|v| v.as_str() == Some("seo.meta_description.present")),
        "{diff}"
    );
    tmux.quit();
}

/// `demo --headless --serve` as a child, its stdout read line by line.
struct Demo {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Demo {
    fn start(cli: &Cli) -> Self {
        let mut child = cli
            .command(&["demo", "--headless", "--serve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self { child, lines }
    }

    /// The first line that contains `text` (the demo runs the whole
    /// pipeline first: up to two minutes, as its own test allows).
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(e) => panic!("the demo never printed {text:?}: {e}"),
            }
        }
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        assert!(
            status.code().is_some(),
            "the demo ended by itself: {status}"
        );
    }
}

#[test]
fn commands_printed_by_demo_serve_attach_to_it() {
    let cli = Cli::new().env("LEADSCOUT_SERVER__BIND", "127.0.0.1:0");
    let demo = Demo::start(&cli);
    let line = demo.wait_for("While this runs");
    // The command as printed, with this test's environment.
    let printed = line
        .split('`')
        .find(|part| part.contains("leads list"))
        .unwrap_or_else(|| panic!("no leads list command in {line:?}"));
    let words: Vec<&str> = printed.split_whitespace().collect();
    assert_eq!(words[0], "leadscout", "{line}");
    let args = &words[1..];
    let attached = seen(&cli.run(args));
    assert_eq!(attached.2, Some(0), "{attached:?}");
    assert!(
        attached.0.contains("Nordlicht Physiotherapie"),
        "{attached:?}"
    );
    let json_args: Vec<&str> = args.iter().copied().chain(["--json"]).collect();
    let attached_json = seen(&cli.run(&json_args));
    let doctor = attached_to(&cli);
    assert!(doctor.contains("attached to"), "{doctor}");

    demo.stop();
    let doctor = attached_to(&cli);
    assert!(!doctor.contains("attached to"), "{doctor}");
    assert_eq!(seen(&cli.run(args)), attached, "embedded differs");
    assert_eq!(
        seen(&cli.run(&json_args)),
        attached_json,
        "embedded differs"
    );
}

fn wait_until(what: &str, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "waited 30 s for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A host told to take any free port (`server.bind = 127.0.0.1:0`) links
/// to the port its page server really listens on, never to port 0.
#[test]
fn links_name_the_port_a_host_on_port_zero_listens_on() {
    let cli = Cli::new().attached();
    cli.campaign("c");
    cli.ok(&["leads", "add", "-c", "c", "--website", "a.example"]);
    let leads = cli.json(&["leads", "list", "-c", "c"]);
    let lead = leads[0]["id"].as_str().expect("lead id").to_string();
    let link = cli.json(&["report", "url", &lead]);
    let url = link["url"].as_str().expect("url").to_string();
    let authority = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("not an http link: {url}"));
    assert!(!authority.ends_with(":0"), "the link names port 0: {url}");
    let mut stream = std::net::TcpStream::connect(authority)
        .unwrap_or_else(|e| panic!("nothing listens at {authority} ({url}): {e}"));
    let path = &url[url.find(authority).expect("authority") + authority.len()..];
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
}
