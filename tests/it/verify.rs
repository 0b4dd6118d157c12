//! Addresses are checked before drafting, against a real DNS server on
//! loopback (written here with the resolver's own message types): MX,
//! address-record-only, NXDOMAIN, null MX, no records, and a server that
//! never answers. A domain that cannot receive mail gets no draft, with the
//! reason on the lead; role and disposable addresses are drafted and
//! flagged; a check DNS could not answer fails the job for now, naming the
//! DNS server; stored checks are reused instead of asked again.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, MX, SOA};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use serde_json::Value;

use crate::helpers::Cli;
use crate::hostile::SwitchSite;
use crate::smtp::SmtpServer;

const SITE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Crumbs</title></head><body><h1>Crumbs bakery</h1>
<p>Fresh bread every morning.</p></body></html>"#;

/// A DNS server on loopback for the `.test` zone and one disposable
/// mailbox service; counts the questions it was asked, per name.
struct Dns {
    port: u16,
    asked: Arc<Mutex<BTreeMap<String, usize>>>,
    /// Once set, `moved.test` no longer exists.
    moved: Arc<AtomicBool>,
}

impl Dns {
    fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind dns");
        let port = socket.local_addr().unwrap().port();
        let asked = Arc::new(Mutex::new(BTreeMap::new()));
        let counts = asked.clone();
        let moved = Arc::new(AtomicBool::new(false));
        let gone = moved.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while let Ok((len, from)) = socket.recv_from(&mut buf) {
                let Ok(query) = Message::from_vec(&buf[..len]) else {
                    continue;
                };
                let Some(question) = query.queries.first().cloned() else {
                    continue;
                };
                let name = question.name.to_ascii().to_lowercase();
                *counts.lock().unwrap().entry(name.clone()).or_insert(0) += 1;
                let name = if name == "moved.test." && gone.load(Ordering::SeqCst) {
                    "gone.test.".to_string()
                } else {
                    name
                };
                let Some(reply) = answer(&query, &name, question.query_type) else {
                    continue; // slow.test: never answered
                };
                let _ = socket.send_to(&reply.to_vec().unwrap(), from);
            }
        });
        Self { port, asked, moved }
    }

    fn asked(&self, name: &str) -> usize {
        self.asked.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn answer(query: &Message, qname: &str, kind: RecordType) -> Option<Message> {
    let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
    reply.metadata.message_type = MessageType::Response;
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.add_query(query.queries[0].clone());
    let owner = name(qname);
    let mx = |preference, exchange: &str| {
        Record::from_rdata(
            owner.clone(),
            300,
            RData::MX(MX::new(preference, name(exchange))),
        )
    };
    let a = || {
        Record::from_rdata(
            owner.clone(),
            300,
            RData::A(A(Ipv4Addr::new(192, 0, 2, 10))),
        )
    };
    let empty = |reply: &mut Message| {
        // A negative answer carries the zone's SOA, as real servers send.
        reply.add_authority(Record::from_rdata(
            name("test."),
            300,
            RData::SOA(SOA::new(
                name("ns.test."),
                name("hostmaster.test."),
                1,
                3600,
                600,
                86400,
                300,
            )),
        ));
    };
    match (qname, kind) {
        ("slow.test.", _) => return None,
        ("mx.test." | "moved.test.", RecordType::MX) => {
            reply.add_answer(mx(20, "backup.mx.test."));
            reply.add_answer(mx(10, "mail.mx.test."));
        }
        ("mailinator.com.", RecordType::MX) => {
            reply.add_answer(mx(10, "mail.mailinator.com."));
        }
        ("nullmx.test.", RecordType::MX) => {
            reply.add_answer(mx(0, "."));
        }
        ("aonly.test.", RecordType::A) => {
            reply.add_answer(a());
        }
        (
            "mx.test." | "moved.test." | "mailinator.com." | "nullmx.test." | "aonly.test."
            | "nothing.test.",
            _,
        ) => empty(&mut reply),
        // A filtering resolver's "no": NXDOMAIN without the zone's SOA.
        ("liar.test.", _) => reply.metadata.response_code = ResponseCode::NXDomain,
        _ => {
            reply.metadata.response_code = ResponseCode::NXDomain;
            empty(&mut reply);
        }
    }
    Some(reply)
}

fn detail(cli: &Cli, lead: &str) -> Value {
    cli.json(&["leads", "show", lead])
}

#[test]
fn a_domain_that_cannot_receive_mail_gets_no_draft_and_says_why() {
    let dns = Dns::start();
    let people = [
        ("Jana", "jana@mx.test"),
        ("Info", "info@aonly.test"),
        ("Max", "max@gone.test"),
        ("Eva", "eva@nullmx.test"),
        ("Tom", "tom@nothing.test"),
        ("Joe", "joe@mailinator.com"),
        ("Ann", "ann@slow.test"),
        ("Liv", "liv@liar.test"),
    ];
    let sites: Vec<SwitchSite> = people.iter().map(|_| SwitchSite::start(SITE)).collect();
    let hosts: Vec<String> = sites
        .iter()
        .map(|s| format!("127.0.0.1:{}", s.port))
        .collect();
    let cli = Cli::new()
        .with_sender()
        .env("LEADSCOUT_FETCH__ALLOW_HOSTS", &hosts.join(","))
        .env("LEADSCOUT_FETCH__LINK_SAMPLE", "1")
        .env("LEADSCOUT_VERIFY__ENABLED", "true")
        .env(
            "LEADSCOUT_VERIFY__NAMESERVER",
            &format!("127.0.0.1:{}", dns.port),
        )
        .env("LEADSCOUT_VERIFY__TIMEOUT", "300ms")
        // One attempt: the unanswered check fails at once instead of
        // waiting out the retries' backoff.
        .env("LEADSCOUT_JOBS__MAX_ATTEMPTS", "1");
    cli.campaign("c");
    let mut csv = String::from("name,website,email\n");
    for ((who, email), site) in people.iter().zip(&sites) {
        csv.push_str(&format!("{who},{},{email}\n", site.url()));
    }
    let file = cli.write("leads.csv", csv);
    cli.json(&["import", file.to_str().unwrap(), "-c", "c"]);
    // The unanswered check's job ends dead, so the run exits non-zero.
    let out = cli.run(&[
        "run",
        "-c",
        "c",
        "--stages",
        "fetch,audit,report,draft",
        "--wait",
        "--json",
    ]);
    let summary: Value = serde_json::from_slice(&out.stdout).expect("run --json");
    let draft = &summary["stages"]["draft"];
    assert_eq!(draft["succeeded"], 3, "{summary}");

    let mut ids = BTreeMap::new();
    for lead in cli.json(&["leads", "list", "-c", "c"]).as_array().unwrap() {
        ids.insert(
            lead["email"].as_str().unwrap().to_string(),
            lead["id"].as_str().unwrap().to_string(),
        );
    }
    let check = |email: &str| detail(&cli, &ids[email]);

    let jana = check("jana@mx.test");
    assert_eq!(
        jana["address_check"]["route"]["hosts"],
        serde_json::json!(["mail.mx.test", "backup.mx.test"]),
        "{jana}"
    );
    assert_eq!(jana["address_check"]["role"], false);
    let shown = cli.ok(&["leads", "show", &ids["jana@mx.test"]]);
    assert!(
        shown.contains("receives mail (MX mail.mx.test and 1 more)"),
        "{shown}"
    );

    let info = check("info@aonly.test");
    assert_eq!(info["address_check"]["route"]["kind"], "address", "{info}");
    assert_eq!(info["address_check"]["role"], true);
    let shown = cli.ok(&["leads", "show", &ids["info@aonly.test"]]);
    assert!(shown.contains("role address"), "{shown}");

    let joe = check("joe@mailinator.com");
    assert_eq!(joe["address_check"]["disposable"], true, "{joe}");
    assert!(
        cli.json(&["outreach", "show", &ids["joe@mailinator.com"]])["subject"].is_string(),
        "a flagged address is still drafted"
    );

    for (email, kind, why) in [
        (
            "max@gone.test",
            "no_domain",
            "the domain gone.test does not exist",
        ),
        (
            "eva@nullmx.test",
            "null_mx",
            "nullmx.test says it accepts no mail (null MX)",
        ),
        (
            "tom@nothing.test",
            "no_records",
            "nothing.test has no mail server (neither MX nor address records)",
        ),
    ] {
        let lead = check(email);
        assert_eq!(lead["address_check"]["route"]["kind"], kind, "{lead}");
        let reason = lead["no_draft_reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains(&format!("{email} cannot receive mail: {why}")),
            "{email}: {lead}"
        );
        let none = cli.run(&["outreach", "show", &ids[email]]);
        assert!(!none.status.success(), "{email} has no draft");
    }

    // The server that never answers: the job fails for now, naming it.
    let ann = check("ann@slow.test");
    assert_eq!(ann["address_check"]["route"]["kind"], "unknown", "{ann}");
    let reason = ann["no_draft_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&format!(
            "cannot check ann@slow.test: 127.0.0.1:{} did not answer within 300ms",
            dns.port
        )),
        "{ann}"
    );

    // A "no" without the zone's SOA is not believed: no draft yet, but
    // no verdict either, and the reason says what to change.
    let liv = check("liv@liar.test");
    assert_eq!(liv["address_check"]["route"]["kind"], "unknown", "{liv}");
    let reason = liv["no_draft_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("liar.test does not exist but names no zone authority (SOA)")
            && reason.contains("verify.nameserver"),
        "{liv}"
    );

    // A second run reuses every answer DNS gave; only the unanswered one
    // is asked again.
    let before: BTreeMap<&str, usize> = ["mx.test.", "gone.test.", "nullmx.test.", "slow.test."]
        .into_iter()
        .map(|n| (n, dns.asked(n)))
        .collect();
    assert!(before.values().all(|&n| n > 0), "{before:?}");
    cli.run(&["run", "-c", "c", "--stages", "draft", "--wait"]);
    for name in ["mx.test.", "gone.test.", "nullmx.test."] {
        assert_eq!(dns.asked(name), before[name], "{name} asked again");
    }
    assert!(dns.asked("slow.test.") > before["slow.test."]);
}

