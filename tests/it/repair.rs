//! `doctor --repair`: indexes damaged from outside (the database edited
//! under leadscout) are named by `doctor`, rebuilt by `--repair`, never
//! rebuilt under a running host, and a rebuild killed with SIGKILL at any
//! moment leaves a store the next command opens whole.

use std::time::{Duration, Instant};

use leadscout::store::Store;
use serde_json::Value;

use crate::helpers::{Cli, Rng, generated_csv};

/// Damage from outside: the database opened without leadscout, every
/// third entry of the status and campaign indexes dropped, a counter
/// made wrong and a domain entry pointed elsewhere.
fn damage(cli: &Cli) {
    {
        let db = sled::open(cli.data.join("db")).expect("open the database directly");
        damage_db(&db);
    }
    wait_until_released(cli);
}

/// Waits until this process's dropped handles no longer hold the
/// database's lock: sled's threads may keep it a moment after the last
/// handle goes (longer on a busy machine), and a child started before
/// then would find the data dir taken.
fn wait_until_released(cli: &Cli) {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(cli.data.join("db").join("db")).expect("the database file");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // SAFETY: flock on a descriptor this function owns; a lock taken
        // here is dropped again at once.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the database stayed locked 30 s after this process let it go"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn damage_db(db: &sled::Db) {
    for name in ["leads_by_status", "leads_by_campaign"] {
        let tree = db.open_tree(name).unwrap();
        let keys: Vec<_> = tree.iter().keys().step_by(3).map(Result::unwrap).collect();
        for key in keys {
            tree.remove(key).unwrap();
        }
    }
    let counts = db.open_tree("lead_counts").unwrap();
    let first = counts.iter().keys().next().unwrap().unwrap();
    counts.insert(first, &12_345u64.to_be_bytes()).unwrap();
    let domains = db.open_tree("leads_by_domain").unwrap();
    let first = domains.iter().keys().next().unwrap().unwrap();
    domains.insert(first, &[0u8; 16]).unwrap();
    db.flush().unwrap();
}

fn problems(cli: &Cli) -> Vec<String> {
    let problems = {
        let store = Store::open(&cli.data, "repair-check").expect("the store opens");
        let mut problems = store.check_lead_indexes().expect("lead index check");
        problems.extend(store.check_followup_index().expect("follow-up index check"));
        problems
    };
    wait_until_released(cli);
    problems
}

