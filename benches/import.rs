//! Import of a generated 100,000-row CSV (target ≤ 3 s wall, ≤ 200 MiB peak
//! RSS) and `leads list --json` over those leads (target ≤ 1 s), measured on
//! the release binary as separate processes. Median of three runs.

mod common;

use common::{generated_csv, machine, measure, median};

const ROWS: usize = 100_000;
const RUNS: usize = 3;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a listing; nothing to list.
    }
    let work = tempfile::tempdir().expect("tempdir");
    let csv = work.path().join("leads.csv");
    std::fs::write(&csv, generated_csv(ROWS)).expect("write csv");
    let csv = csv.to_str().expect("utf-8 path");

    let mut import_walls = Vec::new();
    let mut import_rss = 0;
    let mut last_dir = None;
    for run in 0..RUNS {
        let dir = work.path().join(format!("data{run}"));
        measure(&dir, &["campaign", "create", "Bench", "--slug", "bench"]);
        let m = measure(&dir, &["import", csv, "--campaign", "bench", "--json"]);
        let report: serde_json::Value = serde_json::from_slice(&m.stdout).expect("import json");
        assert_eq!(report["imported"], ROWS as u64);
        import_walls.push(m.wall);
        import_rss = import_rss.max(m.max_rss_kib);
        last_dir = Some(dir);
    }
    let dir = last_dir.expect("at least one run");
    let mut list_walls = Vec::new();
    let mut list_rss = 0;
    for _ in 0..RUNS {
        let m = measure(&dir, &["leads", "list", "--campaign", "bench", "--json"]);
        assert!(m.stdout.len() > ROWS * 100, "listing looks short");
        list_walls.push(m.wall);
        list_rss = list_rss.max(m.max_rss_kib);
    }
    println!("machine: {}", machine());
    println!("| benchmark | figure | target |");
    println!("|---|---|---|");
    println!(
        "| import 100k-row CSV (median of {RUNS}) | {:.2} s wall, {:.0} MiB peak RSS | ≤ 3 s, ≤ 200 MiB |",
        median(import_walls).as_secs_f64(),
        import_rss as f64 / 1024.0
    );
    println!(
        "| leads list --json, 100k leads (median of {RUNS}) | {:.2} s wall, {:.0} MiB peak RSS | ≤ 1 s |",
        median(list_walls).as_secs_f64(),
        list_rss as f64 / 1024.0
    );
}
