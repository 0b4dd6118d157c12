//! Outreach end to end: drafts from a real run, approval, sending to a real
//! SMTP server on loopback within the limits, never to the blacklist,
//! never twice (also across SIGKILLs), no header injection, and the
//! evidence gate in front of a fake language model.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Cli, Rng};
use crate::hostile::SwitchSite;
use crate::smtp::SmtpServer;

const SITE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Crumbs</title></head><body><h1>Crumbs bakery</h1><img src="/shop.jpg">
<p>Fresh bread every morning.</p><a href="/missing">menu</a></body></html>"#;

pub const POSTAL: &str = "Hauptstr. 1, 10115 Berlin";

pub struct Setup {
    pub cli: Cli,
    pub sites: Vec<SwitchSite>,
    /// email → lead id
    pub leads: BTreeMap<String, String>,
}

/// A campaign `c` with one lead per `(name, email)`, each on its own
/// loopback site, taken through fetch, audit, report and draft.
pub fn setup(smtp_port: u16, people: &[(&str, &str)], extra_env: &[(&str, &str)]) -> Setup {
    let sites: Vec<SwitchSite> = people.iter().map(|_| SwitchSite::start(SITE)).collect();
    let hosts: Vec<String> = sites
        .iter()
        .map(|s| format!("127.0.0.1:{}", s.port))
        .collect();
    let mut cli = Cli::new()
        .env("LEADSCOUT_FETCH__ALLOW_HOSTS", &hosts.join(","))
        .env("LEADSCOUT_FETCH__LINK_SAMPLE", "1")
        .env("LEADSCOUT_SMTP__HOST", "127.0.0.1")
        .env("LEADSCOUT_SMTP__PORT", &smtp_port.to_string())
        .env("LEADSCOUT_SMTP__TLS", "none")
        .env("LEADSCOUT_SENDER__NAME", "Jane Doe")
        .env("LEADSCOUT_SENDER__COMPANY", "Pixel & Partners")
        .env("LEADSCOUT_SENDER__EMAIL", "jane@agency.example")
        .env("LEADSCOUT_SENDER__REPLY_TO", "replies@agency.example")
        .env("LEADSCOUT_SENDER__POSTAL_ADDRESS", POSTAL)
        .env(
            "LEADSCOUT_SERVER__PUBLIC_BASE_URL",
            "https://reports.agency.example",
        )
        .env("LEADSCOUT_SENDING__WINDOW", "00:00-24:00")
        .env("LEADSCOUT_SENDING__WEEKDAYS", "mon,tue,wed,thu,fri,sat,sun")
        .env("LEADSCOUT_SENDING__MIN_SPACING_SECS", "0");
    for (k, v) in extra_env {
        cli = cli.env(k, v);
    }
    cli.campaign("c");
    let mut csv = String::from("name,website,email,city\n");
    for ((name, email), site) in people.iter().zip(&sites) {
        csv.push_str(&format!(
            "\"{}\",{},{email},Berlin\n",
            name.replace('"', "\"\""),
            site.url()
        ));
    }
    let file = cli.write("leads.csv", csv);
    let imported = cli.json(&["import", file.to_str().unwrap(), "-c", "c"]);
    assert_eq!(imported["imported"], people.len(), "{imported}");
    let summary = cli.json(&[
        "run",
        "-c",
        "c",
        "--stages",
        "fetch,audit,report,draft",
        "--wait",
    ]);
    assert_eq!(
        summary["stages"]["draft"]["succeeded"],
        people.len(),
        "{summary}"
    );
    let mut leads = BTreeMap::new();
    for lead in cli.json(&["leads", "list", "-c", "c"]).as_array().unwrap() {
        leads.insert(
            lead["email"].as_str().unwrap().to_string(),
            lead["id"].as_str().unwrap().to_string(),
        );
    }
    Setup { cli, sites, leads }
}

fn outreach(cli: &Cli, lead: &str) -> Value {
    cli.json(&["outreach", "show", lead])
}

