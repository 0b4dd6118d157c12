//! Scheduled re-audits: `serve` audits a contacted lead again once its
//! campaign's `reaudit_every` has passed, and the diff against the earlier
//! audit names what the site owner fixed and what broke since.

use std::time::{Duration, Instant};

/// The outreach fixture's page with a meta description added and the h1
/// turned into an h2.
const CHANGED: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Crumbs</title><meta name="description" content="Fresh bread every morning in Berlin, baked on site since 1998 by the Crumbs family.">
</head><body><h2>Crumbs bakery</h2><img src="/shop.jpg">
<p>Fresh bread every morning.</p><a href="/missing">menu</a></body></html>"#;

#[test]
fn serve_reaudits_contacted_leads_and_the_diff_shows_new_and_fixed() {
    let s = crate::outreach::setup(
        1,
        &[("Alpha Bakery", "a@alpha.example")],
        &[("LEADSCOUT_REAUDIT__CHECK_EVERY", "200ms")],
    );
    let lead = s.leads["a@alpha.example"].clone();
    let cli = s.cli;
    // Not contacted yet, and no schedule: nothing happens.
    let err = cli.fails(&["audit", "diff", &lead]);
    assert!(err.contains("audited once"), "{err}");
    cli.ok(&["outreach", "mark", &lead, "--replied"]);
    let err = cli.fails(&["settings", "set", "reaudit_every", "soon", "-c", "c"]);
    assert!(err.contains("not a duration"), "{err}");
    cli.ok(&["settings", "set", "reaudit_every", "1s", "-c", "c"]);
    s.sites[0].set(CHANGED);

    let cli = cli.attached();
    let started = Instant::now();
    let diff = loop {
        let out = cli.run(&["audit", "diff", &lead, "--json"]);
        if out.status.success() {
            break serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no re-audit within 60 s: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let has = |list: &str, id: &str| {
        diff[list]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v.as_str() == Some(id))
    };
    assert!(has("fixed", "seo.meta_description.present"), "{diff}");
    assert!(has("new", "seo.h1"), "{diff}");
    assert!(!has("new", "seo.meta_description.present"), "{diff}");

    // The lead is still where its outreach left it.
    let shown = cli.json(&["leads", "show", &lead]);
    assert_eq!(shown["status"], "replied", "{shown}");
    let jobs = cli.json(&["jobs", "list", "--lead", &lead]);
    let stages: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["stage"].as_str().unwrap())
        .collect();
    let count = |stage: &str| stages.iter().filter(|s| **s == stage).count();
    assert!(
        count("fetch") >= 2 && count("audit") >= 2 && count("screenshot") >= 1,
        "re-audits run fetch, audit and screenshot: {stages:?}"
    );
    assert_eq!(count("draft"), 1, "a re-audit drafts nothing: {stages:?}");
}
