//! The job engine with test stages: retries with backoff, permanent and
//! dead failures, timeouts, cancel, retry, and `serve`'s graceful shutdown.

use serde_json::Value;

use crate::helpers::Cli;

/// A data dir with campaign `c` holding `leads` leads, and fast engine
/// settings (short backoff and timeouts).
fn setup(leads: usize) -> Cli {
    let cli = Cli::new()
        .env("LEADSCOUT_JOBS__BACKOFF", "20ms")
        .env("LEADSCOUT_JOBS__BACKOFF_MAX", "100ms")
        .env("LEADSCOUT_JOBS__GRACE", "2s")
        // `serve` starts the page server; tests in parallel need their own port.
        .env("LEADSCOUT_SERVER__BIND", "127.0.0.1:0");
    cli.campaign("c");
    let mut csv = String::from("website\n");
    for i in 0..leads {
        csv.push_str(&format!("lead{i}.example\n"));
    }
    let file = cli.write("leads.csv", csv);
    cli.ok(&["import", file.to_str().unwrap(), "-c", "c"]);
    cli
}

/// The test binary prints a harness header before the child's output.
fn stdout_json(stdout: &str) -> Value {
    let start = stdout
        .find(['{', '['])
        .unwrap_or_else(|| panic!("no JSON in:\n{stdout}"));
    serde_json::from_str(&stdout[start..]).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{stdout}"))
}

fn testbed_json(cli: &Cli, args: &[&str]) -> (Value, Option<i32>) {
    let mut full = args.to_vec();
    full.push("--json");
    let out = cli.testbed(&full).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    (stdout_json(&stdout), out.status.code())
}

#[test]
fn a_run_goes_through_its_stages_and_retries_transient_failures() {
    let cli = setup(5);
    let (summary, code) = testbed_json(
        &cli,
        &["run", "-c", "c", "--stages", "t_flaky,t_ok", "--wait"],
    );
    assert_eq!(code, Some(0), "{summary}");
    assert_eq!(summary["stages"]["t_ok"]["succeeded"], 5, "{summary}");
    assert_eq!(summary["stages"]["t_flaky"]["succeeded"], 5, "{summary}");
    let run = summary["run"].as_str().unwrap();

    let (jobs, _) = testbed_json(&cli, &["jobs", "list", "--run", run, "--stage", "t_flaky"]);
    let job = &jobs[0];
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["attempts"], 3, "two flaky failures, then success");
    let (shown, _) = testbed_json(&cli, &["jobs", "show", job["id"].as_str().unwrap()]);
    let attempts = shown["attempts"].as_array().unwrap();
    let statuses: Vec<&str> = attempts
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["retrying", "retrying", "succeeded"]);
    assert_eq!(
        attempts[0]["error"],
        serde_json::json!(["t_flaky", "flaky failure on attempt 1"])
    );
    // Compared as instants: as text, "…:05Z" sorts after "…:05.2Z".
    let at = |v: &serde_json::Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    assert!(
        at(&attempts[1]["started_at"]) > at(&attempts[0]["finished_at"]),
        "backoff between attempts: {attempts:?}"
    );

    // Stages ran in pipeline order, t_flaky before t_ok, for every lead.
    let (runs, _) = testbed_json(&cli, &["runs", "show", run]);
    assert_eq!(
        runs["stages"],
        serde_json::json!(["t_ok", "t_flaky"]),
        "pipeline order, whatever order was asked"
    );
    assert_eq!(runs["finished"], true);
}

