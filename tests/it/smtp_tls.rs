//! TLS to the mail server, proven against a real TLS SMTP server on
//! loopback with a throw-away CA: STARTTLS and implicit TLS with AUTH
//! deliver, an untrusted certificate and a certificate for another name are
//! refused with an error that says which (and nothing is sent), a server
//! that does not speak TLS (or does not offer STARTTLS) is named as such
//! and never gets the login in clear text, and the password shows up
//! nowhere: not in errors, output, logs, the action log or the store.

use std::time::Duration;

use base64::Engine as _;
use leadscout::config::{SmtpConfig, SmtpTls};
use leadscout::domain::{Email, Secret};
use leadscout::pipeline::send::{Mailer, Outgoing, SendError, build};

use crate::helpers::files_under;
use crate::smtp_tls_server::{Mode, TestCa, TlsSmtpServer};

const USER: &str = "mailer@agency.example";
const PASSWORD: &str = "pw-Kx7#q9-leakcheck";

fn config(port: u16, tls: SmtpTls, ca_file: &str) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls,
        username: USER.into(),
        timeout: Duration::from_secs(20),
        ca_file: ca_file.into(),
        ..SmtpConfig::default()
    }
}

fn message(to: &str, body: &str) -> Outgoing {
    Outgoing {
        from_name: "Jane Doe".into(),
        from: Email::parse("jane@agency.example").unwrap(),
        reply_to: None,
        to: Email::parse(to).unwrap(),
        subject: "Your site".into(),
        body: body.into(),
        message_id: "<tls-test@agency.example>".into(),
        unsubscribe_url: "https://reports.agency.example/u/abc".into(),
        unsubscribe_mailto: Email::parse("jane@agency.example").unwrap(),
    }
}

/// `check`, then `send`: what the sender does.
fn deliver(config: &SmtpConfig, password: &str, to: &str, body: &str) -> Result<(), SendError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mailer =
            Mailer::new(config, Some(Secret::new(password))).map_err(SendError::Invalid)?;
        mailer.check().await?;
        mailer.send(build(&message(to, body))?).await
    })
}

fn ca_file(dir: &tempfile::TempDir, ca: &TestCa) -> String {
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, &ca.pem).unwrap();
    path.display().to_string()
}

/// The password and the forms it takes on the wire.
fn leaks(text: &str) -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    [
        PASSWORD.to_string(),
        b64(PASSWORD),
        b64(&format!("\0{USER}\0{PASSWORD}")),
    ]
    .into_iter()
    .filter(|p| text.contains(p.as_str()))
    .collect()
}

#[test]
fn starttls_and_implicit_tls_with_login_deliver() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("leadscout test CA");
    let ca_path = ca_file(&dir, &ca);
    for (mode, tls) in [
        (Mode::Starttls, SmtpTls::Starttls),
        (Mode::Implicit, SmtpTls::Tls),
    ] {
        let server = TlsSmtpServer::start(
            mode,
            ca.acceptor(&["localhost", "127.0.0.1"]),
            USER,
            PASSWORD,
        );
        let mut config = config(server.port, tls, &ca_path);
        deliver(&config, PASSWORD, "owner@crumbs.example", "Hello over TLS.")
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        // The certificate names both; the host name works too.
        config.host = "localhost".into();
        deliver(&config, PASSWORD, "second@crumbs.example", "Again.")
            .unwrap_or_else(|e| panic!("{mode:?} via localhost: {e}"));

        let got = server.delivered();
        assert_eq!(got.len(), 2, "{mode:?}: {got:?}");
        assert_eq!(got[0].to, ["owner@crumbs.example"], "{mode:?}");
        assert_eq!(got[0].from, "jane@agency.example", "{mode:?}");
        assert!(
            got[0].data.contains("Hello over TLS."),
            "{mode:?}: {}",
            got[0].data
        );
        assert_eq!(got[1].to, ["second@crumbs.example"], "{mode:?}");
        for d in &got {
            assert_eq!(
                d.login,
                (USER.to_string(), PASSWORD.to_string()),
                "{mode:?}"
            );
            assert_eq!(d.mechanism, "PLAIN", "{mode:?}");
        }
        // check and send each connect, and each connection was TLS.
        assert!(
            server.handshakes() >= 4,
            "{mode:?}: {}",
            server.handshakes()
        );
    }
}

