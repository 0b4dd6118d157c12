//! Follow-up sequences over days on an injected clock: steps drafted when
//! due in the campaign's zone and weekdays, sent inside the window, in one
//! thread (In-Reply-To, References, `Re:` subject as the SMTP server got
//! them); a reply (read from a real IMAP server) stops the next step, a
//! bounce withdraws a pending one and blacklists; a sender killed in the
//! middle of a follow-up's hand-over never sends it twice.
//!
//! The scheduler pass and the sends run in this process over the real
//! store with a `FixedClock`; everything else goes through the binary.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use leadscout::config::Config;
use leadscout::domain::FixedClock;
use leadscout::runtime::LocalOpener;
use leadscout::service::outreach::{SendRequest, SendSummary};
use leadscout::service::{Opener, Service};
use serde_json::Value;

use crate::helpers::Cli;
use crate::imap::dovecot;
use crate::outreach::setup;
use crate::report::runtime;
use crate::smtp::{Received, SmtpServer};

/// Business hours in Berlin, Monday to Friday.
const OFFICE: &[(&str, &str)] = &[
    ("LEADSCOUT_SENDING__WINDOW", "09:00-17:00"),
    ("LEADSCOUT_SENDING__WEEKDAYS", "mon,tue,wed,thu,fri"),
    ("LEADSCOUT_SENDING__TIMEZONE", "Europe/Berlin"),
];

const FOLLOWUP: &str = "Subject: this line is not used\n\
Hi {{ business_name }},\n\n\
a short follow-up (step {{ followup.step }}) to my note of {{ followup.first_sent_on }} \
about {{ website }}; the report was opened {{ followup.views }} time(s): {{ report_url }}\n\n\
Best, {{ sender.name }}\n";

/// A Berlin wall-clock time.
fn berlin(local: &str) -> Timestamp {
    local
        .parse::<jiff::civil::DateTime>()
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Berlin").unwrap())
        .unwrap()
        .timestamp()
}

/// The store opened in this process with `clock`.
fn open(cli: &Cli, clock: &Arc<FixedClock>) -> Service {
    // As the binary sees it: a later value for a key wins, and the
    // address check is off (test domains are made up).
    let mut env: std::collections::BTreeMap<String, String> = cli.env_pairs().into_iter().collect();
    env.insert("LEADSCOUT_VERIFY__ENABLED".into(), "false".into());
    let config = Config::load(None, env).unwrap();
    LocalOpener::new(cli.data.clone(), config)
        .with_clock(clock.clone())
        .open("test")
        .unwrap()
}

/// Sends campaign c's approved emails now, on the service's clock.
async fn send_all(service: &Service) -> SendSummary {
    let request = SendRequest {
        campaign: "c".into(),
        dry_run: false,
        wait: false,
        detach: false,
    };
    service.send_outreach(&request, |_| {}).await.unwrap()
}

fn received_by(smtp: &SmtpServer, to: &str) -> Vec<Received> {
    smtp.received()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == to))
        .collect()
}

fn set_sequence(cli: &Cli, steps: &[&str], auto: bool) -> Value {
    let mut args = vec!["sequence", "set", "c"];
    for step in steps {
        args.extend(["--step", step]);
    }
    let auto = auto.to_string();
    args.extend(["--auto-approve-followups", &auto]);
    cli.json(&args)
}

