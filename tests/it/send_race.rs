//! Sending under concurrency: several senders against one host, clients
//! that go away, edits while a send waits, and kills of clients and of the
//! host. Whatever happens, nobody gets a message twice, and what went out
//! is exactly the text the store records.

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

use crate::helpers::{Cli, Rng};
use crate::outreach::{Setup, setup};
use crate::smtp::{Received, SmtpServer};

/// The text of a received message as the store holds it: the subject and
/// the body with its transfer encoding undone and line ends as `\n`.
fn text_of(m: &Received) -> (String, String) {
    let subject = m.header("subject").unwrap_or_default();
    let raw = m.body();
    let body = match m
        .header("content-transfer-encoding")
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "base64" => {
            let joined: String = raw.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .expect("base64 body"),
            )
            .expect("utf-8 body")
        }
        "quoted-printable" => quoted_printable(&raw),
        _ => raw,
    };
    (subject, body.replace("\r\n", "\n"))
}

fn quoted_printable(raw: &str) -> String {
    let mut out = Vec::new();
    let bytes = raw.replace("=\r\n", "").into_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len() + 1
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8 body")
}

fn people(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("Shop {i}"), format!("shop{i}@shops.example")))
        .collect()
}

fn setup_with(smtp: &SmtpServer, n: usize, env: &[(&str, &str)]) -> Setup {
    let people = people(n);
    let refs: Vec<(&str, &str)> = people
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    setup(smtp.port, &refs, env)
}

fn approve_all(cli: &Cli) {
    cli.json(&["outreach", "approve", "--all-drafted", "--campaign", "c"]);
}

fn outreach_by_email(cli: &Cli) -> BTreeMap<String, Value> {
    cli.json(&["outreach", "list", "-c", "c"])
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["to"].as_str().unwrap().to_string(), o.clone()))
        .collect()
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn_send(cli: &Cli, extra: &[&str]) -> Child {
    let mut args = vec!["outreach", "send", "-c", "c"];
    args.extend_from_slice(extra);
    cli.command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a sender")
}

/// Every message received matches, byte for byte, the stored text of an
/// email that is `sent` (or, for a hand-over cut by a crash, waits for
/// review, or — `midway`, before any sender recovered it — is still
/// `sending`); every `sent` email was received exactly once.
fn check_what_went_out(
    cli: &Cli,
    smtp: &SmtpServer,
    context: &str,
    midway: bool,
) -> BTreeMap<String, usize> {
    let counts = smtp.counts();
    assert!(
        counts.values().all(|n| *n == 1),
        "{context}: someone got a message twice: {counts:?}"
    );
    let stored = outreach_by_email(cli);
    for m in smtp.received() {
        let to = &m.to[0];
        let o = &stored[to];
        let status = o["status"].as_str().unwrap();
        assert!(
            status == "sent" || status == "needs_review" || (midway && status == "sending"),
            "{context}: {to} received a message but its email is {status}"
        );
        let (subject, body) = text_of(&m);
        assert_eq!(subject, o["subject"].as_str().unwrap(), "{context}: {to}");
        assert_eq!(
            body.trim_end(),
            o["body"].as_str().unwrap().trim_end(),
            "{context}: the text that went to {to} is not the text the store records"
        );
    }
    for (to, o) in &stored {
        if o["status"] == "sent" {
            assert_eq!(
                counts.get(to),
                Some(&1),
                "{context}: {to} is sent but was not received"
            );
        }
    }
    counts
}