#[test]
fn an_untrusted_certificate_is_refused_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("leadscout test CA");
    let other = TestCa::new("somebody else's CA");
    let other_path = ca_file(&dir, &other);
    for (mode, tls) in [
        (Mode::Starttls, SmtpTls::Starttls),
        (Mode::Implicit, SmtpTls::Tls),
    ] {
        let server = TlsSmtpServer::start(mode, ca.acceptor(&["127.0.0.1"]), USER, PASSWORD);
        // No ca_file: the system's CAs do not know ours.
        let err = deliver(&config(server.port, tls, ""), PASSWORD, "a@b.example", "x")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("certificate is not trusted (issued by an unknown CA)")
                && err.contains("set smtp.ca_file"),
            "{mode:?}: {err}"
        );
        // A ca_file with another CA: same refusal, naming the file.
        let err = deliver(
            &config(server.port, tls, &other_path),
            PASSWORD,
            "a@b.example",
            "x",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("not trusted") && err.contains(&other_path),
            "{mode:?}: {err}"
        );
        assert!(leaks(&err).is_empty(), "{err}");
        assert!(server.delivered().is_empty(), "{mode:?}: nothing is sent");
    }
}

#[test]
fn a_certificate_for_another_name_is_refused_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("leadscout test CA");
    let ca_path = ca_file(&dir, &ca);
    for (mode, tls) in [
        (Mode::Starttls, SmtpTls::Starttls),
        (Mode::Implicit, SmtpTls::Tls),
    ] {
        let server =
            TlsSmtpServer::start(mode, ca.acceptor(&["mail.other.example"]), USER, PASSWORD);
        let err = deliver(
            &config(server.port, tls, &ca_path),
            PASSWORD,
            "a@b.example",
            "x",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("its certificate is for mail.other.example, not 127.0.0.1")
                && err.contains("smtp.host"),
            "{mode:?}: {err}"
        );
        assert!(server.delivered().is_empty(), "{mode:?}: nothing is sent");
    }
}

#[test]
fn a_refused_login_and_a_server_without_tls_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("leadscout test CA");
    let ca_path = ca_file(&dir, &ca);
    let server = TlsSmtpServer::start(
        Mode::Starttls,
        ca.acceptor(&["127.0.0.1"]),
        USER,
        "the-right-one",
    );
    // The server echoes the refused password; the error must not.
    let config = config(server.port, SmtpTls::Starttls, &ca_path);
    let err = deliver(&config, PASSWORD, "a@b.example", "x")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("refused the login of smtp.username `mailer@agency.example`")
            && err.contains("LEADSCOUT_SMTP_PASSWORD")
            && err.contains("[redacted]"),
        "{err}"
    );
    assert_eq!(leaks(&err), Vec::<String>::new(), "{err}");

    // No login set up, and the server wants one: a retry later, not a
    // failed recipient.
    let mut anonymous = config.clone();
    anonymous.username.clear();
    match deliver(&anonymous, "", "a@b.example", "x") {
        Err(SendError::Later(err)) => assert!(
            err.contains("wants a login") && err.contains("set smtp.username"),
            "{err}"
        ),
        other => panic!("{other:?}"),
    }

    // Implicit TLS against a server that starts in plain text.
    let mut tls = config.clone();
    tls.tls = SmtpTls::Tls;
    let err = deliver(&tls, PASSWORD, "a@b.example", "x")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("did not answer in TLS") && err.contains("smtp.tls = \"starttls\""),
        "{err}"
    );
    assert!(server.delivered().is_empty());

    // STARTTLS required, and the server does not offer it: no fallback
    // to clear text, the login is never sent.
    let plain = TlsSmtpServer::start(Mode::Plain, ca.acceptor(&["127.0.0.1"]), USER, PASSWORD);
    let mut starttls = config.clone();
    starttls.port = plain.port;
    let err = deliver(&starttls, PASSWORD, "a@b.example", "x")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("does not offer STARTTLS") && err.contains("smtp.tls = \"tls\""),
        "{err}"
    );
    assert_eq!(plain.clear_logins(), 0);
    assert!(plain.delivered().is_empty());
}

