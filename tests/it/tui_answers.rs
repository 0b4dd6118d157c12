//! The TUI answers, in tmux with the real binary: a filter the TUI cannot
//! read says which term and where while the prompt stays open; Esc clears
//! the filter; accents do not matter; a bulk reject asks first; a reject
//! says how to take it back and `u` does; the store agrees afterwards.
//!
//! Needs `tmux` (skips with a reason without it, fails under CI).

use crate::tui::{Tmux, tmux_available};

#[test]
fn filters_answer_and_a_reject_can_be_undone() {
    if !tmux_available() {
        return;
    }
    let s = crate::outreach::setup(
        1,
        &[
            ("Café Kranich", "a@kranich.example"),
            ("Bravo Dental", "b@bravo.example"),
        ],
        &[],
    );
    let cli = s.cli;
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        let tmux = Tmux::start_named(&cli, &format!("tmux-{w}.sock"), w, h);
        tmux.wait_for("Bravo Dental");

        // Two terms run together: the error names them, the text stays.
        tmux.keys(&["/", "score:<75has:email", "Enter"]);
        let screen = tmux.wait_for("at column 1");
        assert!(
            screen.contains("a space missing") && screen.contains("/score:<75has:email▏"),
            "{w}x{h}:\n{screen}"
        );
        tmux.keys(&["Escape"]);
        tmux.wait_for("NORMAL");

        // No accent needed; Esc clears the filter and says so.
        tmux.keys(&["/", "cafe", "Enter"]);
        let screen = tmux.wait_for("1 of 2 match");
        assert!(
            screen.contains("c — 1 of 2 leads /cafe"),
            "{w}x{h}:\n{screen}"
        );
        tmux.keys(&["Escape"]);
        // (At 80 columns the status bar cuts the rest of the line.)
        let screen = tmux.wait_for("cleared the filter");
        assert!(screen.contains("c — 2 leads"), "{w}x{h}:\n{screen}");

        // The prompt opens empty; Up brings the last filter back.
        tmux.keys(&["/", "Up"]);
        tmux.wait_for("/cafe▏");
        tmux.keys(&["Escape"]);
        tmux.quit();
    }

    // Wide enough for the whole status line beside the page server.
    let tmux = Tmux::start(&cli, 200, 50);
    tmux.wait_for("Bravo Dental");
    // Both marked: rejecting asks, n leaves everything as it was.
    tmux.keys(&["g", "Space", "Space", "x"]);
    tmux.wait_for("Reject the drafts of 2 marked leads");
    tmux.keys(&["n"]);
    tmux.wait_for("nothing rejected; 2 still marked");
    // One lead: rejected at once, with the way back named; u restores.
    // (Escape on its own: followed at once by a key it reads as Alt.)
    tmux.keys(&["Escape"]);
    tmux.wait_for("cleared 2 marks");
    tmux.keys(&["g", "x"]);
    let screen = tmux.wait_for("u undoes");
    assert!(screen.contains("rejected "), "{screen}");
    tmux.keys(&["u"]);
    tmux.wait_for("back to draft");
    tmux.quit();

    for email in ["a@kranich.example", "b@bravo.example"] {
        let shown = cli.json(&["outreach", "show", &s.leads[email]]);
        assert_eq!(shown["status"], "draft", "{shown}");
    }
    let log = cli.ok(&["log"]);
    assert!(log.contains("reject") && log.contains("restore"), "{log}");
}
