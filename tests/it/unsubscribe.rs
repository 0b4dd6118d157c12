//! Unsubscribe links that never die: the link in mail already delivered
//! keeps working (GET shows the confirmation, the RFC 8058 one-click POST
//! acts) after the report link is revoked, re-published, re-audited or
//! expired, and links from before leadscout had unsubscribe tokens still
//! work after the upgrade. Sending refuses links recipients cannot use
//! (no public https base URL) unless the operator opted out explicitly;
//! drafting warns.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use leadscout::config::Config;
use leadscout::domain::{Clock, FixedClock, SystemClock};
use leadscout::service::{Opener, Service};
use serde_json::Value;
use tower::ServiceExt;

use crate::helpers::Cli;
use crate::report::{opener, runtime};
use crate::smtp::SmtpServer;

const EMAIL: &str = "owner@crumbs.example";

async fn answer(service: &Service, request: Request<Body>) -> (StatusCode, String) {
    let response = leadscout::web::router(service.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).to_string())
}

async fn get(service: &Service, path: &str) -> (StatusCode, String) {
    answer(service, Request::get(path).body(Body::empty()).unwrap()).await
}

/// What a mail client sends for RFC 8058 one-click unsubscribe.
async fn one_click(service: &Service, path: &str) -> (StatusCode, String) {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("List-Unsubscribe=One-Click"))
        .unwrap();
    answer(service, request).await
}

/// The confirmation page: a form that POSTs, and nothing changed yet.
async fn assert_confirmation(service: &Service, path: &str, when: &str) {
    let (status, page) = get(service, path).await;
    assert_eq!(status, StatusCode::OK, "{when}: GET {path}\n{page}");
    assert!(page.contains("method=\"post\""), "{when}: {page}");
    assert!(
        service.blacklist_list().await.unwrap().is_empty(),
        "{when}: opening the link changes nothing"
    );
}

fn report_token(cli: &Cli, lead: &str) -> String {
    let link = cli.json(&["report", "url", lead]);
    let url = link["url"].as_str().unwrap();
    url.rsplit('/').next().unwrap().to_string()
}

/// The `https://…/u/TOKEN` in a received message's List-Unsubscribe
/// header, as a path.
fn unsubscribe_path(list_unsubscribe: &str) -> String {
    let url = list_unsubscribe
        .split(',')
        .map(|part| part.trim().trim_start_matches('<').trim_end_matches('>'))
        .find(|part| part.starts_with("https://"))
        .unwrap_or_else(|| panic!("no https link in List-Unsubscribe: {list_unsubscribe}"));
    let path = &url[url.find("/u/").expect("an unsubscribe link")..];
    path.to_string()
}

/// One lead drafted, approved and sent to a real SMTP server; returns the
/// setup, the lead id and the unsubscribe path of the delivered message.
fn sent_one(smtp: &SmtpServer) -> (crate::outreach::Setup, String, String) {
    let s = crate::outreach::setup(smtp.port, &[("Crumbs Bakery", EMAIL)], &[]);
    let lead = s.leads[EMAIL].clone();
    s.cli.json(&["outreach", "approve", &lead]);
    let sent = s.cli.json(&["outreach", "send", "-c", "c"]);
    assert_eq!(sent["sent"], 1, "{sent}");
    let received = smtp.received();
    assert_eq!(received.len(), 1);
    let header = received[0]
        .header("list-unsubscribe")
        .expect("a List-Unsubscribe header");
    let path = unsubscribe_path(&header);
    // The body is quoted-printable: soft line breaks may split the link.
    assert!(
        received[0].body().replace("=\r\n", "").contains(&path),
        "the body carries the same link: {}",
        received[0].body()
    );
    (s, lead, path)
}

fn assert_unsubscribed(cli: &Cli, lead: &str) {
    let entries = cli.json(&["blacklist", "list"]);
    let values: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    assert!(values.contains(&EMAIL), "{entries}");
    let shown = cli.json(&["leads", "show", lead]);
    assert_eq!(shown["status"], "blacklisted", "{shown}");
}

