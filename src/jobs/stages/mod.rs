//! The pipeline's stage handlers: each loads its inputs from the store,
//! calls the stage logic in `pipeline`, and writes the results back.

mod audit;
pub mod draft;
mod fetch;
mod report;
pub mod screenshot;

use std::sync::Arc;

use super::stage::{ErrorKind, StageError, StageSet};
use crate::config::Config;
use crate::pipeline::fetch::Fetcher;

/// The stages of a run, in order. `send` is never part of a run: sending is
/// always an explicit step.
pub const PIPELINE: &[&str] = &["fetch", "audit", "screenshot", "report", "draft"];

/// Builds the pipeline's stages from the config.
pub fn pipeline(config: &Config) -> Result<StageSet, StageError> {
    let fetcher = Fetcher::new(&config.fetch)
        .map_err(|e| StageError::from_error(ErrorKind::Permanent, &e))?;
    Ok(StageSet::new()
        .with(
            "fetch",
            fetch::FetchStage {
                fetcher: Arc::new(fetcher),
            },
        )
        .with("audit", audit::AuditStage)
        .with("screenshot", screenshot::ScreenshotStage::new(config))
        .with(
            "report",
            report::ReportStage {
                expiry: config.server.report_expiry,
            },
        )
        .with("draft", draft::DraftStage::new(config)))
}

fn store_error(err: crate::store::StoreError) -> StageError {
    StageError::from_error(ErrorKind::Transient, &err).context("store")
}
