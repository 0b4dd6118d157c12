//! The crash harness: a child `leadscout run --wait` over 200 leads with the
//! test stages is killed with SIGKILL at random moments and restarted (as
//! `work --until-idle`) until the run completes. Afterwards every lead has
//! completed every stage exactly once, no job is lost, and the side effect
//! ran at most once per lead. Also measures how soon after a restart the
//! orphaned jobs are back in the queue.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{Cli, Rng};

const LEADS: usize = 200;
const STAGES: [&str; 3] = ["t_ok", "t_flaky", "t_effect"];

fn json_of(stdout: &[u8]) -> Value {
    let text = String::from_utf8_lossy(stdout);
    let start = text
        .find(['{', '['])
        .unwrap_or_else(|| panic!("no JSON in:\n{text}"));
    serde_json::from_str(&text[start..]).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{text}"))
}

struct Cycle {
    finished_by_itself: bool,
    recovery: Option<Duration>,
}

/// Starts `args` as a testbed child, kills it after `delay`, and reports
/// whether it had already finished and when it logged its recovery.
fn kill_after(cli: &Cli, args: &[&str], delay: Duration) -> Cycle {
    let started = Instant::now();
    let mut child = cli
        .testbed(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("recovered jobs left running") {
                let _ = tx.send(started.elapsed());
            }
        }
    });
    std::thread::sleep(delay);
    let finished_by_itself = child.try_wait().expect("poll").is_some();
    child.kill().ok();
    child.wait().expect("reap");
    Cycle {
        finished_by_itself,
        recovery: rx.recv_timeout(Duration::from_millis(200)).ok(),
    }
}

fn crash_cycles(cycles: usize) {
    let (mut rng, seed) = Rng::from_env_or_time();
    eprintln!("engine crash harness: {cycles} cycles, seed {seed} (LEADSCOUT_TEST_SEED replays)");
    let cli = Cli::new()
        .env("LEADSCOUT_JOBS__BACKOFF", "10ms")
        .env("LEADSCOUT_JOBS__BACKOFF_MAX", "50ms")
        .env("LEADSCOUT_JOBS__GRACE", "1s")
        .env("LEADSCOUT_JOBS__CONCURRENCY", "4")
        .env("LEADSCOUT_TEST_PAUSE_MS", "5")
        .env("LEADSCOUT_TEST_FLAKY", "1");
    let effects = cli.path("effects.log");
    let cli = cli.env("LEADSCOUT_TEST_EFFECTS", effects.to_str().unwrap());
    cli.campaign("c");
    let mut csv = String::from("website\n");
    for i in 0..LEADS {
        csv.push_str(&format!("lead{i}.example\n"));
    }
    let file = cli.write("leads.csv", csv);
    cli.ok(&["import", file.to_str().unwrap(), "-c", "c"]);

    let stages = STAGES.join(",");
    let run_wait = ["run", "-c", "c", "--stages", stages.as_str(), "--wait"];
    let work = ["work", "--until-idle"];
    let mut mid_run_kills = 0;
    let mut recoveries = Vec::new();
    for _ in 0..cycles {
        // Resume the run in progress, or start the next one.
        let runs = json_of(&cli.run(&["runs", "list", "--json"]).stdout);
        let in_progress = runs
            .as_array()
            .unwrap()
            .first()
            .is_some_and(|r| r["finished"] == false);
        let delay = Duration::from_millis(100 + rng.below(700));
        let cycle = kill_after(&cli, if in_progress { &work } else { &run_wait }, delay);
        if !cycle.finished_by_itself {
            mid_run_kills += 1;
        }
        recoveries.extend(cycle.recovery);
    }
    assert!(
        mid_run_kills >= cycles * 2 / 3,
        "only {mid_run_kills} of {cycles} kills landed mid-run (seed {seed})"
    );

    // Finish the last run without interruption.
    let finish = cli
        .testbed(&["work", "--until-idle", "--json"])
        .output()
        .unwrap();
    assert!(
        finish.status.code() == Some(0),
        "final work failed (seed {seed}): {}",
        String::from_utf8_lossy(&finish.stderr)
    );

    let effect_lines = std::fs::read_to_string(&effects).unwrap_or_default();
    let mut effect_counts: HashMap<(&str, &str), usize> = HashMap::new();
    for line in effect_lines.lines() {
        let (run, lead) = line.split_once(' ').expect("RUN LEAD");
        *effect_counts.entry((run, lead)).or_default() += 1;
    }
    let runs = json_of(&cli.run(&["runs", "list", "--json"]).stdout);
    let runs: Vec<String> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!runs.is_empty(), "no run was ever created (seed {seed})");
    let mut needs_review = 0;
    for run in &runs {
        let jobs = json_of(&cli.run(&["jobs", "list", "--run", run, "--json"]).stdout);
        let mut by_lead: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for job in jobs.as_array().unwrap() {
            by_lead
                .entry(job["lead"].as_str().unwrap().to_string())
                .or_default()
                .push((
                    job["stage"].as_str().unwrap().to_string(),
                    job["status"].as_str().unwrap().to_string(),
                ));
        }
        assert_eq!(
            by_lead.len(),
            LEADS,
            "run {run}: every lead has jobs (seed {seed})"
        );
        for (lead, jobs) in &by_lead {
            let unique: HashSet<&str> = jobs.iter().map(|(s, _)| s.as_str()).collect();
            assert!(
                jobs.len() == STAGES.len() && unique.len() == STAGES.len(),
                "run {run} lead {lead}: one job per stage, got {jobs:?} (seed {seed})"
            );
            let mut effect_status = "";
            for (stage, status) in jobs {
                match (stage.as_str(), status.as_str()) {
                    ("t_effect", "needs_review") => needs_review += 1,
                    (_, "succeeded") => {}
                    other => panic!(
                        "run {run} lead {lead}: job {other:?} did not complete (seed {seed})"
                    ),
                }
                if stage == "t_effect" {
                    effect_status = status;
                }
            }
            let ran = effect_counts
                .get(&(run.as_str(), lead.as_str()))
                .copied()
                .unwrap_or(0);
            assert!(
                ran <= 1,
                "run {run} lead {lead}: the side effect ran {ran} times (seed {seed})"
            );
            if effect_status == "succeeded" {
                assert_eq!(
                    ran, 1,
                    "run {run} lead {lead}: succeeded but the effect is missing (seed {seed})"
                );
            }
        }
    }
    let slowest = recoveries.iter().max().copied().unwrap_or_default();
    eprintln!(
        "engine crash harness: {cycles} cycles, {} runs, {mid_run_kills} mid-run kills, {} restarts with orphans, slowest recovery {slowest:?}, {needs_review} effect jobs need review",
        runs.len(),
        recoveries.len()
    );
    assert!(
        !recoveries.is_empty(),
        "no restart found orphaned jobs: the kills never hit running jobs (seed {seed})"
    );
    assert!(
        slowest < Duration::from_secs(10),
        "orphans took {slowest:?} to come back (seed {seed})"
    );
}

#[test]
fn sigkill_during_a_run_loses_no_job_and_repeats_no_side_effect() {
    let cycles = std::env::var("LEADSCOUT_ENGINE_CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    crash_cycles(cycles);
}

/// The long version; its figures go in BENCHMARKS.md.
#[test]
#[ignore = "takes about 15 minutes; run with --ignored"]
fn sigkill_a_thousand_times() {
    crash_cycles(1000);
}
