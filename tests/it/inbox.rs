//! The inbox watcher against a real IMAP server (dovecot on loopback):
//! replies matched by header and by address, auto-replies, RFC 3464 hard
//! and soft bounces, a provider's non-standard bounce, unrelated mail,
//! a restart between syncs, a new UIDVALIDITY, and the host's own polling.
//! The emails replied to were really sent, to a real SMTP server, so their
//! Message-IDs are the ones leadscout made.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::imap::{dovecot, free_port};
use crate::outreach::{Setup, setup};
use crate::smtp::SmtpServer;

/// Leads through the pipeline, approved and sent; email → Message-ID.
pub(crate) fn sent(
    smtp: &SmtpServer,
    people: &[(&str, &str)],
    env: &[(String, String)],
) -> (Setup, std::collections::BTreeMap<String, String>) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let s = setup(smtp.port, people, &env);
    let approved = s
        .cli
        .json(&["outreach", "approve", "--all-drafted", "-c", "c"]);
    assert_eq!(approved["approved"], people.len(), "{approved}");
    let summary = s.cli.json(&["outreach", "send", "-c", "c"]);
    assert_eq!(summary["sent"], people.len(), "{summary}");
    let mut ids = std::collections::BTreeMap::new();
    for (email, lead) in &s.leads {
        let o = s.cli.json(&["outreach", "show", lead]);
        ids.insert(email.clone(), o["message_id"].as_str().unwrap().to_string());
    }
    (s, ids)
}

pub(crate) fn reply(from: &str, in_reply_to: Option<&str>, subject: &str, body: &str) -> String {
    let refs = in_reply_to
        .map(|id| format!("In-Reply-To: {id}\nReferences: {id}\n"))
        .unwrap_or_default();
    format!(
        "From: {from}\nTo: jane@agency.example\nSubject: {subject}\n\
Date: {}\nMessage-ID: <{}@mail.example>\n{refs}\
Content-Type: text/plain; charset=utf-8\n\n{body}\n",
        date(),
        ulid_like(from, subject)
    )
}

