//! leadscout against Lighthouse on the same pages, in one run: thirteen
//! small-business pages written for this (`corpus/`, served on loopback by
//! `sites.rs`), each audited by leadscout's full pipeline and by the
//! Lighthouse CLI (mobile, its default simulated throttling). Prints the
//! verdict agreement on every audit pair that judges the same thing, the
//! rank correlation and mean difference of the speed and accessibility
//! scores, and the time per URL of each.
//!
//! leadscout's time per URL is measured over `COPIES` copies of the corpus
//! (default 4, each page on its own port), so its start-up is spread as
//! over a real campaign; Lighthouse's is one run per page.
//!
//! `cargo bench --bench lighthouse`. Needs chromium and chromedriver, and
//! Lighthouse: `LIGHTHOUSE=/path/to/lighthouse`, or it is installed with
//! npm into `target/lighthouse` (pinned below). `LIGHTHOUSE_REUSE=1` reuses
//! the Lighthouse reports of the last run (`target/lighthouse/reports`)
//! when only leadscout changed.

mod compare;
mod sites;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

const LIGHTHOUSE_VERSION: &str = "12.8.2";
const BIN: &str = env!("CARGO_BIN_EXE_leadscout");

fn lighthouse() -> PathBuf {
    if let Some(path) = std::env::var_os("LIGHTHOUSE") {
        return path.into();
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/lighthouse");
    let bin = dir.join("node_modules/.bin/lighthouse");
    if !bin.exists() {
        std::fs::create_dir_all(&dir).expect("target/lighthouse");
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(format!("lighthouse@{LIGHTHOUSE_VERSION}"))
            .status()
            .expect("npm (apt install npm) to install Lighthouse");
        assert!(status.success(), "npm install lighthouse failed");
    }
    bin
}

fn chromium() -> String {
    std::env::var("CHROME_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn leadscout(data: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let out = Command::new(BIN)
        .env("LEADSCOUT_DATA_DIR", data)
        .env("LEADSCOUT_SERVER__METRICS_BIND", "127.0.0.1:0")
        // The corpus's addresses are at made-up domains no DNS knows.
        .env("LEADSCOUT_VERIFY__ENABLED", "false")
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("run leadscout");
    assert!(
        out.status.success(),
        "leadscout {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn main() {
    // The statistics first, on lists whose answer is known.
    assert!((compare::spearman(&[1.0, 5.0, 3.0], &[10.0, 90.0, 20.0]) - 1.0).abs() < 1e-9);
    assert!((compare::spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-9);
    assert!((compare::spearman(&[1.0, 1.0, 2.0], &[5.0, 5.0, 9.0]) - 1.0).abs() < 1e-9);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/lighthouse/corpus");
    let reports = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/lighthouse/reports");
    std::fs::create_dir_all(&reports).expect("reports dir");
    let reuse = std::env::var_os("LIGHTHOUSE_REUSE").is_some();
    // Without them leadscout skips its browser stage and every comparison
    // would be against nothing: say so before starting.
    let chrome = chromium();
    assert!(
        leadscout::pipeline::browser::driver::find_program("chromedriver").is_some()
            && Path::new(&chrome).exists(),
        "this bench needs chromedriver and {chrome} (apt install chromium chromium-driver; CHROME_PATH names another Chromium)"
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let copies: usize = std::env::var("COPIES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(4)
        .max(1);
    let all_sites = rt.block_on(sites::serve(&corpus, copies));
    let lh = lighthouse();

    // leadscout: the whole pipeline over every page, as an operator runs it.
    let data = tempfile::tempdir().expect("temp dir");
    let hosts: Vec<String> = all_sites
        .iter()
        .map(|s| {
            format!(
                "\"{}\"",
                s.url.trim_start_matches("http://").trim_end_matches('/')
            )
        })
        .collect();
    let allow = format!("[{}]", hosts.join(","));
    let env = [
        ("LEADSCOUT_FETCH__ALLOW_HOSTS", allow.as_str()),
        ("LEADSCOUT_SENDER__NAME", "Bench Agency"),
        ("LEADSCOUT_SENDER__EMAIL", "bench@agency.example"),
        (
            "LEADSCOUT_SENDER__POSTAL_ADDRESS",
            "1 Bench Street, Springfield",
        ),
    ];
    leadscout(
        data.path(),
        &env,
        &["campaign", "create", "bench", "--slug", "bench"],
    );
    for s in &all_sites {
        let name = format!("{} {}", s.name, s.copy);
        let args = [
            "leads",
            "add",
            "-c",
            "bench",
            "--website",
            &s.url,
            "--name",
            &name,
        ];
        leadscout(data.path(), &env, &args);
    }
    let began = Instant::now();
    leadscout(data.path(), &env, &["run", "-c", "bench", "--wait"]);
    let ours_per_url = began.elapsed().as_secs_f64() / all_sites.len() as f64;
    let sites: Vec<&sites::Site> = all_sites.iter().filter(|s| s.copy == 0).collect();

    // Lighthouse: one CLI run per URL, one at a time, as it is meant to run.
    let mut theirs_total = 0.0;
    let mut ran = 0;
    let mut rows = Vec::new();
    for s in &sites {
        let path = reports.join(format!("{}.json", s.name));
        if !(reuse && path.exists()) {
            let began = Instant::now();
            let status = Command::new(&lh)
                .arg(&s.url)
                .args(["--output=json", "--quiet", "--output-path"])
                .arg(&path)
                .arg("--chrome-flags=--headless=new --no-sandbox")
                .env("CHROME_PATH", &chrome)
                .status()
                .expect("run lighthouse");
            assert!(status.success(), "lighthouse on {} failed", s.url);
            theirs_total += began.elapsed().as_secs_f64();
            ran += 1;
        }
        let report: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("report")).expect("report JSON");
        let audit: Value = serde_json::from_str(&leadscout(
            data.path(),
            &env,
            &["audit", "show", &s.url, "--json"],
        ))
        .expect("audit JSON");
        let kept = reports.join(format!("{}.leadscout.json", s.name));
        std::fs::write(&kept, serde_json::to_vec_pretty(&audit).expect("JSON")).expect("write");
        rows.push((s.name.clone(), report, audit));
    }

    let (_, first, _) = &rows[0];
    println!(
        "Lighthouse {} (Chromium: {}), {} pages",
        first["lighthouseVersion"].as_str().unwrap_or("?"),
        first["environment"]["hostUserAgent"]
            .as_str()
            .unwrap_or("?"),
        rows.len()
    );

    // Verdicts.
    let (mut agree, mut total) = (0, 0);
    let mut disagreements = Vec::new();
    for (check, audit_id, what) in compare::PAIRS {
        let (mut a, mut t) = (0, 0);
        for (name, report, audit) in &rows {
            let (Some(ours), Some(theirs)) = (
                compare::leadscout_verdict(audit, check),
                compare::lighthouse_verdict(report, audit_id),
            ) else {
                continue;
            };
            t += 1;
            if ours == theirs {
                a += 1;
            } else {
                let evidence = audit["findings"]
                    .as_array()
                    .and_then(|c| c.iter().find(|c| c["id"] == *check))
                    .and_then(|c| c["evidence"].as_str())
                    .unwrap_or("")
                    .to_owned();
                disagreements.push(format!(
                    "{name}: {what} — leadscout {} ({evidence}), Lighthouse {}",
                    if ours { "passes" } else { "fails" },
                    if theirs { "passes" } else { "fails" },
                ));
            }
        }
        println!("| {what} | `{check}` | `{audit_id}` | {a}/{t} |");
        agree += a;
        total += t;
    }
    println!(
        "verdict agreement: {agree}/{total} = {:.1}%",
        100.0 * agree as f64 / total.max(1) as f64
    );
    for d in &disagreements {
        println!("  disagrees: {d}");
    }

    // Scores.
    let mut speed = (Vec::new(), Vec::new());
    let mut access = (Vec::new(), Vec::new());
    println!(
        "| page | Lighthouse performance | leadscout speed | estimate | Lighthouse accessibility | leadscout accessibility | LH FCP / LCP / TBT ms | est. FCP / LCP / TBT ms |"
    );
    for (name, report, audit) in &rows {
        let lh_perf = report["categories"]["performance"]["score"]
            .as_f64()
            .unwrap_or(0.0)
            * 100.0;
        let lh_a11y = report["categories"]["accessibility"]["score"]
            .as_f64()
            .unwrap_or(0.0)
            * 100.0;
        let ours = audit["scores"]["categories"]["performance"]
            .as_f64()
            .unwrap_or(0.0);
        let est = &audit["metrics"]["mobile_estimate"];
        let ours_a11y = audit["scores"]["categories"]["accessibility"]
            .as_f64()
            .unwrap_or(0.0);
        let lhm = |id: &str| {
            report["audits"][id]["numericValue"]
                .as_f64()
                .unwrap_or(f64::NAN)
        };
        let em = |k: &str| est[k]["value"].as_f64().unwrap_or(f64::NAN);
        println!(
            "| {name} | {lh_perf:.0} | {ours:.0} | {} | {lh_a11y:.0} | {ours_a11y:.0} | {:.0} / {:.0} / {:.0} | {:.0} / {:.0} / {:.0} |",
            est["performance"],
            lhm("first-contentful-paint"),
            lhm("largest-contentful-paint"),
            lhm("total-blocking-time"),
            em("fcp"),
            em("lcp"),
            em("tbt"),
        );
        speed.0.push(lh_perf);
        speed.1.push(ours);
        access.0.push(lh_a11y);
        access.1.push(ours_a11y);
    }
    for (label, (lh, ours)) in [("speed", &speed), ("accessibility", &access)] {
        println!(
            "{label}: Spearman {:.2}, mean absolute difference {:.1} points",
            compare::spearman(lh, ours),
            compare::mean_abs_diff(lh, ours)
        );
    }
    println!(
        "leadscout, full pipeline: {ours_per_url:.2} s per URL ({} leads)",
        all_sites.len()
    );
    if ran > 0 {
        let theirs = theirs_total / ran as f64;
        println!(
            "Lighthouse CLI: {theirs:.2} s per URL ({ran} runs) → leadscout is {:.1}× faster",
            theirs / ours_per_url
        );
    }
}
