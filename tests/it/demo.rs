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