#[test]
fn drafts_cite_the_audit_and_always_carry_address_and_unsubscribe() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let s = setup(smtp.port, &[("Crumbs Bakery", "owner@crumbs.example")], &[]);
    let lead = &s.leads["owner@crumbs.example"];
    let o = outreach(&s.cli, lead);
    assert_eq!(o["status"], "draft");
    assert_eq!(o["author"], "template");
    let body = o["body"].as_str().unwrap();
    let audit = s.cli.json(&["audit", "show", lead]);
    let worst = audit["findings"][0]["title"].as_str().unwrap();
    assert!(
        body.contains(worst),
        "the draft cites the worst finding `{worst}`:\n{body}"
    );
    assert!(
        body.contains(&format!("{}/100", audit["scores"]["overall"])),
        "{body}"
    );
    assert!(body.contains(POSTAL), "postal address:\n{body}");
    let report = o["report_url"].as_str().unwrap();
    assert!(
        report.starts_with("https://reports.agency.example/r/"),
        "{report}"
    );
    assert!(body.contains(report), "{body}");
    assert!(
        body.contains(o["unsubscribe_url"].as_str().unwrap()),
        "unsubscribe link:\n{body}"
    );
    assert!(body.contains("in Berlin"), "an imported column: {body}");
    assert_eq!(s.cli.json(&["leads", "show", lead])["status"], "drafted");

    // The operator's edit is kept with the old text, and a re-run does not
    // overwrite it.
    s.cli.edit_email(
        lead,
        "Subject: A note about your website\n\nHello!\nShort and sweet.\n",
    );
    s.cli
        .json(&["run", "-c", "c", "--stages", "draft", "--wait"]);
    let edited = outreach(&s.cli, lead);
    assert_eq!(edited["subject"], "A note about your website");
    assert_eq!(edited["author"], "operator");
    assert_eq!(edited["history"][0]["author"], "template");
    assert!(
        edited["body"]
            .as_str()
            .unwrap()
            .starts_with("Hello!\nShort and sweet.\n")
    );
    let jobs = s
        .cli
        .json(&["jobs", "list", "--stage", "draft", "--lead", lead]);
    assert!(
        jobs.as_array()
            .unwrap()
            .iter()
            .any(|j| j["status"] == "skipped"),
        "the re-run skipped the edited draft: {jobs}"
    );

    // Without a postal address there are no drafts, and the error says what to set.
    let bare = Cli::new();
    let site = SwitchSite::start(SITE);
    let bare = bare
        .env(
            "LEADSCOUT_FETCH__ALLOW_HOSTS",
            &format!("127.0.0.1:{}", site.port),
        )
        .env("LEADSCOUT_SENDER__NAME", "Jane");
    bare.campaign("c");
    let file = bare.write(
        "l.csv",
        format!("name,website,email\nX,{},x@x.example\n", site.url()),
    );
    bare.ok(&["import", file.to_str().unwrap(), "-c", "c"]);
    let summary = bare.json(&[
        "run",
        "-c",
        "c",
        "--stages",
        "fetch,audit,report,draft",
        "--wait",
    ]);
    assert_eq!(
        summary["stages"]["draft"]["failed"], 1,
        "a permanent failure, not retried: {summary}"
    );
    let jobs = bare.json(&["jobs", "list", "--stage", "draft"]);
    let error = jobs[0]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        error.contains("sender.postal_address") && error.contains("sender.email"),
        "{jobs}"
    );
}