#[test]
fn three_steps_go_out_on_business_days_inside_the_window_in_one_thread() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let s = setup(smtp.port, &[("Anna Bakery", "anna@anna.example")], OFFICE);
    let lead = s.leads["anna@anna.example"].clone();
    let f1 = s.cli.write("followup1.txt", FOLLOWUP);
    let f2 = s.cli.write("followup2.txt", FOLLOWUP);
    let view = set_sequence(
        &s.cli,
        &[
            &format!("{}:2 business days", f1.display()),
            &format!("{}:12 hours", f2.display()),
        ],
        true,
    );
    assert_eq!(view["steps"].as_array().unwrap().len(), 3, "{view}");
    assert_eq!(view["sequence"]["auto_approve_followups"], true);
    s.cli
        .json(&["outreach", "approve", "--all-drafted", "-c", "c"]);

    let rt = runtime();
    // Friday 10:00: the first email.
    let clock = Arc::new(FixedClock::new(berlin("2026-12-04T10:00")));
    let service = open(&s.cli, &clock);
    rt.block_on(async {
        let sent = send_all(&service).await;
        assert_eq!(sent.sent, 1, "{sent:?}");
        // Not due over the weekend, nor on Monday, nor a minute early.
        for at in [
            "2026-12-04T16:00",
            "2026-12-06T12:00",
            "2026-12-07T10:00",
            "2026-12-08T09:59",
        ] {
            clock.set(berlin(at));
            let pass = service.draft_due_followups().await.unwrap();
            assert_eq!(pass.drafted, 0, "at {at}: {pass:?}");
        }
        // Tuesday 10:00: two business days on. Drafted once, approved.
        clock.set(berlin("2026-12-08T10:00"));
        let pass = service.draft_due_followups().await.unwrap();
        assert_eq!((pass.drafted, pass.approved), (1, 1), "{pass:?}");
        let again = service.draft_due_followups().await.unwrap();
        assert_eq!(
            again.drafted, 0,
            "a repeated pass drafts nothing: {again:?}"
        );
        let sent = send_all(&service).await;
        assert_eq!(sent.sent, 1, "{sent:?}");
        // Twelve hours later it is 22:00: drafted, but the window is shut.
        clock.set(berlin("2026-12-08T22:00"));
        let pass = service.draft_due_followups().await.unwrap();
        assert_eq!(pass.drafted, 1, "{pass:?}");
        let waiting = send_all(&service).await;
        assert_eq!((waiting.sent, waiting.deferred), (0, 1), "{waiting:?}");
        assert_eq!(waiting.next_at, Some(berlin("2026-12-09T09:00")));
        clock.set(berlin("2026-12-09T09:00"));
        let sent = send_all(&service).await;
        assert_eq!(sent.sent, 1, "{sent:?}");
        // The sequence is over.
        clock.set(berlin("2026-12-21T10:00"));
        let pass = service.draft_due_followups().await.unwrap();
        assert_eq!(pass.drafted, 0, "{pass:?}");
        let view = service.sequence_show("c").await.unwrap();
        let sent: Vec<u64> = view.steps.iter().map(|s| s.sent).collect();
        assert_eq!(sent, [1, 1, 1]);
        service.shutdown().await;
    });
    drop(service);

    // What the SMTP server got: one thread.
    let mails = received_by(&smtp, "anna@anna.example");
    assert_eq!(mails.len(), 3);
    let id = |m: &Received| m.header("message-id").unwrap();
    let first_subject = mails[0].header("subject").unwrap();
    assert!(!first_subject.starts_with("Re:"), "{first_subject}");
    assert!(mails[0].header("in-reply-to").is_none());
    for (i, m) in mails.iter().enumerate().skip(1) {
        assert_eq!(
            m.header("subject").unwrap(),
            format!("Re: {first_subject}"),
            "step {}",
            i + 1
        );
        assert_eq!(m.header("in-reply-to").unwrap(), id(&mails[i - 1]));
        let references: Vec<String> = mails[..i].iter().map(id).collect();
        // Each `<id>` (the helper unfolds a folded header without the
        // space, so split on the brackets).
        let got: Vec<String> = m
            .header("references")
            .unwrap()
            .split_inclusive('>')
            .map(|id| id.trim().to_string())
            .filter(|id| !id.is_empty())
            .collect();
        assert_eq!(got, references, "step {}", i + 1);
        assert!(m.body().contains("step ") || m.body().contains("step="));
    }
    let ids: std::collections::BTreeSet<String> = mails.iter().map(id).collect();
    assert_eq!(ids.len(), 3, "every step has its own Message-ID");

    // The steps went on the right days, as the store recorded them.
    let status = s.cli.json(&["sequence", "status", &lead]);
    let at: Vec<&str> = status["sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sent_at"].as_str().unwrap())
        .collect();
    let expect: Vec<String> = ["2026-12-04T10:00", "2026-12-08T10:00", "2026-12-09T09:00"]
        .iter()
        .map(|t| berlin(t).to_string())
        .collect();
    assert_eq!(at, expect, "{status}");
    let thread = s.cli.json(&["outreach", "thread", &lead]);
    let sent = thread["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "sent")
        .count();
    assert_eq!(sent, 3, "{thread}");
    let campaign = s.cli.json(&["campaign", "show", "c"]);
    assert_eq!(campaign["dashboard"]["by_step"][2]["sent"], 1, "{campaign}");
    assert_eq!(campaign["dashboard"]["by_step"][0]["sent"], 1, "{campaign}");
}

