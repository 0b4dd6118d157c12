//! The inbox: a mailbox of 10,000 messages read by `leadscout inbox sync`
//! for the first time (target: ≤ 10 s) and read again with no new mail
//! (target: ≤ 1 s), against Debian's dovecot on loopback.
//!
//! The mailbox is written as a Maildir directly (10,000 files in `cur/`),
//! so filling it costs nothing measured; dovecot indexes it during the
//! first sync, which is part of the figure, as it would be for an operator.
//! The mix: 1,000 replies matched by In-Reply-To, 1,000 replies matched by
//! the sender's address, 1,000 RFC 3464 hard bounces, 1,000 auto-replies
//! and 6,000 unrelated messages, over 2,000 imported leads whose sent
//! Message-IDs are indexed as a send would index them.
//!
//! `cargo bench --bench inbox` (needs `apt install dovecot-imapd`; runs as
//! root, since dovecot's mail session runs as `nobody`).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{generated_csv, machine, measure};

const DOVECOT: &str = "/usr/sbin/dovecot";
const MESSAGES: usize = 10_000;
const LEADS: usize = 2_000;

struct Dovecot {
    port: u16,
    _dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SAFETY: a signal to our own child.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

fn chown_all(path: &Path) {
    std::os::unix::fs::chown(path, Some(65534), Some(65534)).expect("chown");
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read dir") {
            chown_all(&entry.expect("entry").path());
        }
    }
}

