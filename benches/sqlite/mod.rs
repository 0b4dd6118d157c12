//! The same no-op jobs through apalis-sqlite 1.0, for the side-by-side
//! figure. A real database file (WAL, synchronous=NORMAL), all jobs pushed
//! in one bulk insert, one worker with the given concurrency, results and
//! acks written as the crate does by default (batch size 100).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use apalis::layers::WorkerBuilderExt;
use apalis_core::backend::TaskSink;
use apalis_core::error::BoxDynError;
use apalis_core::task::data::Data;
use apalis_core::worker::builder::WorkerBuilder;
use apalis_core::worker::context::WorkerContext;
use apalis_sqlite::{Config, SqliteConnectOptions, SqlitePoolOptions, SqliteStorage};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Noop {
    n: u32,
}

#[derive(Clone)]
struct Counter {
    done: Arc<AtomicUsize>,
    target: usize,
}

async fn noop(
    _job: Noop,
    counter: Data<Counter>,
    worker: WorkerContext,
) -> Result<(), BoxDynError> {
    if counter.done.fetch_add(1, Ordering::SeqCst) + 1 == counter.target {
        // Stopping lets the worker flush its last acks before run() returns.
        worker.stop()?;
    }
    Ok(())
}

/// Jobs per second through apalis-sqlite.
pub async fn noop_jobs(jobs: usize, concurrency: usize) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("jobs.sqlite"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
    // setup() sets pragmas on one connection only: run it on a pool of
    // one, then open the real pool with the pragmas on every connection.
    let setup = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .expect("setup pool");
    SqliteStorage::setup(&setup).await.expect("migrations");
    setup.close().await;
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("pool");
    let config = Config::default().queue("bench").batch_size(100);
    let mut storage = SqliteStorage::<Noop>::new(&pool).with_config(config);
    storage
        .push_bulk((0..jobs as u32).map(|n| Noop { n }).collect())
        .await
        .expect("push");
    let counter = Counter {
        done: Arc::new(AtomicUsize::new(0)),
        target: jobs,
    };
    let started = Instant::now();
    WorkerBuilder::new("sqlite-bench")
        .backend(storage)
        .data(counter.clone())
        .concurrency(concurrency)
        .build(noop)
        .run()
        .await
        .expect("worker");
    assert_eq!(counter.done.load(Ordering::SeqCst), jobs);
    jobs as f64 / started.elapsed().as_secs_f64()
}