#[test]
fn sending_respects_approval_blacklist_marks_and_caps_and_never_repeats() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let people = [
        ("Alpha", "a@alpha.example"),
        ("Bravo", "b@bravo.example"),
        ("Charlie", "c@charlie.example"),
        ("Delta", "d@delta.example"),
        ("Echo", "unknown@echo.example"),
        ("Foxtrot", "f@foxtrot.example"),
        ("Golf", "g@golf.example"),
        ("Hotel", "h@hotel.example"),
    ];
    let s = setup(smtp.port, &people, &[("LEADSCOUT_SENDING__DAILY_CAP", "3")]);
    let id = |email: &str| s.leads[email].clone();
    // Delta is never approved.
    for email in [
        "a@alpha.example",
        "b@bravo.example",
        "c@charlie.example",
        "unknown@echo.example",
        "f@foxtrot.example",
        "g@golf.example",
        "h@hotel.example",
    ] {
        let approved = s.cli.json(&["outreach", "approve", &id(email)]);
        assert_eq!(approved["approved"], 1, "{email}: {approved}");
    }
    s.cli
        .ok(&["blacklist", "add", "b@bravo.example", "--reason", "manual"]);
    s.cli
        .ok(&["outreach", "mark", &id("c@charlie.example"), "--replied"]);

    let dry = s.cli.json(&["outreach", "send", "-c", "c", "--dry-run"]);
    assert_eq!(dry["dry_run"], true);
    assert!(smtp.received().is_empty(), "a dry run sends nothing");

    let out = s.cli.run(&["outreach", "send", "-c", "c", "--json"]);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !out.status.success(),
        "a failed recipient makes the exit code non-zero"
    );
    assert_eq!(summary["sent"], 3, "{summary}");
    assert_eq!(summary["failed"], 1, "{summary}");
    assert_eq!(
        summary["suppressed"], 1,
        "Bravo, blacklisted after approval (Charlie was suppressed when marked replied): {summary}"
    );
    assert_eq!(summary["deferred"], 1, "{summary}");
    assert!(
        summary["next_reason"]
            .as_str()
            .unwrap()
            .contains("daily cap of 3"),
        "{summary}"
    );

    let counts = smtp.counts();
    assert_eq!(
        counts.keys().cloned().collect::<Vec<_>>(),
        ["a@alpha.example", "f@foxtrot.example", "g@golf.example"],
        "only approved, allowed recipients, up to the cap"
    );
    assert!(counts.values().all(|n| *n == 1));
    for email in [
        "b@bravo.example",
        "c@charlie.example",
        "d@delta.example",
        "h@hotel.example",
    ] {
        assert!(!counts.contains_key(email), "{email} must get nothing");
    }
    assert_eq!(
        outreach(&s.cli, &id("b@bravo.example"))["status"],
        "suppressed"
    );
    assert_eq!(
        outreach(&s.cli, &id("c@charlie.example"))["status"],
        "suppressed"
    );
    assert_eq!(outreach(&s.cli, &id("d@delta.example"))["status"], "draft");
    let hotel = outreach(&s.cli, &id("h@hotel.example"));
    assert_eq!(hotel["status"], "approved", "deferred, not dropped");
    assert!(
        hotel["note"].as_str().unwrap().contains("daily cap"),
        "{hotel}"
    );
    assert!(hotel["not_before"].is_string(), "{hotel}");
    let echo = outreach(&s.cli, &id("unknown@echo.example"));
    assert_eq!(echo["status"], "failed");
    assert!(echo["note"].as_str().unwrap().contains("5.1.1"), "{echo}");
    let blacklist = s.cli.json(&["blacklist", "list"]);
    assert!(
        blacklist
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["value"] == "unknown@echo.example" && e["reason"] == "bounce"),
        "{blacklist}"
    );
    assert_eq!(
        s.cli.json(&["leads", "show", &id("a@alpha.example")])["status"],
        "sent"
    );

    // The message itself.
    let message = smtp
        .received()
        .into_iter()
        .find(|m| m.to == ["a@alpha.example"])
        .unwrap();
    assert_eq!(message.from, "jane@agency.example");
    let alpha = outreach(&s.cli, &id("a@alpha.example"));
    assert_eq!(alpha["status"], "sent");
    let message_id = message.header("message-id").unwrap();
    assert_eq!(message_id, alpha["message_id"].as_str().unwrap());
    assert!(
        message_id.starts_with(&format!("<{}.", id("a@alpha.example")))
            && message_id.ends_with("@agency.example>"),
        "{message_id}"
    );
    let unsubscribe = message.header("list-unsubscribe").unwrap();
    assert!(
        unsubscribe.contains("<mailto:replies@agency.example?subject=unsubscribe>"),
        "{unsubscribe}"
    );
    assert!(
        unsubscribe.contains(alpha["unsubscribe_url"].as_str().unwrap()),
        "{unsubscribe}"
    );
    assert_eq!(
        message.header("list-unsubscribe-post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(
        message
            .header("reply-to")
            .unwrap()
            .contains("replies@agency.example")
    );
    assert!(
        message
            .header("from")
            .unwrap()
            .contains("jane@agency.example")
    );
    assert!(message.body().contains("Hauptstr. 1"), "{}", message.body());

    // Sending again sends nothing new: the cap is still full, and nothing
    // already sent goes twice.
    let again = s.cli.run(&["outreach", "send", "-c", "c", "--json"]);
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["sent"], 0, "{again}");
    assert_eq!(smtp.received().len(), 3);

    // A lead blacklisted after approval is suppressed at send time.
    s.cli.ok(&["blacklist", "add", "hotel.example"]);
    let raised = s
        .cli
        .command(&["outreach", "send", "-c", "c", "--json"])
        .env("LEADSCOUT_SENDING__DAILY_CAP", "10")
        .output()
        .unwrap();
    let raised: Value = serde_json::from_slice(&raised.stdout).unwrap();
    assert_eq!(raised["sent"], 0, "{raised}");
    assert_eq!(
        outreach(&s.cli, &id("h@hotel.example"))["status"],
        "suppressed"
    );
    assert_eq!(smtp.received().len(), 3);
}