/// dovecot on a free loopback port over a Maildir holding `messages`.
fn dovecot(messages: &[String]) -> Dovecot {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::set_permissions(root, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let home = root.join("home");
    let cur = home.join("jane/Maildir/cur");
    std::fs::create_dir_all(&cur).expect("maildir");
    for sub in ["new", "tmp"] {
        std::fs::create_dir_all(home.join("jane/Maildir").join(sub)).expect("maildir");
    }
    for (i, message) in messages.iter().enumerate() {
        let body = message.replace('\n', "\r\n");
        let name = format!("{}.M{i}P1.bench,S={}:2,", 1_700_000_000 + i, body.len());
        std::fs::write(cur.join(name), body).expect("write message");
    }
    chown_all(&home);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let d = root.display();
    let conf = format!(
        "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
protocols = imap\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n\
auth_mechanisms = plain login\ndefault_internal_user = nobody\n\
default_internal_group = nogroup\ndefault_login_user = nobody\n\
mail_location = maildir:~/Maildir\n\
passdb {{\n  driver = static\n  args = password=secret\n}}\n\
userdb {{\n  driver = static\n  args = uid=65534 gid=65534 home={d}/home/%u\n}}\n\
service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
service anvil {{\n  chroot =\n}}\n"
    );
    std::fs::write(root.join("dovecot.conf"), conf).expect("write conf");
    let child = Command::new(DOVECOT)
        .args(["-F", "-c"])
        .arg(root.join("dovecot.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dovecot");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "dovecot did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    Dovecot {
        port,
        _dir: dir,
        child,
    }
}

fn sent_id(k: usize) -> String {
    format!("<bench-{k}@leadscout.test>")
}

fn address(k: usize) -> String {
    // The addresses `generated_csv` gives its leads.
    format!("info@biz{k}.example")
}

fn headers(from: &str, subject: &str, i: usize, extra: &str) -> String {
    format!(
        "From: {from}\nTo: jane@agency.example\nSubject: {subject}\n\
Date: Mon, 23 Nov 2026 10:{:02}:00 +0000\nMessage-ID: <m{i}@mail.example>\n{extra}\
Content-Type: text/plain; charset=utf-8\n",
        i % 60
    )
}

/// Message `i` of the mailbox.
fn message(i: usize) -> String {
    let k = (i / 10) % LEADS;
    match i % 10 {
        0 => format!(
            "{}\nThanks, let us talk next week.\n\n> Hello, I looked at your website.\n",
            headers(
                &address(k),
                "Re: Your website",
                i,
                &format!("In-Reply-To: {0}\nReferences: {0}\n", sent_id(k))
            )
        ),
        1 => format!(
            "{}\nSounds good, call me.\n",
            headers(&address(k + 1), "Your website", i, "")
        ),
        2 => {
            let to = address(k + 2);
            format!(
                "From: Mail Delivery System <MAILER-DAEMON@mx.agency.example>\n\
To: jane@agency.example\nSubject: Undelivered Mail Returned to Sender\n\
Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <dsn{i}@mx.agency.example>\n\
Auto-Submitted: auto-replied\nMIME-Version: 1.0\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"BB\"\n\n\
--BB\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n\
--BB\nContent-Type: message/delivery-status\n\n\
Reporting-MTA: dns; mx.agency.example\n\n\
Final-Recipient: rfc822; {to}\nAction: failed\nStatus: 5.1.1\n\
Diagnostic-Code: smtp; 550 5.1.1 no such mailbox\n\n\
--BB\nContent-Type: message/rfc822\n\n\
From: Jane Doe <jane@agency.example>\nTo: {to}\nSubject: Your website\n\
Message-ID: {}\n\nHello.\n--BB--\n",
                sent_id(k + 2)
            )
        }
        3 => format!(
            "{}\nI am out of the office until 2026-12-09.\n",
            headers(
                &address(k + 3),
                "Out of office: Your website",
                i,
                &format!("X-Autoreply: yes\nIn-Reply-To: {}\n", sent_id(k + 3))
            )
        ),
        _ => format!(
            "{}\nYour invoice for November is attached.\n{}\n",
            headers("billing@supplier.example", "Invoice", i, ""),
            "Line of an ordinary newsletter or invoice text. ".repeat(20)
        ),
    }
}

fn main() {
    if !Path::new(DOVECOT).exists() {
        eprintln!("skipped: {DOVECOT} is not installed (apt-get install dovecot-imapd)");
        return;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let data = work.path().join("data");
    let csv = work.path().join("leads.csv");
    std::fs::write(&csv, generated_csv(LEADS + 10)).expect("write csv");
    measure(&data, &["campaign", "create", "Bench", "--slug", "bench"]);
    measure(
        &data,
        &[
            "import",
            csv.to_str().expect("utf-8"),
            "--campaign",
            "bench",
        ],
    );
    // The Message-IDs a send would have indexed, one per lead.
    {
        let store = leadscout::store::Store::open(&data, "bench").expect("open store");
        let mut by_address = std::collections::HashMap::new();
        for lead in store.all_leads() {
            let lead = lead.expect("lead");
            if let Some(email) = &lead.email {
                by_address.insert(email.to_string(), lead.id);
            }
        }
        for k in 0..LEADS + 10 {
            if let Some(lead) = by_address.get(&address(k)) {
                store.index_message_id(&sent_id(k), *lead).expect("index");
            }
        }
        store.flush_blocking().expect("flush");
    }

    let filled = Instant::now();
    let messages: Vec<String> = (0..MESSAGES).map(message).collect();
    let server = dovecot(&messages);
    eprintln!(
        "mailbox of {MESSAGES} messages written in {:.2} s",
        filled.elapsed().as_secs_f64()
    );
    let port = server.port.to_string();
    // SAFETY: set before any thread of this process reads the environment.
    unsafe {
        for (k, v) in [
            ("LEADSCOUT_IMAP__HOST", "127.0.0.1"),
            ("LEADSCOUT_IMAP__PORT", port.as_str()),
            ("LEADSCOUT_IMAP__TLS", "none"),
            ("LEADSCOUT_IMAP__USERNAME", "jane"),
            ("LEADSCOUT_IMAP__PASSWORD_ENV", "BENCH_IMAP_PASSWORD"),
            ("BENCH_IMAP_PASSWORD", "secret"),
        ] {
            std::env::set_var(k, v);
        }
    }
    let first = measure(&data, &["inbox", "sync", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).expect("json");
    let second = measure(&data, &["inbox", "sync", "--json"]);
    let again: serde_json::Value = serde_json::from_slice(&second.stdout).expect("json");
    assert_eq!(report["new_messages"], MESSAGES, "{report}");
    assert_eq!(again["new_messages"], 0, "{again}");
    println!("machine: {}", machine());
    println!("first sync report: {report}");
    println!(
        "first sync of {MESSAGES} messages: {:.2} s wall, {} MiB peak RSS (target ≤ 10 s)",
        first.wall.as_secs_f64(),
        first.max_rss_kib / 1024
    );
    println!(
        "re-sync with no new mail: {:.3} s wall, {} MiB peak RSS (target ≤ 1 s)",
        second.wall.as_secs_f64(),
        second.max_rss_kib / 1024
    );
}
