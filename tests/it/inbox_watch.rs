//! The host's inbox watcher against a real dovecot on loopback: IDLE
//! (mail read without waiting for `imap.poll_secs`), polling where the
//! server offers no IDLE, a lost server reported and reconnected, one sync
//! at a time with an attached `inbox sync` racing the watcher, and TLS
//! (implicit and STARTTLS) with a private CA made here.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::Cli;
use crate::imap::{Options, dovecot, dovecot_with};
use crate::inbox::{PEOPLE, reply, sent};
use crate::smtp::SmtpServer;

/// Waits (polling the condition) until `check` gives a value; the deadline
/// is generous because the machine may be loaded, and says what never came.
fn wait_for<T>(what: &str, secs: u64, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn status_of(cli: &Cli, lead: &str) -> String {
    let lead: Value = cli.json(&["leads", "show", lead]);
    lead["status"].as_str().unwrap_or_default().to_string()
}

fn watch_is(cli: &Cli, mode: &str) -> Option<Value> {
    let status = cli.json(&["inbox", "status"]);
    (status["watch"] == mode).then_some(status)
}

fn actions(cli: &Cli, action: &str) -> usize {
    cli.json(&["log"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == action)
        .count()
}

#[test]
fn the_host_idles_reads_new_mail_at_once_and_one_sync_runs_at_a_time() {
    let Some(imap) = dovecot() else { return };
    let smtp = SmtpServer::start(Duration::ZERO);
    let mut env = imap.env("INBOX");
    // Only IDLE can bring the mail in within the test's deadline.
    env.push(("LEADSCOUT_IMAP__POLL_SECS".into(), "3600".into()));
    let (s, ids) = sent(&smtp, &PEOPLE[..3], &env);
    s.cli.start_server();
    let status = wait_for("the watcher idles", 60, || watch_is(&s.cli, "idle"));
    assert_eq!(status["connected"], true, "{status}");
    assert!(
        s.cli.ok(&["inbox", "status"]).contains("idle"),
        "the plain status names the mode"
    );

    let mut provider = imap.client();
    let anna = "anna@anna.example";
    provider.append(
        "INBOX",
        &reply(anna, Some(&ids[anna]), "Re: Your website", "Call me."),
    );
    let lead = s.leads[anna].clone();
    wait_for("the reply is read while idling", 60, || {
        (status_of(&s.cli, &lead) == "replied").then_some(())
    });

    // Two more replies, and attached `inbox sync`s racing the watcher's
    // own syncs: each reply is applied (and logged) once.
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let cmd = s.cli.command(&["inbox", "sync", "--json"]);
            std::thread::spawn(move || {
                let mut cmd = cmd;
                cmd.output().unwrap()
            })
        })
        .collect();
    for email in ["bert@bert.example", "carla@carla.example"] {
        provider.append(
            "INBOX",
            &reply(email, Some(&ids[email]), "Re: Your website", "Yes."),
        );
    }
    for racer in racers {
        let out = racer.join().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    s.cli.ok(&["inbox", "sync"]);
    for email in ["bert@bert.example", "carla@carla.example"] {
        let lead = s.leads[email].clone();
        wait_for("the reply is read", 60, || {
            (status_of(&s.cli, &lead) == "replied").then_some(())
        });
    }
    assert_eq!(actions(&s.cli, "inbox_reply"), 3, "one log line per reply");
    for lead in s.leads.values() {
        let thread = s.cli.json(&["outreach", "thread", lead]);
        let replies = thread["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "reply")
            .count();
        assert_eq!(replies, 1, "{thread}");
    }
    s.cli.stop_server();
    // No host: nothing watches, whatever the last host wrote.
    let status = s.cli.json(&["inbox", "status"]);
    assert_eq!(status["watch"], "off", "{status}");
}

#[test]
fn a_server_without_idle_is_polled() {
    let Some(imap) = dovecot_with(&Options {
        no_idle: true,
        ..Options::default()
    }) else {
        return;
    };
    let smtp = SmtpServer::start(Duration::ZERO);
    let mut env = imap.env("INBOX");
    env.push(("LEADSCOUT_IMAP__POLL_SECS".into(), "1".into()));
    let (s, ids) = sent(&smtp, &PEOPLE[..1], &env);
    s.cli.start_server();
    wait_for("the watcher polls", 60, || watch_is(&s.cli, "polling"));
    let anna = "anna@anna.example";
    imap.client().append(
        "INBOX",
        &reply(anna, Some(&ids[anna]), "Re: Your website", "Call me."),
    );
    let lead = s.leads[anna].clone();
    wait_for("the reply is read by polling", 60, || {
        (status_of(&s.cli, &lead) == "replied").then_some(())
    });
    s.cli.stop_server();
}

#[test]
fn a_lost_server_is_reported_and_the_watcher_reconnects() {
    let Some(imap) = dovecot() else { return };
    let smtp = SmtpServer::start(Duration::ZERO);
    let mut env = imap.env("INBOX");
    env.push(("LEADSCOUT_IMAP__POLL_SECS".into(), "3600".into()));
    env.push(("LEADSCOUT_IMAP__TIMEOUT".into(), "5s".into()));
    let (s, ids) = sent(&smtp, &PEOPLE[..1], &env);
    s.cli.start_server();
    wait_for("the watcher idles", 60, || watch_is(&s.cli, "idle"));
    let port = imap.port;
    drop(imap);
    let status = wait_for("the loss is reported", 60, || {
        watch_is(&s.cli, "reconnecting")
    });
    assert_eq!(status["connected"], false, "{status}");
    assert!(status["retry_at"].is_string(), "{status}");
    let error = status["last_error"].as_str().unwrap_or_default();
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{status}");

    // The server comes back on the same port (a fresh mailbox): the
    // watcher finds it after its back-off and reads new mail again.
    let Some(imap) = dovecot_with(&Options {
        port: Some(port),
        ..Options::default()
    }) else {
        return;
    };
    wait_for("the watcher idles again", 120, || watch_is(&s.cli, "idle"));
    let anna = "anna@anna.example";
    imap.client().append(
        "INBOX",
        &reply(anna, Some(&ids[anna]), "Re: Your website", "Call me."),
    );
    let lead = s.leads[anna].clone();
    wait_for("the reply is read after reconnecting", 60, || {
        (status_of(&s.cli, &lead) == "replied").then_some(())
    });
    let status = s.cli.json(&["inbox", "status"]);
    assert!(status.get("last_error").is_none(), "{status}");
    s.cli.stop_server();
}

/// A CA and a certificate it signed for 127.0.0.1, as PEM files.
struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (issuer, ca_pem) = ca("Inbox Test CA");
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "imap.test");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &issuer).unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca_pem).unwrap();
        std::fs::write(dir.path().join("server.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("server.key"), key.serialize_pem()).unwrap();
        // A CA that signed nothing here: the wrong one to trust.
        std::fs::write(dir.path().join("other.pem"), ca("Other CA").1).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

fn ca(name: &str) -> (rcgen::CertifiedIssuer<'static, rcgen::KeyPair>, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let issuer = rcgen::CertifiedIssuer::self_signed(params, key).unwrap();
    let pem = issuer.pem();
    (issuer, pem)
}

#[test]
fn tls_and_starttls_with_a_private_ca_and_a_wrong_ca_named() {
    let certs = Certs::new();
    let Some(imap) = dovecot_with(&Options {
        tls: Some((
            certs.dir.path().join("server.pem"),
            certs.dir.path().join("server.key"),
        )),
        ..Options::default()
    }) else {
        return;
    };
    let tls_port = imap.tls_port.unwrap().to_string();
    let plain_port = imap.port.to_string();
    let mut cli = Cli::new();
    for (k, v) in imap.env("INBOX") {
        cli = cli.env(&k, &v);
    }
    let sync = |tls: &str, port: &str, ca_file: &str| {
        cli.command(&["inbox", "sync", "--json"])
            .env("LEADSCOUT_IMAP__TLS", tls)
            .env("LEADSCOUT_IMAP__PORT", port)
            .env("LEADSCOUT_IMAP__CA_FILE", ca_file)
            .output()
            .unwrap()
    };
    imap.client().append(
        "INBOX",
        &reply("someone@else.example", None, "Hello", "Unrelated."),
    );
    for (tls, port) in [("tls", &tls_port), ("starttls", &plain_port)] {
        let out = sync(tls, port, &certs.path("ca.pem"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{tls}: {stderr}");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(report["last_uid"].as_u64() >= Some(1), "{tls}: {report}");
    }

    // The wrong CA, and none: the error names the server, the problem and
    // the key to set.
    for ca_file in [certs.path("other.pem"), String::new()] {
        for (tls, port) in [("tls", &tls_port), ("starttls", &plain_port)] {
            let out = sync(tls, port, &ca_file);
            assert_eq!(out.status.code(), Some(1), "{tls} with `{ca_file}`");
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
            assert!(err.contains("not trusted"), "{err}");
            assert!(err.contains("imap.ca_file"), "{err}");
        }
    }

    // A file that is no PEM: a config error naming the key.
    let bogus = certs.path("server.key");
    let out = sync("tls", &tls_port, &bogus);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("imap.ca_file"), "{err}");
}

/// The IDLE is ended and renewed every `imap.idle_renew` (25 minutes by
/// default; 15 s here), and the renewed IDLE still announces new mail: a
/// reply read while the renewal count stood still came through IDLE, not
/// the sync that follows each renewal (tried with up to three replies, as
/// a renewal may fall between one delivery and its reading).
#[test]
fn the_idle_is_renewed_and_still_hears_new_mail() {
    let Some(imap) = dovecot() else { return };
    let smtp = SmtpServer::start(Duration::ZERO);
    let mut env = imap.env("INBOX");
    env.push(("LEADSCOUT_IMAP__POLL_SECS".into(), "3600".into()));
    env.push(("LEADSCOUT_IMAP__IDLE_RENEW".into(), "15s".into()));
    let (s, ids) = sent(&smtp, &PEOPLE[..3], &env);
    s.cli.start_server();
    let renewals = |cli: &Cli| {
        cli.json(&["inbox", "status"])["idle_renewals"]
            .as_u64()
            .unwrap_or(0)
    };
    let status = wait_for("two IDLE renewals", 180, || {
        watch_is(&s.cli, "idle").filter(|st| st["idle_renewals"].as_u64() >= Some(2))
    });
    assert_eq!(status["connected"], true, "{status}");

    let mut provider = imap.client();
    let mut heard = false;
    for (_, email) in &PEOPLE[..3] {
        let before = renewals(&s.cli);
        provider.append(
            "INBOX",
            &reply(
                email,
                Some(&ids[*email]),
                "Re: Your website",
                "Still there?",
            ),
        );
        let lead = s.leads[*email].clone();
        wait_for("the reply is read", 60, || {
            (status_of(&s.cli, &lead) == "replied").then_some(())
        });
        if renewals(&s.cli) == before {
            heard = true;
            break;
        }
    }
    assert!(
        heard,
        "every reply waited for a renewal: the renewed IDLE is deaf"
    );
    s.cli.stop_server();
}
