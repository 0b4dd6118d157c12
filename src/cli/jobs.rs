//! `run`, `work`, `runs ...`, `jobs ...` and `serve`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use color_eyre::eyre::Result;
use serde::Serialize;

use super::args::{JobsCommand, RunArgs, RunsCommand};
use super::output::{Out, clip, when};
use crate::domain::StageCounts;
use crate::domain::event::Event;
use crate::domain::{JobStatus, LeadStatus, Stage};
use crate::service::jobs::{JobQuery, RunRequest, RunView};
use crate::service::{Api, Client, Opener};

/// Per-stage outcome counts, the `--json` shape of a summary.
#[derive(Debug, Serialize)]
struct StageSummary {
    succeeded: u64,
    failed: u64,
    skipped: u64,
    dead: u64,
    cancelled: u64,
    needs_review: u64,
}

impl From<&StageCounts> for StageSummary {
    fn from(c: &StageCounts) -> Self {
        Self {
            succeeded: c.succeeded,
            failed: c.failed,
            skipped: c.skipped,
            dead: c.dead,
            cancelled: c.cancelled,
            needs_review: c.needs_review,
        }
    }
}

pub async fn run(args: RunArgs, opener: &dyn Opener, out: &Out) -> Result<ExitCode> {
    let status = args
        .status
        .as_deref()
        .map(str::parse::<LeadStatus>)
        .transpose()?;
    let request = RunRequest {
        campaign: args.campaign.clone(),
        stages: args.stages.clone(),
        leads: args.leads.clone(),
        status,
    };
    if !args.wait {
        let service = crate::service::connect(opener, "run").await?;
        let view = service.start_run(request).await?;
        if out.json {
            out.json(&view)?;
        } else {
            say_started(&view, out);
            match &service {
                Client::Remote(remote) => out.say(format!(
                    "The server (pid {}) runs it now; `leadscout runs show {}` shows how far it got.",
                    remote.info().pid,
                    view.id
                )),
                Client::Local(_) => out.say("Nothing runs it yet: `leadscout work --until-idle` runs it here, `leadscout serve` runs it in the background."),
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let service = crate::service::connect_with_workers(opener, "run").await?;
    let view = service.start_run(request).await?;
    service.start_workers();
    if !out.json {
        say_started(&view, out);
    }
    let id = view.id.to_string();
    let total = view.leads * view.stages.len() as u64;
    let finished = wait_for(&service, out, Total::Run(total), |svc| {
        let id = id.clone();
        async move {
            svc.run_view(id).await.map(|v| {
                (
                    v.counts.values().map(StageCounts::finished).sum(),
                    v.finished,
                )
            })
        }
    })
    .await?;
    service.shutdown().await;
    let view = service.run_view(id.clone()).await?;
    if !finished {
        out.say(format!("Stopped before the run finished. Resume it with: leadscout work --until-idle  (run {id})"));
        return Ok(ExitCode::from(130));
    }
    let summary: BTreeMap<&Stage, StageSummary> =
        view.counts.iter().map(|(s, c)| (s, c.into())).collect();
    if out.json {
        out.json(&serde_json::json!({ "run": view.id, "stages": summary }))?;
    } else {
        print_summary(&view.counts, out)?;
    }
    let dead: u64 = view.counts.values().map(|c| c.dead).sum();
    Ok(if dead > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn say_started(view: &RunView, out: &Out) {
    let stages: Vec<&str> = view.stages.iter().map(Stage::as_str).collect();
    let mut line = format!(
        "Run {} started: {} lead(s) of `{}` through {}.",
        view.id,
        view.leads,
        view.campaign,
        stages.join(" → ")
    );
    if view.skipped_leads > 0 {
        line.push_str(&format!(
            " {} lead(s) left out (blacklisted or already queued).",
            view.skipped_leads
        ));
    }
    out.say(line);
}

pub async fn work(until_idle: bool, opener: &dyn Opener, out: &Out) -> Result<ExitCode> {
    let service = crate::service::connect_with_workers(opener, "work").await?;
    if let Client::Remote(remote) = &service
        && !until_idle
    {
        color_eyre::eyre::bail!(
            "the server (pid {}) already works on this data dir's jobs; `leadscout work --until-idle` waits for them, `leadscout runs` shows them",
            remote.info().pid
        );
    }
    let before = service.job_totals().await?;
    service.start_workers();
    if !until_idle {
        out.say("Working on queued jobs; Ctrl-C stops (running jobs get a grace period).");
        shutdown_signal().await;
        service.shutdown().await;
    } else {
        let queued = service.queue_stats().borrow().queued;
        let finished = wait_for(&service, out, Total::Queue(queued), |svc| {
            let before = before.clone();
            async move {
                let done = finished_since(&before, &svc.job_totals().await?);
                Ok((done, svc.is_idle().await?))
            }
        })
        .await?;
        service.shutdown().await;
        if !finished {
            out.say("Stopped; what was not finished is back in the queue.");
            return Ok(ExitCode::from(130));
        }
    }
    let after = service.job_totals().await?;
    let mut done: BTreeMap<Stage, StageCounts> = BTreeMap::new();
    for (stage, counts) in &after {
        let old = before.get(stage).copied().unwrap_or_default();
        let diff = StageCounts {
            total: counts.total.saturating_sub(old.total),
            succeeded: counts.succeeded.saturating_sub(old.succeeded),
            failed: counts.failed.saturating_sub(old.failed),
            skipped: counts.skipped.saturating_sub(old.skipped),
            dead: counts.dead.saturating_sub(old.dead),
            cancelled: counts.cancelled.saturating_sub(old.cancelled),
            needs_review: counts.needs_review.saturating_sub(old.needs_review),
        };
        if diff.finished() > 0 {
            done.insert(stage.clone(), diff);
        }
    }
    if out.json {
        let summary: BTreeMap<&Stage, StageSummary> =
            done.iter().map(|(s, c)| (s, c.into())).collect();
        out.json(&serde_json::json!({ "stages": summary }))?;
    } else if done.is_empty() {
        out.say("Nothing was queued.");
    } else {
        print_summary(&done, out)?;
    }
    let dead: u64 = done.values().map(|c| c.dead).sum();
    Ok(if dead > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn finished_since(
    before: &BTreeMap<Stage, StageCounts>,
    now: &BTreeMap<Stage, StageCounts>,
) -> u64 {
    now.iter()
        .map(|(stage, c)| {
            c.finished()
                .saturating_sub(before.get(stage).map_or(0, StageCounts::finished))
        })
        .sum()
}

/// How many jobs a wait covers.
#[derive(Debug, Clone, Copy)]
pub(super) enum Total {
    /// A run's jobs: its leads times its stages, known from the start.
    Run(u64),
    /// Whatever is queued: it grows as each finished job queues its
    /// lead's next stage.
    Queue(u64),
}

/// Shows progress until `poll` says done (true) or a signal arrives
/// (false). `poll` returns (jobs finished so far, done?).
pub(super) async fn wait_for<F, Fut>(
    service: &Client,
    out: &Out,
    total: Total,
    poll: F,
) -> Result<bool>
where
    F: Fn(Client) -> Fut,
    Fut: std::future::Future<Output = crate::service::Result<(u64, bool)>>,
{
    let mut events = service.subscribe();
    let progress = Progress::new(out, total);
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        let (done, finished) = poll(service.clone()).await?;
        progress.update(done, &service.queue_stats().borrow());
        if finished {
            progress.complete(done);
            return Ok(true);
        }
        tokio::select! {
            event = events.recv() => {
                if let Ok(Event::JobChanged { status, stage, lead, .. }) = event
                    && matches!(status, JobStatus::Failed | JobStatus::Dead)
                {
                    progress.println(format!("{stage} failed for lead {lead} ({status}); `leadscout jobs list --status {status}` shows why"));
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = &mut signal => {
                progress.finish();
                out.say("Interrupted; letting running jobs finish…");
                return Ok(false);
            }
        }
    }
}

/// A progress bar on a terminal, plain lines every few seconds otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    /// When the last plain line was printed, and what it said.
    last_line: std::sync::Mutex<(Instant, String)>,
    total: std::sync::atomic::AtomicU64,
    /// The total grows with the queue (`work`), not fixed by a run.
    grows: bool,
}

impl Progress {
    fn new(out: &Out, total: Total) -> Self {
        let (total, grows) = match total {
            Total::Run(n) => (n, false),
            Total::Queue(n) => (n, true),
        };
        let terminal = std::io::stderr().is_terminal();
        let bar = (terminal && !out.json).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total),
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} jobs  {msg}  [{elapsed}]",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            bar,
            plain: !terminal && !out.json,
            last_line: std::sync::Mutex::new((Instant::now(), String::new())),
            total: total.into(),
            grows,
        }
    }

    fn update(&self, done: u64, stats: &crate::domain::event::QueueStats) {
        let floor = if self.grows {
            done + stats.queued + stats.running
        } else {
            done
        };
        let total = self
            .total
            .fetch_max(floor, std::sync::atomic::Ordering::Relaxed)
            .max(floor);
        // The store counts a run's job done a moment before the engine's
        // own counters do: with all of a run's jobs done, "1 running"
        // would be stale.
        let msg = if self.grows || done < total {
            format!(
                "{} running, {} queued, {} failed, {}/min",
                stats.running, stats.queued, stats.failed, stats.done_per_minute
            )
        } else {
            format!("{} failed, {}/min", stats.failed, stats.done_per_minute)
        };
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(msg);
        } else if self.plain {
            let line = format!("progress: {done}/{total} jobs done; {msg}");
            let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
            // A log, not a screen: a line only when something moved.
            if last.0.elapsed() >= Duration::from_secs(2) && last.1 != line {
                eprintln!("{line}");
                *last = (Instant::now(), line);
            }
        }
    }

    fn println(&self, line: String) {
        // Job errors quote what a site answered.
        let line = super::output::printable(&line, true).into_owned();
        match &self.bar {
            Some(bar) => bar.println(line),
            None if self.plain => eprintln!("{line}"),
            None => {}
        }
    }

    /// The run is over, so every job it has is finished and `done` is its
    /// true size (the count given at the start was an estimate): the last
    /// line says so, whenever the last periodic line was printed.
    fn complete(&self, done: u64) {
        self.total.store(done, std::sync::atomic::Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_length(done);
            bar.set_position(done);
            bar.finish();
        } else if self.plain {
            eprintln!("progress: {done}/{done} jobs done");
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn print_summary(counts: &BTreeMap<Stage, StageCounts>, out: &Out) -> Result<()> {
    out.table(
        &[
            "stage",
            "succeeded",
            "failed",
            "skipped",
            "dead",
            "cancelled",
            "review",
        ],
        counts.iter().map(|(stage, c)| {
            vec![
                stage.to_string(),
                c.succeeded.to_string(),
                c.failed.to_string(),
                c.skipped.to_string(),
                c.dead.to_string(),
                c.cancelled.to_string(),
                c.needs_review.to_string(),
            ]
        }),
    )
}

/// SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

pub async fn runs(command: RunsCommand, service: &Client, out: &Out) -> Result<()> {
    match command {
        RunsCommand::List => {
            let runs = service.list_runs().await?;
            if out.json {
                return out.json(&runs);
            }
            if runs.is_empty() {
                out.say("No runs yet. Start one: leadscout run --campaign SLUG --wait");
                return Ok(());
            }
            out.table(
                &[
                    "id", "campaign", "stages", "leads", "done", "state", "created",
                ],
                runs.iter().map(|r| {
                    let total: u64 = r.counts.values().map(|c| c.total).sum();
                    let done: u64 = r.counts.values().map(StageCounts::finished).sum();
                    vec![
                        r.id.to_string(),
                        r.campaign.clone(),
                        r.stages
                            .iter()
                            .map(Stage::as_str)
                            .collect::<Vec<_>>()
                            .join(","),
                        r.leads.to_string(),
                        format!("{done}/{total}"),
                        if r.finished {
                            "finished".into()
                        } else {
                            format!("{} pending", r.pending)
                        },
                        when(&r.created_at),
                    ]
                }),
            )?;
        }
        RunsCommand::Show { id } => {
            let r = service.run_view(id.clone()).await?;
            if out.json {
                return out.json(&r);
            }
            out.fields(&[
                ("run", r.id.to_string()),
                ("campaign", r.campaign.clone()),
                ("leads", format!("{} ({})", r.leads, r.selection)),
                (
                    "stages",
                    r.stages
                        .iter()
                        .map(Stage::as_str)
                        .collect::<Vec<_>>()
                        .join(" → "),
                ),
                (
                    "state",
                    if r.finished {
                        "finished".into()
                    } else {
                        format!("{} jobs pending", r.pending)
                    },
                ),
                ("created", when(&r.created_at)),
            ])?;
            println!();
            print_summary(&r.counts, out)?;
        }
    }
    Ok(())
}

pub async fn jobs(command: JobsCommand, service: &Client, out: &Out) -> Result<()> {
    match command {
        JobsCommand::List {
            run,
            lead,
            status,
            stage,
            limit,
        } => {
            let status = status.as_deref().map(str::parse::<JobStatus>).transpose()?;
            let jobs = service
                .list_jobs(JobQuery {
                    run,
                    lead,
                    status,
                    stage,
                    limit,
                })
                .await?;
            if out.json {
                return out.json(&jobs);
            }
            if jobs.is_empty() {
                out.say("No jobs match.");
                return Ok(());
            }
            out.table(
                &[
                    "id",
                    "stage",
                    "status",
                    "attempts",
                    "lead",
                    "finished",
                    "last error",
                ],
                jobs.iter().map(|j| {
                    vec![
                        j.id.to_string(),
                        j.stage.to_string(),
                        j.status.to_string(),
                        j.attempts.to_string(),
                        j.lead.to_string(),
                        j.finished_at.as_ref().map(when).unwrap_or_default(),
                        clip(j.last_error.as_deref().unwrap_or(""), 60),
                    ]
                }),
            )?;
        }
        JobsCommand::Show { id } => {
            let (job, attempts) = service.job_attempts(id.clone()).await?;
            if out.json {
                return out.json(&serde_json::json!({ "job": job, "attempts": attempts }));
            }
            out.fields(&[
                ("job", job.id.to_string()),
                ("stage", job.stage.to_string()),
                ("status", job.status.to_string()),
                ("lead", job.lead.to_string()),
                ("run", job.run.to_string()),
                ("attempts", job.attempts.to_string()),
                ("last error", job.last_error.clone().unwrap_or_default()),
            ])?;
            if !attempts.is_empty() {
                println!();
                out.table(
                    &["attempt", "status", "started", "took", "error"],
                    attempts.iter().map(|a| {
                        vec![
                            a.attempt.to_string(),
                            a.status.to_string(),
                            a.started_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                            format!("{:.1}s", a.duration_ms as f64 / 1000.0),
                            a.error.join(": "),
                        ]
                    }),
                )?;
            }
        }
        JobsCommand::Retry {
            id,
            failed,
            run,
            stage,
        } => {
            let retried = match id {
                Some(id) if !failed => vec![service.retry_job(id.clone()).await?],
                _ => {
                    service
                        .retry_failed(JobQuery {
                            run,
                            stage,
                            ..Default::default()
                        })
                        .await?
                }
            };
            if out.json {
                return out.json(&retried);
            }
            out.say(format!(
                "Queued {} job(s) again. `leadscout work --until-idle` runs them.",
                retried.len()
            ));
        }
        JobsCommand::Cancel { id, run } => {
            let cancelled = service.cancel(id.clone(), run.clone()).await?;
            if out.json {
                return out.json(&cancelled);
            }
            out.say(format!("Cancelled {} job(s).", cancelled.len()));
        }
    }
    Ok(())
}

/// `serve`: the host runs until SIGTERM or Ctrl-C; events are logged.
pub async fn serve(opener: &dyn Opener) -> Result<ExitCode> {
    let options = crate::service::HostOptions {
        pages_required: true,
    };
    let mut hosted = opener.start_host("serve", options).await?;
    let service = hosted.client().clone();
    let addrs = hosted.addrs().clone();
    tracing::info!(
        data_dir = %service.info().data_dir.display(),
        version = crate::VERSION,
        listening = %addrs.pages.map_or("off".to_string(), |a| a.to_string()),
        metrics = %addrs.metrics.map_or("off".to_string(), |a| a.to_string()),
        control = %addrs.control.as_ref().map_or("off".to_string(), |p| p.display().to_string()),
        links = %service.info().pages_url,
        "leadscout serve started"
    );
    // From the workers' start: jobs queued earlier can end before this
    // line runs, and the log names each of them.
    let mut events = hosted.events();
    let mut signal = hosted.signal();
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(Event::JobChanged { job, lead, stage, status, .. }) => {
                    tracing::info!(%job, %lead, %stage, %status, "job changed");
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => tracing::debug!(missed = n, "event log fell behind"),
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
            _ = signal.wait_for(|s| *s) => break,
        }
    }
    tracing::info!("stopping: running jobs get the grace period, the rest go back to the queue");
    hosted.stop().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