#[test]
fn header_injection_from_scraped_or_imported_fields_adds_no_header() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let evil = "Evil Bakery\r\nBcc: victim@evil.example\r\nX-Injected: yes";
    let s = setup(smtp.port, &[(evil, "owner@evil-bakery.example")], &[]);
    let lead = s.leads["owner@evil-bakery.example"].clone();
    // An operator edit with a line break in the subject is flattened too.
    s.cli
        .edit_email(&lead, "Subject: Hi\rBcc: second@evil.example\n\nBody\n");
    let o = outreach(&s.cli, &lead);
    assert!(!o["subject"].as_str().unwrap().contains('\r'));
    s.cli.json(&["outreach", "approve", &lead]);
    s.cli.json(&["outreach", "send", "-c", "c"]);
    let received = smtp.received();
    assert_eq!(received.len(), 1);
    let m = &received[0];
    assert_eq!(
        m.to,
        ["owner@evil-bakery.example"],
        "one envelope recipient"
    );
    let names: Vec<String> = m.headers().into_iter().map(|(n, _)| n).collect();
    assert!(
        !names.iter().any(|n| n == "bcc" || n == "x-injected"),
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| *n == "subject").count(),
        1,
        "{names:?}"
    );
    assert!(
        m.header("subject")
            .unwrap()
            .contains("Bcc: second@evil.example"),
        "the text stays, as text"
    );
}

/// An OpenAI-compatible chat-completions endpoint answering with `reply`
/// (or an HTTP 500 when `reply` is empty).
fn fake_model(reply: &'static str) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    let mut got = 0;
                    // Read the head and the body (Content-Length).
                    loop {
                        let n = stream.read(&mut buf[got..]).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        got += n;
                        let text = String::from_utf8_lossy(&buf[..got]).to_string();
                        if let Some(end) = text.find("\r\n\r\n") {
                            let length: usize = text
                                .lines()
                                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                                .unwrap_or(0);
                            if got >= end + 4 + length {
                                break;
                            }
                        }
                    }
                    let request = String::from_utf8_lossy(&buf[..got]).to_string();
                    assert!(request.starts_with("POST /v1/chat/completions"), "{request}");
                    let (status, body) = if reply.is_empty() {
                        ("500 Internal Server Error", "{}".to_string())
                    } else {
                        ("200 OK", serde_json::json!({ "choices": [{ "message": { "role": "assistant", "content": reply } }] }).to_string())
                    };
                    let head = format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(body.as_bytes()).await;
                });
            }
        });
    });
    port
}

fn draft_with_model(reply: &'static str) -> Value {
    let smtp = SmtpServer::start(Duration::ZERO);
    let port = fake_model(reply);
    let base = format!("http://127.0.0.1:{port}/v1");
    let s = setup(
        smtp.port,
        &[("Crumbs Bakery", "owner@crumbs.example")],
        &[
            ("LEADSCOUT_LLM__BASE_URL", base.as_str()),
            ("LEADSCOUT_LLM__MODEL", "fake-1"),
        ],
    );
    outreach(&s.cli, &s.leads["owner@crumbs.example"])
}

#[test]
fn the_evidence_gate_rejects_invented_figures_and_keeps_the_template() {
    let o = draft_with_model(
        "Subject: Quick idea\n\nHi! Sites like yours lose 40% of visitors, and fixing it brings 25 new customers a month.",
    );
    assert_eq!(o["author"], "template", "{o}");
    let note = o["model_note"].as_str().unwrap();
    assert!(
        note.contains("rejected") && (note.contains("40") || note.contains("25")),
        "{note}"
    );
    assert!(!o["body"].as_str().unwrap().contains("40%"));

    let o = draft_with_model("");
    assert_eq!(o["author"], "template");
    assert!(
        o["model_note"].as_str().unwrap().contains("HTTP 500"),
        "{o}"
    );
}

