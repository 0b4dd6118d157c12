//! The TUI end to end, in tmux on a private socket with the real binary:
//! open on a prepared data dir, move, filter, mark two leads, approve,
//! edit and save a draft, open the help, quit; then check the screen text
//! and the store.
//!
//! A second test runs the TUI attached to a `serve` child: it sees a job
//! the server ran, shows "disconnected, retrying" while the server is
//! down, keeps an unsaved edit, reconnects on its own, and quitting leaves
//! the server running.
//!
//! Needs `tmux`. Without it the test says so and passes, except under CI
//! (`CI` set), where it fails: `.ci/run` installs it.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::{BIN, Cli};

pub(crate) fn tmux_available() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is required in CI (.ci/run installs it)"
        );
        eprintln!("skipping the TUI end-to-end test: tmux is not installed (apt install tmux)");
    }
    found
}

pub(crate) struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    pub(crate) fn start(cli: &Cli, width: u16, height: u16) -> Self {
        Self::start_named(cli, "tmux.sock", width, height)
    }

    /// Like [`Tmux::start`], on a tmux server of its own (a second TUI).
    pub(crate) fn start_named(cli: &Cli, name: &str, width: u16, height: u16) -> Self {
        let socket = cli.path(name);
        let mut env: Vec<String> = cli
            .env_pairs()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        env.push("LEADSCOUT_SERVER__BIND=127.0.0.1:0".into());
        env.push("TERM=xterm-256color".into());
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&socket).args([
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
        cmd.arg("env").args(&env).arg(BIN);
        let status = cmd.status().unwrap();
        assert!(status.success(), "tmux did not start");
        Self { socket }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    pub(crate) fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    pub(crate) fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "0"])
    }

    /// Waits until the screen shows `text`; panics with the screen if not.
    pub(crate) fn wait_for(&self, text: &str) -> String {
        self.wait_until(text, |screen| screen.contains(text))
    }

    /// Waits until `ready` holds for the screen (`what` names it when it
    /// never does).
    fn wait_until(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            // Generous: a loaded 2-core machine can stall the TUI for
            // seconds; a screen that is right returns at once anyway.
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "waited for {what}, the screen is:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Presses q (and y when jobs still run) and waits for the TUI to end.
    pub(crate) fn quit(&self) {
        self.keys(&["q"]);
        let started = Instant::now();
        while self.running() {
            if self.screen().contains("Quit anyway?") {
                self.keys(&["y"]);
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the TUI did not quit:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn running(&self) -> bool {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["has-session", "-t", "0"])
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .status();
    }
}

#[test]
fn triage_in_the_tui_changes_the_store() {
    if !tmux_available() {
        return;
    }
    let s = crate::outreach::setup(
        1,
        &[
            ("Alpha Bakery", "a@alpha.example"),
            ("Bravo Dental", "b@bravo.example"),
        ],
        &[],
    );
    let cli = s.cli;
    // A lead whose site does not exist: its fetch fails.
    cli.ok(&[
        "leads",
        "add",
        "--campaign",
        "c",
        "--website",
        "nowhere.invalid",
        "--name",
        "Charlie Nowhere",
    ]);
    let failed = cli
        .command(&[
            "run", "-c", "c", "--stages", "fetch", "--status", "new", "--wait",
        ])
        .env("LEADSCOUT_STAGES__FETCH__MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("dead"),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );

    let tmux = Tmux::start(&cli, 160, 48);
    let screen = tmux.wait_for("Alpha Bakery");
    assert!(screen.contains("c — 3 leads"), "{screen}");
    assert!(screen.contains("NORMAL"), "{screen}");

    // Filter to the failed lead, then back to all.
    tmux.keys(&["/", "status:failed", "Enter"]);
    let screen = tmux.wait_for("1 of 3 match");
    assert!(
        screen.contains("c — 1 of 3 leads /status:failed") && screen.contains("Charlie Nowhere"),
        "{screen}"
    );
    tmux.keys(&["/", "Enter"]);
    tmux.wait_for("no filter: all 3 leads shown");

    // Sort by business (added → status → score → business) so the two
    // drafts are on top, mark both, approve.
    tmux.keys(&["s", "s", "s"]);
    tmux.wait_for("sorted by business");
    tmux.keys(&["g", "Space", "Space"]);
    tmux.wait_for("2 marked");
    tmux.keys(&["a"]);
    tmux.wait_for("approved 2");

    // Edit the first draft: add a line at the end and save.
    tmux.keys(&["g", "3", "e"]);
    tmux.wait_for("edit draft");
    tmux.keys(&["C-End", "Enter", "P.S. Edited in the terminal.", "C-s"]);
    tmux.wait_for("draft saved");

    tmux.keys(&["?"]);
    // The overlay's last lines are drawn after its title: wait for them.
    let screen = tmux.wait_for("approve draft(s)");
    assert!(screen.contains("Keys — Esc closes"), "{screen}");
    tmux.keys(&["Escape"]);
    tmux.quit();

    // The store afterwards, from a new process (the TUI let go of it).
    let alpha = cli.json(&["outreach", "show", &s.leads["a@alpha.example"]]);
    assert_eq!(
        alpha["status"], "draft",
        "edited after approval, so back to draft: {alpha}"
    );
    assert_eq!(alpha["author"], "operator");
    assert!(
        alpha["body"]
            .as_str()
            .unwrap()
            .contains("P.S. Edited in the terminal."),
        "{alpha}"
    );
    assert_eq!(alpha["history"][0]["author"], "template");
    let bravo = cli.json(&["outreach", "show", &s.leads["b@bravo.example"]]);
    assert_eq!(bravo["status"], "approved", "{bravo}");
}

#[test]
fn an_attached_tui_follows_the_server_and_survives_a_restart() {
    if !tmux_available() {
        return;
    }
    let s = crate::outreach::setup(1, &[("Alpha Bakery", "a@alpha.example")], &[]);
    let alpha = s.leads["a@alpha.example"].clone();
    let cli = s.cli.attached();
    let first_pid = cli.server_pid().unwrap();

    let tmux = Tmux::start(&cli, 160, 48);
    tmux.wait_for(&format!("attached to serve (pid {first_pid})"));
    tmux.wait_for("Alpha Bakery");

    // A job the server runs shows up in the TUI's run log.
    let started = cli.json(&["run", "-c", "c", "--stages", "screenshot"]);
    assert_eq!(started["leads"], 1, "{started}");
    tmux.wait_until("the server's screenshot job to finish", |screen| {
        screen
            .lines()
            .any(|l| l.contains("screenshot") && (l.contains("succeeded") || l.contains("skipped")))
    });

    // Open the draft and type, then lose the server before saving.
    tmux.keys(&["g", "3", "e"]);
    tmux.wait_for("edit draft");
    tmux.keys(&["C-End", "Enter", "P.S. Written while the server was away."]);
    tmux.wait_for("Written while the server was away.");
    cli.stop_server();
    tmux.wait_for("disconnected, retrying");
    tmux.keys(&["C-s"]);
    let screen = tmux.wait_for("not saved");
    assert!(
        screen.contains("Written while the server was away."),
        "the text stays in the editor:\n{screen}"
    );

    // The server comes back; the TUI reattaches by itself and saves.
    cli.start_server();
    let second_pid = cli.server_pid().unwrap();
    assert_ne!(first_pid, second_pid);
    tmux.wait_for(&format!("attached to serve (pid {second_pid})"));
    tmux.keys(&["C-s"]);
    tmux.wait_for("draft saved");

    tmux.quit();
    // Quitting left the server running: this command attaches to it (it
    // could not open the store while the server holds it).
    let shown = cli.json(&["outreach", "show", &alpha]);
    assert!(
        shown["body"]
            .as_str()
            .unwrap()
            .contains("P.S. Written while the server was away."),
        "{shown}"
    );
    assert_eq!(cli.server_pid(), Some(second_pid));
    let doctor = cli.ok(&["doctor"]);
    assert!(
        doctor.contains(&format!("attached to serve (pid {second_pid}")),
        "{doctor}"
    );
}

/// At 80x24 the focused detail scrolls to the draft's footer and the lead
/// stays the same; at 200x50 the table shows each site with its port and
/// each lead's last job, read from the store (the jobs ran in other
/// processes before the TUI opened).
#[test]
fn the_detail_scrolls_to_the_footer_and_columns_fit_the_window() {
    if !tmux_available() {
        return;
    }
    let s = crate::outreach::setup(
        1,
        &[
            ("Alpha Bakery", "a@alpha.example"),
            ("Bravo Dental", "b@bravo.example"),
        ],
        &[],
    );
    let cli = s.cli;
    let small = Tmux::start_named(&cli, "small.sock", 80, 24);
    small.wait_for("Alpha Bakery");
    small.keys(&["Enter", "3"]);
    small.wait_for("subject");
    small.keys(&["G"]);
    let screen = small.wait_for("Unsubscribe");
    assert!(
        screen.contains(crate::outreach::POSTAL.split(',').next().unwrap()),
        "the postal address shows: {screen}"
    );
    assert!(
        screen.contains("Alpha Bakery ·") && screen.contains(" of "),
        "the same lead, its position in the title: {screen}"
    );
    small.keys(&["k", "g", "Escape"]);
    let screen = small.wait_for("domain");
    assert!(screen.contains("Bravo Dental"), "{screen}");
    small.quit();

    let wide = Tmux::start_named(&cli, "wide.sock", 200, 50);
    let screen = wide.wait_for("last job");
    assert!(screen.contains("draft succeeded"), "{screen}");
    for site in &s.sites {
        let shown = format!("127.0.0.1:{}", site.port);
        assert!(screen.contains(&shown), "{shown} with its port: {screen}");
    }
    wide.quit();
}
