//! Messages whole, in tmux with the real binary at 80x24: an import's
//! rejected rows and the report URL are read whole on the screen, `M`
//! lists everything said, and `L` shows a `:blacklist` made in the TUI,
//! expanding a row with Enter.
//!
//! Needs `tmux` (skips without it, fails under CI; see `tui.rs`).

use std::time::{Duration, Instant};

use crate::smtp::SmtpServer;
use crate::tui::{Tmux, tmux_available};

#[test]
fn messages_are_whole_kept_and_the_action_log_names_the_blacklist() {
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
    let cli = &s.cli;
    let urls: Vec<String> = s
        .leads
        .values()
        .map(|id| {
            cli.json(&["outreach", "show", id])["report_url"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let csv = cli.write(
        "more.csv",
        "name,website,notes\nCharlie,charlie.example,\nShort,short.example\nLong,long.example,a,b\n",
    );
    let tmux = Tmux::start(cli, 80, 24);
    tmux.wait_for("Alpha Bakery");

    // The report URL, whole, however long the line.
    tmux.keys(&["o"]);
    let screen = tmux.wait_for("report page");
    assert!(
        urls.iter().any(|u| screen.contains(u.as_str())),
        "one of {urls:?} whole in:\n{screen}"
    );

    // An import that rejects rows says which and why, as the CLI does.
    tmux.keys(&["i", csv.to_str().unwrap(), "Enter"]);
    let screen = tmux.wait_for("row(s) rejected");
    assert!(
        screen.contains("row 3:") && screen.contains("row 4:"),
        "{screen}"
    );

    // `:blacklist` from the palette, then the action log shows it (it is
    // read when opened: reopen until the blacklist has been stored).
    tmux.keys(&[":", "blacklist tiny.example", "Enter"]);
    let started = Instant::now();
    loop {
        tmux.keys(&["L"]);
        // The setup's import is in the log: the records have arrived.
        let screen = tmux.wait_for("import file");
        if screen.contains("blacklist_add tiny.example") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no blacklist_add in:\n{screen}"
        );
        tmux.keys(&["Escape"]);
        tmux.wait_for("NORMAL");
        std::thread::sleep(Duration::from_millis(200));
    }
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for(" via tui");
    assert!(
        screen.contains("LOG"),
        "Enter expands, the log stays:\n{screen}"
    );
    // Esc collapses (two Escs sent at once read as one key: one at a
    // time), a second Esc closes.
    tmux.keys(&["Escape"]);
    let started = Instant::now();
    while tmux.screen().contains(" via tui") {
        assert!(started.elapsed() < Duration::from_secs(30), "Esc collapses");
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.keys(&["Escape"]);
    tmux.wait_for("NORMAL");

    // Everything said, newest last.
    tmux.keys(&["M"]);
    let screen = tmux.wait_for("Messages —");
    let (report, import) = (
        screen.find("report page").unwrap_or(usize::MAX),
        screen.find("row(s) rejected").unwrap_or(usize::MAX),
    );
    assert!(report < import && import < usize::MAX, "{screen}");
    tmux.keys(&["Escape"]);
    tmux.quit();
}