#[test]
fn mail_is_not_sent_to_a_domain_that_stopped_taking_it_since_the_draft() {
    let dns = Dns::start();
    let smtp = SmtpServer::start(Duration::ZERO);
    let nameserver = format!("127.0.0.1:{}", dns.port);
    let s = crate::outreach::setup(
        smtp.port,
        &[("Jana", "jana@mx.test"), ("Mo", "mo@moved.test")],
        &[
            ("LEADSCOUT_VERIFY__ENABLED", "true"),
            ("LEADSCOUT_VERIFY__NAMESERVER", &nameserver),
        ],
    );
    for id in s.leads.values() {
        s.cli.ok(&["outreach", "approve", id]);
    }
    // Between approval and sending, moved.test's domain goes away; the
    // stored check is older than `recheck_after`, so sending asks again.
    dns.moved.store(true, Ordering::SeqCst);
    let out = s
        .cli
        .command(&["outreach", "send", "-c", "c", "--json"])
        .env("LEADSCOUT_VERIFY__RECHECK_AFTER", "0s")
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout).expect("send --json");
    assert_eq!(summary["sent"], 1, "{summary}");
    assert_eq!(summary["suppressed"], 1, "{summary}");
    assert_eq!(
        smtp.counts().keys().cloned().collect::<Vec<_>>(),
        ["jana@mx.test"]
    );
    let mo = s.cli.json(&["outreach", "show", &s.leads["mo@moved.test"]]);
    assert_eq!(mo["status"], "suppressed", "{mo}");
    let note = mo["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("mo@moved.test cannot receive mail: the domain moved.test does not exist"),
        "{mo}"
    );
}