/// Two `outreach send` at once against one host: the second waits for the
/// first and says so; every recipient gets one message, and the first
/// send's message in flight is not taken for an interrupted one.
#[test]
fn two_senders_at_once_send_each_email_once() {
    let smtp = SmtpServer::start(Duration::from_millis(250));
    let s = setup_with(&smtp, 12, &[]);
    approve_all(&s.cli);
    s.cli.start_server();
    let first = spawn_send(&s.cli, &[]);
    wait_until("the first send to start", Duration::from_secs(30), || {
        !smtp.received().is_empty()
            || s.cli
                .json(&["outreach", "list", "-c", "c", "--status", "sending"])
                .as_array()
                .is_some_and(|a| !a.is_empty())
    });
    let second = spawn_send(&s.cli, &[]);
    let first = first.wait_with_output().unwrap();
    let second = second.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&second.stdout).to_string()
        + String::from_utf8_lossy(&first.stdout).as_ref();
    assert!(first.status.success(), "{said}");
    assert!(second.status.success(), "{said}");
    assert!(
        said.contains("another send is running"),
        "the waiting send says why it waits:\n{said}"
    );
    let counts = check_what_went_out(&s.cli, &smtp, "two senders", false);
    assert_eq!(counts.len(), 12, "{counts:?}");
    let stored = outreach_by_email(&s.cli);
    assert!(
        stored.values().all(|o| o["status"] == "sent"),
        "nothing is left for review when no sender died: {stored:?}"
    );
}

/// Killing an attached `outreach send` stops the host's loop after the
/// message in hand; `--detach` keeps it going until `outreach stop`.
#[test]
fn a_send_belongs_to_its_client_unless_detached() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let total = 8;
    let s = setup_with(
        &smtp,
        total,
        &[("LEADSCOUT_SENDING__MIN_SPACING_SECS", "2")],
    );
    approve_all(&s.cli);
    s.cli.start_server();
    let mut client = spawn_send(&s.cli, &["--wait"]);
    wait_until("the first message", Duration::from_secs(30), || {
        !smtp.received().is_empty()
    });
    client.kill().unwrap();
    let _ = client.wait();
    let at_kill = smtp.received().len();
    wait_until(
        "the host to record the stopped send",
        Duration::from_secs(30),
        || {
            s.cli.json(&["log"]).as_array().unwrap().iter().any(|r| {
                r["action"] == "send" && r["change"].as_str().unwrap_or("").contains("stopped")
            })
        },
    );
    let after = smtp.received().len();
    assert!(
        after <= at_kill + 1,
        "the send went on without its client: {at_kill} at the kill, {after} now"
    );
    let approved = s
        .cli
        .json(&["outreach", "list", "-c", "c", "--status", "approved"]);
    assert_eq!(approved.as_array().unwrap().len(), total - after);

    // Detached: the command returns at once and the host goes on.
    let out = s.cli.ok(&["outreach", "send", "-c", "c", "--detach"]);
    assert!(out.contains("outreach stop -c c"), "{out}");
    wait_until(
        "the detached send to go on",
        Duration::from_secs(30),
        || smtp.received().len() > after,
    );
    let running = s.cli.json(&["outreach", "stop", "-c", "c"]);
    assert_eq!(running.as_array().unwrap().len(), 1, "{running}");
    assert_eq!(running[0]["detached"], true);
    wait_until("the detached send to stop", Duration::from_secs(30), || {
        s.cli
            .json(&["outreach", "stop", "-c", "c"])
            .as_array()
            .is_some_and(|a| a.is_empty())
    });
    let stopped_at = smtp.received().len();
    assert!(
        stopped_at < total,
        "the stop came too late to test anything"
    );
    check_what_went_out(&s.cli, &smtp, "detached", false);
}

/// An email edited (and approved again) while the send waits for spacing
/// goes out with the new text, which is what the store records.
#[test]
fn an_email_edited_while_the_send_waits_goes_out_as_edited() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let s = setup_with(&smtp, 2, &[("LEADSCOUT_SENDING__MIN_SPACING_SECS", "5")]);
    approve_all(&s.cli);
    s.cli.start_server();
    let client = spawn_send(&s.cli, &["--wait"]);
    wait_until("the first message", Duration::from_secs(30), || {
        !smtp.received().is_empty()
    });
    let first_to = smtp.received()[0].to[0].clone();
    let other = s
        .leads
        .iter()
        .find(|(email, _)| **email != first_to)
        .map(|(_, id)| id.clone())
        .unwrap();
    s.cli.edit_email(
        &other,
        "Subject: A second look at your site\n\nHello again, with the new text.\n",
    );
    s.cli.ok(&["outreach", "approve", &other]);
    let out = client.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    check_what_went_out(&s.cli, &smtp, "edited while waiting", false);
    let second = smtp
        .received()
        .into_iter()
        .find(|m| m.to[0] != first_to)
        .expect("the second email went out");
    let (subject, body) = text_of(&second);
    assert_eq!(subject, "A second look at your site");
    assert!(
        body.starts_with("Hello again, with the new text."),
        "{body}"
    );
    assert!(body.contains("/u/"), "the footer came back:\n{body}");
}

