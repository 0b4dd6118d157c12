//! `report export` as a use case: a campaign's report pages written out as
//! a static site. Rendering pages is the page server's craft (`web`), so
//! the composition root plugs a [`SiteExport`] into the service; the call
//! itself is declared in `api` like every other, and so runs where the
//! store is when attached.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::{Result, Service, ServiceError};

/// What an export wrote.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExportSummary {
    pub dir: PathBuf,
    pub pages: usize,
    pub screenshots: usize,
    /// Published leads without an audit to show (nothing written for them).
    pub skipped: usize,
}

/// Writes a campaign's published report pages under a directory.
pub trait SiteExport: Send + Sync {
    fn export<'a>(
        &'a self,
        service: &'a Service,
        campaign: &'a str,
        dir: &'a Path,
    ) -> BoxFuture<'a, Result<ExportSummary>>;
}

impl Service {
    /// This service writing static sites with `exporter`.
    pub fn with_site_export(mut self, exporter: Arc<dyn SiteExport>) -> Self {
        self.site_export = Some(exporter);
        self
    }

    pub async fn report_export(&self, campaign: &str, dir: &Path) -> Result<ExportSummary> {
        match &self.site_export {
            Some(exporter) => exporter.export(self, campaign, dir).await,
            None => Err(ServiceError::Invalid(
                "this program was built without the report page renderer, so it cannot export reports"
                    .into(),
            )),
        }
    }
}
