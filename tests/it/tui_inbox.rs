//! The TUI over a real inbox: the embedded TUI hosts, its watcher reads a
//! reply from dovecot on loopback, and the screen raises the lead (a
//! notice naming it, `↩` on its row), the Conversation tab shows the
//! reply, the `replied` filter finds it and the status bar shows the sync.
//!
//! Needs tmux and dovecot; without them the test says so and passes,
//! except under CI, where it fails (`.ci/run` installs both).

use std::time::Duration;

use crate::imap::dovecot;
use crate::inbox::{reply, sent};
use crate::smtp::SmtpServer;
use crate::tui::{Tmux, tmux_available};

#[test]
fn a_reply_read_by_the_tui_host_raises_the_lead_and_shows_in_its_conversation() {
    if !tmux_available() {
        return;
    }
    let Some(imap) = dovecot() else { return };
    let smtp = SmtpServer::start(Duration::ZERO);
    let mut env = imap.env("INBOX");
    env.push(("LEADSCOUT_IMAP__POLL_SECS".into(), "1".into()));
    let people = [
        ("Anna Bakery", "anna@anna.example"),
        ("Bert Books", "bert@bert.example"),
    ];
    let (s, ids) = sent(&smtp, &people, &env);

    let tmux = Tmux::start(&s.cli, 160, 48);
    tmux.wait_for("Anna Bakery");
    // Before any answer: what was sent, and that nothing came back.
    tmux.keys(&["6"]);
    tmux.wait_for("no answer yet");

    imap.client().append(
        "INBOX",
        &reply(
            "Anna Becker <anna@anna.example>",
            Some(&ids["anna@anna.example"]),
            "Re: Your website",
            "Hello Jane,\n\nplease call me on Monday.\n",
        ),
    );
    let screen = tmux.wait_for("reply from Anna Bakery");
    assert!(screen.contains("marked replied"), "{screen}");
    // The row, the open conversation (read again on its own) and the stop.
    let screen = tmux.wait_for("please call me on Monday.");
    assert!(screen.contains("↩ replied"), "{screen}");
    assert!(screen.contains("REPLY"), "{screen}");
    assert!(screen.contains("sequence stopped: replied"), "{screen}");

    tmux.keys(&["/", "replied", "Enter"]);
    let screen = tmux.wait_for("1 of 2 match");
    assert!(screen.contains("c — 1 of 2 leads /replied"), "{screen}");
    // The bar reads the watcher's state every 15 s.
    tmux.wait_for("inbox: synced");
    tmux.quit();
}