/// The real binary: `outreach send` over STARTTLS with a login, first
/// without the CA (refused, nothing sent, the email stays approved), then
/// through `serve` with `smtp.ca_file` (delivered under the right login).
/// Afterwards the password is nowhere: not in any command's output, the
/// server's log, the action log or any file under the data dir.
#[test]
fn outreach_send_over_starttls_with_a_private_ca_and_no_password_anywhere() {
    let certs = tempfile::tempdir().unwrap();
    let ca = TestCa::new("leadscout test CA");
    let ca_path = ca_file(&certs, &ca);
    let server = TlsSmtpServer::start(
        Mode::Starttls,
        ca.acceptor(&["localhost", "127.0.0.1"]),
        USER,
        PASSWORD,
    );
    // The unsubscribe links are https (setup sets server.public_base_url),
    // so sending's rule against local unsubscribe links does not apply.
    let s = crate::outreach::setup(
        server.port,
        &[("Crumbs Bakery", "owner@crumbs.example")],
        &[
            ("LEADSCOUT_SMTP__TLS", "starttls"),
            ("LEADSCOUT_SMTP__USERNAME", USER),
            ("LEADSCOUT_SMTP_PASSWORD", PASSWORD),
            ("LEADSCOUT_SMTP__CA_FILE", &ca_path),
            ("LEADSCOUT_LOG__LEVEL", "debug"),
        ],
    );
    let lead = s.leads["owner@crumbs.example"].clone();
    let status = |cli: &crate::helpers::Cli| {
        cli.json(&["outreach", "show", &lead])["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut seen = String::new();
    let approved = s.cli.json(&["outreach", "approve", &lead]);
    assert_eq!(approved["approved"], 1, "{approved}");

    let out = s
        .cli
        .command(&["-vv", "outreach", "send", "-c", "c"])
        .env("LEADSCOUT_SMTP__CA_FILE", "")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    seen.push_str(&err);
    seen.push_str(&String::from_utf8_lossy(&out.stdout));
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("certificate is not trusted (issued by an unknown CA)")
            && err.contains("smtp.ca_file")
            && err.contains("nothing was sent"),
        "{err}"
    );
    assert!(server.delivered().is_empty());
    assert_eq!(status(&s.cli), "approved");

    s.cli.start_server();
    let out = s
        .cli
        .command(&["-vv", "outreach", "send", "-c", "c", "--json"])
        .output()
        .unwrap();
    seen.push_str(&String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    seen.push_str(&stdout);
    assert!(out.status.success(), "{seen}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["sent"], 1, "{summary}");
    assert_eq!(status(&s.cli), "sent");
    let got = server.delivered();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].to, ["owner@crumbs.example"]);
    assert_eq!(got[0].login, (USER.to_string(), PASSWORD.to_string()));
    assert!(
        got[0].data.contains("Hauptstr. 1, 10115 Berlin"),
        "{}",
        got[0].data
    );
    let log = s.cli.ok(&["log", "--json"]);
    assert!(log.contains("outreach"), "{log}");
    seen.push_str(&log);
    s.cli.stop_server();

    assert_eq!(leaks(&seen), Vec::<String>::new(), "{seen}");
    for file in files_under(s.cli.root.path()) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert_eq!(leaks(&text), Vec::<String>::new(), "{}", file.display());
    }
    assert!(
        s.cli.path("serve.log").exists(),
        "the server's log was searched too"
    );
}