#[test]
fn a_rewrite_that_only_cites_the_audit_is_used_with_the_footer() {
    let o = draft_with_model(
        "Subject: Your website\n\nHi Crumbs Bakery team, I had a look at your website and wrote up what I found.",
    );
    assert_eq!(o["author"], "model", "{o}");
    assert_eq!(o["model_note"], Value::Null);
    let body = o["body"].as_str().unwrap();
    assert!(body.starts_with("Hi Crumbs Bakery team"), "{body}");
    assert!(
        body.contains(POSTAL) && body.contains(o["unsubscribe_url"].as_str().unwrap()),
        "the footer is added: {body}"
    );
}

#[test]
fn a_rewrite_with_a_foreign_link_is_rejected_and_the_template_kept() {
    // Nothing here is a figure or a claim: before links were checked, the
    // gate let this rewrite through.
    let o = draft_with_model(
        "Subject: Your website\n\nHi Crumbs Bakery team, please settle the open invoice at https://evil.example/pay today.",
    );
    assert_eq!(o["author"], "template", "{o}");
    let note = o["model_note"].as_str().unwrap();
    assert!(
        note.contains("rejected") && note.contains("https://evil.example/pay"),
        "{note}"
    );
    assert!(!o["body"].as_str().unwrap().contains("evil.example"), "{o}");
    assert_eq!(o["blocked"], Value::Null, "the template draft is fine: {o}");
}

