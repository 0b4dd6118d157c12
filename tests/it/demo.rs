//! `leadscout demo --headless`: the bundled sites go through the whole
//! pipeline offline; every lead gets a report and the strong site scores
//! highest.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::Cli;

#[test]
fn the_headless_demo_reports_on_every_site() {
    let cli = Cli::new().env("LEADSCOUT_SERVER__BIND", "127.0.0.1:0");
    let started = Instant::now();
    let out = cli.run(&["demo", "--headless", "--json"]);
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "demo failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        elapsed < Duration::from_secs(120),
        "the demo took {elapsed:?}"
    );
    let rows: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    let rows = rows.as_array().unwrap();
    let sites: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/demo-sites/sites.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(rows.len(), sites.as_array().unwrap().len(), "{rows:?}");
    assert!(rows.len() >= 10);
    for row in rows {
        assert!(
            row["report_url"]
                .as_str()
                .is_some_and(|u| u.contains("/r/")),
            "{row}"
        );
        assert!(
            row["top_problem"].is_string() || row["business"] == "Nordlicht Physiotherapie",
            "{row}"
        );
    }
    // Served over https with the demo's own certificate, no site tops its
    // list with "not served over HTTPS": each shows its own worst problem.
    let tops: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["top_problem"].as_str())
        .collect();
    assert!(
        !tops.contains(&"The site is not served over HTTPS"),
        "{tops:?}"
    );
    let distinct: std::collections::BTreeSet<&str> = tops.iter().copied().collect();
    assert!(
        distinct.len() * 2 > tops.len(),
        "the sites' top problems differ: {tops:?}"
    );
    assert_eq!(
        rows[0]["business"], "Nordlicht Physiotherapie",
        "the strong site scores highest: {rows:?}"
    );
    let top = rows[0]["score"].as_u64().unwrap();
    assert!(
        rows[1..].iter().all(|r| r["score"].as_u64().unwrap() < top),
        "{rows:?}"
    );
    // Drafts were written for the demo leads.
    let drafts = cli.json(&["outreach", "list", "-c", "demo", "--status", "draft"]);
    assert!(drafts.as_array().unwrap().len() >= 9, "{drafts}");
}

