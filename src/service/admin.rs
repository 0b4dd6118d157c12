//! Backup, restore and the store checks of `doctor`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Result, Service};
use crate::domain::Manifest;
use crate::store::Store;

/// One line of `doctor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    Warn,
    Fail,
}

impl Check {
    pub fn new(name: &str, status: CheckStatus, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            status,
            detail: detail.into(),
        }
    }
}

impl Service {
    pub async fn backup(&self, dir: &Path) -> Result<Manifest> {
        self.store().flush().await?;
        let this = self.clone();
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || this.store().backup(&dir))
            .await
            .map_err(|e| super::ServiceError::Invalid(format!("backup stopped: {e}")))?
            .map_err(Into::into)
    }

    /// Deletes cached blobs (fetched pages, screenshots) that no record
    /// points at any more. Blobs younger than an hour are kept: a running
    /// job may have written one it has not recorded yet.
    pub async fn blobs_gc(&self) -> Result<crate::domain::GcReport> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let referenced = this.store().referenced_blobs()?;
            Ok(this.store().blobs().gc(
                |h| referenced.contains(h),
                std::time::Duration::from_secs(3600),
            )?)
        })
        .await
        .map_err(|e| super::ServiceError::Invalid(format!("blob collection stopped: {e}")))?
    }

    /// Rebuilds the lead and follow-up indexes from the leads and emails
    /// (`doctor --repair`). Only on a store this process opened for
    /// itself: no worker or host runs over it.
    pub async fn repair_indexes(&self) -> Result<crate::domain::IndexRebuild> {
        if self.runs_workers() {
            return Err(super::ServiceError::Invalid(
                "the indexes are not rebuilt while this process runs jobs over the store".into(),
            ));
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.store().rebuild_indexes())
            .await
            .map_err(|e| super::ServiceError::Invalid(format!("index rebuild stopped: {e}")))?
            .map_err(Into::into)
    }

    /// Store-level health: schema, size, index consistency, blobs.
    pub async fn doctor_checks(&self) -> Result<Vec<Check>> {
        let store = self.store();
        let mut checks = Vec::new();
        let schema = store.schema_version()?.unwrap_or(0);
        checks.push(Check::new(
            "store",
            CheckStatus::Ok,
            format!(
                "schema {schema}, {:.1} MiB on disk, {} campaigns, {} blacklist entries",
                store.size_on_disk()? as f64 / (1024.0 * 1024.0),
                store.campaigns()?.len(),
                store.blacklist_len()
            ),
        ));
        let mut problems = store.check_lead_indexes()?;
        problems.extend(store.check_followup_index()?);
        checks.push(if problems.is_empty() {
            Check::new(
                "indexes",
                CheckStatus::Ok,
                "leads, emails and indexes agree",
            )
        } else {
            Check::new(
                "indexes",
                CheckStatus::Fail,
                format!(
                    "{} problems, first: {}; `leadscout doctor --repair` rebuilds them from the leads and emails",
                    problems.len(),
                    problems[0]
                ),
            )
        });
        let blobs = store.blobs().list()?;
        let bytes: u64 = blobs.iter().map(|(_, size)| size).sum();
        checks.push(Check::new(
            "blobs",
            CheckStatus::Ok,
            format!(
                "{} blobs, {:.1} MiB",
                blobs.len(),
                bytes as f64 / (1024.0 * 1024.0)
            ),
        ));
        match crate::jobs::stages::screenshot::check_path(self.config()).await {
            // Each hop of the browser path in order; the list ends at the
            // first that broke.
            Ok(hops) => checks.extend(hops.into_iter().map(|(name, result)| match result {
                Ok(detail) => Check::new(name, CheckStatus::Ok, detail),
                Err(problem) => Check::new(name, CheckStatus::Fail, problem),
            })),
            Err(problem) => checks.push(Check::new(
                "webdriver",
                CheckStatus::Warn,
                format!("{problem}; screenshots will be skipped"),
            )),
        }
        let sandbox = crate::jobs::stages::screenshot::sandbox_off_reason();
        checks.push(match sandbox {
            None => Check::new("chromium sandbox", CheckStatus::Ok, "on"),
            Some(reason) => Check::new(
                "chromium sandbox",
                CheckStatus::Warn,
                format!("off: {reason} (run leadscout as an ordinary user to keep it)"),
            ),
        });
        Ok(checks)
    }
}

/// Restores a backup into a new data dir and returns what it held.
pub fn restore(from: &Path, to: &Path) -> Result<Manifest> {
    let (store, manifest) = Store::restore(from, to, "restore")?;
    store.flush_blocking()?;
    Ok(manifest)
}
