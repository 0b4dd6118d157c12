//! The sled store: one tree per entity plus index trees, versioned values,
//! schema migrations on open, the data-dir lock, backup and restore, and the
//! content-addressed blob cache.
//!
//! Uses `domain` only. Nothing here knows about jobs, the TUI or the web.

pub mod actions;
pub mod audits;
pub mod backup;
pub mod blacklist;
pub mod blobs;
pub mod campaigns;
pub mod codec;
pub mod files;
pub mod followups;
pub mod inbox;
pub mod jobs;
pub mod keys;
pub mod leads;
pub mod lock;
pub mod outreach;
pub mod repair;
pub mod reports;
pub mod runs;
pub mod settings;
pub mod unsubscribe;
pub mod visits;

use std::path::{Path, PathBuf};

use sled::transaction::TransactionError;

pub use blobs::{BlobStore, Hash};
pub use lock::Holder;

/// The schema this build writes. Bump it together with a step in `migrate`.
pub const SCHEMA_VERSION: u32 = 3;

const DB_DIR: &str = "db";
const BLOB_DIR: &str = "blobs";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("data dir {} is in use by {holder}. Stop that process or wait for it to finish, or pass --data-dir to use another data dir", dir.display())]
    Locked { dir: PathBuf, holder: String },
    #[error("cannot open the store in {}: {source}", dir.display())]
    Open { dir: PathBuf, source: sled::Error },
    #[error("data dir {} was written by a newer leadscout (schema {found}; this build reads up to {SCHEMA_VERSION}). Upgrade leadscout, or restore a backup into a new data dir", dir.display())]
    TooNew { dir: PathBuf, found: u32 },
    #[error("corrupt record in tree `{tree}` (key {key}): {reason}")]
    Corrupt {
        tree: String,
        key: String,
        reason: String,
    },
    #[error("store: {0}")]
    Sled(#[from] sled::Error),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(err: TransactionError<StoreError>) -> Self {
        match err {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => Self::Sled(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Adds `delta` to a big-endian u64 counter inside a transaction.
pub(crate) fn add_to_counter(
    counts: &sled::transaction::TransactionalTree,
    key: &[u8],
    delta: i64,
) -> leads::TxResult<()> {
    let current = counts
        .get(key)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0);
    counts.insert(key, &current.saturating_add_signed(delta).to_be_bytes())?;
    Ok(())
}

/// Reads a big-endian u64 counter value.
pub(crate) fn counter_value(value: &[u8]) -> u64 {
    <[u8; 8]>::try_from(value)
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

/// The trees of the store, opened once.
#[derive(Debug, Clone)]
pub(crate) struct Trees {
    pub meta: sled::Tree,
    pub campaigns: sled::Tree,
    pub campaign_slugs: sled::Tree,
    pub leads: sled::Tree,
    pub leads_by_campaign: sled::Tree,
    pub leads_by_domain: sled::Tree,
    pub leads_by_status: sled::Tree,
    pub lead_counts: sled::Tree,
    pub blacklist: sled::Tree,
    pub settings: sled::Tree,
    pub runs: sled::Tree,
    pub run_counts: sled::Tree,
    pub jobs: sled::Tree,
    pub jobs_ready: sled::Tree,
    pub jobs_running: sled::Tree,
    pub jobs_by_run: sled::Tree,
    pub jobs_by_lead: sled::Tree,
    pub job_attempts: sled::Tree,
    pub job_counts: sled::Tree,
    pub fetches: sled::Tree,
    pub audits: sled::Tree,
    pub report_tokens: sled::Tree,
    pub lead_reports: sled::Tree,
    pub outreach: sled::Tree,
    pub outreach_index: sled::Tree,
    pub send_log: sled::Tree,
    pub lead_views: sled::Tree,
    pub visits: sled::Tree,
    pub action_log: sled::Tree,
    pub unsubscribe_tokens: sled::Tree,
    pub lead_unsubscribe: sled::Tree,
    pub inbox: sled::Tree,
    pub inbox_seen: sled::Tree,
    pub message_ids: sled::Tree,
    pub conversations: sled::Tree,
    pub soft_bounces: sled::Tree,
    pub followups_waiting: sled::Tree,
}

/// Names of every tree, in dump order.
pub const TREE_NAMES: &[&str] = &[
    "meta",
    "campaigns",
    "campaign_slugs",
    "leads",
    "leads_by_campaign",
    "leads_by_domain",
    "leads_by_status",
    "lead_counts",
    "blacklist",
    "settings",
    "runs",
    "run_counts",
    "jobs",
    "jobs_ready",
    "jobs_running",
    "jobs_by_run",
    "jobs_by_lead",
    "job_attempts",
    "job_counts",
    "fetches",
    "audits",
    "report_tokens",
    "lead_reports",
    "outreach",
    "outreach_index",
    "send_log",
    "lead_views",
    "visits",
    "action_log",
    "unsubscribe_tokens",
    "lead_unsubscribe",
    "inbox",
    "inbox_seen",
    "message_ids",
    "conversations",
    "soft_bounces",
    "followups_waiting",
];

impl Trees {
    fn open(db: &sled::Db) -> sled::Result<Self> {
        Ok(Self {
            meta: db.open_tree("meta")?,
            campaigns: db.open_tree("campaigns")?,
            campaign_slugs: db.open_tree("campaign_slugs")?,
            leads: db.open_tree("leads")?,
            leads_by_campaign: db.open_tree("leads_by_campaign")?,
            leads_by_domain: db.open_tree("leads_by_domain")?,
            leads_by_status: db.open_tree("leads_by_status")?,
            lead_counts: db.open_tree("lead_counts")?,
            blacklist: db.open_tree("blacklist")?,
            settings: db.open_tree("settings")?,
            runs: db.open_tree("runs")?,
            run_counts: db.open_tree("run_counts")?,
            jobs: db.open_tree("jobs")?,
            jobs_ready: db.open_tree("jobs_ready")?,
            jobs_running: db.open_tree("jobs_running")?,
            jobs_by_run: db.open_tree("jobs_by_run")?,
            jobs_by_lead: db.open_tree("jobs_by_lead")?,
            job_attempts: db.open_tree("job_attempts")?,
            job_counts: db.open_tree("job_counts")?,
            fetches: db.open_tree("fetches")?,
            audits: db.open_tree("audits")?,
            report_tokens: db.open_tree("report_tokens")?,
            lead_reports: db.open_tree("lead_reports")?,
            outreach: db.open_tree("outreach")?,
            outreach_index: db.open_tree("outreach_index")?,
            send_log: db.open_tree("send_log")?,
            lead_views: db.open_tree("lead_views")?,
            visits: db.open_tree("visits")?,
            action_log: db.open_tree("action_log")?,
            unsubscribe_tokens: db.open_tree("unsubscribe_tokens")?,
            lead_unsubscribe: db.open_tree("lead_unsubscribe")?,
            inbox: db.open_tree("inbox")?,
            inbox_seen: db.open_tree("inbox_seen")?,
            message_ids: db.open_tree("message_ids")?,
            conversations: db.open_tree("conversations")?,
            soft_bounces: db.open_tree("soft_bounces")?,
            followups_waiting: db.open_tree("followups_waiting")?,
        })
    }
}

/// An open data dir. Only one process may hold it at a time.
#[derive(Debug)]
pub struct Store {
    db: sled::Db,
    pub(crate) trees: Trees,
    blobs: BlobStore,
    dir: PathBuf,
    /// Report views not yet written (see `visits`).
    views: visits::PendingViews,
    /// Bumped after every write of a report link (publish, replace,
    /// revoke), so a reader that remembered a link knows when to look again.
    links_generation: std::sync::atomic::AtomicU64,
    /// Outreach records read (see `followups`).
    outreach_reads: followups::ReadCount,
    _pid_file: lock::PidFile,
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(e) = self
            .write_pending_views()
            .and_then(|()| Ok(self.db.flush()?))
        {
            tracing::warn!(error = %e, "the last report views could not be written");
        }
    }
}

/// Opens the sled database. A lock this process released a moment ago is
/// waited for, up to a bound: it is sled's threads letting go of our own
/// handle, not another process.
fn open_db(dir: &Path) -> sled::Result<sled::Db> {
    loop {
        let opened = sled::Config::new()
            .path(dir.join(DB_DIR))
            .cache_capacity(64 * 1024 * 1024)
            .mode(sled::Mode::HighThroughput)
            .open();
        match opened {
            Err(e) if lock::is_lock_error(&e) && lock::own_lock_deadline(dir).is_some() => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            opened => return opened,
        }
    }
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, takes its lock, and
    /// migrates it to the current schema. `command` is recorded in the pid
    /// file so that a second process can say who holds the dir.
    pub fn open(dir: &Path, command: &str) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::io(format!("cannot create data dir {}", dir.display()), e))?;
        // Tokens, addresses and drafts live here: the operator's alone,
        // whatever the umask (and a data dir made by an older version is
        // narrowed too).
        files::make_dir_private(dir).map_err(|e| {
            StoreError::io(
                format!("cannot make data dir {} private (chmod 700)", dir.display()),
                e,
            )
        })?;
        let db = open_db(dir).map_err(|source| {
            if lock::is_lock_error(&source) {
                let holder = lock::read_holder(dir)
                    .map(|h| h.describe())
                    .unwrap_or_else(|| "another leadscout process".to_string());
                StoreError::Locked {
                    dir: dir.to_path_buf(),
                    holder,
                }
            } else {
                StoreError::Open {
                    dir: dir.to_path_buf(),
                    source,
                }
            }
        })?;
        let holder = Holder {
            pid: std::process::id(),
            command: command.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .unwrap_or_default()
                .to_string(),
        };
        let pid_file = lock::PidFile::write(dir, &holder).map_err(|e| {
            StoreError::io(format!("cannot write the pid file in {}", dir.display()), e)
        })?;
        // sled creates its files with the process umask; narrow them.
        files::make_tree_private(&dir.join(DB_DIR)).map_err(|e| {
            StoreError::io(
                format!("cannot make {} private", dir.join(DB_DIR).display()),
                e,
            )
        })?;
        let trees = Trees::open(&db)?;
        let blobs = BlobStore::open(&dir.join(BLOB_DIR))?;
        let store = Self {
            db,
            trees,
            blobs,
            dir: dir.to_path_buf(),
            views: Default::default(),
            links_generation: Default::default(),
            outreach_reads: Default::default(),
            _pid_file: pid_file,
        };
        store.migrate()?;
        store.finish_interrupted_rebuild()?;
        store.compact_visits()?;
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    pub(crate) fn db(&self) -> &sled::Db {
        &self.db
    }

    /// Makes every write so far durable. Call before telling the user a
    /// write happened.
    pub async fn flush(&self) -> Result<()> {
        self.write_pending_views()?;
        self.db.flush_async().await?;
        Ok(())
    }

    pub fn flush_blocking(&self) -> Result<()> {
        self.write_pending_views()?;
        self.db.flush()?;
        Ok(())
    }

    pub fn schema_version(&self) -> Result<Option<u32>> {
        Ok(self
            .trees
            .meta
            .get(b"schema_version")?
            .and_then(|v| <[u8; 4]>::try_from(v.as_ref()).ok())
            .map(u32::from_be_bytes))
    }

    /// Brings an older store up to `SCHEMA_VERSION`, one step at a time.
    /// A fresh store is stamped with the current version.
    fn migrate(&self) -> Result<()> {
        let found = self.schema_version()?;
        match found {
            Some(v) if v > SCHEMA_VERSION => Err(StoreError::TooNew {
                dir: self.dir.clone(),
                found: v,
            }),
            Some(SCHEMA_VERSION) => Ok(()),
            Some(older) => {
                tracing::info!(from = older, to = SCHEMA_VERSION, "migrating store schema");
                if older < 2 {
                    let aliases = unsubscribe::alias_report_tokens(self)?;
                    tracing::info!(aliases, "old unsubscribe links keep working");
                }
                if older < 3 {
                    let mut unreadable = Vec::new();
                    let waiting = self.backfill_followups_waiting(&mut unreadable)?;
                    tracing::info!(waiting, "follow-ups waiting indexed");
                    for record in unreadable {
                        tracing::warn!(%record, "left out of the follow-up index");
                    }
                }
                self.set_schema_version(SCHEMA_VERSION)
            }
            None => self.set_schema_version(SCHEMA_VERSION),
        }
    }

    fn set_schema_version(&self, version: u32) -> Result<()> {
        self.trees
            .meta
            .insert(b"schema_version", &version.to_be_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    /// Approximate size of the database on disk, for `doctor`.
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_open_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = Store::open(dir.path(), "serve").unwrap();
        let err = Store::open(dir.path(), "import").unwrap_err().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(err.contains("`leadscout serve`"), "{err}");
        assert!(err.contains("--data-dir"), "{err}");
        drop(first);
        Store::open(dir.path(), "import").unwrap();
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), "test").unwrap();
            assert_eq!(store.schema_version().unwrap(), Some(SCHEMA_VERSION));
            store.set_schema_version(SCHEMA_VERSION + 1).unwrap();
        }
        let err = Store::open(dir.path(), "test").unwrap_err();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
    }
}
