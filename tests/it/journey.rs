//! The demo reopened, end to end: `leadscout demo --headless` fills a data
//! dir, then the TUI opens on it (in tmux, with the real binary) as an
//! operator would after the demo's closing line. The operator opens the
//! campaign, moves through the leads, reads a draft (signed by the demo's
//! stored sender), re-runs fetch and audit on one marked lead (against the
//! demo sites the TUI serves again), asks to send (and is told what stops
//! it), and quits. Afterwards no state is lost: every drafted lead is still
//! drafted and every draft's text is unchanged.
//!
//! Needs `tmux`: skipped with a reason without it, failed under CI.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::helpers::Cli;
use crate::tui::{Tmux, tmux_available};

/// Each drafted lead's id, with its status and draft text.
fn drafted(cli: &Cli) -> BTreeMap<String, (String, String)> {
    let leads = cli.json(&["leads", "list", "-c", "demo", "--status", "drafted"]);
    leads
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let id = l["id"].as_str().unwrap().to_string();
            let draft = cli.json(&["outreach", "show", &id]);
            let text = format!("{}\n{}", draft["subject"], draft["body"]);
            (id, (l["status"].as_str().unwrap().to_string(), text))
        })
        .collect()
}

/// Waits until `ready` holds for the screen. Stages run real fetches and
/// a browser on a shared machine, so the deadline is generous; it bounds
/// a hang, it measures nothing.
fn wait_long(tmux: &Tmux, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let screen = tmux.screen();
        if ready(&screen) {
            return screen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "waited for {what}, the screen is:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_reopened_demo_runs_and_loses_nothing() {
    if !tmux_available() {
        return;
    }
    let cli = Cli::new().env("LEADSCOUT_SERVER__BIND", "127.0.0.1:0");
    let out = cli.run(&["demo", "--headless"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("the demo sites again on the same ports"),
        "the closing line says what works when reopened: {stdout}"
    );
    let before = drafted(&cli);
    assert!(before.len() >= 9, "{before:?}");

    let tmux = Tmux::start(&cli, 200, 50);
    tmux.wait_for("Nordlicht Physiotherapie");
    // Open the campaign from the campaigns pane, then back to the leads.
    tmux.keys(&["BTab"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("demo — 10 leads");
    tmux.keys(&["Tab"]);
    // Move through the leads and read the third one's draft.
    tmux.keys(&["j", "j", "j", "k"]);
    tmux.keys(&["3"]);
    tmux.wait_for("Jana Beispiel");
    // Mark it and re-run fetch and audit on it alone.
    tmux.keys(&["Space"]);
    tmux.wait_for("1 marked");
    tmux.keys(&[":run fetch,audit", "Enter"]);
    // The run log's rows read "succeeded  audit  TIME  NAME"; the leads
    // table's last-job column ("audit succeeded") changes first, so only
    // the run log's order counts here.
    let logged = |screen: &str, stage: &str| {
        screen.lines().any(|l| {
            l.contains("Zahnarztpraxis")
                && l.find("succeeded")
                    .zip(l.find(stage))
                    .is_some_and(|(status, at)| status < at)
        })
    };
    let screen = wait_long(&tmux, "the re-run's fetch and audit to succeed", |screen| {
        logged(screen, "audit") && logged(screen, "fetch")
    });
    assert!(!screen.contains("loopback address"), "{screen}");
    // Sending says what stops it (no SMTP here), before anything goes.
    tmux.keys(&[":send", "Enter"]);
    wait_long(&tmux, "the send's refusal", |s| {
        s.contains("nothing sent; the send would stop")
    });
    tmux.quit();

    // The store afterwards, from new processes.
    let after = drafted(&cli);
    assert_eq!(
        before, after,
        "drafted leads stay drafted, their drafts unchanged"
    );
    let dry = cli.run(&["outreach", "send", "-c", "demo", "--dry-run"]);
    let said = String::from_utf8_lossy(&dry.stdout);
    assert_eq!(dry.status.code(), Some(3), "{said}");
    assert!(said.contains("SMTP is not set up"), "{said}");
    assert!(
        !said.contains("sender's identity") && !said.contains("Unsubscribe links"),
        "the demo's stored sender and its local-link allowance hold: {said}"
    );
}
