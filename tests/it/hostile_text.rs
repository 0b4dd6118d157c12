//! Hostile text: what a site, an imported file or a typed field says is
//! cleaned where it enters. A planted header does not reach the evidence
//! or the email, control bytes from a page never reach the terminal, a
//! name with line breaks stays one line, and a draft that links anywhere
//! but the lead's site, its pages or the sender's is blocked with the
//! reason shown. (A model's rewrite with a foreign link: tests/it/outreach.rs.)

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use serde_json::Value;

use crate::helpers::Cli;

/// A site on loopback that answers `/` with fixed headers and body bytes
/// (anything else is a 404), so a test can plant exactly what it wants.
struct RawSite {
    port: u16,
}

impl RawSite {
    fn start(headers: &[(&str, &str)], body: &[u8]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut head = String::new();
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = body.to_vec();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (head, body) = (head.clone(), body.clone());
                std::thread::spawn(move || serve(stream, &head, &body));
            }
        });
        Self { port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

fn serve(mut stream: TcpStream, headers: &str, body: &[u8]) {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") && request.len() < 16 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => request.push(byte[0]),
            _ => return,
        }
    }
    let line = String::from_utf8_lossy(&request).to_string();
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (status, headers, body) = if path == "/" {
        ("200 OK", headers, body)
    } else {
        ("404 Not Found", "", &b"not here"[..])
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

const HTML: (&str, &str) = ("Content-Type", "text/html; charset=utf-8");

/// A campaign `c` that may fetch `sites`, with a complete sender.
fn cli_for(sites: &[&RawSite], extra_env: &[(&str, &str)]) -> Cli {
    let hosts: Vec<String> = sites
        .iter()
        .map(|s| format!("127.0.0.1:{}", s.port))
        .collect();
    let mut cli = Cli::new()
        .env("LEADSCOUT_FETCH__ALLOW_HOSTS", &hosts.join(","))
        .env("LEADSCOUT_FETCH__LINK_SAMPLE", "0")
        .with_sender();
    for (k, v) in extra_env {
        cli = cli.env(k, v);
    }
    cli.campaign("c");
    cli
}

/// Imports `csv` (header included) into `c` and runs `stages` to the end;
/// returns the lead ids in import order.
fn import_and_run(cli: &Cli, csv: &str, stages: &str) -> Vec<String> {
    let file = cli.write("leads.csv", csv);
    let imported = cli.json(&["import", file.to_str().unwrap(), "-c", "c"]);
    assert!(imported["imported"].as_u64().unwrap() > 0, "{imported}");
    cli.json(&["run", "-c", "c", "--stages", stages, "--wait"]);
    let leads = cli.json(&["leads", "list", "-c", "c"]);
    leads
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

fn evidence_of<'a>(audit: &'a Value, id: &str) -> &'a str {
    audit["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id}: {audit}"))["evidence"]
        .as_str()
        .unwrap()
}

#[test]
fn a_planted_header_reaches_neither_the_evidence_nor_the_email() {
    let planted = format!(
        "noindex. Notice to the owner: your listing expires today, pay at https://evil.example/pay{}",
        " now".repeat(60)
    );
    let json_ld = format!(
        r#"<script type="application/ld+json">{{"@type":"WebPage pay at https://evil.example/pay {}"}}</script>"#,
        "x".repeat(300)
    );
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><title>Crumbs</title>{json_ld}</head>\
         <body><h1>Crumbs bakery</h1><p>Fresh bread.</p></body></html>"
    );
    let site = RawSite::start(&[HTML, ("X-Robots-Tag", &planted)], page.as_bytes());
    // Every finding goes into the email, so every evidence line is tried.
    let cli = cli_for(&[&site], &[("LEADSCOUT_DRAFTS__TOP_FINDINGS", "20")]);
    let leads = import_and_run(
        &cli,
        &format!(
            "name,website,email\nCrumbs,{},owner@crumbs.example\n",
            site.url()
        ),
        "fetch,audit,report,draft",
    );
    let audit = cli.json(&["audit", "show", &leads[0]]);
    assert_eq!(
        evidence_of(&audit, "seo.noindex"),
        "X-Robots-Tag: noindex",
        "the rule is quoted, not the message planted next to it"
    );
    let structured = evidence_of(&audit, "seo.structured_data");
    assert!(
        structured.starts_with("JSON-LD present (WebPage pay at") && structured.ends_with('…'),
        "{structured}"
    );
    for finding in audit["findings"].as_array().unwrap() {
        let e = finding["evidence"].as_str().unwrap();
        assert!(
            e.chars().count() <= 160,
            "evidence over 160 characters: {e}"
        );
        assert!(!e.chars().any(char::is_control), "{e:?}");
    }
    let o = cli.json(&["outreach", "show", &leads[0]]);
    let body = o["body"].as_str().unwrap();
    assert!(body.contains("X-Robots-Tag: noindex"), "{body}");
    assert!(!body.contains("evil.example"), "{body}");
    assert!(body.contains("[link removed]"), "{body}");
    assert_eq!(o["blocked"], Value::Null, "nothing foreign is left: {o}");
}

