//! The fetch stage: fetch the lead's site through the guard and keep what
//! was seen (the body goes to the blob cache).

use std::sync::Arc;

use super::store_error;
use crate::domain::LeadStatus;
use crate::jobs::stage::{
    ErrorKind, StageContext, StageError, StageFuture, StageHandler, StageOutcome,
};
use crate::pipeline::fetch::Fetcher;

pub struct FetchStage {
    pub fetcher: Arc<Fetcher>,
}

impl StageHandler for FetchStage {
    fn run(&self, ctx: StageContext) -> StageFuture<'_> {
        Box::pin(async move {
            let lead = ctx
                .store
                .lead(ctx.job.lead)
                .map_err(store_error)?
                .ok_or_else(|| {
                    StageError::permanent(format!("lead {} no longer exists", ctx.job.lead))
                })?;
            let url = lead
                .website
                .url()
                .map_err(|e| StageError::permanent(e.to_string()))?;
            let outcome = self
                .fetcher
                .fetch_site(lead.id, &url, ctx.clock.now())
                .await
                .map_err(|e| {
                    let kind = if e.is_transient() {
                        ErrorKind::Transient
                    } else {
                        ErrorKind::Permanent
                    };
                    StageError::from_error(kind, &e)
                })?;
            let mut fetch = outcome.fetch;
            let store = ctx.store.clone();
            let body = outcome.body;
            let hash = tokio::task::spawn_blocking(move || store.blobs().put(&body))
                .await
                .map_err(|e| StageError::transient(format!("saving the page failed: {e}")))?
                .map_err(store_error)?;
            fetch.body = Some(hash);
            ctx.store.put_fetch(&fetch).map_err(store_error)?;
            let now = ctx.clock.now();
            ctx.store
                .modify_lead(lead.id, |lead| {
                    lead.status = lead.status.advanced_to(LeadStatus::Fetched);
                    lead.updated_at = now;
                })
                .map_err(store_error)?;
            Ok(StageOutcome::Done)
        })
    }
}