/// A Date header a little after the send (the clock is the real one).
fn date() -> String {
    (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(60))
        .strftime("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

/// A Message-ID part unique per sender and subject.
fn ulid_like(from: &str, subject: &str) -> String {
    format!("{:x}", {
        let mut h: u64 = 1469598103934665603;
        for b in from.bytes().chain(subject.bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(1099511628211);
        }
        h
    })
}

fn dsn(recipient: &str, original: &str, action: &str, status: &str, n: u32) -> String {
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.agency.example>\n\
To: jane@agency.example\nSubject: Undelivered Mail Returned to Sender\n\
Date: {}\nMessage-ID: <dsn{n}.{}@mx.agency.example>\n\
Auto-Submitted: auto-replied\nMIME-Version: 1.0\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"BB\"\n\n\
--BB\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n\
--BB\nContent-Type: message/delivery-status\n\n\
Reporting-MTA: dns; mx.agency.example\n\n\
Final-Recipient: rfc822; {recipient}\nAction: {action}\nStatus: {status}\n\
Diagnostic-Code: smtp; {} {status} mailbox problem\n\n\
--BB\nContent-Type: message/rfc822\n\n\
From: Jane Doe <jane@agency.example>\nTo: {recipient}\nSubject: Your website\n\
Message-ID: {original}\n\nHello.\n--BB--\n",
        date(),
        ulid_like(recipient, status),
        if status.starts_with('5') { 550 } else { 452 }
    )
}

fn lead_status(s: &Setup, email: &str) -> String {
    s.cli.json(&["leads", "show", &s.leads[email]])["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn blacklist_reason(s: &Setup, email: &str) -> Option<String> {
    s.cli
        .json(&["blacklist", "list"])
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["value"] == email)
        .map(|e| e["reason"].as_str().unwrap().to_string())
}

pub(crate) const PEOPLE: &[(&str, &str)] = &[
    ("Anna Bakery", "anna@anna.example"),
    ("Bert Books", "bert@bert.example"),
    ("Carla Cafe", "carla@carla.example"),
    ("Dora Deli", "dora@dora.example"),
    ("Emil Eats", "emil@emil.example"),
    ("Finn Flowers", "finn@finn.example"),
];

#[test]
fn replies_auto_replies_and_bounces_are_applied_once_across_restarts() {
    let Some(imap) = dovecot() else { return };
    let smtp = SmtpServer::start(Duration::ZERO);
    let mut env = imap.env("INBOX");
    env.push(("LEADSCOUT_IMAP__SOFT_BOUNCE_LIMIT".into(), "2".into()));
    let (s, ids) = sent(&smtp, PEOPLE, &env);
    let mut provider = imap.client();

    // First delivery of mail.
    provider.append(
        "INBOX",
        &reply(
            "Anna Becker <anna@anna.example>",
            Some(&ids["anna@anna.example"]),
            "Re: Your website",
            "Hello Jane,\n\nyes, let's talk on Monday.\n\n> quoted text\n",
        ),
    );
    provider.append(
        "INBOX",
        &format!(
            "Auto-Submitted: auto-replied\n{}",
            reply(
                "carla@carla.example",
                Some(&ids["carla@carla.example"]),
                "Abwesenheitsnotiz: Your website",
                "Ich bin bis zum 7.12.2026 nicht im Büro.",
            )
        ),
    );
    provider.append(
        "INBOX",
        &dsn(
            "dora@dora.example",
            &ids["dora@dora.example"],
            "failed",
            "5.1.1",
            1,
        ),
    );
    provider.append(
        "INBOX",
        &dsn(
            "emil@emil.example",
            &ids["emil@emil.example"],
            "failed",
            "4.2.2",
            2,
        ),
    );
    provider.append(
        "INBOX",
        "From: news@shop.example\nList-Unsubscribe: <https://shop.example/u>\n\
Subject: Our offers\nMessage-ID: <news1@shop.example>\n\nBuy now.\n",
    );
    provider.append(
        "INBOX",
        &reply("stranger@else.example", None, "Lunch?", "Are you free?"),
    );

    let first = s.cli.json(&["inbox", "sync"]);
    assert_eq!(first["new_messages"], 6, "{first}");
    assert_eq!(first["replies"], 1, "{first}");
    assert_eq!(first["auto_replies"], 1, "{first}");
    assert_eq!(first["bounces_hard"], 1, "{first}");
    assert_eq!(first["bounces_soft"], 1, "{first}");
    assert_eq!(first["unrelated"], 2, "{first}");
    assert_eq!(first["suppressed"], 0, "{first}");

    assert_eq!(lead_status(&s, "anna@anna.example"), "replied");
    assert_eq!(
        lead_status(&s, "carla@carla.example"),
        "sent",
        "an auto-reply is no reply"
    );
    assert_eq!(
        blacklist_reason(&s, "dora@dora.example").as_deref(),
        Some("bounce")
    );
    assert!(matches!(
        lead_status(&s, "dora@dora.example").as_str(),
        "bounced" | "blacklisted"
    ));
    assert_eq!(
        blacklist_reason(&s, "emil@emil.example"),
        None,
        "one soft bounce"
    );

    // A second process finds only what came since.
    provider.append(
        "INBOX",
        &reply(
            "bert@bert.example",
            None,
            "Your email",
            "Sounds good, call me.",
        ),
    );
    provider.append(
        "INBOX",
        &dsn(
            "emil@emil.example",
            &ids["emil@emil.example"],
            "delayed",
            "4.2.2",
            3,
        ),
    );
    provider.append(
        "INBOX",
        "From: MAILER-DAEMON@mail.provider.example\n\
Subject: Mail delivery failed: returning message to sender\n\
Message-ID: <bounce77@mail.provider.example>\n\n\
This message was created automatically by mail delivery software.\n\n\
A message that you sent could not be delivered to one or more of its\n\
recipients. This is a permanent error. The following address(es) failed:\n\n\
  finn@finn.example\n    SMTP error from remote mail server after RCPT TO:<finn@finn.example>:\n\
    550 5.1.1 User unknown\n",
    );
    let second = s.cli.json(&["inbox", "sync"]);
    assert_eq!(second["new_messages"], 3, "{second}");
    assert_eq!(second["replies"], 1, "matched by address: {second}");
    assert_eq!(second["bounces_soft"], 1, "{second}");
    assert_eq!(second["bounces_hard"], 1, "non-standard: {second}");
    assert_eq!(second["suppressed"], 1, "the second soft bounce: {second}");
    assert_eq!(lead_status(&s, "bert@bert.example"), "replied");
    assert_eq!(
        blacklist_reason(&s, "emil@emil.example").as_deref(),
        Some("bounce")
    );
    assert_eq!(
        blacklist_reason(&s, "finn@finn.example").as_deref(),
        Some("bounce")
    );

    let third = s.cli.json(&["inbox", "sync"]);
    assert_eq!(third["new_messages"], 0, "{third}");

    // The conversation, in time order, with the return date and the stop.
    let thread = s
        .cli
        .json(&["outreach", "thread", &s.leads["anna@anna.example"]]);
    let kinds: Vec<&str> = thread["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["sent", "reply"], "{thread}");
    assert_eq!(
        thread["entries"][1]["excerpt"],
        "Hello Jane,\nyes, let's talk on Monday."
    );
    assert!(
        thread["sequence_stop"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("replied"),
        "{thread}"
    );
    let carla = s
        .cli
        .json(&["outreach", "thread", &s.leads["carla@carla.example"]]);
    assert_eq!(carla["entries"][1]["kind"], "auto_reply", "{carla}");
    assert_eq!(carla["entries"][1]["returns_on"], "2026-12-07", "{carla}");
    let text = s
        .cli
        .ok(&["outreach", "thread", &s.leads["dora@dora.example"]]);
    assert!(text.contains("hard bounce 5.1.1"), "{text}");

    let log = s.cli.json(&["log"]);
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "inbox_reply"),
        "{log}"
    );
    // Read, never marked seen, moved or deleted.
    let flags = provider.flags("INBOX");
    assert_eq!(flags.len(), 9, "{flags:?}");
    assert!(flags.iter().all(|f| !f.contains("\\Seen")), "{flags:?}");
    let status = s.cli.json(&["inbox", "status"]);
    assert_eq!(status["connected"], true, "{status}");
}

#[test]
fn a_new_uidvalidity_applies_nothing_twice() {
    let Some(imap) = dovecot() else { return };
    let smtp = SmtpServer::start(Duration::ZERO);
    let (s, ids) = sent(&smtp, &PEOPLE[..1], &imap.env("Replies"));
    let mut provider = imap.client();
    provider.command("CREATE Replies");
    let anna = reply(
        "anna@anna.example",
        Some(&ids["anna@anna.example"]),
        "Re: Your website",
        "Yes please.",
    );
    provider.append("Replies", &anna);
    let first = s.cli.json(&["inbox", "sync"]);
    assert_eq!(first["replies"], 1, "{first}");

    // The provider rebuilds the mailbox: same mail, new UIDs.
    provider.command("DELETE Replies");
    provider.command("CREATE Replies");
    provider.append("Replies", &anna);
    provider.append(
        "Replies",
        &format!(
            "X-Autoreply: yes\n{}",
            reply(
                "anna@anna.example",
                None,
                "Out of office",
                "Back on 2026-12-09."
            )
        ),
    );
    let second = s.cli.json(&["inbox", "sync"]);
    assert_eq!(second["revalidated"], true, "{second}");
    assert_ne!(second["uid_validity"], first["uid_validity"], "{second}");
    assert_eq!(second["new_messages"], 1, "{second}");
    assert_eq!(second["already_applied"], 1, "{second}");
    assert_eq!(second["replies"], 0, "{second}");
    assert_eq!(second["auto_replies"], 1, "{second}");
    let thread = s
        .cli
        .json(&["outreach", "thread", &s.leads["anna@anna.example"]]);
    let replies = thread["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reply")
        .count();
    assert_eq!(replies, 1, "{thread}");
}

#[test]
fn the_host_polls_the_inbox_and_sync_errors_name_the_server() {
    let Some(imap) = dovecot() else { return };
    let smtp = SmtpServer::start(Duration::ZERO);
    let mut env = imap.env("INBOX");
    env.push(("LEADSCOUT_IMAP__POLL_SECS".into(), "1".into()));
    let (s, ids) = sent(&smtp, &PEOPLE[..1], &env);
    s.cli.start_server();
    imap.client().append(
        "INBOX",
        &reply(
            "anna@anna.example",
            Some(&ids["anna@anna.example"]),
            "Re: Your website",
            "Call me.",
        ),
    );
    let lead = &s.leads["anna@anna.example"];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status: Value = s.cli.json(&["leads", "show", lead]);
        if status["status"] == "replied" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the host never read the reply: {status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = s.cli.json(&["inbox", "status"]);
    assert_eq!(status["connected"], true, "{status}");
    assert!(status["last_sync"].is_string(), "{status}");
    s.cli.stop_server();

    // A wrong port: the error names the server and what to check.
    let wrong = free_port().to_string();
    let out = s
        .cli
        .command(&["inbox", "sync"])
        .env("LEADSCOUT_IMAP__PORT", &wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains(&format!("127.0.0.1:{wrong}")), "{err}");
    assert!(err.contains("imap.port"), "{err}");
    let status = s.cli.json(&["inbox", "status"]);
    assert_eq!(status["connected"], false, "{status}");
    assert!(
        status["last_error"].as_str().unwrap().contains("imap.host"),
        "{status}"
    );
}