#[test]
fn control_bytes_from_a_page_never_reach_the_terminal() {
    let page: &[u8] = b"<!doctype html><html lang=\"en\"><head>\
        <meta charset=\"\x1b[31mx-evil\x07\">\
        <title>Crumbs\x1b[2J\x1b]0;pwned\x07 Bakery\r\nBcc: x</title></head>\
        <body><h1>Crumbs\x07</h1><a href=\"mailto:a\x1b[31m@crumbs.example\">mail</a></body></html>";
    let site = RawSite::start(&[("Content-Type", "text/html")], page);
    let cli = cli_for(&[&site], &[]);
    let leads = import_and_run(
        &cli,
        &format!("name,website\nCrumbs,{}\n", site.url()),
        "fetch,audit",
    );
    let audit = cli.json(&["audit", "show", &leads[0]]);
    let encoding = evidence_of(&audit, "seo.encoding");
    assert!(
        encoding.starts_with("declares an unknown encoding") && encoding.contains("x-evil"),
        "{encoding}"
    );
    let json = audit.to_string();
    assert!(
        !json.contains("\\u001b") && !json.contains("\\u0007"),
        "stored clean: {json}"
    );
    for args in [
        vec!["audit", "show", leads[0].as_str()],
        vec!["leads", "show", leads[0].as_str()],
        vec!["leads", "list", "-c", "c"],
    ] {
        let out = cli.command(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !bytes.iter().any(|b| *b == 0x1b || *b == 0x07),
                "{args:?} {stream}: {}",
                String::from_utf8_lossy(bytes).escape_debug()
            );
        }
    }
}

#[test]
fn a_name_with_line_breaks_is_one_line_in_the_store_and_the_email() {
    let site = RawSite::start(
        &[HTML],
        b"<!doctype html><html lang=\"en\"><head><title>Evil</title></head><body><h1>Hi</h1></body></html>",
    );
    let cli = cli_for(&[&site], &[]);
    let leads = import_and_run(
        &cli,
        &format!(
            "name,website,email,city\n\"Evil Bakery\r\nBcc: victim@evil.example\",{},owner@evil-bakery.example,\"Ber\rlin\x07\"\n",
            site.url()
        ),
        "fetch,audit,report,draft",
    );
    let lead = cli.json(&["leads", "show", &leads[0]]);
    assert_eq!(
        lead["business_name"], "Evil Bakery Bcc: victim@evil.example",
        "{lead}"
    );
    assert_eq!(lead["city"], "Ber lin", "{lead}");
    let o = cli.json(&["outreach", "show", &leads[0]]);
    let body = o["body"].as_str().unwrap();
    assert!(
        body.contains("Hi Evil Bakery Bcc: victim@evil.example team"),
        "{body}"
    );
    assert!(
        !body.lines().any(|l| l.starts_with("Bcc:")) && !body.contains('\r'),
        "no line of its own: {body:?}"
    );

    let added = cli.json(&[
        "leads",
        "add",
        "-c",
        "c",
        "--website",
        "https://added.example",
        "--name",
        "Added\nBcc: second@evil.example",
        "--city",
        "Köln\r\n",
        "--category",
        "\x1b[31mbakery",
    ]);
    assert_eq!(
        added["business_name"], "Added Bcc: second@evil.example",
        "{added}"
    );
    assert_eq!(added["city"], "Köln", "{added}");
    assert_eq!(added["category"], "[31mbakery", "{added}");
}

#[test]
fn a_draft_linking_to_a_foreign_site_is_blocked_with_the_reason() {
    let site = RawSite::start(
        &[HTML],
        b"<!doctype html><html lang=\"en\"><head><title>Crumbs</title></head><body><h1>Hi</h1></body></html>",
    );
    let cli = cli_for(&[&site], &[]);
    let template = cli.write(
        "email.txt",
        "Subject: Hello {{ business_name }}\n\
         Hi, your site {{ website }} scores {{ score }}. Report: {{ report_url }}\n\
         Book a call: https://cal.booking.example/jane\n\
         Our work: https://portfolio.elsewhere.example/cases\n\
         {{ sender.name }}\n",
    );
    cli.ok(&[
        "settings",
        "set",
        "email.template_file",
        template.to_str().unwrap(),
        "-c",
        "c",
    ]);
    cli.ok(&[
        "settings",
        "set",
        "report.cta_url",
        "https://cal.booking.example/jane",
        "-c",
        "c",
    ]);
    let leads = import_and_run(
        &cli,
        &format!(
            "name,website,email\nCrumbs,{},owner@crumbs.example\n",
            site.url()
        ),
        "fetch,audit,report,draft",
    );
    let o = cli.json(&["outreach", "show", &leads[0]]);
    assert_eq!(o["status"], "draft", "{o}");
    let blocked = o["blocked"].as_str().unwrap_or_else(|| panic!("{o}"));
    assert!(
        blocked.contains("https://portfolio.elsewhere.example/cases")
            && !blocked.contains("cal.booking.example")
            && !blocked.contains("127.0.0.1"),
        "only the foreign link is named: {blocked}"
    );
    let shown = cli.ok(&["outreach", "show", &leads[0]]);
    assert!(
        shown.contains("blocked") && shown.contains("portfolio.elsewhere.example"),
        "{shown}"
    );
    // A blocked draft is not approved, and says why.
    let approve = cli.json(&["outreach", "approve", &leads[0]]);
    assert_eq!(approve["approved"], 0, "{approve}");
    assert!(
        approve["skipped"][0]
            .as_str()
            .is_some_and(|s| s.contains("portfolio.elsewhere.example")),
        "{approve}"
    );
    // The operator takes the link out: no longer blocked, and approved.
    let body = o["body"]
        .as_str()
        .unwrap()
        .replace("Our work: https://portfolio.elsewhere.example/cases\n", "");
    cli.edit_email(
        &leads[0],
        format!("Subject: {}\n\n{body}", o["subject"].as_str().unwrap()),
    );
    let edited = cli.json(&["outreach", "show", &leads[0]]);
    assert_eq!(edited["blocked"], Value::Null, "{edited}");
    let approve = cli.json(&["outreach", "approve", &leads[0]]);
    assert_eq!(approve["approved"], 1, "{approve}");
}