/// Without a terminal the progress goes to stderr as lines; the last one
/// gives the run's true count, however long ago the previous one was.
#[test]
fn the_demo_progress_ends_at_the_true_count() {
    let cli = Cli::new().env("LEADSCOUT_SERVER__BIND", "127.0.0.1:0");
    let out = cli.run(&["demo", "--headless"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let last = stderr
        .lines()
        .rfind(|l| l.starts_with("progress: "))
        .unwrap_or_else(|| panic!("no progress line: {stderr}"));
    let count = last
        .trim_start_matches("progress: ")
        .split(' ')
        .next()
        .unwrap_or("");
    let (done, total) = count.split_once('/').unwrap_or_else(|| panic!("{last}"));
    assert_eq!(done, total, "the last progress line: {last}");
    // With every job done nothing is running, whatever the engine's own
    // counters say a moment later.
    let all_done = format!("progress: {total}/{total} ");
    for line in stderr.lines().filter(|l| l.starts_with(&all_done)) {
        assert!(!line.contains("running"), "{line}");
    }
    let jobs = cli.json(&["jobs", "list"]);
    assert_eq!(
        total.parse::<usize>().unwrap(),
        jobs.as_array().unwrap().len(),
        "{last}"
    );
}

/// A demo data dir is a workspace: commands that run jobs over it later
/// serve its sites again on their stored ports. A port taken by then is
/// named, that lead's re-fetch fails, and the lead keeps its draft.
#[test]
fn a_reopened_demo_serves_its_sites_again_and_a_failed_refetch_keeps_the_draft() {
    let cli = Cli::new().env("LEADSCOUT_SERVER__BIND", "127.0.0.1:0");
    let out = cli.run(&["demo", "--headless"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let workspace: Value = serde_json::from_str(
        &std::fs::read_to_string(cli.path("data").join("demo-workspace.json")).unwrap(),
    )
    .unwrap();
    let strong = workspace["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["dir"] == "strong")
        .unwrap()["addr"]
        .as_str()
        .unwrap()
        .to_string();
    // Something else holds the strong site's port now.
    let _holder = std::net::TcpListener::bind(&strong).expect("the demo has let go of its ports");
    let drafted_before = cli
        .json(&["leads", "list", "-c", "demo", "--status", "drafted"])
        .as_array()
        .unwrap()
        .len();

    let run = cli
        .command(&["run", "-c", "demo", "--stages", "fetch", "--wait"])
        .env("LEADSCOUT_STAGES__FETCH__MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    let port = strong.rsplit(':').next().unwrap();
    assert!(
        stderr.contains(&format!("cannot listen on {strong} again"))
            && stderr.contains(&format!("needs port {port} free")),
        "{stderr}"
    );
    let jobs = cli.json(&["jobs", "list"]);
    let fetches: Vec<&Value> = jobs
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["stage"] == "fetch")
        .collect();
    let failed = fetches
        .iter()
        .filter(|j| j["status"] != "succeeded")
        .count();
    // The demo's own ten fetches, then ten more: only the strong site's failed.
    assert_eq!(fetches.len(), 20, "{jobs}");
    assert_eq!(failed, 1, "{jobs}");
    // Its job says why in the operator's words, not only "loopback".
    let why = fetches
        .iter()
        .find(|j| j["status"] != "succeeded")
        .map(|j| j.to_string())
        .unwrap_or_default();
    assert!(
        why.contains("could not be served again") && why.contains("Nordlicht Physiotherapie"),
        "{why}"
    );
    let leads = cli.json(&["leads", "list", "-c", "demo"]);
    let nordlicht = leads
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["business_name"] == "Nordlicht Physiotherapie")
        .unwrap();
    assert_eq!(nordlicht["status"], "drafted", "{nordlicht}");
    assert_eq!(
        cli.json(&["leads", "list", "-c", "demo", "--status", "drafted"])
            .as_array()
            .unwrap()
            .len(),
        drafted_before
    );

    // Sending from the workspace: with no SMTP server the dry run says so
    // (exit 3), and nothing else stops it (the demo's sender is stored, its
    // local links are allowed while mail stays on this machine).
    let dry = cli.run(&["outreach", "send", "-c", "demo", "--dry-run"]);
    let said = String::from_utf8_lossy(&dry.stdout);
    assert_eq!(dry.status.code(), Some(3), "{said}");
    assert!(
        said.contains("the real send would stop before sending anything: SMTP is not set up"),
        "{said}"
    );
    assert!(
        said.contains("Nothing in demo is approved to send.")
            && said.contains("outreach approve --all-drafted -c demo"),
        "with no approved email, the dry run says what to do first: {said}"
    );
    // To an SMTP server on this machine the demo's drafts go, local
    // unsubscribe links and all.
    let smtp = crate::smtp::SmtpServer::start(Duration::ZERO);
    let port = smtp.port.to_string();
    let lead = nordlicht["id"].as_str().unwrap();
    cli.json(&["outreach", "approve", lead]);
    let sent = cli
        .command(&["outreach", "send", "-c", "demo", "--json"])
        .env("LEADSCOUT_SMTP__HOST", "127.0.0.1")
        .env("LEADSCOUT_SMTP__PORT", &port)
        .env("LEADSCOUT_SMTP__TLS", "none")
        .env("LEADSCOUT_SENDING__WINDOW", "00:00-24:00")
        .env("LEADSCOUT_SENDING__WEEKDAYS", "mon,tue,wed,thu,fri,sat,sun")
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&sent.stdout);
    assert!(
        sent.status.success(),
        "{summary}{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert_eq!(smtp.received().len(), 1, "{summary}");
}