fn reply(from: &str, in_reply_to: &str, date: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: jane@agency.example\nSubject: Re: your website\n\
Date: {date}\nMessage-ID: <reply.{}@mail.example>\nIn-Reply-To: {in_reply_to}\n\
References: {in_reply_to}\nContent-Type: text/plain; charset=utf-8\n\n{body}\n",
        from.len()
    )
}

fn hard_bounce(recipient: &str, original: &str, date: &str) -> String {
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.agency.example>\n\
To: jane@agency.example\nSubject: Undelivered Mail Returned to Sender\n\
Date: {date}\nMessage-ID: <dsn.1@mx.agency.example>\n\
Auto-Submitted: auto-replied\nMIME-Version: 1.0\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"BB\"\n\n\
--BB\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n\
--BB\nContent-Type: message/delivery-status\n\n\
Reporting-MTA: dns; mx.agency.example\n\n\
Final-Recipient: rfc822; {recipient}\nAction: failed\nStatus: 5.1.1\n\
Diagnostic-Code: smtp; 550 5.1.1 mailbox unknown\n\n\
--BB\nContent-Type: text/rfc822-headers\n\n\
Message-ID: {original}\nTo: {recipient}\nSubject: your website\n\n--BB--\n"
    )
}

fn status_of(cli: &Cli, lead: &str) -> Value {
    cli.json(&["outreach", "show", lead])
}

