//! The fetch and audit stages against the hostile server: every case ends
//! within the limits with a clear audit result or a clear reason, and the
//! run goes on with the next lead. Without an allowance, loopback sites are
//! refused outright.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::Cli;
use crate::hostile::{ALL, Case, HostileServer};

fn setup(server: &HostileServer, allow: bool) -> Cli {
    let mut cli = Cli::new()
        .env("LEADSCOUT_FETCH__TIMEOUT", "3s")
        .env("LEADSCOUT_FETCH__MAX_BODY_MB", "1")
        .env("LEADSCOUT_FETCH__LINK_SAMPLE", "2")
        .env("LEADSCOUT_STAGES__FETCH__MAX_ATTEMPTS", "1")
        .env("LEADSCOUT_STAGES__FETCH__CONCURRENCY", "4");
    if allow {
        cli = cli.env("LEADSCOUT_FETCH__ALLOW_HOSTS", &server.allow_hosts());
    }
    cli.campaign("c");
    let mut csv = String::from("name,website\n");
    for case in ALL {
        csv.push_str(&format!("{case:?},{}\n", server.url(case)));
    }
    let file = cli.write("leads.csv", csv);
    let report = cli.json(&["import", file.to_str().unwrap(), "-c", "c"]);
    assert_eq!(report["imported"], ALL.len());
    cli
}

/// Business name → (fetch job, audit job if any).
fn jobs_by_case(cli: &Cli) -> HashMap<String, (Value, Option<Value>)> {
    let leads = cli.json(&["leads", "list", "-c", "c"]);
    let mut out = HashMap::new();
    for lead in leads.as_array().unwrap() {
        let jobs = cli.json(&["jobs", "list", "--lead", lead["id"].as_str().unwrap()]);
        let find = |stage: &str| {
            jobs.as_array()
                .unwrap()
                .iter()
                .find(|j| j["stage"] == stage)
                .cloned()
        };
        out.insert(
            lead["business_name"].as_str().unwrap().to_string(),
            (find("fetch").expect("a fetch job"), find("audit")),
        );
    }
    out
}

fn check<'a>(audit: &'a Value, id: &str) -> Option<&'a Value> {
    audit["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
}