fn check<'a>(checks: &'a Value, name: &str) -> &'a Value {
    checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` check in {checks}"))
}

fn doctor(cli: &Cli, args: &[&str]) -> (Value, Option<i32>) {
    let out = cli.run(&[&["doctor", "--json"], args].concat());
    let checks = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (checks, out.status.code())
}

/// doctor without a browser to start: its WebDriver line is a quick
/// warning, and what is tested here is the store.
fn quick_doctor() -> Cli {
    Cli::new().env("LEADSCOUT_WEBDRIVER__CHROMEDRIVER", "no-such-chromedriver")
}

/// Whether a rebuild's mark is in the database (read without leadscout,
/// so that nothing finishes the rebuild first).
fn rebuild_marked(cli: &Cli) -> bool {
    let marked = {
        let db = sled::open(cli.data.join("db")).expect("open the database directly");
        let meta = db.open_tree("meta").unwrap();
        meta.contains_key(b"rebuilding_indexes").unwrap()
    };
    wait_until_released(cli);
    marked
}

#[test]
fn doctor_names_the_damage_repair_rebuilds_it_and_never_under_a_host() {
    let cli = quick_doctor();
    let csv = cli.write("leads.csv", generated_csv(300));
    cli.campaign("c");
    cli.ok(&["import", csv.to_str().unwrap(), "-c", "c"]);
    let listed = cli.json(&["leads", "list", "-c", "c", "--limit", "1000"]);
    // Under a host with nothing wrong, there is nothing to do.
    cli.start_server();
    let (checks, code) = doctor(&cli, &["--repair"]);
    assert_eq!(code, Some(0), "{checks}");
    assert_eq!(
        check(&checks, "repair")["detail"],
        "nothing to repair: leads, emails and indexes agree"
    );
    cli.stop_server();
    damage(&cli);
    assert!(!problems(&cli).is_empty(), "the damage shows in the check");

    let (checks, code) = doctor(&cli, &[]);
    assert_eq!(code, Some(1), "{checks}");
    let indexes = check(&checks, "indexes");
    assert_eq!(indexes["status"], "fail", "{checks}");
    assert!(
        indexes["detail"]
            .as_str()
            .unwrap()
            .contains("`leadscout doctor --repair` rebuilds them"),
        "{indexes}"
    );

    // Under a host, nothing is rebuilt: it writes as it runs.
    cli.start_server();
    let (checks, code) = doctor(&cli, &["--repair"]);
    assert_eq!(code, Some(1), "{checks}");
    let repair = check(&checks, "repair");
    assert_eq!(repair["status"], "fail", "{checks}");
    let detail = repair["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("not done: serve (pid ") && detail.contains("stop it, then run"),
        "{detail}"
    );
    assert_eq!(check(&checks, "indexes")["status"], "fail", "{checks}");
    cli.stop_server();
    assert!(
        !problems(&cli).is_empty(),
        "nothing was rebuilt under the host"
    );

    // A read-only look changes nothing either.
    let out = cli.run(&["--read-only", "doctor", "--repair", "--json"]);
    let checks: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        check(&checks, "repair")["detail"],
        "not done: --read-only changes nothing"
    );
    assert!(!problems(&cli).is_empty(), "nothing was rebuilt read-only");

    let (checks, code) = doctor(&cli, &["--repair"]);
    let repair = check(&checks, "repair");
    assert_eq!(repair["status"], "ok", "{checks}");
    assert_eq!(
        repair["detail"],
        "indexes rebuilt from 300 leads and 0 waiting follow-ups"
    );
    assert_eq!(check(&checks, "indexes")["status"], "ok", "{checks}");
    assert_eq!(code, Some(0), "{checks}");
    assert_eq!(problems(&cli), Vec::<String>::new());
    assert_eq!(
        cli.json(&["leads", "list", "-c", "c", "--limit", "1000"]),
        listed,
        "the list reads as before the damage"
    );
    let new = cli.json(&[
        "leads", "list", "-c", "c", "--status", "new", "--limit", "1000",
    ]);
    assert_eq!(
        new.as_array().map(Vec::len),
        Some(300),
        "the status index is whole"
    );
    // The domain index works again: the same rows are all duplicates.
    let again = cli.json(&["import", csv.to_str().unwrap(), "-c", "c"]);
    assert_eq!(
        (again["imported"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(300))
    );
}

#[test]
fn sigkill_during_a_repair_leaves_a_store_that_opens_whole() {
    const ROWS: usize = 20_000;
    let (mut rng, seed) = Rng::from_env_or_time();
    eprintln!("repair kill test seed {seed} (set LEADSCOUT_TEST_SEED to replay)");
    let cli = quick_doctor();
    let csv = cli.write("big.csv", generated_csv(ROWS));
    cli.campaign("c");
    cli.ok(&["import", csv.to_str().unwrap(), "-c", "c"]);

    // How long an uninterrupted repair takes here, to aim the kills.
    damage(&cli);
    let started = Instant::now();
    let (checks, _) = doctor(&cli, &["--repair"]);
    let full = started.elapsed().as_millis().max(50) as u64;
    assert_eq!(check(&checks, "repair")["status"], "ok", "{checks}");

    // Kills land anywhere from the process's start to its end; the loop
    // goes on until a few landed inside a rebuild (its mark left behind).
    let mut interrupted = 0;
    let mut cycles = 0;
    while cycles < 6 || (interrupted < 2 && cycles < 30) {
        cycles += 1;
        damage(&cli);
        let mut child = cli
            .command(&["doctor", "--repair"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn doctor --repair");
        let delay = rng.below(full.max(1));
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().ok(); // SIGKILL on unix
        child.wait().expect("reap child");
        if rebuild_marked(&cli) {
            interrupted += 1;
        }
        // Whatever the moment: the damage is still there (killed before
        // the rebuild began), or the next open finishes the rebuild, or
        // it was done.
        let count = Store::open(&cli.data, "count").unwrap().all_leads().count();
        wait_until_released(&cli);
        assert_eq!(count, ROWS, "cycle {cycles}: a lead was lost");
        if !problems(&cli).is_empty() {
            let (checks, _) = doctor(&cli, &["--repair"]);
            assert_eq!(check(&checks, "repair")["status"], "ok", "{checks}");
        }
        assert_eq!(
            problems(&cli),
            Vec::<String>::new(),
            "cycle {cycles} (seed {seed}, kill after {delay} ms)"
        );
    }
    eprintln!("{interrupted} of {cycles} kills landed inside a rebuild ({full} ms per repair)");
    assert!(
        interrupted >= 1,
        "no kill of {cycles} landed inside a rebuild (seed {seed}, a repair takes {full} ms)"
    );
}