#[test]
fn a_reply_stops_the_next_step_and_a_bounce_withdraws_it_and_blacklists() {
    let Some(imap) = dovecot() else { return };
    let smtp = SmtpServer::start(Duration::ZERO);
    let mut env: Vec<(String, String)> = imap.env("INBOX");
    env.extend(OFFICE.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let s = setup(
        smtp.port,
        &[
            ("Anna Bakery", "anna@anna.example"),
            ("Bert Books", "bert@bert.example"),
            ("Carl Cafe", "carl@carl.example"),
            ("Dora Deli", "dora@dora.example"),
        ],
        &env,
    );
    let (carl, dora) = (
        s.leads["carl@carl.example"].clone(),
        s.leads["dora@dora.example"].clone(),
    );
    let (anna, bert) = (
        s.leads["anna@anna.example"].clone(),
        s.leads["bert@bert.example"].clone(),
    );
    let f1 = s.cli.write("followup1.txt", FOLLOWUP);
    set_sequence(
        &s.cli,
        &[&format!("{}:2 business days", f1.display())],
        false,
    );
    s.cli
        .json(&["outreach", "approve", "--all-drafted", "-c", "c"]);

    let rt = runtime();
    let clock = Arc::new(FixedClock::new(berlin("2026-12-04T10:00")));
    let service = open(&s.cli, &clock);
    rt.block_on(async {
        let sent = send_all(&service).await;
        assert_eq!(sent.sent, 4, "{sent:?}");
        service.shutdown().await;
    });
    drop(service);
    // Carl's deal is closed by hand; Dora's sequence is stopped by hand.
    s.cli.json(&["outreach", "mark", &carl, "--won"]);
    s.cli
        .json(&["sequence", "stop", &dora, "--reason", "met at a fair"]);
    let first_id = |lead: &str| {
        status_of(&s.cli, lead)["message_id"]
            .as_str()
            .unwrap()
            .to_string()
    };

    // Monday: Anna answers the first email.
    let mut provider = imap.client();
    provider.append(
        "INBOX",
        &reply(
            "Anna Becker <anna@anna.example>",
            &first_id(&anna),
            "Mon, 07 Dec 2026 11:00:00 +0100",
            "Thanks, let's talk on Thursday.",
        ),
    );
    let synced = s.cli.json(&["inbox", "sync"]);
    assert_eq!(synced["replies"], 1, "{synced}");

    // Tuesday 10:00: only Bert's follow-up is drafted; it needs approval.
    let service = open(&s.cli, &clock);
    clock.set(berlin("2026-12-08T10:00"));
    rt.block_on(async {
        let pass = service.draft_due_followups().await.unwrap();
        assert_eq!((pass.drafted, pass.approved), (1, 0), "{pass:?}");
        let view = service.sequence_show("c").await.unwrap();
        assert_eq!(view.steps[0].sent, 4);
        // Anna answered step 1; Carl, marked won, counts as replied too.
        assert_eq!(view.steps[0].replied, 2);
        assert_eq!(view.steps[1].pending, 1);
        assert_eq!(view.stopped, 3);
        service.shutdown().await;
    });
    drop(service);
    let anna_now = s.cli.json(&["sequence", "status", &anna]);
    assert!(
        anna_now["stop"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("replied"),
        "{anna_now}"
    );
    assert!(anna_now.get("next").is_none(), "{anna_now}");
    let carl_now = s.cli.json(&["sequence", "status", &carl]);
    assert_eq!(
        carl_now["stop"]["reason"], "marked won (outreach mark)",
        "{carl_now}"
    );
    let dora_now = s.cli.json(&["leads", "show", &dora]);
    assert_eq!(
        dora_now["sequence"]["stop"]["reason"], "stopped by the operator: met at a fair",
        "{dora_now}"
    );
    let text = s.cli.ok(&["outreach", "thread", &dora]);
    assert!(text.contains("met at a fair"), "{text}");
    assert_eq!(status_of(&s.cli, &anna)["step"], 1);
    let bert_draft = status_of(&s.cli, &bert);
    assert_eq!(
        (bert_draft["step"].clone(), bert_draft["status"].clone()),
        (2.into(), "draft".into())
    );
    // The lead list (and the TUI's `due` filter) knows a follow-up waits.
    let listed = s.cli.json(&["leads", "list", "-c", "c"]);
    let waiting: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l.get("followup_waiting").is_some())
        .collect();
    assert_eq!(waiting.len(), 1, "{listed}");
    assert_eq!(waiting[0]["id"], bert.as_str(), "{listed}");
    assert_eq!(waiting[0]["followup_waiting"], 2, "{listed}");
    s.cli.json(&["outreach", "approve", &bert]);
    assert_eq!(status_of(&s.cli, &bert)["status"], "approved");

    // Bert's first email bounces before the follow-up goes.
    provider.append(
        "INBOX",
        &hard_bounce(
            "bert@bert.example",
            &first_id_of_step_1(&s.cli, &bert),
            "Tue, 08 Dec 2026 10:30:00 +0100",
        ),
    );
    let synced = s.cli.json(&["inbox", "sync"]);
    assert_eq!(synced["bounces_hard"], 1, "{synced}");
    let withdrawn = status_of(&s.cli, &bert);
    assert_eq!(withdrawn["status"], "suppressed", "{withdrawn}");
    // Withdrawn by the bounce (the inbox marks the lead bounced first).
    assert!(
        withdrawn["note"].as_str().unwrap().contains("bounced"),
        "{withdrawn}"
    );
    let blacklist = s.cli.json(&["blacklist", "list"]);
    assert!(
        blacklist
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["value"] == "bert@bert.example" && e["reason"] == "bounce"),
        "{blacklist}"
    );
    let thread = s.cli.json(&["outreach", "thread", &bert]);
    assert!(
        thread["sequence_stop"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("bounced"),
        "{thread}"
    );
    let shown = s.cli.json(&["leads", "show", &bert]);
    assert!(shown["sequence"]["stop"]["reason"].is_string(), "{shown}");

    // Nothing more goes, whenever the sender runs.
    let service = open(&s.cli, &clock);
    clock.set(berlin("2026-12-10T10:00"));
    rt.block_on(async {
        let pass = service.draft_due_followups().await.unwrap();
        assert_eq!(pass.drafted, 0, "{pass:?}");
        let sent = send_all(&service).await;
        assert_eq!(sent.sent, 0, "{sent:?}");
        service.shutdown().await;
    });
    drop(service);
    assert_eq!(smtp.received().len(), 4, "only the first emails went");
}

/// The Message-ID of a lead's first email, from its thread.
fn first_id_of_step_1(cli: &Cli, lead: &str) -> String {
    let thread = cli.json(&["outreach", "thread", lead]);
    thread["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "sent")
        .and_then(|e| e["message_id"].as_str())
        .unwrap()
        .to_string()
}

#[test]
fn a_sender_killed_during_a_follow_up_never_sends_it_twice() {
    // The server takes a while to answer the end of DATA: the kill lands
    // while the follow-up is being handed over.
    let smtp = SmtpServer::start(Duration::from_secs(3));
    let s = setup(smtp.port, &[("Anna Bakery", "anna@anna.example")], &[]);
    let lead = s.leads["anna@anna.example"].clone();
    let f1 = s.cli.write("followup1.txt", FOLLOWUP);
    set_sequence(&s.cli, &[&format!("{}:1 day", f1.display())], true);
    s.cli
        .json(&["outreach", "approve", "--all-drafted", "-c", "c"]);
    // The first email went two days ago (an injected clock).
    let rt = runtime();
    let clock = Arc::new(FixedClock::new(
        Timestamp::now() - jiff::SignedDuration::from_hours(48),
    ));
    let service = open(&s.cli, &clock);
    rt.block_on(async {
        let sent = send_all(&service).await;
        assert_eq!(sent.sent, 1, "{sent:?}");
        service.shutdown().await;
    });
    drop(service);

    // A host drafts the due follow-up on its own, at start, approved.
    s.cli.start_server();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let o = status_of(&s.cli, &lead);
        if o["step"] == 2 {
            assert_eq!(o["status"], "approved", "{o}");
            break;
        }
        assert!(Instant::now() < deadline, "the host drafted nothing: {o}");
        std::thread::sleep(Duration::from_millis(50));
    }
    s.cli.stop_server();
    clock.set(Timestamp::now() + jiff::SignedDuration::from_hours(48));
    assert_eq!(status_of(&s.cli, &lead)["status"], "approved");

    let before = smtp.hand_overs();
    let mut sender = s
        .cli
        .command(&["outreach", "send", "-c", "c"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while smtp.hand_overs() == before {
        assert!(
            Instant::now() < deadline,
            "the follow-up never reached DATA"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    sender.kill().unwrap(); // SIGKILL
    let _ = sender.wait();

    // The next send finds it mid-hand-over: for review, never resent.
    let again = s.cli.json(&["outreach", "send", "-c", "c"]);
    assert_eq!(again["sent"], 0, "{again}");
    let after = status_of(&s.cli, &lead);
    assert_eq!(after["status"], "needs_review", "{after}");
    assert_eq!(after["step"], 2);
    let service = open(&s.cli, &clock);
    rt.block_on(async {
        let pass = service.draft_due_followups().await.unwrap();
        assert_eq!(pass.drafted, 0, "{pass:?}");
        let sent = send_all(&service).await;
        assert_eq!(sent.sent, 0, "{sent:?}");
        service.shutdown().await;
    });
    drop(service);
    // The server finishes the cut hand-over on its own; it counts once.
    let deadline = Instant::now() + Duration::from_secs(30);
    while received_by(&smtp, "anna@anna.example").len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the server never recorded the follow-up"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(received_by(&smtp, "anna@anna.example").len(), 2);
    assert_eq!(smtp.hand_overs(), before + 1, "handed over once");
}

/// `sequence set` checks every step before keeping any, and names the bad
/// one; `sequence show` and `sequence stop` work attached as embedded.
pub fn sequence_set_names_the_bad_step(cli: Cli) {
    cli.campaign("c");
    let good = cli.write("f1.txt", FOLLOWUP);
    let broken = cli.write("broken.txt", "Subject: x\nHi {{ no_such_name }}\n");
    let good = format!("{}:3 business days", good.display());
    let err = cli.fails(&[
        "sequence",
        "set",
        "c",
        "--step",
        &good,
        "--step",
        "missing.txt:2 days",
    ]);
    assert!(err.contains("step 3"), "{err}");
    let err = cli.fails(&[
        "sequence",
        "set",
        "c",
        "--step",
        &format!("{}:3 fortnights", broken.display()),
    ]);
    assert!(
        err.contains("step 2") && err.contains("3 fortnights"),
        "{err}"
    );
    let err = cli.fails(&[
        "sequence",
        "set",
        "c",
        "--step",
        &format!("{}:2 days", broken.display()),
    ]);
    assert!(
        err.contains("step 2")
            && err.contains("not defined for this email: no_such_name")
            && err.contains("business_name")
            && err.contains("followup"),
        "names the unknown name and the ones there are: {err}"
    );
    let shown = cli.json(&["sequence", "show", "c"]);
    assert_eq!(
        shown["steps"].as_array().unwrap().len(),
        1,
        "nothing kept: {shown}"
    );
    let set = cli.json(&["sequence", "set", "c", "--step", &good]);
    assert_eq!(set["steps"][1]["after"], "3 business days", "{set}");
    assert_eq!(set["sequence"]["auto_approve_followups"], false);
    let text = cli.ok(&["sequence", "show", "c"]);
    assert!(
        text.contains("3 business days") && text.contains("need approval"),
        "{text}"
    );
    let cleared = cli.json(&["sequence", "set", "c", "--clear"]);
    assert_eq!(cleared["steps"].as_array().unwrap().len(), 1, "{cleared}");
}

both_modes!(sequence_set_names_the_bad_step);