/// An edit made from an older version is refused and replaces nothing; an
/// edit that drops the unsubscribe line gets the footer back.
#[test]
fn edits_are_never_lost_and_the_footer_stays() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let s = setup_with(&smtp, 1, &[]);
    let lead = s.leads.values().next().unwrap().clone();
    let before = s.cli.json(&["outreach", "show", &lead]);
    let unsubscribe = before["unsubscribe_url"].as_str().unwrap().to_string();
    let first = s.cli.write(
        "first.txt",
        "Subject: First edit\n\nOnly my words, no footer at all.\n",
    );
    s.cli.ok(&[
        "outreach",
        "edit",
        &lead,
        "--from-file",
        first.to_str().unwrap(),
        "--if-version",
        "1",
    ]);
    let saved = s.cli.json(&["outreach", "show", &lead]);
    let body = saved["body"].as_str().unwrap();
    assert!(body.starts_with("Only my words"), "{body}");
    assert!(
        body.contains(&unsubscribe),
        "the unsubscribe link is added back:\n{body}"
    );
    assert!(body.contains(crate::outreach::POSTAL), "{body}");
    // A second editor that opened version 1 saves later: refused.
    let stale = s
        .cli
        .write("stale.txt", "Subject: Stale edit\n\nFrom an old copy.\n");
    let refused = s.cli.fails(&[
        "outreach",
        "edit",
        &lead,
        "--from-file",
        stale.to_str().unwrap(),
        "--if-version",
        "1",
    ]);
    assert!(
        refused.contains("changed since you opened it") && refused.contains("version 2"),
        "{refused}"
    );
    let kept = s.cli.json(&["outreach", "show", &lead]);
    assert_eq!(kept["subject"], "First edit", "the newer text stays");
}