#[test]
fn permanent_failures_stop_the_chain_and_mark_the_lead() {
    let cli = setup(3);
    let (summary, code) = testbed_json(
        &cli,
        &["run", "-c", "c", "--stages", "t_fail,t_hang", "--wait"],
    );
    assert_eq!(code, Some(0), "failed is not dead: {summary}");
    assert_eq!(summary["stages"]["t_fail"]["failed"], 3);
    assert!(
        summary["stages"].get("t_hang").is_none(),
        "no lead got past t_fail: {summary}"
    );
    let leads: Value = cli.json(&["leads", "list", "-c", "c", "--status", "failed"]);
    assert_eq!(leads.as_array().unwrap().len(), 3);
    let (jobs, _) = testbed_json(&cli, &["jobs", "list", "--status", "failed"]);
    assert_eq!(jobs[0]["attempts"], 1, "permanent errors are not retried");
    assert_eq!(jobs[0]["last_error"], "t_fail: this input can never work");

    // Retrying puts them back, and the leads are no longer failed until
    // the stage fails again.
    let (retried, _) = testbed_json(&cli, &["jobs", "retry", "--failed"]);
    assert_eq!(retried.as_array().unwrap().len(), 3);
    assert_eq!(
        cli.json(&["leads", "list", "-c", "c", "--status", "new"])
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (work, code) = testbed_json(&cli, &["work", "--until-idle"]);
    assert_eq!(code, Some(0));
    assert_eq!(work["stages"]["t_fail"]["failed"], 3, "{work}");
}

#[test]
fn transient_failures_go_dead_after_their_attempts_and_exit_non_zero() {
    let cli = setup(2).env("LEADSCOUT_STAGES__T_DEAD__MAX_ATTEMPTS", "2");
    let (summary, code) = testbed_json(&cli, &["run", "-c", "c", "--stages", "t_dead", "--wait"]);
    assert_eq!(code, Some(1), "a dead job makes the run fail: {summary}");
    assert_eq!(summary["stages"]["t_dead"]["dead"], 2);
    let (jobs, _) = testbed_json(&cli, &["jobs", "list", "--status", "dead"]);
    let (shown, _) = testbed_json(&cli, &["jobs", "show", jobs[0]["id"].as_str().unwrap()]);
    let attempts = shown["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["status"], "retrying");
    assert_eq!(attempts[1]["status"], "dead");
    assert_eq!(attempts[1]["error"][0], "still unavailable (attempt 2)");
}

#[test]
fn a_hanging_stage_is_cut_off_by_its_timeout_and_the_worker_goes_on() {
    let cli = setup(3)
        .env("LEADSCOUT_STAGES__T_HANG__TIMEOUT", "300ms")
        .env("LEADSCOUT_STAGES__T_HANG__MAX_ATTEMPTS", "1")
        .env("LEADSCOUT_STAGES__T_HANG__CONCURRENCY", "1");
    let started = std::time::Instant::now();
    let (summary, code) = testbed_json(&cli, &["run", "-c", "c", "--stages", "t_hang", "--wait"]);
    assert_eq!(code, Some(1), "{summary}");
    assert_eq!(
        summary["stages"]["t_hang"]["dead"], 3,
        "one worker went through all three: {summary}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let (jobs, _) = testbed_json(&cli, &["jobs", "list", "--stage", "t_hang"]);
    assert_eq!(
        jobs[0]["last_error"],
        "the t_hang stage took longer than its 300ms timeout"
    );
}

#[test]
fn cancelled_runs_do_not_run_and_unknown_stages_are_refused() {
    let cli = setup(4);
    let err = cli
        .testbed(&["run", "-c", "c", "--stages", "t_nope"])
        .output()
        .unwrap();
    assert!(!err.status.success());
    assert!(
        String::from_utf8_lossy(&err.stderr)
            .contains("`t_nope` is not a stage; stages are: t_ok, t_flaky")
    );
    let (run, _) = testbed_json(&cli, &["run", "-c", "c", "--stages", "t_ok"]);
    assert_eq!(run["leads"], 4);
    assert_eq!(run["pending"], 4);
    let again = cli
        .testbed(&[
            "run",
            "-c",
            "c",
            "--stages",
            "t_ok",
            "--leads",
            "lead0.example",
        ])
        .output()
        .unwrap();
    assert!(!again.status.success(), "a queued lead is not queued twice");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("no lead to run: 1 selected lead(s) are blacklisted or already queued"),
        "{stderr}"
    );
    let run_id = run["id"].as_str().unwrap();
    let (cancelled, _) = testbed_json(&cli, &["jobs", "cancel", "--run", run_id]);
    assert_eq!(cancelled.as_array().unwrap().len(), 4);
    let (work, code) = testbed_json(&cli, &["work", "--until-idle"]);
    assert_eq!(code, Some(0));
    assert_eq!(work, serde_json::json!({"stages": {}}));
    let (shown, _) = testbed_json(&cli, &["runs", "show", run_id]);
    assert_eq!(shown["counts"]["t_ok"]["cancelled"], 4);
    assert_eq!(shown["finished"], true);
}

fn sigterm(child: &std::process::Child) {
    // SAFETY: sending a signal to our own child process.
    let rc = unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(rc, 0, "kill(SIGTERM) failed");
}

fn wait_with_timeout(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            started.elapsed() < limit,
            "the child did not exit within {limit:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn serve_runs_queued_jobs_holds_the_lock_and_stops_gracefully_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let cli = setup(6).env("LEADSCOUT_STAGES__T_HANG__TIMEOUT", "1h");
    let (run, _) = testbed_json(&cli, &["run", "-c", "c", "--stages", "t_ok"]);
    assert_eq!(run["pending"], 6);
    let mut serve = cli
        .testbed(&["serve", "--log-format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = serve.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut succeeded = 0;
    while succeeded < 6 {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("serve logs each job");
        if !line.starts_with('{') {
            continue; // the test harness's own header
        }
        let log: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("a JSON log line ({e}): {line}"));
        if log["fields"]["status"] == "succeeded" {
            succeeded += 1;
        }
    }
    // The store is held by serve: another command attaches to it instead.
    let other = cli
        .testbed(&["campaign", "list", "--json"])
        .output()
        .unwrap();
    assert!(
        other.status.success(),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
    assert!(
        leadscout::store::Store::open(&cli.data, "test").is_err(),
        "serve holds the lock"
    );

    // A job that never ends (queued through the server) is still running
    // when SIGTERM arrives: it gets the grace period, then goes back to
    // the queue.
    let hang = cli
        .testbed(&["run", "-c", "c", "--stages", "t_hang", "--json"])
        .output()
        .unwrap();
    assert!(
        hang.status.success(),
        "queued through serve: {}",
        String::from_utf8_lossy(&hang.stderr)
    );
    sigterm(&serve);
    let status = wait_with_timeout(&mut serve, std::time::Duration::from_secs(15));
    assert!(status.success(), "serve exits 0 after SIGTERM: {status}");
    let (jobs, _) = testbed_json(&cli, &["jobs", "list", "--status", "succeeded"]);
    assert_eq!(jobs.as_array().unwrap().len(), 6);
    let (queued, _) = testbed_json(&cli, &["jobs", "list", "--status", "queued"]);
    assert_eq!(
        queued.as_array().unwrap().len(),
        6,
        "the never-ending jobs went back to the queue: {queued}"
    );
}

#[test]
fn sigterm_releases_running_jobs_back_to_the_queue_after_the_grace_period() {
    let cli = setup(2)
        .env("LEADSCOUT_STAGES__T_HANG__TIMEOUT", "1h")
        .env("LEADSCOUT_JOBS__GRACE", "500ms");
    let (run, _) = testbed_json(&cli, &["run", "-c", "c", "--stages", "t_hang"]);
    let run_id = run["id"].as_str().unwrap().to_string();
    let mut serve = cli
        .testbed(&["serve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the workers hold both jobs (asking through the control
    // socket once the server has opened it).
    let socket = cli.data.join("control.sock");
    let started = std::time::Instant::now();
    loop {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the workers did not claim both jobs within 60 s"
        );
        if socket.exists() {
            let out = cli
                .testbed(&["jobs", "list", "--run", &run_id, "--json"])
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            if out.status.success()
                && stdout_json(&stdout).as_array().is_some_and(|jobs| {
                    jobs.len() == 2 && jobs.iter().all(|j| j["status"] == "running")
                })
            {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    sigterm(&serve);
    let started = std::time::Instant::now();
    let status = wait_with_timeout(&mut serve, std::time::Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(400),
        "running jobs got the grace period"
    );
    let (jobs, _) = testbed_json(&cli, &["jobs", "list", "--run", &run_id]);
    for job in jobs.as_array().unwrap() {
        assert_eq!(
            job["status"], "queued",
            "released, not lost or left running: {job}"
        );
        assert_eq!(job["attempts"], 1, "{job}");
    }
    let (shown, _) = testbed_json(&cli, &["jobs", "show", jobs[0]["id"].as_str().unwrap()]);
    assert_eq!(
        shown["attempts"][0]["error"][0],
        "interrupted: leadscout stopped while this attempt ran"
    );
}

/// Each lead's last job comes from the store: a fresh process (a new
/// service on the same data dir) lists it, and the newest job wins.
#[test]
fn leads_list_their_last_job_from_the_store() {
    let cli = setup(3).env("LEADSCOUT_STAGES__T_DEAD__MAX_ATTEMPTS", "1");
    let (summary, code) = testbed_json(&cli, &["run", "-c", "c", "--stages", "t_ok", "--wait"]);
    assert_eq!(code, Some(0), "{summary}");
    let listed = testbed_json(&cli, &["leads", "list", "-c", "c"]).0;
    let leads = listed.as_array().unwrap();
    assert_eq!(leads.len(), 3, "{listed}");
    for lead in leads {
        assert_eq!(lead["last_job"]["stage"], "t_ok", "{lead}");
        assert_eq!(lead["last_job"]["status"], "succeeded", "{lead}");
        assert!(lead["last_job"]["at"].is_string(), "{lead}");
    }
    let (summary, _) = testbed_json(&cli, &["run", "-c", "c", "--stages", "t_dead", "--wait"]);
    let listed = testbed_json(&cli, &["leads", "list", "-c", "c"]).0;
    for lead in listed.as_array().unwrap() {
        assert_eq!(lead["last_job"]["stage"], "t_dead", "{summary}\n{lead}");
        assert_eq!(lead["last_job"]["status"], "dead", "{lead}");
    }
    let id = listed[0]["id"].as_str().unwrap().to_string();
    let shown = testbed_json(&cli, &["leads", "show", &id]).0;
    assert_eq!(shown["last_job"]["stage"], "t_dead", "{shown}");
    // A campaign whose leads never ran lists no last job at all.
    assert!(
        cli.testbed(&["campaign", "create", "D", "--slug", "d"])
            .status()
            .unwrap()
            .success()
    );
    let file = cli.write("more.csv", "website\nfresh.example\n");
    assert!(
        cli.testbed(&["import", file.to_str().unwrap(), "-c", "d"])
            .status()
            .unwrap()
            .success()
    );
    let listed = testbed_json(&cli, &["leads", "list", "-c", "d"]).0;
    assert!(listed[0].get("last_job").is_none(), "{listed}");
}