#[test]
fn every_hostile_case_ends_within_the_limits_with_a_clear_result() {
    let server = HostileServer::start();
    let cli = setup(&server, true);
    let started = Instant::now();
    let out = cli.run(&[
        "run",
        "-c",
        "c",
        "--stages",
        "fetch,audit",
        "--wait",
        "--json",
    ]);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(60),
        "the run took {elapsed:?}"
    );
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(
        summary["stages"]["fetch"]["succeeded"].as_u64().unwrap()
            + summary["stages"]["fetch"]["failed"].as_u64().unwrap()
            + summary["stages"]["fetch"]["dead"].as_u64().unwrap(),
        ALL.len() as u64,
        "{summary}"
    );

    let jobs = jobs_by_case(&cli);
    let error = |case: Case| {
        jobs[&format!("{case:?}")].0["last_error"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let status = |case: Case| {
        jobs[&format!("{case:?}")].0["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let audit = |case: Case| cli.json(&["audit", "show", &server.url(case)]);

    // Cut off at the limit, still audited.
    for case in [Case::GzipBomb, Case::ZstdBomb, Case::Endless] {
        assert_eq!(status(case), "succeeded", "{case:?}: {}", error(case));
        let a = audit(case);
        assert_eq!(a["bytes_decoded"], 1024 * 1024, "{case:?} is cut at 1 MiB");
        let size = check(&a, "performance.html_size").unwrap_or_else(|| panic!("{case:?}: {a}"));
        assert!(
            size["evidence"]
                .as_str()
                .unwrap()
                .contains("cut off at the download limit"),
            "{size}"
        );
    }
    assert!(
        audit(Case::GzipBomb)["bytes_wire"].as_u64().unwrap() < 1024 * 1024,
        "the bomb is small on the wire"
    );

    // Refused or failed, with the reason.
    let expectations = [
        (Case::Trickle, "did not finish within 3s"),
        (Case::RedirectLoop, "redirects in a loop"),
        (
            Case::RedirectMetadata,
            "169.254.169.254 is a link-local (cloud metadata) address; leadscout does not fetch such addresses, not even with fetch.allow_private",
        ),
        (
            Case::BigHeader,
            "sent a response head far too large, over the 65536-byte limit",
        ),
        (Case::Reset, "cannot connect"),
    ];
    for (case, expected) in expectations {
        assert_ne!(status(case), "succeeded", "{case:?}");
        assert!(
            error(case).contains(expected),
            "{case:?}: `{}` should mention `{expected}`",
            error(case)
        );
    }
    let local = error(Case::RedirectLocal);
    assert!(
        local.contains(&format!(
            "refused http://127.0.0.1:{}/secret",
            server.secret_port
        )) && local.contains("loopback"),
        "{local}"
    );
    assert!(
        !server.secret_touched.load(Ordering::SeqCst),
        "a redirect reached the port that was not allowed"
    );

    // Audited, with the problem as a finding.
    let a = audit(Case::InvalidUtf8);
    assert!(
        check(&a, "seo.encoding").unwrap()["evidence"]
            .as_str()
            .unwrap()
            .starts_with("invalid bytes for UTF-8")
    );
    let a = audit(Case::Pdf);
    assert_eq!(
        check(&a, "seo.html").unwrap()["evidence"],
        "the server sent a PDF document (labelled text/html; charset=utf-8)"
    );
    let a = audit(Case::ServerError);
    assert!(
        check(&a, "seo.status").unwrap()["evidence"]
            .as_str()
            .unwrap()
            .ends_with("answered HTTP 500")
    );
    let a = audit(Case::SelfSignedTls);
    assert!(
        check(&a, "security.certificate").is_some(),
        "self-signed certificate reported: {a}"
    );
    assert!(
        a["timings"]["connect_ms"].as_u64().unwrap() >= 40,
        "the slow handshake shows in the connect time: {}",
        a["timings"]
    );
    let a = audit(Case::Ok);
    assert_eq!(a["status"], 200);
    assert_eq!(status(Case::Ok), "succeeded");
}

#[test]
fn without_an_allowance_loopback_sites_are_refused_with_how_to_allow_them() {
    let server = HostileServer::start();
    let cli = setup(&server, false);
    let out = cli.run(&["run", "-c", "c", "--stages", "fetch", "--wait", "--json"]);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["stages"]["fetch"]["failed"], ALL.len(), "{summary}");
    let failed = cli.json(&["jobs", "list", "--status", "failed"]);
    for job in failed.as_array().unwrap() {
        let error = job["last_error"].as_str().unwrap();
        assert!(
            error.contains("a loopback address") && error.contains("fetch.allow_hosts"),
            "{error}"
        );
        assert_eq!(job["attempts"], 1, "refusals are permanent, not retried");
    }
    assert_eq!(
        cli.json(&["leads", "list", "-c", "c", "--status", "failed"])
            .as_array()
            .unwrap()
            .len(),
        ALL.len()
    );
}

#[test]
fn a_reaudit_keeps_history_and_shows_what_changed() {
    let before = "<html><head><title>Joe's Plumbing in Berlin</title></head><body><h1>Joe</h1><p>Call 030 1234567</p></body></html>";
    let after = "<html lang=\"en\"><head><meta name=\"viewport\" content=\"width=device-width\"></head><body><h1>Joe</h1><p>Call 030 1234567</p></body></html>";
    let site = crate::hostile::SwitchSite::start(before);
    let cli = Cli::new().env(
        "LEADSCOUT_FETCH__ALLOW_HOSTS",
        &format!("[\"127.0.0.1:{}\"]", site.port),
    );
    cli.campaign("c");
    cli.ok(&[
        "leads",
        "add",
        "-c",
        "c",
        "--website",
        &site.url(),
        "--name",
        "Joe",
    ]);
    cli.ok(&["run", "-c", "c", "--stages", "fetch,audit", "--wait"]);
    let first = cli.json(&["audit", "show", &site.url()]);
    let err = cli.fails(&["audit", "diff", &site.url()]);
    assert!(err.contains("has been audited once"), "{err}");

    site.set(after);
    cli.ok(&["run", "-c", "c", "--stages", "fetch,audit", "--wait"]);
    let second = cli.json(&["audit", "show", &site.url()]);
    assert_eq!(second["audits"], 2);
    let diff = cli.json(&["audit", "diff", &site.url()]);
    let has = |list: &str, id: &str| diff[list].as_array().unwrap().iter().any(|v| v == id);
    assert!(
        has("fixed", "mobile.viewport") && has("fixed", "accessibility.lang"),
        "{diff}"
    );
    assert!(has("new", "seo.title.present"), "{diff}");
    assert!(has("unchanged", "seo.meta_description.present"), "{diff}");
    let delta = diff["overall_delta"].as_i64().unwrap();
    assert_eq!(
        delta,
        second["scores"]["overall"].as_i64().unwrap()
            - first["scores"]["overall"].as_i64().unwrap()
    );
    let lead = cli.json(&["leads", "show", &site.url()]);
    assert_eq!(
        lead["score"], second["scores"]["overall"],
        "the lead's score is the latest overall score"
    );
    assert_eq!(lead["status"], "audited");
}

/// `fetch.allow_private` opens loopback and private networks for tests and
/// intranets, never link-local (cloud metadata) addresses.
#[test]
fn allow_private_never_admits_cloud_metadata() {
    let cli = Cli::new()
        .env("LEADSCOUT_FETCH__ALLOW_PRIVATE", "true")
        .env("LEADSCOUT_FETCH__TIMEOUT", "3s")
        .env("LEADSCOUT_STAGES__FETCH__MAX_ATTEMPTS", "1");
    cli.campaign("c");
    cli.ok(&[
        "leads",
        "add",
        "-c",
        "c",
        "--website",
        "http://169.254.169.254/latest/meta-data/",
        "--name",
        "Metadata",
    ]);
    cli.run(&["run", "-c", "c", "--stages", "fetch", "--wait", "--json"]);
    let failed = cli.json(&["jobs", "list", "--status", "failed"]);
    let errors: Vec<&str> = failed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|j| j["last_error"].as_str())
        .collect();
    assert_eq!(errors.len(), 1, "{failed}");
    assert!(
        errors[0].contains("169.254.169.254 is a link-local (cloud metadata) address")
            && errors[0].contains("not even with fetch.allow_private")
            && errors[0].contains("fetch.allow_hosts"),
        "{}",
        errors[0]
    );
}
