//! A child `leadscout import` killed with SIGKILL at random moments never
//! leaves a lead without its index entries (or the reverse), and a re-run
//! completes the import with no duplicates.

use std::time::{Duration, Instant};

use leadscout::store::Store;

use crate::helpers::{Cli, Rng, generated_csv};

const ROWS: usize = 20_000;

fn cycles() -> usize {
    std::env::var("LEADSCOUT_CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

fn stored_leads(cli: &Cli) -> (usize, Vec<String>) {
    let store = Store::open(&cli.data, "crash-check").expect("reopen after a kill");
    let problems = store.check_lead_indexes().expect("index check");
    let count = store.all_leads().count();
    (count, problems)
}

#[test]
fn sigkill_during_import_never_splits_a_lead_from_its_indexes() {
    let (mut rng, seed) = Rng::from_env_or_time();
    eprintln!("crash test seed {seed} (set LEADSCOUT_TEST_SEED to replay)");
    let csv = generated_csv(ROWS);
    let mut cli = Cli::new();
    let mut file = cli.write("big.csv", &csv);
    cli.campaign("c");

    // How long an uninterrupted import takes here, to aim the kills.
    let started = Instant::now();
    cli.ok(&["import", file.to_str().unwrap(), "-c", "c"]);
    let full = started.elapsed().as_millis().max(50) as u64;
    let mut killed_mid_import = 0;

    for cycle in 0..cycles() {
        let (count, _) = stored_leads(&cli);
        if count == ROWS {
            cli = Cli::new();
            file = cli.write("big.csv", &csv);
            cli.campaign("c");
        }
        let mut child = cli
            .command(&["import", file.to_str().unwrap(), "-c", "c"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn import");
        // Aimed at the first two thirds of a full import: the timing above
        // was taken on a machine that other tests may be loading too.
        let delay = 10 + rng.below((full * 2 / 3).max(1));
        std::thread::sleep(Duration::from_millis(delay));
        let finished = child.try_wait().expect("poll child").is_some();
        child.kill().ok(); // SIGKILL on unix
        child.wait().expect("reap child");
        let (count, problems) = stored_leads(&cli);
        assert!(
            problems.is_empty(),
            "cycle {cycle} (seed {seed}, kill after {delay} ms): {problems:?}"
        );
        assert!(
            count <= ROWS,
            "cycle {cycle}: {count} leads for {ROWS} rows"
        );
        if !finished && count < ROWS {
            killed_mid_import += 1;
        }
    }
    assert!(
        killed_mid_import >= cycles() / 3,
        "only {killed_mid_import} kills landed mid-import (seed {seed})"
    );

    let report = cli.json(&["import", file.to_str().unwrap(), "-c", "c"]);
    let imported = report["imported"].as_u64().unwrap() as usize;
    let duplicates = report["duplicates"].as_u64().unwrap() as usize;
    assert_eq!(imported + duplicates, ROWS, "{report}");
    let (count, problems) = stored_leads(&cli);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(count, ROWS, "every row stored exactly once");
    let again = cli.json(&["import", file.to_str().unwrap(), "-c", "c"]);
    assert_eq!(again["imported"], 0);
}