/// SIGKILL the sender at random moments, again and again: whatever
/// happens, no recipient ever gets a message twice, every message the
/// store calls sent was received, and what was in flight waits for review.
#[test]
fn killing_the_sender_never_sends_twice() {
    let smtp = SmtpServer::start(Duration::from_millis(25));
    let people: Vec<(String, String)> = (0..24)
        .map(|i| (format!("Shop {i}"), format!("shop{i}@shops.example")))
        .collect();
    let refs: Vec<(&str, &str)> = people
        .iter()
        .map(|(n, e)| (n.as_str(), e.as_str()))
        .collect();
    let s = setup(smtp.port, &refs, &[]);
    s.cli
        .json(&["outreach", "approve", "--all-drafted", "--campaign", "c"]);
    let (mut rng, seed) = Rng::from_env_or_time();
    let mut kills = 0;
    for _cycle in 0..80 {
        let approved = s
            .cli
            .json(&["outreach", "list", "-c", "c", "--status", "approved"]);
        if approved.as_array().unwrap().is_empty() {
            break;
        }
        let mut child = s
            .cli
            .command(&["outreach", "send", "-c", "c"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(10 + rng.below(120)));
        if child.try_wait().unwrap().is_none() {
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
            kills += 1;
        }
        let _ = child.wait();
    }
    // A last clean run to recover what was in flight.
    let _ = s.cli.run(&["outreach", "send", "-c", "c"]);
    let counts = smtp.counts();
    assert!(
        counts.values().all(|n| *n == 1),
        "seed {seed}: someone got a message twice: {counts:?}"
    );
    let all = s.cli.json(&["outreach", "list", "-c", "c"]);
    let mut review = 0;
    for o in all.as_array().unwrap() {
        let to = o["to"].as_str().unwrap();
        match o["status"].as_str().unwrap() {
            "sent" => assert_eq!(
                counts.get(to),
                Some(&1),
                "seed {seed}: {to} is sent but was not received"
            ),
            "needs_review" => review += 1,
            "approved" => assert!(
                !counts.contains_key(to),
                "seed {seed}: {to} was received but is still approved"
            ),
            other => panic!("seed {seed}: unexpected status {other} for {to}"),
        }
    }
    assert!(
        kills > 0,
        "seed {seed}: the test must kill the sender at least once"
    );
    eprintln!(
        "seed {seed}: {kills} kills, {} received, {review} left for review",
        smtp.received().len()
    );
}

#[test]
fn greylisting_waits_and_an_unreachable_server_sends_nothing() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let s = setup(
        smtp.port,
        &[
            ("India", "later@india.example"),
            ("Juliet", "j@juliet.example"),
        ],
        &[],
    );
    s.cli
        .json(&["outreach", "approve", "--all-drafted", "--campaign", "c"]);

    let csv_path = s.cli.path("approved.csv");
    s.cli.ok(&[
        "outreach",
        "export",
        "-c",
        "c",
        "--format",
        "csv",
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["email", "first_line", "subject", "body", "report_url"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r[4].starts_with("https://reports.agency.example/r/") && r[3].contains(POSTAL)));

    // Nothing listens here: nothing is sent and nothing changes.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = s
        .cli
        .command(&["outreach", "send", "-c", "c"])
        .env("LEADSCOUT_SMTP__PORT", closed.to_string())
        .output()
        .unwrap();
    assert!(!down.status.success());
    let err = String::from_utf8_lossy(&down.stderr);
    assert!(
        err.contains("cannot reach the SMTP server") && err.contains("nothing was sent"),
        "{err}"
    );
    assert_eq!(
        s.cli
            .json(&["outreach", "list", "-c", "c", "--status", "approved"])
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let summary = s.cli.json(&["outreach", "send", "-c", "c"]);
    assert_eq!(summary["sent"], 1, "{summary}");
    assert_eq!(summary["deferred"], 1, "{summary}");
    let india = outreach(&s.cli, &s.leads["later@india.example"]);
    assert_eq!(
        india["status"], "approved",
        "a 4xx is retried later: {india}"
    );
    assert!(
        india["note"].as_str().unwrap().contains("try later"),
        "{india}"
    );
    assert!(india["not_before"].is_string());
    // Until then, another send leaves it alone.
    let again = s.cli.json(&["outreach", "send", "-c", "c"]);
    assert_eq!(again["sent"], 0, "{again}");
    assert_eq!(smtp.counts().get("j@juliet.example"), Some(&1));
    assert!(!smtp.counts().contains_key("later@india.example"));
}

/// A site worse than [`SITE`]: no language, no title, so a re-audit scores
/// it differently.
const SITE_WORSE: &str = r#"<!doctype html><html><head></head><body><img src="/a.jpg">
<img src="/b.jpg"><a href="/gone"></a><p>Fresh bread.</p></body></html>"#;

#[test]
fn a_text_written_from_an_older_audit_is_neither_approved_nor_sent() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let s = setup(
        smtp.port,
        &[("Alpha", "a@alpha.example"), ("Bravo", "b@bravo.example")],
        &[],
    );
    let (alpha, bravo) = (&s.leads["a@alpha.example"], &s.leads["b@bravo.example"]);
    let before = outreach(&s.cli, alpha);
    assert!(before["audit"]["overall"].is_u64(), "{before}");
    // Bravo is approved now; then both sites change and are audited again.
    assert_eq!(s.cli.json(&["outreach", "approve", bravo])["approved"], 1);
    for site in &s.sites {
        site.set(SITE_WORSE);
    }
    let rerun = s
        .cli
        .json(&["run", "-c", "c", "--stages", "fetch,audit", "--wait"]);
    assert_eq!(rerun["stages"]["audit"]["succeeded"], 2, "{rerun}");

    let refused = s.cli.json(&["outreach", "approve", alpha]);
    assert_eq!(refused["approved"], 0, "{refused}");
    let why = refused["skipped"][0].as_str().unwrap();
    assert!(
        why.contains("audited again") && why.contains("run the draft stage again"),
        "{why}"
    );

    // The approved one is held back at send time and goes back to draft.
    let sent = s.cli.run(&["outreach", "send", "-c", "c", "--json"]);
    let summary: Value = serde_json::from_slice(&sent.stdout).unwrap();
    assert_eq!(summary["sent"], 0, "{summary}");
    assert!(smtp.received().is_empty(), "nothing went out");
    let held = outreach(&s.cli, bravo);
    assert_eq!(held["status"], "draft", "{held}");
    assert!(
        held["note"]
            .as_str()
            .unwrap_or("")
            .contains("audited again"),
        "{held}"
    );

    // Drafted again from the new audit, it is approved and sent.
    s.cli
        .json(&["run", "-c", "c", "--stages", "draft", "--wait"]);
    let approved = s.cli.json(&["outreach", "approve", alpha]);
    assert_eq!(approved["approved"], 1, "{approved}");
    let summary: Value =
        serde_json::from_slice(&s.cli.run(&["outreach", "send", "-c", "c", "--json"]).stdout)
            .unwrap();
    assert_eq!(summary["sent"], 1, "{summary}");

    // An operator's edit makes the text theirs: it is approved as written.
    s.cli
        .json(&["run", "-c", "c", "--stages", "fetch,audit", "--wait"]);
    s.cli.edit_email(
        bravo,
        "Subject: Your bakery's website\n\nHello, I looked at your site again.\n",
    );
    assert_eq!(s.cli.json(&["outreach", "approve", bravo])["approved"], 1);
}