/// Four senders against one host (attached clients, and embedded ones
/// while the host is down), 200 approved emails,
/// edits and re-approvals on the way, SIGKILLs of clients and of the host
/// at random moments: nobody gets two messages, and every message that
/// went out is the text the store records for it.
#[test]
fn many_senders_and_kills_never_send_twice_or_stale_text() {
    let total: usize = std::env::var("LEADSCOUT_SEND_RACE_EMAILS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let smtp = SmtpServer::start(Duration::from_millis(30));
    let cap = (total * 2).to_string();
    let s = setup_with(
        &smtp,
        total,
        &[
            ("LEADSCOUT_SENDING__DAILY_CAP", &cap),
            ("LEADSCOUT_SENDING__CAMPAIGN_DAILY_CAP", &cap),
        ],
    );
    approve_all(&s.cli);
    let (mut rng, seed) = Rng::from_env_or_time();
    eprintln!("send race: {total} emails, seed {seed} (LEADSCOUT_TEST_SEED replays)");
    let ids: Vec<String> = s.leads.values().cloned().collect();
    let edit = s.cli.write(
        "race-edit.txt",
        "Subject: Edited during the race\n\nA newer text, approved again.\n",
    );
    let (mut server_kills, mut client_kills, mut edits) = (0, 0, 0);
    s.cli.start_server();
    let mut host_up = true;
    for cycle in 0..60 {
        let left = s
            .cli
            .json(&["outreach", "list", "-c", "c", "--status", "approved"])
            .as_array()
            .unwrap()
            .len();
        if left == 0 {
            break;
        }
        if host_up {
            let mut senders: Vec<Child> = (0..4).map(|_| spawn_send(&s.cli, &[])).collect();
            // Edit and re-approve a few emails while they may be in flight:
            // a refusal (the email is being sent) is fine.
            for _ in 0..2 {
                let lead = &ids[rng.below(ids.len() as u64) as usize];
                let saved = s.cli.run(&[
                    "outreach",
                    "edit",
                    lead,
                    "--from-file",
                    edit.to_str().unwrap(),
                ]);
                if saved.status.success() {
                    edits += 1;
                    let _ = s.cli.run(&["outreach", "approve", lead]);
                }
            }
            std::thread::sleep(Duration::from_millis(rng.below(400)));
            // Kills are random, but the first cycle always kills something:
            // with no kill its senders would take every email, and the run
            // would prove nothing about kills.
            for child in senders.iter_mut() {
                let first = server_kills + client_kills == 0;
                if (first || rng.below(2) == 0) && child.try_wait().unwrap().is_none() {
                    let _ = child.kill();
                    client_kills += 1;
                }
            }
            if server_kills + client_kills == 0 || rng.below(3) == 0 {
                s.cli.kill_server();
                server_kills += 1;
                host_up = false;
            }
            for mut child in senders {
                let _ = child.wait();
            }
        } else {
            // No host: a sender opens the store itself (embedded), and may be
            // killed too; then the host comes back.
            let mut embedded = spawn_send(&s.cli, &[]);
            std::thread::sleep(Duration::from_millis(rng.below(300)));
            if embedded.try_wait().unwrap().is_none() {
                let _ = embedded.kill();
                client_kills += 1;
            }
            let _ = embedded.wait();
            s.cli.start_server();
            host_up = true;
        }
        if cycle % 10 == 9 {
            check_what_went_out(&s.cli, &smtp, &format!("seed {seed}, cycle {cycle}"), true);
        }
    }
    if !host_up {
        s.cli.start_server();
    }
    // A last clean send to take what is left.
    let _ = s.cli.run(&["outreach", "send", "-c", "c"]);
    let counts = check_what_went_out(&s.cli, &smtp, &format!("seed {seed}"), false);
    let stored = outreach_by_email(&s.cli);
    let review = stored
        .values()
        .filter(|o| o["status"] == "needs_review")
        .count();
    let sent = stored.values().filter(|o| o["status"] == "sent").count();
    assert!(
        stored
            .values()
            .all(|o| ["sent", "needs_review", "draft", "approved"]
                .contains(&o["status"].as_str().unwrap())),
        "seed {seed}: unexpected states: {stored:?}"
    );
    assert!(
        server_kills + client_kills > 0,
        "seed {seed}: the test must kill something"
    );
    assert!(
        sent + review >= total / 2,
        "seed {seed}: too little went out: {sent} sent"
    );
    eprintln!(
        "seed {seed}: {server_kills} host kills, {client_kills} client kills, {edits} edits; {} received, {sent} sent, {review} left for review",
        counts.len()
    );
}

/// A detached send checks first, while its client still listens: with
/// nothing answering on the SMTP port the command fails and says why, and
/// nothing goes on in the background.
#[test]
fn a_detached_send_that_would_stop_says_so_and_does_not_detach() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let s = crate::outreach::setup(closed, &[("Alpha Bakery", "a@alpha.example")], &[]);
    approve_all(&s.cli);
    let cli = s.cli.allow_local_unsubscribe_links().attached();
    let refused = cli.fails(&["outreach", "send", "-c", "c", "--detach"]);
    assert!(
        refused.contains("nothing goes on in the background") && refused.contains("smtp"),
        "{refused}"
    );
    let running = cli.json(&["outreach", "stop", "-c", "c"]);
    assert_eq!(running.as_array().map(Vec::len), Some(0), "{running}");
    let approved = cli.json(&["outreach", "list", "-c", "c", "--status", "approved"]);
    assert_eq!(approved.as_array().map(Vec::len), Some(1), "{approved}");
}