#[test]
fn a_sent_messages_link_outlives_revoke_republish_reaudit_and_expiry() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let (s, lead, path) = sent_one(&smtp);
    let first_report = report_token(&s.cli, &lead);
    assert!(
        !path.contains(&first_report),
        "the unsubscribe token is not the report token: {path}"
    );
    let rt = runtime();

    let revoked = s.cli.json(&["report", "revoke", &lead]);
    assert_eq!(revoked["revoked"], true);
    rt.block_on(async {
        let service = opener(&s.cli, Config::default()).open("test").unwrap();
        let (status, _) = get(&service, &format!("/r/{first_report}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "the report link is revoked");
        assert_confirmation(&service, &path, "after revoke").await;
        service.shutdown().await;
    });

    // Re-audit and re-publish: a new report link, the same unsubscribe link.
    let summary = s
        .cli
        .json(&["run", "-c", "c", "--stages", "fetch,audit,report", "--wait"]);
    assert_eq!(summary["stages"]["report"]["succeeded"], 1, "{summary}");
    let second_report = report_token(&s.cli, &lead);
    assert_ne!(second_report, first_report);
    s.cli.ok(&["audit", "diff", &lead]);

    // A year on, past the default 180-day report expiry.
    let later = SystemClock.now() + jiff::SignedDuration::from_hours(24 * 365);
    rt.block_on(async {
        let service = opener(&s.cli, Config::default())
            .with_clock(Arc::new(FixedClock::new(later)))
            .open("test")
            .unwrap();
        let (status, _) = get(&service, &format!("/r/{second_report}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "the report link expired");
        let (status, page) = get(&service, &format!("/r/{second_report}.json")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
        assert_confirmation(&service, &path, "after expiry").await;
        let (status, page) = one_click(&service, &path).await;
        assert_eq!(status, StatusCode::OK, "one-click POST: {page}");
        assert!(page.contains("unsubscribed"), "{page}");
        service.shutdown().await;
    });
    assert_unsubscribed(&s.cli, &lead);
}

/// Rewrites the data dir as a build from before unsubscribe tokens left
/// it: schema 1, no unsubscribe trees, and the outreach's link made of the
/// report token.
fn make_pre_upgrade(cli: &Cli, report_token: &str) {
    let db = sled::open(cli.data.join("db")).unwrap();
    db.open_tree("meta")
        .unwrap()
        .insert(b"schema_version", &1u32.to_be_bytes())
        .unwrap();
    for tree in ["unsubscribe_tokens", "lead_unsubscribe"] {
        db.drop_tree(tree).unwrap();
    }
    let outreach = db.open_tree("outreach").unwrap();
    for entry in outreach.iter() {
        let (key, value) = entry.unwrap();
        assert_eq!(value[0], 1, "codec version");
        let mut record: Value = serde_json::from_slice(&value[1..]).unwrap();
        let old = format!("https://reports.agency.example/u/{report_token}");
        let new = record["unsubscribe_url"].as_str().unwrap().to_string();
        let body = record["body"].as_str().unwrap().replace(&new, &old);
        record["unsubscribe_url"] = Value::from(old);
        record["body"] = Value::from(body);
        let mut bytes = vec![1u8];
        bytes.extend(serde_json::to_vec(&record).unwrap());
        outreach.insert(key, bytes).unwrap();
    }
    db.flush().unwrap();
}

#[test]
fn links_from_before_the_upgrade_keep_working() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let (s, lead, _) = sent_one(&smtp);
    let old_token = report_token(&s.cli, &lead);
    make_pre_upgrade(&s.cli, &old_token);
    let old_path = format!("/u/{old_token}");
    let shown = s.cli.json(&["outreach", "show", &lead]);
    assert!(
        shown["unsubscribe_url"]
            .as_str()
            .unwrap()
            .ends_with(&old_path),
        "{shown}"
    );
    // The old token stops being a report link three ways; the mail's
    // unsubscribe link goes on working after each.
    s.cli.json(&["report", "revoke", &lead]);
    let rt = runtime();
    rt.block_on(async {
        let service = opener(&s.cli, Config::default()).open("test").unwrap();
        let (status, _) = get(&service, &format!("/r/{old_token}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "revoked");
        assert_confirmation(&service, &old_path, "old link after revoke").await;
        // The report page now offers the lead's own token.
        let (link, _) = service.report_link(&lead).await.unwrap();
        let (status, data) = get(&service, &format!("/r/{}.json", link.token)).await;
        assert_eq!(status, StatusCode::OK);
        let data: Value = serde_json::from_str(&data).unwrap();
        let own = data["unsubscribe_path"].as_str().unwrap().to_string();
        assert_ne!(own, old_path);
        assert_confirmation(&service, &own, "the lead's own link").await;
        service.shutdown().await;
    });
    let later = SystemClock.now() + jiff::SignedDuration::from_hours(24 * 365);
    rt.block_on(async {
        let service = opener(&s.cli, Config::default())
            .with_clock(Arc::new(FixedClock::new(later)))
            .open("test")
            .unwrap();
        assert_confirmation(&service, &old_path, "old link after expiry").await;
        let (status, page) = one_click(&service, &old_path).await;
        assert_eq!(status, StatusCode::OK, "one-click POST: {page}");
        assert!(page.contains("unsubscribed"), "{page}");
        service.shutdown().await;
    });
    assert_unsubscribed(&s.cli, &lead);
}

#[test]
fn sending_refuses_links_recipients_cannot_use_unless_opted_out() {
    let smtp = SmtpServer::start(Duration::ZERO);
    // No public base URL: links point at the local page server.
    let s = crate::outreach::setup(
        smtp.port,
        &[("Crumbs Bakery", EMAIL)],
        &[("LEADSCOUT_SERVER__PUBLIC_BASE_URL", "")],
    );
    let lead = s.leads[EMAIL].clone();
    let draft = s.cli.json(&["outreach", "show", &lead]);
    assert_eq!(draft["status"], "draft", "drafting goes on: {draft}");
    assert!(
        draft["unsubscribe_url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"),
        "{draft}"
    );
    let note = draft["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("server.public_base_url is not set"),
        "the draft warns: {draft}"
    );
    s.cli.json(&["outreach", "approve", &lead]);

    // The dry run says the same, as what would stop the real send (exit 3).
    let out = s
        .cli
        .command(&["outreach", "send", "-c", "c", "--dry-run"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(
        said.contains("the real send would stop")
            && said.contains("server.public_base_url")
            && said.contains("sending.allow_local_unsubscribe_links"),
        "says what to set: {said}"
    );
    for (args, base) in [
        (vec!["outreach", "send", "-c", "c"], ""),
        (vec!["outreach", "send", "-c", "c"], "http://127.0.0.1:8080"),
        (
            vec!["outreach", "send", "-c", "c"],
            "http://reports.agency.example",
        ),
    ] {
        let out = s
            .cli
            .command(&args)
            .env("LEADSCOUT_SERVER__PUBLIC_BASE_URL", base)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?} with `{base}`: {err}");
        assert!(
            err.contains("server.public_base_url")
                && err.contains("sending.allow_local_unsubscribe_links"),
            "says what to set: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    // Setting the public address later does not fix the link already in
    // the approved text: that email is named and refused too.
    let out = s
        .cli
        .command(&["outreach", "send", "-c", "c"])
        .env(
            "LEADSCOUT_SERVER__PUBLIC_BASE_URL",
            "https://reports.agency.example",
        )
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("1 approved email") && err.contains(&lead) && err.contains("127.0.0.1"),
        "names the email with the local link: {err}"
    );
    assert!(smtp.received().is_empty(), "nothing was sent");
    let shown = s.cli.json(&["outreach", "show", &lead]);
    assert_eq!(shown["status"], "approved", "{shown}");

    // The explicit opt-out, as tests and the offline demo use it.
    let cli = s.cli.allow_local_unsubscribe_links();
    let sent = cli.json(&["outreach", "send", "-c", "c"]);
    assert_eq!(sent["sent"], 1, "{sent}");
    assert_eq!(smtp.received().len(), 1);
}
