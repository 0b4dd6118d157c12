//! The engine's test stages, and a way to run the real leadscout CLI with
//! them in a child process: the test binary re-runs itself with
//! `LEADSCOUT_TESTBED_ARGS` set, and `testbed_child` below turns into
//! `leadscout ARGS`. So crash tests kill a real process that runs the real
//! runtime, store and engine, with stages whose behaviour the test controls.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use clap::Parser;
use leadscout::jobs::{
    StageContext, StageError, StageFuture, StageHandler, StageOutcome, StageSet,
};

const ARGS_VAR: &str = "LEADSCOUT_TESTBED_ARGS";

/// Succeeds after an optional short pause (`LEADSCOUT_TEST_PAUSE_MS`).
struct Ok_;
/// Fails with a transient error on its first `LEADSCOUT_TEST_FLAKY` attempts (default 2).
struct Flaky;
/// Always fails with a permanent error.
struct Fail;
/// Always fails with a transient error: goes dead after its attempts.
struct Transient;
/// Never finishes.
struct Hang;
/// Appends `RUN LEAD` to the file `LEADSCOUT_TEST_EFFECTS`, at most once per job.
struct Effect;

fn pause() -> Duration {
    let ms = std::env::var("LEADSCOUT_TEST_PAUSE_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Duration::from_millis(ms)
}

impl StageHandler for Ok_ {
    fn run(&self, _ctx: StageContext) -> StageFuture<'_> {
        Box::pin(async move {
            tokio::time::sleep(pause()).await;
            Ok(StageOutcome::Done)
        })
    }
}

impl StageHandler for Flaky {
    fn run(&self, ctx: StageContext) -> StageFuture<'_> {
        Box::pin(async move {
            let failures = std::env::var("LEADSCOUT_TEST_FLAKY")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(2);
            tokio::time::sleep(pause()).await;
            if ctx.attempt() <= failures {
                return Err(StageError::transient(format!(
                    "flaky failure on attempt {}",
                    ctx.attempt()
                ))
                .context("t_flaky"));
            }
            Ok(StageOutcome::Done)
        })
    }
}

impl StageHandler for Fail {
    fn run(&self, _ctx: StageContext) -> StageFuture<'_> {
        Box::pin(async {
            Err(StageError::permanent("this input can never work").context("t_fail"))
        })
    }
}

impl StageHandler for Transient {
    fn run(&self, ctx: StageContext) -> StageFuture<'_> {
        Box::pin(async move {
            Err(StageError::transient(format!(
                "still unavailable (attempt {})",
                ctx.attempt()
            )))
        })
    }
}

impl StageHandler for Hang {
    fn run(&self, _ctx: StageContext) -> StageFuture<'_> {
        Box::pin(async {
            std::future::pending::<()>().await;
            Ok(StageOutcome::Done)
        })
    }
}

impl StageHandler for Effect {
    fn run(&self, ctx: StageContext) -> StageFuture<'_> {
        Box::pin(async move {
            let path = std::env::var("LEADSCOUT_TEST_EFFECTS")
                .map_err(|_| StageError::permanent("LEADSCOUT_TEST_EFFECTS is not set"))?;
            let line = format!("{} {}", ctx.job.run, ctx.job.lead);
            ctx.side_effect(async move {
                tokio::time::sleep(pause()).await;
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| StageError::transient(format!("cannot open {path}: {e}")))?;
                // One write of the whole line: `writeln!` writes the text and
                // the newline separately, and a kill between the two would
                // glue the next process's line onto this one.
                file.write_all(format!("{line}\n").as_bytes())
                    .map_err(|e| StageError::transient(e.to_string()))?;
                file.sync_all()
                    .map_err(|e| StageError::transient(e.to_string()))?;
                Ok(())
            })
            .await?;
            Ok(StageOutcome::Done)
        })
    }
}

pub fn test_stages() -> StageSet {
    StageSet::new()
        .with("t_ok", Ok_)
        .with("t_flaky", Flaky)
        .with("t_effect", Effect)
        .with("t_fail", Fail)
        .with("t_dead", Transient)
        .with("t_hang", Hang)
}

/// Not a test: the child-process entry point. Ignored, so a normal run
/// neither runs nor counts it as passed; [`testbed`] runs it by name with
/// `--ignored --exact`.
#[test]
#[ignore = "the testbed's child-process entry point, run only by `testbed()`"]
fn testbed_child() {
    let Ok(args) = std::env::var(ARGS_VAR) else {
        // Run by hand with `--ignored`: there is nothing to be a child of.
        return;
    };
    let args: Vec<String> = serde_json::from_str(&args).expect("testbed args are a JSON array");
    let cli = leadscout::cli::Cli::parse_from(std::iter::once("leadscout".to_string()).chain(args));
    let code = leadscout::runtime::run_with(cli, Some(test_stages()));
    let code = if code == std::process::ExitCode::SUCCESS {
        0
    } else if code == std::process::ExitCode::from(130) {
        130
    } else {
        1
    };
    std::process::exit(code);
}

/// A command that runs `leadscout ARGS` with the test stages.
pub fn testbed(args: &[&str]) -> Command {
    let exe: PathBuf = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args([
        "testbed::testbed_child",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads",
        "1",
        "--quiet",
    ])
    .env(ARGS_VAR, serde_json::to_string(args).expect("json"));
    cmd
}
