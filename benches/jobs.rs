//! No-op jobs through the durable sled-backed engine: how many complete per
//! second (target ≥ 5,000 on 2 cores). Every job is claimed under a lease,
//! acknowledged, recorded as an attempt and made durable by the group
//! commit, exactly as real stages are. With `--features bench-sqlite` the
//! same jobs also go through apalis-sqlite in the same run, side by side.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadscout::config::Config;
use leadscout::domain::{
    CampaignId, IdGen, Job, JobId, JobStatus, LeadId, Run, RunId, Stage, SystemClock,
};
use leadscout::jobs::{
    EngineHandle, EngineParts, EventBus, StageContext, StageFuture, StageHandler, StageOutcome,
    StageSet,
};
use leadscout::store::Store;

const JOBS: usize = 20_000;

struct Noop;

impl StageHandler for Noop {
    fn run(&self, _ctx: StageContext) -> StageFuture<'_> {
        Box::pin(async { Ok(StageOutcome::Done) })
    }
}

/// Jobs per second through the sled engine with `concurrency` workers.
async fn sled_engine(jobs: usize, concurrency: usize) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path(), "bench").expect("store"));
    let clock = Arc::new(SystemClock);
    let ids = Arc::new(IdGen::new());
    let mut config = Config::default();
    config.jobs.concurrency = concurrency;
    let config = Arc::new(config);
    let now = leadscout::domain::Timestamp::now();
    let stage = Stage::new("noop").expect("stage");
    let run = Run {
        id: RunId::from_ulid(ids.next(now)),
        campaign: CampaignId::from_ulid(ids.next(now)),
        stages: vec![stage.clone()],
        selection: "bench".into(),
        leads: jobs as u64,
        created_at: now,
    };
    store.insert_run(&run).expect("run");
    let batch: Vec<Job> = (0..jobs)
        .map(|_| Job {
            id: JobId::from_ulid(ids.next(now)),
            run: run.id,
            campaign: run.campaign,
            lead: LeadId::from_ulid(ids.next(now)),
            stage: stage.clone(),
            status: JobStatus::Queued,
            attempts: 0,
            attempt_base: 0,
            max_attempts: 3,
            run_at: now,
            lease: None,
            last_error: None,
            effect: Default::default(),
            cancel_requested: false,
            created_at: now,
            started_at: None,
            finished_at: None,
        })
        .collect();
    store.push_jobs(&batch).expect("push");
    store.flush().await.expect("flush");
    let engine = EngineHandle::start(EngineParts {
        store: store.clone(),
        config,
        clock,
        ids,
        stages: StageSet::new().with("noop", Noop),
        bus: Arc::new(EventBus::new()),
    })
    .expect("engine");
    let started = Instant::now();
    engine.resume();
    loop {
        let counts = store.run_counts(run.id).expect("counts");
        if counts
            .get(&stage)
            .is_some_and(|c| c.succeeded == jobs as u64)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed();
    engine.shutdown().await;
    jobs as f64 / elapsed.as_secs_f64()
}

#[cfg(feature = "bench-sqlite")]
mod sqlite;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!("machine: {}", common::machine());
    println!("| backend | concurrency | jobs | jobs/s |");
    println!("|---|---|---|---|");
    let mut best = 0.0f64;
    for concurrency in [8, 32, 128] {
        let rate = runtime.block_on(sled_engine(JOBS, concurrency));
        best = best.max(rate);
        println!("| leadscout sled engine | {concurrency} | {JOBS} | {rate:.0} |");
    }
    println!("best: {best:.0} jobs/s (target ≥ 5,000)");
    #[cfg(feature = "bench-sqlite")]
    {
        let mut best_sqlite = 0.0f64;
        for concurrency in [8, 32, 128] {
            let rate = runtime.block_on(sqlite::noop_jobs(JOBS, concurrency));
            best_sqlite = best_sqlite.max(rate);
            println!("| apalis-sqlite 1.0 | {concurrency} | {JOBS} | {rate:.0} |");
        }
        println!(
            "ratio, best sled engine / best apalis-sqlite: {:.1}x (target ≥ 5x)",
            best / best_sqlite
        );
    }
    #[cfg(not(feature = "bench-sqlite"))]
    println!("(the apalis-sqlite side-by-side runs with --features bench-sqlite)");
}
