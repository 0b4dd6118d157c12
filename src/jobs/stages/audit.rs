//! The audit stage: run the checks over the latest fetch and record the
//! audit, the lead's score, and the best email found when it had none.

use super::store_error;
use crate::domain::Email;
use crate::jobs::stage::{StageContext, StageError, StageFuture, StageHandler, StageOutcome};
use crate::pipeline::audit;

pub struct AuditStage;

impl StageHandler for AuditStage {
    fn run(&self, ctx: StageContext) -> StageFuture<'_> {
        Box::pin(async move {
            let lead = ctx
                .store
                .lead(ctx.job.lead)
                .map_err(store_error)?
                .ok_or_else(|| {
                    StageError::permanent(format!("lead {} no longer exists", ctx.job.lead))
                })?;
            let fetch = ctx
                .store
                .fetch_of(lead.id)
                .map_err(store_error)?
                .ok_or_else(|| {
                    StageError::permanent(
                        "nothing was fetched for this lead yet; run the fetch stage first",
                    )
                })?;
            let body = match fetch.body {
                Some(hash) => ctx
                    .store
                    .blobs()
                    .get(hash)
                    .map_err(store_error)?
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            let now = ctx.clock.now();
            let domain = lead.domain.to_string();
            let (audit, found) = tokio::task::spawn_blocking(move || {
                let audit = audit::audit(&fetch, &body, now);
                let found = audit::contacts::best_email(&audit.contacts, &domain).and_then(|f| {
                    Email::parse(&f.value)
                        .ok()
                        .map(|e| (e, format!("website ({})", f.source)))
                });
                (audit, found)
            })
            .await
            .map_err(|e| StageError::permanent(format!("the audit crashed: {e}")))?;
            let id = ulid::Ulid::from_parts(
                u64::try_from(now.as_millisecond()).unwrap_or(0),
                rand::random(),
            );
            ctx.store
                .add_audit(id, &audit, found)
                .map_err(store_error)?;
            Ok(StageOutcome::Done)
        })
    }
}
